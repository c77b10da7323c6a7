"""Fault injection: ``qa serve`` killed (SIGKILL) during an upload and during a swap, restarted.

Each server is a real ``qa serve`` process on a real index. It is armed to kill itself at a
chosen system call: while the upload's file is being saved, when the new generation's first
file is written, at the rename that publishes the staged generation, just before and just
after the rename that moves ``CURRENT``; one more is killed from outside while the request body
is half sent. After each kill a new server starts on the same directory (armed for the next
point) and must serve the last complete generation, whole: the documents published before,
plus the killed upload's only when ``CURRENT`` had moved. A last, unarmed server takes an
upload, after which nothing half-written is left (no staging directory, no upload folder,
at most two generations).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qa.embed.hashed import NAME as HASHED
from qa.ingest.documents import make_document
from tests.live import free_port, wait_until_healthy

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "fault-admin-3e9a"
AUTH = {"Authorization": f"Bearer {ADMIN}"}

# The server, SIGKILLed by itself at the first matching call: "before|after:FUNCTION:NEEDLE",
# FUNCTION an ``os`` function (its first two arguments are searched for NEEDLE) or ``open``
# (files opened for writing whose path holds NEEDLE); "none" (or "mid-body": killed from outside)
# arms nothing.
ARMED_SERVE = r"""
import builtins, io, os, signal, sys

spec = sys.argv[1]
if spec not in ("none", "mid-body"):
    when, func, needle = spec.split(":", 2)

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if func == "open":
        real_open = io.open

        def opened(file, mode="r", *args, **kwargs):
            if any(c in mode for c in "wax+") and needle in str(file):
                die()
            return real_open(file, mode, *args, **kwargs)

        builtins.open = io.open = opened
    else:
        real = getattr(os, func)

        def call(*args, **kwargs):
            hit = any(needle in str(a) for a in args[:2] if isinstance(a, (str, os.PathLike)))
            if hit and when == "before":
                die()
            result = real(*args, **kwargs)
            if hit and when == "after":
                die()
            return result

        setattr(os, func, call)
sys.argv = ["qa", *sys.argv[2:]]
from qa.cli import main

main()
"""


class Server:
    """One ``qa serve`` process on ``index_dir``, armed with ``spec``."""

    def __init__(self, index_dir: Path, spec: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The hashed n-gram encoder (qa.embed.hashed): the files a kill leaves are under test,
        # not the model's vectors, and a server restarts in a second instead of loading it.
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_ADMIN_TOKEN": ADMIN,
               "QA_ACCESS_LOG": "false", "QA_RELOAD_SECONDS": "0", "QA_MODEL": HASHED}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ARMED_SERVE, spec, "serve", "--index", str(index_dir),
             "--port", str(self.port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        wait_until_healthy(self.base, self.proc, lambda: self.proc.communicate()[1])

    def killed(self) -> str:
        """Wait for the server to die by SIGKILL; its log."""
        log = self.proc.communicate(timeout=300)[1]
        assert self.proc.returncode == -signal.SIGKILL, log
        return log

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=60)


def text_of(n: int) -> bytes:
    return (f"Dokument {n}\n\nKommunens fritidsgård nummer {n} har öppet på kvällarna och "
            f"erbjuder läxhjälp för elever i årskurs {n}.").encode()


def upload(base: str, n: int) -> httpx.Response:
    return httpx.post(f"{base}/api/documents", headers=AUTH, timeout=600,
                      files=[("files", (f"dok-{n}.txt", text_of(n), "text/plain"))])


def upload_killed_mid_body(server: Server, index_dir: Path) -> None:
    """Send the headers and half the body of an upload; SIGKILL the server while it reads."""
    boundary = "qa-fault-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"halv.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode() + \
        b"Halvt skickad text. " * 20_000 + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body[: len(body) // 2])
        folder = index_dir / ".incoming"
        deadline = time.monotonic() + 60
        while not (folder.is_dir() and any(folder.iterdir())):  # the server is reading the body
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.05)
        server.proc.kill()
    server.killed()


def served(base: str) -> tuple[int, set[str]]:
    health = httpx.get(f"{base}/health").json()
    ids = {d["id"] for d in httpx.get(f"{base}/api/documents").json()["documents"]}
    assert health["documents"] == len(ids)
    return health["generation"], ids


def assert_whole(base: str, index_dir: Path, expected: set[str]) -> None:
    """The server serves the generation CURRENT names, holding exactly ``expected``, whole."""
    generation, ids = served(base)
    assert generation == int((index_dir / "CURRENT").read_text())
    assert ids == expected
    for doc_id in ids:
        text = httpx.get(f"{base}/api/documents/{doc_id}").json()["text"]
        assert text
    res = httpx.post(f"{base}/api/search", json={"question": "Var finns läxhjälp?", "k": 3},
                     timeout=60)
    assert res.status_code == 200 and res.json()["results"], res.text
    assert {r["document_id"] for r in res.json()["results"]} <= expected


# (what kills the server, whether the killed upload is published)
KILLS = [
    ("mid-body", False),
    ("before:open:/.incoming/", False),  # saving the uploaded file
    ("before:open:/.staging-", False),  # the first file of the new generation
    ("before:rename:/.staging-", False),  # publishing the staged generation
    ("before:replace:/CURRENT", False),  # the swap: the pointer moves
    ("after:replace:/CURRENT", True),  # the pointer has moved; the server did not answer
]


def test_a_server_killed_during_uploads_and_swaps_restarts_on_the_last_complete_generation(
        hashed_settings, hashed_embedder, tmp_path):
    from qa.index.build import build_index

    index_dir = tmp_path / "index"
    build_index([make_document("bas", "Bas\n\nKommunen har fritidsgårdar.")], hashed_embedder,
                hashed_settings.index, index_dir, progress=False)
    expected = {"bas"}
    server = Server(index_dir, KILLS[0][0])
    for n, (spec, published) in enumerate(KILLS, start=1):
        if spec == "mid-body":
            upload_killed_mid_body(server, index_dir)
        else:
            with pytest.raises(httpx.TransportError):
                upload(server.base, n)
            log = server.killed()
            assert "Traceback" not in log, log
        if published:
            expected.add(f"dok-{n}")
        following = KILLS[n][0] if n < len(KILLS) else "none"
        server = Server(index_dir, following)
        assert_whole(server.base, index_dir, expected)
    try:
        res = upload(server.base, 99)
        assert res.status_code == 200 and res.json()["documents"][0]["status"] == "added", res.text
        assert_whole(server.base, index_dir, expected | {"dok-99"})
    finally:
        server.stop()
    # Nothing half-written is left: no staging or trash, no upload, at most two generations.
    assert {p.name for p in index_dir.iterdir()} <= {"CURRENT", "generations", ".build.lock",
                                                     ".incoming"}
    assert list((index_dir / ".incoming").iterdir()) == []
    names = sorted(p.name for p in (index_dir / "generations").iterdir())
    assert 1 <= len(names) <= 2 and all(n.isdigit() for n in names), names
    assert (index_dir / "CURRENT").read_text().strip() == names[-1]
