"""Resident memory of ``qa serve`` per question precision, side by side in one run.

For each ``QA_QUERY_PRECISION`` (fp32, int8-static, int8, bf16 where the CPU has it) a
``qa serve`` over the seeds index is started alone (one server at a time, so none shares
pages with another), asked one question, and its memory read from ``/proc/PID/status``:
``VmRSS`` and its parts ``RssAnon`` (the process's own allocations: weights a graph holds, the
index, Python) and ``RssFile`` (pages of mapped files: libraries, the index's mapped vectors).
Then it answers ``QUESTIONS`` never-seen questions and is read again: the word table is read
row by row from its file, so new words must not grow the process. Every question path reads
its word rows from the same table file (``qa.embed.onnx_export``); the graph file's size and
its largest initializer are reported beside the memory, so a graph that holds the table again
shows at once.

    python -m bench.serve_memory [--quick] [--paths fp32,int8-static,int8,bf16]
"""

from __future__ import annotations

import asyncio
import itertools
import re
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
    start_process,
    stop_process,
    wait_for_search,
    warmup_questions,
    write_result,
)

PATHS = ("fp32", "int8-static", "int8", "bf16")
QUESTIONS = 200


def _memory(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of ``pid`` in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: round(int(m.group(1)) / 1024, 1)
            for key in ("VmRSS", "RssAnon", "RssFile")
            if (m := re.search(rf"{key}:\s+(\d+)", status))}


def _graph_facts(precision: str) -> dict[str, Any]:
    """The question graph's file size and its largest initializer (elements)."""
    import onnx

    from qa.embed import onnx_export
    from qa.embed.model_files import read_model_files
    from qa.embed.question_encoder import question_graphs
    from qa.settings import Settings

    settings = Settings().embed
    graph = onnx_export.exported(settings.model_cache, read_model_files(settings),
                                 question_graphs(precision)[0])  # type: ignore[arg-type]
    if graph is None:
        return {}
    model = onnx.load(str(graph), load_external_data=False)
    largest = max(model.graph.initializer, key=lambda i: len(i.raw_data))
    return {"graph": graph.name, "graph_mb": round(graph.stat().st_size / 2**20, 1),
            "largest_initializer": list(largest.dims)}


async def _ask(port: int, questions: list[str]) -> int:
    conn = await HttpConnection.open(port)
    failed = 0
    try:
        for q in questions:
            status, _ = await conn.post("/api/search", search_request(q))
            failed += status != 200
    finally:
        await conn.close()
    return failed


def _serve(precision: str, index_dir: Path, questions: list[str]) -> dict[str, Any]:
    port = free_port()
    proc = start_process(qa_command("serve", "--index", str(index_dir), "--port", str(port),
                                    "--no-access-log"), f"serve_memory_{precision}",
                         env={"QA_QUERY_PRECISION": precision})
    try:
        wait_for_search(port, proc)  # one question answered
        one = _memory(proc.pid)
        failed = asyncio.run(_ask(port, questions))
        many = _memory(proc.pid)
    finally:
        stop_process(proc)
    return {"after_one": one, "after_many": many, "failed": failed, **_graph_facts(precision)}


def _supported(precision: str) -> bool:
    from qa.embed.cpu_features import read_cpu_features

    return bool(read_cpu_features().supports(precision))  # type: ignore[arg-type]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--paths", default=",".join(PATHS))
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p and (p == "fp32" or _supported(p))]
    n = 20 if args.quick else QUESTIONS
    questions = [f"{q} ({i})" for i, q in zip(range(n), itertools.cycle(warmup_questions(50)))]
    index_dir = ensure_seeds_index()
    found = {p: _serve(p, index_dir, questions) for p in paths}
    base = found["fp32"]["after_one"]["VmRSS"]
    rows = []
    for p, f in found.items():
        one, many = f["after_one"], f["after_many"]
        rows.append(row(f"{p}: resident after one question (anon + file)",
                        f"{one['VmRSS']:.0f} ({one['RssAnon']:.0f} + {one['RssFile']:.0f})", "MiB",
                        f"{one['VmRSS'] / base:.2f} × fp32; graph {f.get('graph')} "
                        f"{f.get('graph_mb')} MiB, largest initializer {f.get('largest_initializer')}"))
        rows.append(row(f"{p}: resident after {n} more new questions", f"{many['VmRSS']:.0f}", "MiB",
                        f"{f['failed']} failed"))
    print_rows("qa serve's resident memory per question precision (seeds index)", rows)
    write_result("serve_memory", {"questions": n, "paths": found, "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
