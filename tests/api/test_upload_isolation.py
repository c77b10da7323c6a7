"""Uploads that a reader cannot finish, against a real ``qa serve`` process over a real socket:
the upload is answered (the file skipped with its reason), no conversion is left running in
the server, and SIGTERM stops the server promptly even while a conversion runs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from qa.ingest.documents import make_document
from tests.ingest.hostile.make_hostile import long_pdf
from tests.live import wait_until_healthy

pytestmark = pytest.mark.skipif(not (shutil.which("gs") and shutil.which("qpdf")),
                                reason="needs ghostscript and qpdf (make system)")

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "isolation-admin-51f0"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
TEXT = "Återvinningscentralen har öppet alla vardagar mellan sju och nitton.".encode()
_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    return (fields := _stat(pid)) is not None and fields[0] != "Z"


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) and fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    """Every living process below ``pid``."""
    parents = _parents()
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        todo += children
    return found


def converting(pid: int) -> list[int]:
    """The conversion workers of the server ``pid``: every process below it but the two that
    multiprocessing starts once and keeps, its fork server and resource tracker (children of
    the server; the workers are children of the fork server and share its command line)."""
    parents = _parents()
    helpers = set()
    for child in (p for p, pp in parents.items() if pp == pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing.forkserver" in command or b"multiprocessing.resource_tracker" in command:
            helpers.add(child)
    return [p for p in descendants(pid) if p not in helpers]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        if (fields := _stat(pid)) is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, settings, embedder) -> Path:
    from qa.index.build import build_index

    folder = tmp_path_factory.mktemp("isolation") / "index"
    build_index([make_document("bas", "Bas\n\nKommunen har en återvinningscentral.")], embedder,
                settings.index, folder, progress=False)
    return folder


@contextmanager
def qa_serve(index_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--index", str(index_dir), "--port", str(port),
         "--no-access-log"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_ADMIN_TOKEN": ADMIN, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, proc)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_an_upload_past_its_time_is_answered_and_leaves_nothing_running(index_dir, tmp_path):
    pdf = long_pdf(tmp_path / "lång.pdf", 3000)  # about 5 s of text extraction, quiet machine
    with qa_serve(index_dir, QA_MAX_SECONDS_PER_FILE="1") as (base, proc):
        res = httpx.post(f"{base}/api/documents", headers=AUTH, timeout=300, files=[
            ("files", ("lång.pdf", pdf.read_bytes(), "application/pdf")),
            ("files", ("nytt.txt", TEXT, "text/plain"))])
        assert res.status_code == 200, res.text
        got = {d["file"]: d for d in res.json()["documents"]}
        assert got["lång.pdf"]["status"] == "skipped"
        assert got["lång.pdf"]["reason"].startswith("timed out: still running after 1 s")
        assert got["nytt.txt"]["status"] == "added"
        assert converting(proc.pid) == [], "a conversion worker outlived the upload"
        tree = [proc.pid, *descendants(proc.pid)]
        before = cpu_seconds(tree)
        time.sleep(2)
        assert cpu_seconds(tree) - before < 0.5, "the server still spins after the answer"
        hits = httpx.post(f"{base}/api/search", json={"question": "När har återvinningen öppet?"},
                          timeout=60).json()["results"]
        assert hits[0]["document_id"] == "nytt"


def test_sigterm_stops_the_server_promptly_while_a_conversion_runs(index_dir, tmp_path):
    # 4,000 pages: over half a minute of text extraction on two cores, within every limit
    pdf = long_pdf(tmp_path / "lång.pdf", 4000)
    with qa_serve(index_dir, QA_MAX_SECONDS_PER_FILE="600",
                  QA_MAX_DOCUMENT_CHARS="100000000") as (base, proc):
        answer: dict[str, httpx.Response | Exception] = {}

        def upload() -> None:
            try:
                answer["res"] = httpx.post(f"{base}/api/documents", headers=AUTH, timeout=120,
                                           files=[("files", ("lång.pdf", pdf.read_bytes(),
                                                             "application/pdf"))])
            except Exception as exc:  # reported by the assertions below
                answer["res"] = exc

        sender = threading.Thread(target=upload)
        sender.start()
        deadline = time.monotonic() + 60
        while not (workers := converting(proc.pid)):
            assert time.monotonic() < deadline, "no conversion started"
            time.sleep(0.1)
        time.sleep(1.5)
        assert all(alive(w) for w in workers), "the conversion ended before the signal"
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.wait(timeout=60)
        stopped_after = time.monotonic() - started
        sender.join(30)
        assert stopped_after < 15, f"the server took {stopped_after:.0f} s to stop"
        res = answer["res"]
        assert isinstance(res, httpx.Response), res
        assert res.status_code == 503 and "stopping" in res.json()["detail"]
        deadline = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(w) for w in workers), "a conversion worker outlived the server"
