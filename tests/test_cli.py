"""The `qa` command line, run as a user runs it: a real process on a real model and index."""

from __future__ import annotations

import json
import os
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


def test_build_and_ask_a_jsonl_corpus(jsonl_index):
    proc = qa("ask", "Behöver jag bygglov för ett attefallshus?", "-k", "2", "--index",
              str(jsonl_index), "--json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["results"][0]["document_id"] == "bygglov-2"
    assert len(body["results"]) == 2
    text = qa("ask", "När hämtas soporna?", "--index", str(jsonl_index))
    assert text.returncode == 0 and "1. Sophämtning" in text.stdout and "»" in text.stdout


def test_serve_answers_with_jsonl_ids(jsonl_index):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--index", str(jsonl_index), "--port", str(port)],
        cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.5)
        r = httpx.post(f"{base}/api/search", json={"question": "Hur sorterar jag matavfall?", "k": 3})
        assert r.status_code == 200
        assert r.json()["results"][0]["document_id"] == "avfall-1"
        assert {h["document_id"] for h in r.json()["results"]} <= {c["id"] for c in CORPUS}
    finally:
        server.terminate()
        server.wait(timeout=30)


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


def test_model_command_prints_a_loadable_path():
    proc = qa("model")
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert (path / "modules.json").is_file() and (path / "tokenizer.json").is_file()
