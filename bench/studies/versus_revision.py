"""The service against an earlier revision of itself, side by side in one run.

Checks out ``--rev`` (default: the last commit before the stage layout) into a
git worktree under var/bench/, builds the seeds with that revision's own code
and serves both revisions on 127.0.0.1. Rounds alternate the order of the two
servers; each round sends a share of the seed questions sequentially (p50) and
then runs 8 clients with never-seen questions for a fixed time (QPS). Reported:
medians, the new/old ratios and each server's resident memory at the end. The
earlier revision runs with the same virtualenv, so both use the same libraries.

    python -m bench.studies.versus_revision [--quick] [--rev REV]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    SCRATCH,
    SEEDS,
    STUDY_RESULTS,
    HttpConnection,
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
    wait_for_quiet,
    wait_for_search,
    write_result,
)
from bench.http_latency import _load

BEFORE_LAYOUT = "57ef641"  # the last commit with the flat qa/ and the Embedder


def _worktree(rev: str) -> Path:
    folder = SCRATCH / f"rev-{rev}"
    if not (folder / "qa").is_dir():
        subprocess.run(["git", "worktree", "add", "--force", "--detach", str(folder), rev], cwd=ROOT,
                       check=True, capture_output=True)
    return folder


async def _sequential(port: int, questions: list[str]) -> list[float]:
    conn = await HttpConnection.open(port)
    out = []
    for q in questions:
        t = time.perf_counter()
        status, _ = await conn.post("/api/search", search_request(q))
        out.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"HTTP {status} for {q!r}")
    await conn.close()
    return out


def run(quick: bool = False, rev: str = BEFORE_LAYOUT) -> dict[str, Any]:
    new_index = ensure_seeds_index()
    old_tree = _worktree(rev)
    old_index = SCRATCH / f"rev-{rev}-index"
    env = {"PYTHONPATH": str(old_tree)}
    subprocess.run([sys.executable, "-m", "qa.cli", "build", "--source", str(SEEDS), "--index",
                    str(old_index), "--no-progress"], cwd=old_tree, env={**os.environ, **env},
                   check=True, capture_output=True)
    ports = {"new": free_port(), "old": free_port()}
    procs = {
        "new": start_process(qa_command("serve", "--index", str(new_index), "--port", str(ports["new"])),
                             "versus-new"),
        "old": start_process([sys.executable, "-m", "qa.cli", "serve", "--index", str(old_index), "--port",
                              str(ports["old"])], f"versus-{rev}", env, cwd=old_tree),
    }
    questions = seed_questions()
    rounds, seconds = (2, 4.0) if quick else (6, 10.0)
    seq: dict[str, list[float]] = {n: [] for n in procs}
    qps: dict[str, list[float]] = {n: [] for n in procs}
    try:
        for name, proc in procs.items():
            wait_for_search(ports[name], proc)
        busy = wait_for_quiet(10 if quick else 60)
        for r in range(rounds):
            for name in (["new", "old"] if r % 2 == 0 else ["old", "new"]):
                chunk = [f"{q} (runda {r})" for q in questions[r::rounds]]
                seq[name] += asyncio.run(_sequential(ports[name], chunk))
                def unseen(i: int, n: str = name, r: int = r) -> str:
                    return f"{questions[i % len(questions)]} ({n} {r}-{i})"

                load = asyncio.run(_load(ports[name], unseen, 8, seconds, None))
                if load["errors"]:
                    raise RuntimeError(f"{name}: {load['errors']} failed requests")
                qps[name].append(load["qps"])
        rss = {name: process_rss_mb(p.pid) for name, p in procs.items()}
    finally:
        for proc in procs.values():
            stop_process(proc)
    p50 = {n: statistics.median(v) for n, v in seq.items()}
    med = {n: statistics.median(v) for n, v in qps.items()}
    rows = [
        row("sequential p50, new / old", f"{p50['new']:.2f} / {p50['old']:.2f}", "ms",
            f"ratio {ratio(p50['new'], p50['old'])}; {len(seq['new'])} questions each"),
        row("8 clients, never-seen questions, QPS new / old", f"{med['new']} / {med['old']}", "q/s",
            f"ratio {ratio(med['new'], med['old'])}; rounds: new {qps['new']}, old {qps['old']}"),
        row("server RSS at the end, new / old", f"{rss['new']} / {rss['old']}", "MiB",
            f"ratio {ratio(rss['new'], rss['old'])}"),
    ]
    result = {"old_revision": rev, "rounds": rounds, "load_seconds": seconds, "machine_busy_before": busy,
              "sequential_ms": {n: {"p50": round(v, 2)} for n, v in p50.items()},
              "qps": qps, "qps_median": med, "rss_mb": rss, "summary": rows}
    print_rows(f"This revision against {rev}, side by side", rows)
    write_result("versus_revision", result, quick, STUDY_RESULTS)
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--rev", default=BEFORE_LAYOUT, help="the earlier revision (a git commit)")
    args = parser.parse_args()
    run(args.quick, args.rev)


if __name__ == "__main__":
    main()
