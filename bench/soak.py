"""Soak: 8 clients against one ``qa serve`` for a long time; errors, latency and memory over time.

A copy of the seeds index is served by ``qa serve`` (a child process, configured as deployed:
access log on, metrics on). Each of 8 client threads, on its own keep-alive connection, asks a
new question (never one asked before, so no answer comes from a cache) and, every tenth
request, reads something else: the document list, one document, ``/health`` or ``/metrics``.
The server's resident memory is read from ``/proc`` every second. After a warm-up (the same
load, so that one-time allocations are made), the measured phase runs ``--seconds``.

Reported: requests and errors (must be 0), search p50/p99 in the first and the last minute of
the measured phase, and memory at its start, its end and its peak, with the growth from start
to end. Memory is compared over the measured phase only: the warm-up's growth is set-up, not a
leak. The server's own counters (``/metrics``) and its access log must count every request.

    python -m bench.soak                  # 10 minutes → bench/results/soak.json
    python -m bench.soak --quick          # 30 s → bench/results/quick/soak.json
    python -m bench.soak --seconds 120    # any length

``soak()`` is the load itself; ``tests/test_soak.py`` runs it for 60 s in ``make test``.
"""

from __future__ import annotations

import random
import shutil
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx

from bench.common import (
    SCRATCH,
    bench_parser,
    ensure_seeds_index,
    free_port,
    print_rows,
    process_rss_mb,
    qa_command,
    row,
    start_process,
    stop_process,
    summary,
    wait_for_search,
    write_result,
)

CLIENTS = 8
SECONDS = 600.0
WARMUP = 15.0
STEMS = ("Vad säger dokumenten om", "Hur arbetar myndigheterna med", "Vem ansvarar för",
         "Vilka mål finns för", "Hur beslutas", "Vad kostar", "När infördes", "Varför behövs")
TOPICS = ("tillitsbaserad styrning", "digitalisering", "länsstyrelsernas samverkan", "budgeten",
          "regionens sjukvård", "kollektivtrafiken", "skolans uppdrag", "beslutsstöd",
          "medborgarnas förtroende", "offentlig förvaltning", "IT-säkerhet", "upphandling")


@dataclass
class SoakResult:
    """What the clients saw and what the server's memory did."""

    seconds: float = 0.0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    searches: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, ms)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, MiB)

    def rss_at(self, start: float, end: float) -> float:
        """Median resident memory (MiB) sampled between ``start`` and ``end`` seconds in."""
        values = [mb for t, mb in self.rss if start <= t <= end and mb == mb]
        return statistics.median(values) if values else float("nan")

    @property
    def memory_growth(self) -> float:
        """Relative growth of resident memory from the first 5 s to the last 5 s."""
        return self.rss_at(self.seconds - 5, self.seconds) / self.rss_at(0, 5) - 1

    def latency(self, start: float, end: float) -> dict[str, float | int]:
        return summary([ms for t, ms in self.searches if start <= t < end])


def question(n: int) -> str:
    """The ``n``-th question: distinct for every ``n``."""
    rng = random.Random(n)
    return f"{rng.choice(STEMS)} {rng.choice(TOPICS)} enligt fråga {n}?"


def soak(base: str, pid: int, seconds: float, clients: int = CLIENTS, *, first: int = 0,
         headers: dict[str, str] | None = None) -> SoakResult:
    """Run the load against ``base`` for ``seconds``; ``pid`` is the server's (for its memory).

    Questions are numbered from ``first`` on, so that two phases never repeat one.
    """
    result = SoakResult()
    stop = threading.Event()
    lock = threading.Lock()
    counter = [first]
    t0 = time.perf_counter()
    listed = httpx.get(f"{base}/api/documents", headers=headers)
    documents = [d["id"] for d in listed.json()["documents"]]
    result.requests = 1  # that one

    def client(number: int) -> None:
        others = ["/api/documents", "/health", "/metrics", f"/api/documents/{documents[0]}"]
        done = 0
        with httpx.Client(base_url=base, timeout=60, headers=headers) as http:
            while not stop.is_set():
                with lock:
                    counter[0] += 1
                    n = counter[0]
                started = time.perf_counter()
                try:
                    if done % 10 == 9:
                        res = http.get(others[(done // 10 + number) % len(others)])
                    else:
                        res = http.post("/api/search", json={"question": question(n), "k": 5})
                        if res.status_code == 200:
                            result.searches.append((started - t0,
                                                    (time.perf_counter() - started) * 1000))
                    if res.status_code != 200:
                        result.errors.append(f"{res.request.method} {res.request.url.path}: "
                                             f"{res.status_code}")
                except httpx.HTTPError as exc:
                    result.errors.append(type(exc).__name__)
                done += 1
                with lock:
                    result.requests += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    while (now := time.perf_counter() - t0) < seconds:
        result.rss.append((now, process_rss_mb(pid)))
        time.sleep(min(1.0, max(0.0, seconds - now)))
    stop.set()
    for t in threads:
        t.join(timeout=120)
    result.seconds = time.perf_counter() - t0
    result.rss.append((result.seconds, process_rss_mb(pid)))
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=None, help="length of the measured phase")
    args = parser.parse_args()
    seconds = args.seconds or (30.0 if args.quick else SECONDS)
    index_dir = SCRATCH / "soak-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(ensure_seeds_index(), index_dir, symlinks=True)
    port = free_port()
    proc = start_process(qa_command("serve", "--index", str(index_dir), "--port", str(port)), "soak")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_search(port, proc)
        soak(base, proc.pid, WARMUP, first=10_000_000)
        measured = soak(base, proc.pid, seconds)
    finally:
        stop_process(proc)
    minute = min(60.0, seconds / 2)
    first, last = measured.latency(0, minute), measured.latency(seconds - minute, seconds + 1)
    start_mb = measured.rss_at(0, 5)
    end_mb = measured.rss_at(seconds - 5, seconds + 1)
    peak_mb = max(mb for _, mb in measured.rss)
    rows = [
        row("requests / errors", f"{measured.requests} / {len(measured.errors)}", "",
            f"{CLIENTS} clients, {seconds:.0f} s, new questions; 1 in 10 reads another route"),
        row("search p50 / p99, first minute", f"{first.get('p50')} / {first.get('p99')}", "ms", ""),
        row("search p50 / p99, last minute", f"{last.get('p50')} / {last.get('p99')}", "ms", ""),
        row("requests per second", measured.requests / measured.seconds, "req/s", ""),
        row("server memory at start / end / peak", f"{start_mb:.0f} / {end_mb:.0f} / {peak_mb:.0f}",
            "MiB", f"after a {WARMUP:.0f} s warm-up"),
        row("memory growth, start to end", f"{100 * measured.memory_growth:+.2f}", "%", ""),
    ]
    print_rows("Soak", rows)
    write_result("soak", {
        "clients": CLIENTS, "seconds": seconds, "warmup_seconds": WARMUP,
        "requests": measured.requests, "errors": measured.errors[:50],
        "error_count": len(measured.errors), "first_minute": first, "last_minute": last,
        "rss_mb": [(round(t, 1), mb) for t, mb in measured.rss],
        "memory_growth": measured.memory_growth, "summary": rows,
    }, args.quick)


if __name__ == "__main__":
    main()
