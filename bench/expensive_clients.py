"""A normal client's latency alone and while four clients send the most expensive questions.

Starts ``qa serve`` over the seeds index (a child process, default settings), warms it up,
then in one run, each phase ``SECONDS`` long:

* **alone**: one normal client asks new seed-like questions (k=5) back to back;
* **with load**: the same client, while four clients send distinct questions of the longest
  allowed length (``QA_MAX_QUESTION_CHARS``, 1000 characters; k=5) back to back;
* **after**: the server idles ``SETTLE`` seconds, then the normal client alone again.

Reported: the normal client's p50/p95 in each phase and the ratio p50 with load ÷ p50 alone
(the issue's target: at most 2), errors and 503s of every client, the expensive clients'
questions per second, and the server's resident memory before, at its peak during and after
the load. All clients share one asyncio loop with minimal HTTP/1.1 keep-alive connections.

    python -m bench.expensive_clients [--quick] [--rounds 5 --seconds 10]
        [--server-env QA_QUESTION_MAX_TOKENS=512]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import time
from typing import Any

from bench.common import (
    HttpConnection,
    OtherLoad,
    bench_parser,
    ensure_seeds_index,
    free_port,
    print_rows,
    process_rss_mb,
    qa_command,
    ratio,
    row,
    search_request,
    seed_questions,
    start_process,
    stop_process,
    summary,
    wait_for_quiet,
    wait_for_search,
    warmup_questions,
    write_result,
)

SECONDS = 20.0
SETTLE = 5.0
EXPENSIVE_CLIENTS = 4
LONGEST = 1000


def _long_questions(texts: list[str]) -> Any:
    """Distinct questions of exactly ``LONGEST`` characters, made of seed questions."""
    for n in itertools.count():
        words = " ".join(texts[(n + i) % len(texts)] for i in range(40))
        yield f"Fråga {n}: {words}"[:LONGEST]


async def _normal(conn: HttpConnection, questions: Any, until: float
                  ) -> tuple[list[float], list[float], int]:
    """The normal client's latencies, the server's own time for each (``took_ms``: from the
    question's check to its ranked answer, the embedding's wait included), and its errors."""
    latencies, took, errors = [], [], 0
    while time.perf_counter() < until:
        t = time.perf_counter()
        status, body = await conn.post("/api/search", search_request(next(questions)))
        if status == 200:
            latencies.append((time.perf_counter() - t) * 1000)
            took.append(float(json.loads(body)["took_ms"]))
        else:
            errors += 1
    return latencies, took, errors


async def _phase(port: int, pid: int, normal_questions: Any, seconds: float,
                 expensive: Any | None) -> dict[str, Any]:
    """One phase: the normal client, and the expensive ones when ``expensive`` is given."""
    conns = [await HttpConnection.open(port) for _ in range(1 + (EXPENSIVE_CLIENTS if expensive else 0))]
    statuses: dict[int, int] = {}
    peak = process_rss_mb(pid)
    until = time.perf_counter() + seconds

    async def hostile(conn: HttpConnection) -> None:
        while time.perf_counter() < until:
            status, _ = await conn.post("/api/search", search_request(next(expensive)))
            statuses[status] = statuses.get(status, 0) + 1

    async def watch_memory() -> None:
        nonlocal peak
        while time.perf_counter() < until:
            peak = max(peak, process_rss_mb(pid))
            await asyncio.sleep(0.25)

    with OtherLoad([pid]) as others:
        tasks = [hostile(c) for c in conns[1:]] if expensive else []
        results = await asyncio.gather(_normal(conns[0], normal_questions, until), watch_memory(),
                                       *tasks)
    for c in conns:
        await c.close()
    latencies, took, errors = results[0]
    out: dict[str, Any] = {"load_average": round(os.getloadavg()[0], 2),
                           "normal_ms": summary(latencies), "normal_took_ms": summary(took),
                           "normal_errors": errors,
                           "peak_rss_mb": peak, "others_cpu_share": others.share}
    if expensive:
        out["expensive_statuses"] = {str(k): v for k, v in sorted(statuses.items())}
        out["expensive_qps"] = round(sum(statuses.values()) / seconds, 2)
    return out


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--server-env", action="append", default=[], metavar="QA_X=VALUE",
                        help="an environment variable for the server (an experiment)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alone / with-load pairs in one run (the first is reported in full)")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="each phase's length")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    env = dict(item.split("=", 1) for item in args.server_env)
    index_dir = ensure_seeds_index()
    port = free_port()
    proc = start_process(qa_command("serve", "--index", str(index_dir), "--port", str(port),
                                    "--no-access-log"), "expensive_clients", env=env)
    normal = (f"{q} ({i})" for i, q in enumerate(itertools.cycle(warmup_questions(200))))
    expensive = _long_questions(seed_questions())
    try:
        wait_for_search(port, proc)
        busy_before = wait_for_quiet()

        async def run() -> dict[str, Any]:
            await _phase(port, proc.pid, normal, 3.0, expensive)  # warm-up, both kinds
            rss_before = process_rss_mb(proc.pid)
            alone = await _phase(port, proc.pid, normal, seconds, None)
            loaded = await _phase(port, proc.pid, normal, seconds, expensive)
            await asyncio.sleep(SETTLE)
            rss_after = process_rss_mb(proc.pid)
            after = await _phase(port, proc.pid, normal, seconds, None)
            rounds = [(alone, loaded)]
            for _ in range(args.rounds - 1):  # more alone / with-load pairs, side by side
                rounds.append((await _phase(port, proc.pid, normal, seconds, None),
                               await _phase(port, proc.pid, normal, seconds, expensive)))
            return {"rss_before_mb": rss_before, "alone": alone, "with_load": loaded,
                    "rss_after_mb": rss_after, "after": after,
                    "rounds": [{"ratio": ratio(b["normal_ms"]["p50"], a["normal_ms"]["p50"]),
                                "alone_p50": a["normal_ms"]["p50"],
                                "with_load_p50": b["normal_ms"]["p50"],
                                "took_p50": [a["normal_took_ms"]["p50"],
                                             b["normal_took_ms"]["p50"]],
                                "load_average": [a["load_average"], b["load_average"]]}
                               for a, b in rounds]}

        found = asyncio.run(run())
    finally:
        stop_process(proc)

    alone, loaded, after = found["alone"], found["with_load"], found["after"]
    p50 = ratio(loaded["normal_ms"]["p50"], alone["normal_ms"]["p50"])
    statuses = loaded["expensive_statuses"]
    ratios = [r["ratio"] for r in found["rounds"]]
    rows = [
        row("normal client p50 with load ÷ alone", p50, "×",
            f"{EXPENSIVE_CLIENTS} clients sending distinct {LONGEST}-character questions; target ≤ 2"),
        row(f"the same, median of {len(ratios)} rounds", statistics.median(ratios), "×",
            "rounds " + ", ".join(f"{r:.2f}" for r in ratios)),
        row("normal client p50 / p95, alone",
            f"{alone['normal_ms']['p50']} / {alone['normal_ms']['p95']}", "ms",
            f"{alone['normal_ms']['n']} questions"),
        row("normal client p50 / p95, with load",
            f"{loaded['normal_ms']['p50']} / {loaded['normal_ms']['p95']}", "ms",
            f"{loaded['normal_ms']['n']} questions"),
        row("normal client's server time (took_ms) p50, alone / with load",
            f"{alone['normal_took_ms']['p50']} / {loaded['normal_took_ms']['p50']}", "ms",
            "the question's embedding (and its wait) and ranking; the rest is HTTP and the loop"),
        row("normal client p50, alone again after the load", after["normal_ms"]["p50"], "ms",
            f"after {SETTLE:g} s idle"),
        row("expensive clients: answers per second", loaded["expensive_qps"], "q/s",
            f"statuses {statuses}"),
        row("failed requests (normal client, all phases)",
            alone["normal_errors"] + loaded["normal_errors"] + after["normal_errors"], "", ""),
        row("server memory before / peak with load / after", f"{found['rss_before_mb']:.0f} / "
            f"{loaded['peak_rss_mb']:.0f} / {found['rss_after_mb']:.0f}", "MiB", "resident"),
        row("other processes' CPU share (alone / with load)",
            f"{alone['others_cpu_share']:.0%} / {loaded['others_cpu_share']:.0%}", "",
            f"machine busy before: {busy_before:.0%}"),
    ]
    print_rows("A normal client beside clients sending the most expensive questions", rows)
    name = "expensive_clients" + "".join(f"+{k}={v}" for k, v in sorted(env.items()))
    write_result(name, {"seconds": seconds, "server_env": env, "machine_busy_before": busy_before,
                        **found, "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
