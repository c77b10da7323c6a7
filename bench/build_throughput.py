"""Index build throughput and peak memory of ``qa build``, against plain sentence-transformers.

Runs ``qa build`` from scratch (empty index directory, so nothing is reused) as a
child process on two corpora: the five seed documents and 2,000 synthetic
Swedish documents from ``bench.synth`` (short enough that each stays one
passage). Peak RSS is the child's ``ru_maxrss`` (from ``os.wait4``), which sees
torch's allocations. Throughput uses the build time ``qa build`` prints (model
load excluded) and, separately, the child's wall time. The seeds are built three
times (medians), the synthetic corpus once.

Side by side in the same run, in a child process too (on this VM an idle process
holding a loaded model slows a sibling's compute by ~20 %, so neither side may
hold the other's model): sentence-transformers fp32 ``encode`` (batch 32,
``"passage: "`` prompt, normalised) of the same passage texts, giving the ratio
of our build's passages/s to ST's passages/s. A build also embeds every sentence
of a multi-sentence passage, alone and in context, so on the seeds ST is also timed on all
the texts the build embeds (passages, sentences, sentences in context): that ratio compares the build's whole
embedding path with plain ST on the same texts. The default paths (passages by
OpenVINO fp32, sentences by OpenVINO bf16 where the CPU has it) are recorded,
and each corpus is also built once with every other path in ``VARIANTS``.

    python -m bench.build_throughput [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
    OtherLoad,
    bench_parser,
    load_sentence_transformer,
    print_rows,
    qa_command,
    ratio,
    row,
    wait_for_quiet,
    write_result,
)
from bench.synth import write_corpus


def _build(source: Path, index_dir: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``qa build`` from scratch; wall time, reported build time and the child's peak RSS."""
    shutil.rmtree(index_dir, ignore_errors=True)
    cmd = qa_command("build", "--source", str(source), "--index", str(index_dir), "--no-progress")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    assert proc.stdout is not None
    output = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"qa build failed:\n{output}")
    m = re.search(r"in ([\d.]+) s", output)
    counts = re.search(r"embedding (\d+) passages, (\d+) sentences and (\d+) sentences in context",
                       output)
    from qa.index.manifest import read_manifest

    manifest = read_manifest(index_dir)
    return {
        "documents": manifest.documents,
        "passages": manifest.passages,
        "sentences": manifest.sentences,
        "texts_embedded": sum(map(int, counts.groups())) if counts else None,
        "paths": f"{manifest.passage_path} + {manifest.sentence_path}",
        "build_s": float(m.group(1)) if m else float("nan"),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def _texts(index_dir: Path) -> tuple[list[str], list[str]]:
    """Passage texts, and every text the build embedded (passages, the distinct sentences of
    multi-sentence passages and, where the index has them, their distinct sentences in context)."""
    from qa.index.snapshot import Snapshot
    from qa.ingest.passages import collapse
    from qa.settings import Settings

    with Snapshot.open(index_dir, Settings().index) as snapshot:
        passages = list(snapshot.passages)
        docs = snapshot.document_texts()
        assert snapshot.sentences is not None, "the build benchmark indexes sentence vectors"
        spans, offsets = snapshot.sentences.spans, snapshot.sentences.offsets
        with_contexts = snapshot.sentences.contexts is not None
    texts = [p.embedding_text(False) for p in passages]
    sentences: dict[tuple[str, int, int], str] = {}  # distinct spans, as the build embeds them
    contexts: set[str] = set()  # distinct sentences in context, as the build embeds them
    for i, p in enumerate(passages):
        a, b = int(offsets[i]), int(offsets[i + 1])
        if b - a > 1:
            before = ""
            for x, y in spans[a:b]:
                sentence = collapse(docs[p.document_id][x:y])
                sentences.setdefault((p.document_id, int(x), int(y)), sentence)
                if with_contexts:
                    contexts.add(p.sentence_in_context(sentence, before))
                before = sentence
    return texts, texts + list(sentences.values()) + sorted(contexts)


def _st_encode(model: Any, texts: list[str]) -> float:
    t = time.perf_counter()
    model.encode(texts, prompt="passage: ", batch_size=32, normalize_embeddings=True,
                 convert_to_numpy=True, show_progress_bar=False)
    return time.perf_counter() - t


def st_child(index_dir: Path, all_texts: bool) -> dict[str, float]:
    """In a fresh process: ST fp32 encode time of the index's passages (and of all build texts)."""
    passages, everything = _texts(index_dir)
    model = load_sentence_transformer()
    _st_encode(model, ["uppvärmning"] * 8)
    out = {"passages_s": _st_encode(model, passages)}
    if all_texts:
        out["all_texts_s"] = _st_encode(model, everything)
    return out


def _st(index_dir: Path, all_texts: bool) -> dict[str, float]:
    """Run ``st_child`` as a child process, like ``qa build``: neither holds the other's model."""
    cmd = [sys.executable, "-m", "bench.build_throughput", "--st", str(index_dir),
           *(["--all-texts"] if all_texts else [])]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# Other embedding paths of ``qa build``, each built once per corpus against the same ST reference.
VARIANTS: dict[str, dict[str, str]] = {
    "without sentences in context": {"QA_SENTENCE_CONTEXTS": "false"},
    "all fp32 (ONNX Runtime)": {"QA_PASSAGE_RUNTIME": "onnx", "QA_SENTENCE_PRECISION": "fp32"},
    "all bf16 (OpenVINO)": {"QA_PASSAGE_PRECISION": "bf16", "QA_SENTENCE_PRECISION": "bf16"},
    "all int8 (ONNX Runtime)": {"QA_PASSAGE_PRECISION": "int8", "QA_SENTENCE_PRECISION": "int8"},
}


def run(quick: bool = False) -> dict[str, Any]:
    n_synth = 200 if quick else 2000
    corpora = {"seeds": SEEDS,
               f"synth-{n_synth}": write_corpus(SCRATCH / f"synth-{n_synth}.jsonl", n_synth)}
    busy = wait_for_quiet(10 if quick else 90)
    results: dict[str, Any] = {}
    for name, source in corpora.items():
        # The seeds are cheap: three rounds (build, then ST), medians; the synthetic corpus once.
        rounds = 3 if name == "seeds" and not quick else 1
        index_dir = SCRATCH / f"build-{name}"
        builds, st_p, st_all, others = [], [], [], []
        for i in range(rounds):
            print(f"qa build {name} ({i + 1}/{rounds}) …", flush=True)
            with OtherLoad() as load:
                builds.append(_build(source, index_dir))
                # All texts only on the seeds: on the synthetic corpus it would double the run time.
                st = _st(index_dir, all_texts=name == "seeds")
                passages, everything = _texts(index_dir)
                st_p.append(st["passages_s"])
                if "all_texts_s" in st:
                    st_all.append(st["all_texts_s"])
            others.append(load.share)
            shutil.rmtree(index_dir, ignore_errors=True)
        variants = {}
        for label, env in VARIANTS.items():
            print(f"qa build {name}, {label} …", flush=True)
            with OtherLoad() as load:
                variants[label] = _build(source, index_dir, env)
            others.append(load.share)
            shutil.rmtree(index_dir, ignore_errors=True)
        b = {**builds[0], "build_s": statistics.median(x["build_s"] for x in builds),
             "wall_s": statistics.median(x["wall_s"] for x in builds),
             "peak_rss_mb": max(x["peak_rss_mb"] for x in builds)}
        st_per_s = round(len(passages) / statistics.median(st_p), 2)
        r = {
            **b,
            "rounds": rounds,
            "build_s_runs": [x["build_s"] for x in builds],
            "passages_per_s": round(b["passages"] / b["build_s"], 2),
            "sentences_per_s": round(b["sentences"] / b["build_s"], 2),
            "texts_embedded_per_s": round(b["texts_embedded"] / b["build_s"], 2),
            "passages_per_s_wall": round(b["passages"] / b["wall_s"], 2),
            "st_passages_s": round(statistics.median(st_p), 2),
            "st_passages_per_s": st_per_s,
            "others_cpu_share": max(others),
        }
        r["ratio_build_over_st_passages"] = ratio(r["passages_per_s"], st_per_s)
        r["variants"] = {}
        for label, v in variants.items():
            per_s = round(v["passages"] / v["build_s"], 2)
            r["variants"][label] = {**v, "env": VARIANTS[label], "passages_per_s": per_s,
                                    "ratio_build_over_st_passages": ratio(per_s, st_per_s)}
        if st_all:
            r["st_all_texts_s"] = round(statistics.median(st_all), 2)
            r["st_all_texts_per_s"] = round(len(everything) / statistics.median(st_all), 2)
            r["ratio_build_over_st_all_texts"] = ratio(r["texts_embedded_per_s"], r["st_all_texts_per_s"])
        results[name] = r

    first = next(iter(results.values()))
    rows = [row("embedding paths of qa build (default)", first["paths"], "",
                "passages + sentences; QA_PASSAGE_RUNTIME / QA_PASSAGE_PRECISION / QA_SENTENCE_PRECISION")]
    for name, r in results.items():
        rows += [
            row(f"{name}: qa build passages/s (sentences/s)",
                f"{r['passages_per_s']} ({r['sentences_per_s']})", "/s",
                f"{r['passages']} passages, {r['sentences']} sentences, {r['texts_embedded']} texts "
                f"embedded in {r['build_s']} s (wall {r['wall_s']} s with model load)"
                + (f"; median of {r['rounds']} builds" if r["rounds"] > 1 else "")),
            row(f"{name}: peak RSS of qa build", r["peak_rss_mb"], "MiB"),
            row(f"{name}: ST fp32 encode of the passages", r["st_passages_per_s"], "passages/s",
                f"build/ST ratio {r['ratio_build_over_st_passages']}×"),
        ]
        for label, v in r["variants"].items():
            rows.append(row(f"{name}: qa build passages/s, {label}", v["passages_per_s"], "/s",
                            f"build/ST ratio {v['ratio_build_over_st_passages']}× (one build)"))
        if "st_all_texts_per_s" in r:
            rows.append(row(f"{name}: ST fp32 encode of all build texts", r["st_all_texts_per_s"], "texts/s",
                            f"build texts/s ÷ ST texts/s = {r['ratio_build_over_st_all_texts']}×"))
    others = max(r["others_cpu_share"] for r in results.values())
    result = {"corpora": results, "synthetic_docs": n_synth, "paths": first["paths"],
              "machine_busy_before": busy,
              "others_cpu_share": others, "summary": rows}
    print_rows("Build throughput", rows)
    write_result("build_throughput", result, quick)
    return result


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--st", type=Path, metavar="INDEX", help=argparse.SUPPRESS)
    parser.add_argument("--all-texts", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.st is not None:
        print(json.dumps(st_child(args.st, args.all_texts)))
        return
    run(args.quick)


if __name__ == "__main__":
    main()
