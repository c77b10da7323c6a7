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

The load itself is ``tests/soak_load.py``'s ``soak()``; ``tests/test_soak.py`` runs it for 60 s in
``make test``.
"""

from __future__ import annotations

import shutil

from bench.common import (
    SCRATCH,
    bench_parser,
    ensure_seeds_index,
    free_port,
    print_rows,
    qa_command,
    row,
    start_process,
    stop_process,
    summary,
    wait_for_search,
    write_result,
)
from tests.soak_load import CLIENTS, soak

SECONDS = 600.0
WARMUP = 15.0


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
    first = summary(measured.latencies(0, minute))
    last = summary(measured.latencies(seconds - minute, seconds + 1))
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
