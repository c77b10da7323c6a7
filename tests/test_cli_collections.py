"""`qa serve --collections DIR` and `qa eval --collection NAME --collections DIR`, run as a user
runs them: real processes, collections built by `qa build --index DIR/NAME`.

The encoder is the hashed n-gram one (``QA_MODEL=hashed-ngrams``): the commands and what they
serve are under test, not the model.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live import wait_until_healthy
from tests.test_cli import CORPUS, ROOT, assert_clean_error, qa

HASHED = {"QA_MODEL": "hashed-ngrams"}
# Processes that start Python and build: seconds each; in `make test`, not `make check`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli-collections") / "samlingar"
    source = root.parent / "kommun.jsonl"
    source.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CORPUS),
                      encoding="utf-8")
    for name, src in (("seeds", ROOT / "seeds"), ("kommun", source)):
        done = qa("build", "--source", str(src), "--index", str(root / name), env=HASHED)
        assert done.returncode == 0, done.stderr
    (root / "kommun" / "access.toml").write_text('read_token = "las-kommun"\n', encoding="utf-8")
    return root


def test_serve_collections_serves_each_folder_as_a_collection(folder):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--collections", str(folder), "--port",
         str(port), "--no-access-log"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_COLLECTIONS_SECONDS": "0.2", **HASHED})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, proc)
        listed = httpx.get(f"{base}/api/collections").json()["collections"]
        assert [c["name"] for c in listed] == ["seeds"]
        listed = httpx.get(f"{base}/api/collections",
                           headers={"Authorization": "Bearer las-kommun"}).json()["collections"]
        assert [c["name"] for c in listed] == ["kommun", "seeds"]
        r = httpx.post(f"{base}/api/collections/kommun/search",
                       headers={"Authorization": "Bearer las-kommun"},
                       json={"question": "Hur ofta hämtas hushållsavfall?"})
        assert r.status_code == 200
        assert {h["document_id"] for h in r.json()["results"]} <= {d["id"] for d in CORPUS}
        assert httpx.post(f"{base}/api/search", json={"question": "Vad?"}).status_code == 404
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def test_serve_collections_refuses_what_it_cannot_do(folder, tmp_path):
    assert_clean_error(qa("serve", "--collections", str(folder), "--workers", "2", env=HASHED),
                       "--collections serves every collection in one process")
    assert_clean_error(qa("serve", "--collections", str(tmp_path / "saknas"), env=HASHED),
                       "no such folder of collections")


def test_eval_evaluates_one_collection(folder, tmp_path):
    out = tmp_path / "eval"
    done = qa("eval", "--collections", str(folder), "--collection", "seeds", "--mode", "lexical",
              "--out", str(out), "--no-progress", env=HASHED)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["questions"] > 0
    assert Path(report["index"]["dir"]).resolve() == (folder / "seeds").resolve()
    assert report["index"]["manifest"]["documents"] == 5


@pytest.mark.parametrize(("name", "message"), [
    ("saknas", "no collection 'saknas'"), ("../seeds", "is not a collection name"),
    (".hidden", "is not a collection name")])
def test_eval_refuses_an_unknown_or_malformed_collection(folder, name, message):
    assert_clean_error(qa("eval", "--collections", str(folder), "--collection", name, env=HASHED),
                       message)
