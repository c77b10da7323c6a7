"""Several collections in one service, over real HTTP: kept apart, added and removed live.

Three collections are built from different folders into one folder of collections and served
by uvicorn on 127.0.0.1, as ``qa serve --collections DIR`` does: ``region`` and ``kommun`` with
their own read and admin tokens, ``oppen`` with no ``access.toml`` (open reading, no writing).
The encoder is the hashed n-gram one (``qa.embed.hashed``): what is under test is which
collection a request reaches, not how the model ranks.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from qa.ingest.documents import make_document
from tests.live import serve

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
OPERATOR = "driftens-nyckel"
TOKENS = {
    "region": {"read_token": "las-region", "admin_token": "admin-region"},
    "kommun": {"read_token": "las-kommun", "admin_token": "admin-kommun"},
}
REGION_FILES = ["000_ce65c358d56e68d5.txt", "001_d3ecacca4b922300.txt", "002_aab51d96c062ffea.txt"]
KOMMUN_FILES = ["003_c2aea3d9b67761fb.txt", "004_61a7695175b3d7f3.txt"]
OPEN_DOCS = [make_document("bibliotek", "Biblioteket\n\nBiblioteket har öppet till klockan 20 "
                                        "på tisdagar och lånar ut e-böcker.")]


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def write_access(folder: Path, tokens: dict[str, str]) -> None:
    (folder / "access.toml").write_text(
        "".join(f'{key} = "{value}"\n' for key, value in tokens.items()), encoding="utf-8")


def build_from_files(settings, embedder, files: list[str], index_dir: Path, tmp: Path) -> None:
    """A collection built from its own folder of files, as `qa build --source S --index
    DIR/NAME` builds it."""
    from qa.index.build import build_index
    from qa.ingest.sources import load_documents

    source = tmp / f"source-{index_dir.name}"
    source.mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copy(SEEDS / name, source / name)
    build_index(load_documents(source), embedder, settings.index, index_dir,
                progress=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, hashed_settings, hashed_embedder) -> Path:
    from qa.index.build import build_index

    tmp = tmp_path_factory.mktemp("collections")
    root = tmp / "collections"
    root.mkdir()
    build_from_files(hashed_settings, hashed_embedder, REGION_FILES, root / "region", tmp)
    build_from_files(hashed_settings, hashed_embedder, KOMMUN_FILES, root / "kommun", tmp)
    build_index(OPEN_DOCS, hashed_embedder, hashed_settings.index, root / "oppen", progress=False)
    for name, tokens in TOKENS.items():  # before serving starts: never served open
        write_access(root / name, tokens)
    (root / "README.txt").write_text("not a collection", encoding="utf-8")
    (root / ".gömd").mkdir()
    return root


@pytest.fixture(scope="module")
def collections(folder, hashed_settings, hashed_questions):
    from qa.search.collections import Collections

    settings = hashed_settings.model_copy(update={"collections_seconds": 0.1,
                                                  "read_token": OPERATOR})
    found = Collections(folder, hashed_questions, settings)
    found.scan()
    return found


@pytest.fixture(scope="module")
def server(collections) -> Iterator[str]:
    from api.app import create_app

    with serve(create_app(collections)) as url:
        yield url


def wait_for(check, what: str, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {limit:.0f} s"
        time.sleep(0.05)


def names(server: str, token: str | None = None) -> list[str]:
    body = httpx.get(f"{server}/api/collections", headers=bearer(token)).json()
    return [c["name"] for c in body["collections"]]


def doc_ids(server: str, name: str, token: str | None) -> set[str]:
    r = httpx.get(f"{server}/api/collections/{name}/documents", headers=bearer(token))
    assert r.status_code == 200, r.text
    return {d["id"] for d in r.json()["documents"]}


# ---------- listing and reading -------------------------------------------------------------


def test_the_list_holds_only_what_the_token_may_read(server):
    assert names(server) == ["oppen"]
    assert names(server, "las-region") == ["oppen", "region"]
    assert names(server, "admin-kommun") == ["kommun", "oppen"]
    assert names(server, OPERATOR) == ["oppen"]  # the operator's token opens /metrics only
    listed = httpx.get(f"{server}/api/collections", headers=bearer("admin-kommun")).json()
    kommun = next(c for c in listed["collections"] if c["name"] == "kommun")
    assert kommun["documents"] == 2 and kommun["passages"] > 0 and kommun["protected"]
    assert kommun["writable"] and kommun["generation"] >= 1 and kommun["model"]
    assert not next(c for c in listed["collections"] if c["name"] == "oppen")["writable"]


def test_each_collection_answers_from_its_own_documents(server):
    region = doc_ids(server, "region", "las-region")
    kommun = doc_ids(server, "kommun", "las-kommun")
    assert region == {Path(f).stem for f in REGION_FILES}
    assert kommun == {Path(f).stem for f in KOMMUN_FILES}
    assert doc_ids(server, "oppen", None) == {"bibliotek"}
    # Questions made of the other collection's own words still find only this one's passages.
    for name, token, own, other in (("region", "las-region", region, kommun),
                                    ("kommun", "las-kommun", kommun, region)):
        other_name = "kommun" if name == "region" else "region"
        other_token = TOKENS[other_name]["read_token"]
        for doc_id in sorted(other):
            text = httpx.get(f"{server}/api/collections/{other_name}/documents/{doc_id}",
                             headers=bearer(other_token)).json()["text"]
            question = " ".join(text.split()[:25])
            r = httpx.post(f"{server}/api/collections/{name}/search", headers=bearer(token),
                           json={"question": question, "k": 10})
            assert r.status_code == 200, r.text
            found = {hit["document_id"] for hit in r.json()["results"]}
            assert found and found <= own, (name, found)


def test_a_document_links_its_original_under_its_collection(server):
    doc_id = Path(KOMMUN_FILES[0]).stem
    doc = httpx.get(f"{server}/api/collections/kommun/documents/{doc_id}",
                    headers=bearer("las-kommun")).json()
    assert doc["original"]["url"] == f"/api/collections/kommun/documents/{doc_id}/original"
    r = httpx.get(server + doc["original"]["url"], headers=bearer("las-kommun"))
    assert r.status_code == 200 and r.content == (SEEDS / KOMMUN_FILES[0]).read_bytes()


def _routes(name: str) -> list[tuple[str, str, dict]]:
    """Every route of a collection, with a request that would succeed for its own token."""
    own = Path((REGION_FILES if name == "region" else KOMMUN_FILES)[0]).stem
    base = f"/api/collections/{name}"
    return [
        ("GET", f"{base}/health", {}),
        ("POST", f"{base}/search", {"json": {"question": "Vad gäller för styrningen?"}}),
        ("GET", f"{base}/documents", {}),
        ("GET", f"{base}/documents/{own}", {}),
        ("GET", f"{base}/documents/{own}/original", {}),
        ("GET", f"{base}/examples", {}),
        ("GET", f"{base}/admin", {}),
        ("POST", f"{base}/documents", {"json": {"id": "intrang", "text": "Intrång i samlingen."}}),
        ("PUT", f"{base}/documents/{own}", {"json": {"text": "Ersatt av fel samling."}}),
        ("DELETE", f"{base}/documents/{own}", {}),
    ]


@pytest.mark.parametrize("token", ["las-kommun", "admin-kommun", OPERATOR, None])
def test_no_other_token_reads_or_writes_a_collection(server, token):
    before = doc_ids(server, "region", "las-region")
    generation = httpx.get(f"{server}/api/collections/region/health",
                           headers=bearer("las-region")).json()["generation"]
    for method, path, options in _routes("region"):
        r = httpx.request(method, server + path, headers=bearer(token), **options)
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert "region" in r.json()["detail"] or "token" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"
    assert doc_ids(server, "region", "las-region") == before
    assert httpx.get(f"{server}/api/collections/region/health",
                     headers=bearer("las-region")).json()["generation"] == generation


@pytest.mark.parametrize("token", ["las-region", "admin-region"])
def test_own_tokens_read_every_route(server, token):
    for method, path, options in _routes("region")[:6]:
        r = httpx.request(method, server + path, headers=bearer(token), **options)
        assert r.status_code == 200, (method, path, r.text)
    admin = httpx.get(f"{server}/api/collections/region/admin", headers=bearer(token))
    assert admin.status_code == (204 if token == "admin-region" else 401)


def test_an_open_collection_reads_without_a_token_and_takes_no_writes(server):
    for method, path, options in [("GET", "/api/collections/oppen/health", {}),
                                  ("GET", "/api/collections/oppen/documents", {}),
                                  ("POST", "/api/collections/oppen/search",
                                   {"json": {"question": "När har biblioteket öppet?"}})]:
        assert httpx.request(method, server + path, **options).status_code == 200
    r = httpx.post(f"{server}/api/collections/oppen/documents",
                   headers=bearer("admin-region"), json={"id": "x", "text": "Något."})
    assert r.status_code == 403 and "access.toml" in r.json()["detail"]


def test_a_write_lands_in_its_own_collection_only(server, folder):
    token = bearer("admin-kommun")
    r = httpx.post(f"{server}/api/collections/kommun/documents", headers=token,
                   json={"id": "simhallen", "text": "Simhallen\n\nSimhallen har öppet "
                         "till klockan 21 på fredagar."})
    assert r.status_code == 200, r.text
    assert "simhallen" in doc_ids(server, "kommun", "las-kommun")
    assert "simhallen" not in doc_ids(server, "region", "las-region")
    hits = httpx.post(f"{server}/api/collections/region/search", headers=bearer("las-region"),
                      json={"question": "När har simhallen öppet på fredagar?", "k": 10}).json()
    assert all(hit["document_id"] != "simhallen" for hit in hits["results"])
    r = httpx.delete(f"{server}/api/collections/kommun/documents/simhallen", headers=token)
    assert r.status_code == 200, r.text
    assert "simhallen" not in doc_ids(server, "kommun", "las-kommun")


# ---------- names, the plain API, metrics ---------------------------------------------------


@pytest.mark.parametrize("path", [
    "/api/collections/saknas/search", "/api/collections/..%2Fkommun/documents",
    "/api/collections/%2e%2e/documents", "/api/collections/.g%C3%B6md/documents",
    "/api/collections/README.txt/documents", "/api/collections/kommun%00/documents",
    "/api/collections/" + "a" * 65 + "/documents"])
def test_an_unknown_or_malformed_collection_is_a_404_with_a_message(server, path):
    method = "POST" if path.endswith("/search") else "GET"
    r = httpx.request(method, server + path, headers=bearer("admin-kommun"),
                      json={"question": "Vad?"} if method == "POST" else None)
    assert r.status_code == 404, (path, r.text)
    assert "collection" in r.json()["detail"] or r.json()["detail"] == "Not Found"


def test_the_plain_api_is_not_served_and_health_names_no_collection(server):
    assert httpx.post(f"{server}/api/search", json={"question": "Vad?"}).status_code == 404
    health = httpx.get(f"{server}/health").json()
    assert health["status"] == "ok" and health["collections"] is True
    assert "region" not in str(health)
    page = httpx.get(f"{server}/c/region")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    paths = httpx.get(f"{server}/openapi.json").json()["paths"]
    assert "/api/search" not in paths and "/api/collections" in paths
    search = paths["/api/collections/{collection}/search"]["post"]
    assert search["security"] == [{"bearer": []}]
    assert [p["name"] for p in search["parameters"]] == ["collection"]
    assert {"/api/collections/{collection}/documents/{doc_id}/original",
            "/api/collections/{collection}/health"} <= set(paths)


def test_metrics_are_the_operators_and_labelled_by_collection(server):
    httpx.post(f"{server}/api/collections/region/search", headers=bearer("las-region"),
               json={"question": "Vad är styrning?"})
    httpx.get(f"{server}/api/collections/inte-har/documents")
    for token in ("las-region", "admin-region", "las-kommun", None):
        r = httpx.get(f"{server}/metrics", headers=bearer(token))
        assert r.status_code == 401, (token, r.status_code)
        assert "region" not in r.text and "kommun" not in r.text
    text = httpx.get(f"{server}/metrics", headers=bearer(OPERATOR)).text
    assert ('qa_http_requests_total{collection="region",method="POST",'
            'route="/api/collections/{collection}/search",status="200"}') in text
    assert 'qa_index_documents{collection="kommun"}' in text
    assert "inte-har" not in text  # an unknown name never becomes a label


def test_metrics_without_an_operator_token_are_refused(folder, hashed_settings, hashed_questions):
    from api.app import create_app
    from qa.search.collections import Collections

    found = Collections(folder, hashed_questions, hashed_settings)
    found.scan()
    with serve(create_app(found)) as url:
        r = httpx.get(f"{url}/metrics", headers=bearer("admin-region"))
        assert r.status_code == 403 and "QA_READ_TOKEN" in r.json()["detail"]


# ---------- following the folder ------------------------------------------------------------


def test_every_collection_shares_the_one_question_encoder(collections, hashed_questions):
    served = collections.all()
    assert len(served) == 3
    for collection in served:
        assert collection.live.questions is hashed_questions
        assert collection.live.current().questions is hashed_questions


def test_a_broken_access_file_withholds_the_collection_until_mended(server, folder):
    access = folder / "kommun" / "access.toml"
    good = access.read_text(encoding="utf-8")
    try:
        access.write_text('read-token = "las-kommun"\n', encoding="utf-8")  # misspelt key
        wait_for(lambda: httpx.get(f"{server}/api/collections/kommun/documents")
                 .status_code == 404, "withholding kommun")
    finally:
        access.write_text(good, encoding="utf-8")
    wait_for(lambda: "kommun" in names(server, "las-kommun"), "serving kommun again")
    assert httpx.get(f"{server}/api/collections/kommun/documents").status_code == 401


@pytest.mark.slow  # builds and waits for scans: `make test`, not `make check`
def test_a_collection_added_and_removed_is_picked_up(server, folder, hashed_settings,
                                                     hashed_embedder, hashed_questions,
                                                     collections):
    from qa.index.build import build_index

    new = folder / "ny"
    build_index([make_document("ny", "Nyheter\n\nFärjan går varje timme på sommaren.")],
                hashed_embedder, hashed_settings.index, new, progress=False)
    wait_for(lambda: "ny" in names(server), "picking up the new collection")
    assert doc_ids(server, "ny", None) == {"ny"}
    assert collections.get("ny").live.questions is hashed_questions
    shutil.rmtree(new)
    wait_for(lambda: "ny" not in names(server), "dropping the removed collection")
    r = httpx.get(f"{server}/api/collections/ny/documents")
    assert r.status_code == 404 and "ny" in r.json()["detail"]


@pytest.mark.slow  # a load test: `make test`, not `make check`
def test_deleting_and_rebuilding_a_collection_fails_no_request_of_another(
        server, folder, tmp_path, hashed_settings, hashed_embedder):
    """Clients ask ``region`` and ``oppen`` without pause over real sockets while ``kommun`` is
    deleted and built again, several times; every one of their requests must succeed."""
    done = threading.Event()
    statuses: list[tuple[str, int]] = []
    lock = threading.Lock()

    def ask(name: str, token: str | None) -> None:
        with httpx.Client(base_url=server, headers=bearer(token), timeout=30) as client:
            for n in range(2000):  # bounded; stops when the churn is over
                if done.is_set():
                    break
                if n % 3 == 2:
                    r = client.get(f"/api/collections/{name}/documents")
                else:
                    r = client.post(f"/api/collections/{name}/search",
                                    json={"question": f"Vad gäller för styrning {n}?"})
                with lock:
                    statuses.append((name, r.status_code))

    kommun = folder / "kommun"
    seen_gone = seen_back = 0
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(ask, "region", "las-region"), pool.submit(ask, "oppen", None),
                   pool.submit(ask, "region", "admin-region"), pool.submit(ask, "oppen", None)]
        try:
            for round_ in range(3):
                shutil.rmtree(kommun)
                wait_for(lambda: httpx.get(f"{server}/api/collections/kommun/health",
                                           headers=bearer("las-kommun")).status_code == 404,
                         "dropping kommun")
                seen_gone += 1
                kommun.mkdir()  # its tokens first: never served open, not for one scan
                write_access(kommun, TOKENS["kommun"])
                build_from_files(hashed_settings, hashed_embedder, KOMMUN_FILES, kommun,
                                 tmp_path / str(round_))
                wait_for(lambda: httpx.get(f"{server}/api/collections/kommun/health",
                                           headers=bearer("las-kommun")).status_code == 200,
                         "serving kommun again")
                seen_back += 1
        finally:
            done.set()
            for future in futures:
                future.result()
    assert seen_gone == seen_back == 3
    answered = {name for name, _ in statuses}
    assert answered == {"region", "oppen"} and len(statuses) >= 8
    assert [(name, status) for name, status in statuses if status != 200] == []
    assert doc_ids(server, "kommun", "las-kommun") == {Path(f).stem for f in KOMMUN_FILES}
