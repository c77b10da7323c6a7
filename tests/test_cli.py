"""The `qa` command line, run as a user runs it: a real process on a real model and index."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = [
    {"id": "avfall-1", "title": "Sophämtning", "text": "Sophämtning\n\nHushållsavfall hämtas varannan "
     "vecka. Matavfall sorteras i bruna påsar som kommunen delar ut gratis."},
    {"id": "bygglov-2", "title": "Bygglov", "text": "Bygglov\n\nFör att bygga ett attefallshus behövs "
     "ingen bygglovsansökan, men du måste göra en anmälan till byggnadsnämnden."},
    {"id": "skola-3", "title": "Skolval", "text": "Skolval\n\nAnsökan till förskoleklass görs i "
     "januari. Alla barn har rätt till en plats i en skola nära hemmet."},
]


def qa(*args: str, timeout: float = 300, env: dict[str, str] | None = None
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})


def assert_clean_error(proc: subprocess.CompletedProcess[str], message: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


@pytest.fixture(scope="module")
def jsonl_index(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    source = folder / "corpus.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in CORPUS), encoding="utf-8")
    index = folder / "index"
    proc = qa("build", "--source", str(source), "--index", str(index))
    assert proc.returncode == 0, proc.stderr
    assert "indexed 3 documents" in proc.stdout
    return index


@pytest.mark.model  # `qa` processes with the real model (jsonl_index)
def test_build_and_ask_a_jsonl_corpus(jsonl_index):
    proc = qa("ask", "Behöver jag bygglov för ett attefallshus?", "-k", "2", "--index",
              str(jsonl_index), "--json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["results"][0]["document_id"] == "bygglov-2"
    assert len(body["results"]) == 2
    text = qa("ask", "När hämtas soporna?", "--index", str(jsonl_index))
    assert text.returncode == 0 and "1. Sophämtning" in text.stdout and "»" in text.stdout


class Served:
    """``qa serve`` as a real process on a free port: ``with Served(index) as base_url: ...``.

    Its stderr (the log) is in ``self.log`` once the block has ended.
    """

    def __init__(self, index: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.env = env or {}
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.args = ["serve", "--index", str(index), "--port", str(self.port), *args]
        self.log = ""

    def __enter__(self) -> str:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", *self.args], cwd=ROOT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **self.env},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        try:
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                        return base
                except httpx.TransportError:
                    pass
                assert self.proc.poll() is None, self.proc.communicate()[1]
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.5)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.log = self.proc.communicate(timeout=30)[1]


@pytest.mark.model  # `qa` processes with the real model (jsonl_index)
def test_serve_answers_with_jsonl_ids(jsonl_index):
    with Served(jsonl_index) as base:
        r = httpx.post(f"{base}/api/search", json={"question": "Hur sorterar jag matavfall?", "k": 3})
        assert r.status_code == 200
        assert r.json()["results"][0]["document_id"] == "avfall-1"
        assert {h["document_id"] for h in r.json()["results"]} <= {c["id"] for c in CORPUS}


READ_TOKEN = "las-9f1c7e2b44d0"
ADMIN_TOKEN = "admin-5a8e3c61b7f2"


@pytest.mark.model  # `qa` processes with the real model (jsonl_index)
def test_serve_logs_one_json_access_line_per_request_and_never_a_token(jsonl_index):
    server = Served(jsonl_index, env={"QA_READ_TOKEN": READ_TOKEN, "QA_ADMIN_TOKEN": ADMIN_TOKEN})
    reader = {"Authorization": f"Bearer {READ_TOKEN}"}
    with server as base:
        ok = httpx.post(f"{base}/api/search", json={"question": "När hämtas soporna?"},
                        headers={**reader, "X-Request-ID": "proxy-1234"})
        assert ok.status_code == 200 and ok.headers["x-request-id"] == "proxy-1234"
        assert httpx.post(f"{base}/api/search", json={"question": " "}, headers=reader).status_code == 422
        assert httpx.get(f"{base}/api/documents/finns-inte", headers=reader).status_code == 404
        wrong = httpx.get(f"{base}/api/documents", headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"})
        assert wrong.status_code == 401
        assert httpx.get(f"{base}/api/admin", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
                         ).status_code == 204
        odd = httpx.get(f"{base}/static/app.js", headers={"X-Request-ID": "bad id\twith space"})
        assert odd.status_code == 200 and re.fullmatch(r"[0-9a-f]{16}", odd.headers["x-request-id"])
    lines = [json.loads(line) for line in server.log.splitlines() if line.startswith("{")]
    assert lines, server.log
    seen = [(x["method"], x["path"], x["status"]) for x in lines]
    for request in [("POST", "/api/search", 200), ("POST", "/api/search", 422),
                    ("GET", "/api/documents/finns-inte", 404), ("GET", "/api/documents", 401),
                    ("GET", "/api/admin", 204), ("GET", "/static/app.js", 200)]:
        assert seen.count(request) == 1, (request, server.log)
    assert ("GET", "/health", 200) in seen  # the start-up probe
    for x in lines:
        assert set(x) == {"time", "request_id", "client", "method", "path", "status", "bytes", "ms"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", x["time"]), x
        assert x["ms"] >= 0 and x["bytes"] >= 0 and x["client"] == "127.0.0.1"
    assert [x["request_id"] for x in lines if x["status"] == 200 and x["method"] == "POST"] == [
        "proxy-1234"]
    assert len({x["request_id"] for x in lines}) == len(lines), "ids are unique"
    assert READ_TOKEN not in server.log and ADMIN_TOKEN not in server.log
    assert "HTTP/1.1\"" not in server.log, "uvicorn's own access log is off (no doubled lines)"


@pytest.mark.model  # `qa` processes with the real model (jsonl_index)
def test_serve_without_access_log(jsonl_index):
    server = Served(jsonl_index, "--no-access-log")
    with server as base:
        assert httpx.post(f"{base}/api/search", json={"question": "När hämtas soporna?"}).status_code == 200
    assert "api.access" not in server.log and "/api/search" not in server.log, server.log
    assert "Uvicorn running" in server.log  # the log itself is there, only the access lines are not


@pytest.mark.model  # `qa` processes with the real model (jsonl_index)
def test_ask_json_is_the_api_search_body(jsonl_index):
    from api.schemas import SITUATIONAL_FIELDS, SearchResponse

    proc = qa("ask", "Hur sorterar jag matavfall?", "-k", "2", "--index", str(jsonl_index), "--json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert not SITUATIONAL_FIELDS & set(body)  # no history, no question log
    parsed = SearchResponse.model_validate(body)
    assert parsed.model_dump(mode="json", exclude=SITUATIONAL_FIELDS) == body
    assert body["question"] == "Hur sorterar jag matavfall?" and len(body["results"]) == 2


def test_logging_setup_touches_only_the_application_loggers():
    import logging

    from qa import cli

    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    loggers = [logging.getLogger(name) for name in ("qa", "api")]
    saved = [(list(x.handlers), x.level) for x in loggers]
    try:
        cli._configure_logging("warning")
        cli._configure_logging("debug")
        assert (list(root.handlers), root.level) == before
        for logger in loggers:
            assert logger.propagate  # records still reach whatever the root logger has
            assert logger.level == logging.DEBUG
            assert sum(isinstance(h, cli._StderrHandler) for h in logger.handlers) == 1
    finally:
        for logger, (handlers, level) in zip(loggers, saved, strict=True):
            logger.handlers[:] = handlers
            logger.setLevel(level)


def test_a_library_logging_through_the_root_logger_does_not_double_the_applications_lines():
    """ONNX Runtime's quantiser (``qa model``) calls ``logging.warning``, which configures a bare
    root logger by itself; the application's lines must still print once."""
    script = ("import logging; from qa import cli; cli._configure_logging('info'); "
              "logging.warning('from a library'); logging.getLogger('qa.embed').info('prepared')")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("prepared") == 1, proc.stderr


@pytest.mark.slow  # seven `qa` processes
def test_errors_are_one_line(tmp_path):
    assert_clean_error(qa("build", "--source", str(tmp_path / "missing")), "no such file or folder")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{"id": "a", "text": "again"}\n')
    assert_clean_error(qa("build", "--source", str(bad), "--index", str(tmp_path / "i")),
                       "duplicate id 'a'")
    assert_clean_error(qa("ask", "   "), "must not be empty")
    assert_clean_error(qa("ask", "Vad?", "--index", str(tmp_path / "none")), "no index at")
    assert_clean_error(qa("ask", "Vad?", "--mode", "magisk"), "unknown mode")
    assert_clean_error(qa("build", "--index", str(tmp_path / "j"), env={"QA_PASSAGE_PRECISION": "fp16"}),
                       "QA_PASSAGE_PRECISION='fp16': Input should be")
    usage = qa("ask", "Vad?", "-k", "0")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


@pytest.mark.model
def test_model_command_prints_a_loadable_path():
    proc = qa("model")
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert (path / "modules.json").is_file() and (path / "tokenizer.json").is_file()


@pytest.mark.model  # `qa` processes with the real model (jsonl_index)
def test_serve_keeps_to_the_http_contract(jsonl_index):
    """What `qa serve` itself sets: no 'server' header; the localhost names and the bound
    address are the Host names answered, any other is refused."""
    with Served(jsonl_index, "--host", "127.0.0.1") as base:
        health = httpx.get(f"{base}/health")
        assert "server" not in health.headers and health.headers["x-content-type-options"]
        assert httpx.head(f"{base}/health").status_code == 200
        port = base.rsplit(":", 1)[1]
        assert httpx.get(f"{base}/health", headers={"host": f"localhost:{port}"}).status_code == 200
        assert httpx.get(f"{base}/health", headers={"host": "rebind.example"}).status_code == 400
