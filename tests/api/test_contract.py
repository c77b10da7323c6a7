"""The HTTP contract over a real socket: what the schema promises, the service does.

Malformed bodies are 422 with one sentence, ``HEAD`` works where ``GET`` does, a 405 names
every method of its path, every response carries the security headers, unknown ``Host``
names are refused, CORS is off unless configured, and ``server`` is not announced. The
OpenAPI document states the limits the service checks (patterns checked here against the code
that enforces them). The property-based run of the whole schema is ``test_schema_fuzzing``.
The server holds the seeds indexed with the hashed n-gram encoder (``qa.embed.hashed``): no
question here is about ranking.
"""

from __future__ import annotations

import re
import sys

import httpx
import pytest

from tests.live import serve

SEARCH = "/api/search"
Q = "Vad är tillitsbaserad styrning?"


@pytest.fixture(scope="module")
def doc_id(hashed_live_server) -> str:
    return httpx.get(f"{hashed_live_server}/api/documents").json()["documents"][0]["id"]


def _post(base: str, content: bytes) -> httpx.Response:
    return httpx.post(base + SEARCH, content=content, timeout=60,
                      headers={"content-type": "application/json"})


@pytest.mark.parametrize(("content", "why"), [
    (b'{"question": "\xff\xfe"}', "invalid unicode"),  # not UTF-8
    (b"[" * 1000 + b"]" * 1000, "recursion limit"),
    (b'{"question": "Hej", "k": ' + b"9" * 5000 + b"}", "number out of range"),
    (b'{"question": "Hej", "k": NaN}', "not valid JSON"),
    (b'{"question": "Hej"} trailing', "trailing characters"),
    (b'{"question": "\\ud800"}', "not valid JSON"),  # a lone surrogate
])
def test_malformed_bodies_are_422_with_the_reason(hashed_live_server, content, why) -> None:
    res = _post(hashed_live_server, content)
    assert res.status_code == 422, res.text
    assert why in res.json()["detail"]


def test_the_question_length_is_counted_as_sent(hashed_live_server, hashed_settings) -> None:
    limit = hashed_settings.limits.max_question_chars
    exact = httpx.post(hashed_live_server + SEARCH, json={"question": "x" * limit}, timeout=60)
    assert exact.status_code == 200, exact.text
    padded = httpx.post(hashed_live_server + SEARCH, json={"question": " " + "x" * limit}, timeout=60)
    assert padded.status_code == 422 and "too long" in padded.json()["detail"]


@pytest.mark.parametrize(("k", "status"), [(27.0, 200), (1e1, 200), (27.5, 422), (True, 422),
                                           ("3", 422), (1e20, 422)])
def test_k_is_an_integer_as_json_schema_counts_them(hashed_live_server, k, status) -> None:
    res = httpx.post(hashed_live_server + SEARCH, json={"question": Q, "k": k}, timeout=60)
    assert res.status_code == status, res.text
    if status == 200:
        assert len(res.json()["results"]) == int(k)


def test_head_works_where_get_does(hashed_live_server, doc_id) -> None:
    for path in ("/", "/health", "/api/documents", f"/api/documents/{doc_id}",
                 f"/api/documents/{doc_id}/original", "/api/examples", "/openapi.json", "/docs",
                 "/redoc", "/static/app.js", "/docs/assets/swagger-ui.css"):
        got = httpx.get(hashed_live_server + path, timeout=60)
        head = httpx.head(hashed_live_server + path, timeout=60)
        assert got.status_code == head.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["content-length"] == str(len(got.content)), path
    assert httpx.head(f"{hashed_live_server}/api/documents/finns-inte").status_code == 404


def test_a_405_names_every_method_of_its_path(hashed_live_server) -> None:
    for method, path, allow in (("PATCH", "/api/documents", "GET, HEAD, POST"),
                                ("OPTIONS", "/api/documents", "GET, HEAD, POST"),
                                ("GET", SEARCH, "POST"), ("HEAD", SEARCH, "POST"),
                                ("POST", "/health", "GET, HEAD"),
                                ("PATCH", "/api/documents/a/b", "DELETE, GET, HEAD, PUT")):
        res = httpx.request(method, hashed_live_server + path)
        assert res.status_code == 405, (method, path)
        assert res.headers["allow"] == allow, (method, path)


def _script_src(policy: str) -> str:
    return next(p for p in policy.split(";") if p.strip().startswith("script-src"))


def test_every_response_carries_the_security_headers(hashed_live_server, doc_id) -> None:
    responses = {
        "page": httpx.get(hashed_live_server + "/"),
        "api": httpx.get(hashed_live_server + "/health"),
        "422": httpx.post(hashed_live_server + SEARCH, json={"question": ""}),
        "404": httpx.get(hashed_live_server + "/nope"),
        "405": httpx.get(hashed_live_server + SEARCH),
        "400": httpx.get(hashed_live_server + "/health", headers={"host": "evil.example"}),
        "static": httpx.get(hashed_live_server + "/static/app.js"),
        "docs": httpx.get(hashed_live_server + "/docs"),
        "original": httpx.get(f"{hashed_live_server}/api/documents/{doc_id}/original"),
    }
    for name, res in responses.items():
        h = res.headers
        assert h["x-content-type-options"] == "nosniff", name
        assert h["referrer-policy"] == "no-referrer", name
        assert h["x-frame-options"] == "DENY", name
        assert "server" not in h, name  # no 'server: uvicorn'
        policy = h["content-security-policy"]
        if name == "original":
            assert policy == "sandbox"  # its own: nothing in the file runs as this site
            continue
        assert "frame-ancestors 'none'" in policy, name
        assert _script_src(policy).split() == ["script-src", "'self'"], name
    assert "'unsafe-inline'" not in responses["page"].headers["content-security-policy"]


def test_only_the_allowed_host_names_are_answered(hashed_live_server) -> None:
    port = hashed_live_server.rsplit(":", 1)[1]
    for host in ("127.0.0.1", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}",
                 f"LOCALHOST:{port}"):
        assert httpx.get(hashed_live_server + "/health", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "localhost.evil",
                 "", "local host", "[::2]"):
        res = httpx.get(hashed_live_server + "/health", headers={"host": host})
        assert res.status_code == 400, host
        assert "QA_ALLOWED_HOSTS" in res.json()["detail"]


def test_the_address_bound_is_an_allowed_host(hashed_engine, hashed_settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from qa.search.engine import SearchEngine

    for bound, allowed in (("192.0.2.7", True), ("0.0.0.0", False), ("::", False)):
        bound_to = hashed_settings.model_copy(update={"host": bound})
        client = TestClient(create_app(SearchEngine(hashed_engine.index, hashed_engine.questions,
                                                    bound_to.search), bound_to))
        res = client.get("/health", headers={"host": "192.0.2.7:8000"})
        assert (res.status_code == 200) == allowed, bound


def test_allowed_host_patterns() -> None:
    from api.hosts import AllowedHosts

    hosts = AllowedHosts(None, ["qa.example.org", "*.intern.example", "::1"])  # type: ignore[arg-type]
    assert hosts.allows("qa.example.org") and hosts.allows("QA.example.org:8443")
    assert hosts.allows("a.intern.example") and hosts.allows("b.a.intern.example:80")
    assert hosts.allows("[::1]:8000")
    assert not hosts.allows("intern.example") and not hosts.allows("example.org")
    assert not hosts.allows(None) and not hosts.allows("qa.example.org:http")
    assert AllowedHosts(None, ["*"]).allows("anything.example")  # type: ignore[arg-type]


def test_cors_is_off_by_default_and_configurable(hashed_live_server, hashed_engine,
                                                  hashed_settings) -> None:
    from api.app import create_app
    from qa.search.engine import SearchEngine

    origin = {"origin": "https://intranet.example"}
    plain = httpx.get(hashed_live_server + "/health", headers=origin)
    assert "access-control-allow-origin" not in plain.headers
    preflight = {**origin, "access-control-request-method": "POST",
                 "access-control-request-headers": "content-type"}
    assert httpx.options(hashed_live_server + SEARCH, headers=preflight).status_code == 405

    cors = hashed_settings.model_copy(update={"cors_origins": ["https://intranet.example"]})
    with serve(create_app(SearchEngine(hashed_engine.index, hashed_engine.questions, cors.search),
                          cors)) as url:
        ok = httpx.options(url + SEARCH, headers=preflight)
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://intranet.example"
        assert "POST" in ok.headers["access-control-allow-methods"]
        got = httpx.post(url + SEARCH, json={"question": Q, "k": 1}, headers=origin, timeout=60)
        assert got.headers["access-control-allow-origin"] == "https://intranet.example"
        other = httpx.get(url + "/health", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_settings_take_lists_comma_separated_or_as_json(monkeypatch) -> None:
    from qa.settings import Settings

    monkeypatch.setenv("QA_ALLOWED_HOSTS", "qa.example.org, *.intern.example")
    monkeypatch.setenv("QA_CORS_ORIGINS", '["https://a.example", "https://b.example"]')
    s = Settings()
    assert s.server.allowed_hosts == ["qa.example.org", "*.intern.example"]
    assert s.server.cors_origins == ["https://a.example", "https://b.example"]


# ---------- the OpenAPI document ----------


@pytest.fixture(scope="module")
def spec(hashed_live_server) -> dict:
    return httpx.get(hashed_live_server + "/openapi.json").json()


def test_every_operation_documents_its_errors_and_has_examples(spec, hashed_settings) -> None:
    schemas = spec["components"]["schemas"]

    def has_example(obj: object) -> bool:
        if isinstance(obj, dict):
            if "$ref" in obj:
                return has_example(schemas[obj["$ref"].rsplit("/", 1)[1]])
            return "example" in obj or "examples" in obj or any(has_example(v) for v in obj.values())
        return isinstance(obj, list) and any(has_example(v) for v in obj)

    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert op.get("description") or op.get("summary"), where
            errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
            assert "400" in errors, where  # the Host check answers every path
            for status, response in errors.items():
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut"), (where, status)
            if path != "/api/admin":  # 204: no body to give an example of
                ok = op["responses"].get("200")
                assert has_example(ok) or has_example(op.get("requestBody")), where
            if op.get("requestBody") or op.get("parameters"):
                assert "422" in errors, where
    assert "HTTPValidationError" not in schemas  # FastAPI's list-shaped 422 is never answered
    question = schemas["SearchRequest"]["properties"]["question"]
    assert question["maxLength"] == hashed_settings.limits.max_question_chars and question["minLength"] == 1
    k = schemas["SearchRequest"]["properties"]["k"]
    assert (k["type"], k["minimum"], k["maximum"]) == ("integer", 1, 50)


def test_only_the_writes_require_a_token_while_reads_are_open(spec) -> None:
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in spec["paths"].items():
        for method, op in item.items():
            writes = method in ("post", "put", "delete") and path.startswith("/api/documents")
            writes = writes or path in ("/api/admin", "/api/gaps")  # the admin token's reads
            assert (op.get("security") == [{"bearer": []}]) == writes, (method, path)


def test_reads_require_the_token_when_one_is_configured(hashed_engine, hashed_settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from qa.search.engine import SearchEngine

    guarded = hashed_settings.model_copy(update={"read_token": "las"})
    app = create_app(SearchEngine(hashed_engine.index, hashed_engine.questions, guarded.search),
                     guarded)
    spec = TestClient(app).get("/openapi.json").json()
    assert spec["paths"]["/api/search"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/health"]["get"]


def test_the_question_pattern_is_the_rule_clean_question_applies() -> None:
    from api.schemas import QUESTION_PATTERN
    from qa.errors import QuestionError
    from qa.search.engine import clean_question

    pattern = re.compile(QUESTION_PATTERN)
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        try:
            clean_question(char, 10)
            blank = False
        except QuestionError:
            blank = True
        assert blank == (pattern.search(char) is None), hex(code)


def test_the_text_pattern_is_str_strip() -> None:
    from api.schemas import TEXT_PATTERN

    pattern = re.compile(TEXT_PATTERN)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (not char.strip()) == (pattern.search(char) is None), hex(code)


@pytest.mark.parametrize("doc", ["a", "kommun/bygglov/taxa", "Läroplan_2024", "...", ".a", "a.",
                                 "a-b.c", ".", "..", "a/./b", "a/../b", "a//b", "/a", "a/", "",
                                 "a b", "a\n", "a\\b", "x" * 200, "x" * 201, "ärende/2024-03"])
def test_the_id_pattern_is_the_id_rule(doc) -> None:
    """Judged by a JSON Schema validator (ECMA-262's '$' does not match before a newline)."""
    import jsonschema_rs

    from api.schemas import ID_MAX_LENGTH, ID_PATTERN
    from qa.ingest.documents import is_valid_id

    schema = {"type": "string", "pattern": ID_PATTERN, "maxLength": ID_MAX_LENGTH}
    assert jsonschema_rs.validator_for(schema).is_valid(doc) == is_valid_id(doc)


def test_the_id_pattern_takes_the_characters_the_id_rule_takes() -> None:
    """Every character Python's Unicode database assigns (the validator's may know newer ones)."""
    import unicodedata

    import jsonschema_rs

    from api.schemas import ID_PATTERN
    from qa.ingest.documents import is_valid_id

    valid = jsonschema_rs.validator_for({"type": "string", "pattern": ID_PATTERN}).is_valid
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cn", "Cs"):
            continue
        for doc in (f"a{char}", f"{char}b"):
            assert valid(doc) == is_valid_id(doc), (hex(code), doc)


def test_the_schema_examples_are_valid_bodies() -> None:
    from api import schemas

    for model in (schemas.SearchRequest, schemas.SearchResponse, schemas.Health,
                  schemas.DocumentList, schemas.DocumentOut, schemas.ErrorOut, schemas.DocumentIn,
                  schemas.DocumentFields, schemas.ChangesOut, schemas.Examples):
        examples = model.model_json_schema()["examples"]
        assert examples, model.__name__
        for example in examples:
            model.model_validate(example)
