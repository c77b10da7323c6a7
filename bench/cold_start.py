"""Cold start: from spawning ``qa serve`` to its first successful answer.

Spawns ``qa serve --index var/bench-index`` on 127.0.0.1 and polls
``POST /api/search`` every 50 ms until it answers 200; median of 3 starts.
The model is already prepared (``qa model``), as on any machine after setup.
A separate child process times the phases of that start-up one by one
(imports, model load, index open, engine, warm-up query, app creation).

    python -m bench.cold_start [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    OtherLoad,
    bench_parser,
    ensure_seeds_index,
    free_port,
    process_rss_mb,
    qa_command,
    row,
    rss_mb,
    start_process,
    stop_process,
    wait_for_quiet,
    wait_for_search,
    write_result,
)


def phases(index_dir: Path) -> dict[str, dict[str, float]]:
    """Time each start-up step of ``qa serve`` in this (fresh) process: seconds and RSS after it."""
    out: dict[str, dict[str, float]] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out[name] = {"s": round(now - t, 3), "rss_mb": round(rss_mb(), 1)}
        t = now

    import uvicorn  # noqa: F401

    from api.app import create_app
    from qa.embed.question_encoder import open_question_encoder
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine
    from qa.settings import Settings

    lap("import_qa_api_uvicorn")
    settings = Settings()
    questions = open_question_encoder(settings.embed)
    lap("question_encoder (ONNX Runtime, tokenizer)")
    index = Snapshot.open(index_dir, settings.index, model_id=questions.model_id, dim=questions.dim)
    lap("index_open")
    engine = SearchEngine(index, questions, settings.search)
    lap("search_engine_init")
    engine.warm_up()
    lap("warm_up_query")
    create_app(engine)
    lap("create_app")
    return out


WARM_UP_QUESTIONS = 200


def _warm_up(port: int, n: int) -> None:
    """Send ``n`` never-seen questions of every length, one at a time."""
    import httpx

    words = ["hur", "styr", "regionen", "kommunen", "budget", "ansvar", "nämnd", "beslut", "vård",
             "skola", "trafik"]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for i in range(n):
            question = " ".join(words[(i + j) % len(words)] for j in range(3 + i % 40)) + f" {i}?"
            client.post("/api/search", json={"question": question, "k": 5}).raise_for_status()


def run(quick: bool = False) -> dict[str, Any]:
    index = ensure_seeds_index()
    busy = wait_for_quiet(10 if quick else 90)
    starts = 1 if quick else 3
    firsts: list[float] = []
    others: list[float] = []
    rss: list[float] = []
    rss_first: list[float] = []
    for i in range(starts):
        port = free_port()
        with OtherLoad() as load:
            t0 = time.perf_counter()
            proc = start_process(qa_command("serve", "--index", str(index), "--port", str(port)),
                                 f"cold_start-{i}")
            load.track(proc.pid)
            try:
                wait_for_search(port, proc, question=f"Vem styr regionen? (kallstart {i}, {time.time()})")
                firsts.append(time.perf_counter() - t0)
                rss_first.append(process_rss_mb(proc.pid))
                _warm_up(port, WARM_UP_QUESTIONS)
                rss.append(process_rss_mb(proc.pid))
            except BaseException:
                stop_process(proc)
                raise
        stop_process(proc)
        others.append(load.share)
        print(f"  start {i + 1}: first answer after {firsts[-1]:.2f} s", flush=True)
    t0 = time.perf_counter()
    child = subprocess.run([sys.executable, "-m", "bench.cold_start", "--phases", str(index)],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    child_wall = time.perf_counter() - t0
    steps = json.loads(child.stdout.strip().splitlines()[-1])
    median = statistics.median(firsts)
    rows = [row(f"spawn → first answer, median of {starts}", median, "s",
                "runs: " + ", ".join(f"{x:.2f}" for x in firsts))]
    rows += [row(f"  {name}", v["s"], "s", f"phase, timed in a separate child; RSS after: {v['rss_mb']} MiB")
             for name, v in steps.items()]
    rows.append(row("  interpreter start + exit (child wall − phases)",
                    child_wall - sum(v["s"] for v in steps.values()), "s"))
    rows.append(row("server RSS at its first answer, median", statistics.median(rss_first), "MiB",
                    "qa serve process, VmRSS"))
    rows.append(row(f"server RSS after warm-up ({WARM_UP_QUESTIONS} new questions), median",
                    statistics.median(rss), "MiB", "qa serve process, VmRSS"))
    result = {"starts": starts, "first_answer_s": [round(x, 3) for x in firsts],
              "median_s": round(median, 3), "server_rss_first_answer_mb": rss_first,
              "server_rss_after_warm_up_mb": rss, "phases": steps,
              "phases_child_wall_s": round(child_wall, 3),
              "machine_busy_before": busy, "others_cpu_share": max(others), "summary": rows}
    print(f"\nCold start: median {median:.2f} s to the first answer")
    for name, v in steps.items():
        print(f"  {name:<58} {v['s']:>7.3f} s   RSS {v['rss_mb']:>7.1f} MiB")
    write_result("cold_start", result, quick)
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--phases", type=Path, metavar="INDEX", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phases is not None:
        print(json.dumps(phases(args.phases)))
        return
    run(args.quick)


if __name__ == "__main__":
    main()
