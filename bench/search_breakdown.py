"""Where the time of one search goes: the engine's own timings plus the API's serialisation.

In-process ``SearchEngine.search`` (default mode, k=5) over the seeds index, each
seed test-set question once (so every question pays its embedding). Reported per
stage, median and p95: ``result.timings`` (embed, dense, lexical, fusion,
highlight), the rest of ``took_ms`` (dedupe, final similarities), and the
serialisation the API adds: building the response body with
``qa.search.results.result_json``, as ``POST /api/search`` does, then encoding
it as JSON.

    python -m bench.search_breakdown [--quick]
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.common import (
    BENCH_INDEX,
    OtherLoad,
    bench_parser,
    ensure_seeds_index,
    row,
    seed_questions,
    summary,
    wait_for_quiet,
    warmup_questions,
    write_result,
)

STAGES = ("embed_ms", "dense_ms", "lexical_ms", "fusion_ms", "highlight_ms")


def run(quick: bool = False) -> dict[str, Any]:
    from qa.search.engine import SearchEngine, clean_question
    from qa.search.results import result_json
    from qa.settings import Settings

    ensure_seeds_index()
    busy = wait_for_quiet(10 if quick else 90)
    settings = Settings()
    engine = SearchEngine.open(settings, str(BENCH_INDEX))
    engine.warm_up()
    questions = seed_questions()[: 24 if quick else None]
    for q in warmup_questions(10):
        json.dumps(result_json(engine.search(q, 5)), ensure_ascii=False)

    stages: dict[str, list[float]] = {s: [] for s in (*STAGES, "other_ms", "took_ms", "build_response_ms",
                                                      "encode_json_ms", "total_ms")}
    sizes: list[int] = []
    with OtherLoad() as load:
        for q in questions:
            t0 = time.perf_counter()
            question = clean_question(q, settings.limits.max_question_chars)
            result = engine.search(question, 5)
            t1 = time.perf_counter()
            response = result_json(result)
            t2 = time.perf_counter()
            blob = json.dumps(response, ensure_ascii=False).encode()
            t3 = time.perf_counter()
            sizes.append(len(blob))
            for s in STAGES:
                stages[s].append(result.timings.get(s, 0.0))
            stages["took_ms"].append(result.took_ms)
            stages["other_ms"].append(result.took_ms - sum(result.timings.values()))
            stages["build_response_ms"].append((t2 - t1) * 1000)
            stages["encode_json_ms"].append((t3 - t2) * 1000)
            stages["total_ms"].append((t3 - t0) * 1000)

    table = {s: summary(v, 3) for s, v in stages.items()}
    total = table["total_ms"]["p50"]
    rows = [row(f"{s.removesuffix('_ms')} p50 / p95", f"{table[s]['p50']} / {table[s]['p95']}", "ms",
                f"{table[s]['p50'] / total:.0%} of the total p50" if total else "")
            for s in (*STAGES, "other_ms", "build_response_ms", "encode_json_ms")]
    rows.append(row("total (search + serialisation) p50 / p95", f"{total} / {table['total_ms']['p95']}",
                    "ms", f"{len(questions)} questions, mode {settings.search.default_mode}, k=5"))
    info = engine.health()
    result = {"questions": len(questions), "mode": settings.search.default_mode, "k": 5,
              "query_path": info.query_path, "passages": info.passages,
              "machine_busy_before": busy, "others_cpu_share": load.share, "stages_ms": table,
              "response_bytes": summary([float(x) for x in sizes], 0), "summary": rows}
    print("\nSearch breakdown (in-process, ms)")
    print(f"  {'stage':<20}{'p50':>10}{'p95':>10}")
    for s, v in table.items():
        print(f"  {s:<20}{v['p50']:>10}{v['p95']:>10}")
    write_result("search_breakdown", result, quick)
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
