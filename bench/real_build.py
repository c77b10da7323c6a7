"""``qa build`` on a real collection: texts embedded per second by kind, and what contexts cost.

The collection is several hundred pages of LibreOffice's Swedish help (Debian's
``libreoffice-help-sv``, unpacked by ``make real-docs``): the 37 pages of the LibreOffice
test set (``qa/eval/testsets/libreoffice_sv.jsonl``) and further pages drawn with a fixed
seed from the same help, copied with their paths (so document ids match the test set's).

1. One build from scratch with the default paths, in this process, its encoder wrapped so
   that each kind of text is timed on its own: passages, sentences, and sentences in context
   (each sentence of a passage of several, read with its title, section and the sentence
   before; they only choose highlights). Wall and process CPU seconds (every runtime thread)
   per kind, texts per second, and the contexts' share of the embedding time.
2. For each precision of ``--context-precisions``: a copy of that index rebuilt with
   ``QA_CONTEXT_PRECISION`` set, which re-embeds only the sentences in context (timed the
   same way), then ``qa eval`` of the LibreOffice set on it, paired against the fp32
   contexts' index (the rule of ``bench/query_precision.py``: answer accuracy is the figure
   that moves, since contexts only choose highlights). ``--sets`` does the same on other
   indexes of ``bench/query_precision.py``'s index root (seeds, kommun).

CPU seconds are the steadier figure on shared cores; wall seconds are given beside them.

    python -m bench.real_build --out DIR [--pages 300] [--root var/real-docs/root]
        [--context-precisions fp32,bf16,int8-static] [--index-root DIR --sets seeds,kommun]
        [--stages sets,build,collection]
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, bench_parser, row, write_result
from bench.query_precision import TESTSETS, _paired, _qa

KINDS = ("passage", "sentence", "context")
STAGES = ("sets", "build", "collection")  # the small sets' contexts, the build, its contexts


class TimedEncoder:
    """A build encoder whose embedding calls are timed per kind (wall and CPU seconds)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.times: dict[str, dict[str, float]] = {k: {"texts": 0, "wall_s": 0.0, "cpu_s": 0.0}
                                                   for k in KINDS}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_passages(self, texts: Sequence[str], kind: str = "passage",
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        wall, cpu = time.perf_counter(), time.process_time()
        out = self.inner.embed_passages(texts, kind, on_batch)
        t = self.times[kind]
        t["texts"] += len(texts)
        t["wall_s"] += time.perf_counter() - wall
        t["cpu_s"] += time.process_time() - cpu
        return out

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kind, t in self.times.items():
            if t["texts"]:
                out[kind] = {"texts": int(t["texts"]), "wall_s": round(t["wall_s"], 1),
                             "cpu_s": round(t["cpu_s"], 1),
                             "texts_per_s": round(t["texts"] / t["wall_s"], 1),
                             "texts_per_cpu_s": round(t["texts"] / t["cpu_s"], 2),
                             "path": self.inner.runtime(kind)}
        return out


def collection(root: Path, pages: int, out: Path) -> int:
    """Copy the test set's pages and further help pages (fixed seed) into ``out``."""
    from tests.eval.make_libreoffice_corpus import help_folder, write_corpus

    if out.is_dir() and any(out.rglob("*.html")):
        return sum(1 for _ in out.rglob("*.html"))
    write_corpus(out, root)
    folder = help_folder(root)
    have = {p.relative_to(out) for p in out.rglob("*.html")}
    others = sorted(p.relative_to(folder) for p in folder.rglob("*.html")
                    if p.relative_to(folder) not in have)
    for rel in random.Random(0).sample(others, max(0, pages - len(have))):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / rel, out / rel)
    return sum(1 for _ in out.rglob("*.html"))


def _build(source: Path, index: Path, context_precision: str | None) -> dict[str, Any]:
    """One build of ``source`` into ``index`` in this process, timed per kind."""
    from qa.embed.build_encoder import BuildEncoder
    from qa.index.build import build_index
    from qa.ingest.sources import load_documents
    from qa.settings import Settings

    settings = Settings()
    if context_precision is not None:
        settings = settings.model_copy(update={"context_precision": context_precision})
    encoder = TimedEncoder(BuildEncoder(settings.embed))
    encoder.inner.load(settings.index.sentence_vectors)
    t = time.perf_counter()
    documents = load_documents(source)
    read_s = time.perf_counter() - t
    report = build_index(documents, encoder, settings.index, index, progress=False)
    return {"documents": len(documents), "passages": report.passages, "read_s": round(read_s, 1),
            "build_s": round(time.perf_counter() - t - read_s, 1),
            "reused_passages": report.reused, "kinds": encoder.figures()}


def _eval(index: Path, questions: Path, out: Path) -> dict[str, Any]:
    if not (out / "report.json").is_file():
        _qa(["eval", "--index", str(index), "--questions", str(questions), "--out", str(out),
             "--mode", "hybrid", "--no-progress"], {})
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def run(out: Path, root: Path, pages: int, precisions: list[str], index_root: Path | None,
        sets: list[str], stages: tuple[str, ...] = STAGES) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "corpus"
    n = collection(root, pages, corpus)
    print(f"{n} pages in {corpus}", flush=True)
    result: dict[str, Any] = {"pages": n, "collection": "libreoffice-help-sv (Debian), test set pages "
                              "and a fixed-seed sample of the rest", "contexts": {}}
    # The small sets first (only their contexts are re-embedded), then the real collection.
    for name in sets if "sets" in stages else []:
        assert index_root is not None, "--sets needs --index-root"
        result["contexts"][name] = _variants(name, index_root / name, _source(name),
                                             TESTSETS / f"{name}_sv.jsonl", precisions, out)
        _write(result)
    base = out / "index"
    done = out / "default_build.json"
    if "build" not in stages and not done.is_file():
        return result
    if not done.is_file():
        shutil.rmtree(base, ignore_errors=True)
        done.write_text(json.dumps(_build(corpus, base, None), indent=2))
    result["default_build"] = json.loads(done.read_text())
    kinds = result["default_build"]["kinds"]
    total = sum(k["cpu_s"] for k in kinds.values())
    result["contexts_share_of_embedding_cpu"] = round(kinds["context"]["cpu_s"] / total, 3)
    print(json.dumps(result["default_build"], indent=2), flush=True)
    _write(result)
    if "collection" not in stages:
        return result
    result["contexts"]["libreoffice"] = _variants("libreoffice", base, corpus,
                                                  TESTSETS / "libreoffice_sv.jsonl", precisions, out)
    _write(result)
    print(markdown(result))
    return result


def _variants(name: str, index: Path, source: Path, questions: Path, precisions: list[str],
              out: Path) -> dict[str, Any]:
    """Copies of ``index`` with their contexts re-embedded at each precision, each evaluated."""
    reports, builds = {}, {}
    for precision in precisions:
        variant = out / "variants" / f"{name}-{precision}"
        done = variant.parent / f"{name}-{precision}.build.json"
        if not done.is_file():
            shutil.rmtree(variant, ignore_errors=True)
            shutil.copytree(index, variant, symlinks=True)
            done.write_text(json.dumps(_build(source, variant, precision)["kinds"].get("context")))
        builds[precision] = json.loads(done.read_text())
        print(f"{name}: contexts at {precision}: {builds[precision]}", flush=True)
        reports[precision] = _eval(variant, questions, out / "reports" / name / precision)
    reference = reports.get("fp32")
    return {"rebuild": builds,
            "against_fp32": {p: _paired(reference, r) for p, r in reports.items()
                             if p != "fp32" and reference is not None}}


def _write(result: dict[str, Any]) -> None:
    result["summary"] = _rows(result)
    write_result("real_build", result, False)
    (ROOT / "bench" / "results" / "real_build.md").write_text(markdown(result), encoding="utf-8")


def _source(name: str) -> Path:
    return {"seeds": ROOT / "seeds", "kommun": TESTSETS / "kommun"}[name]


def _rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    b = result.get("default_build")
    if b is None:
        return []
    rows = [row(f"{result['pages']} LibreOffice help pages: {k} texts/s (per CPU s)",
                f"{v['texts_per_s']} ({v['texts_per_cpu_s']})", "/s", f"{v['texts']} texts by {v['path']}")
            for k, v in b["kinds"].items()]
    rows.append(row("share of the build's embedding CPU spent on sentences in context",
                    result["contexts_share_of_embedding_cpu"]))
    return rows


def markdown(result: dict[str, Any]) -> str:
    lines = [f"# qa build on {result['pages']} real pages (LibreOffice's Swedish help)", "",
             "Produced by `python -m bench.real_build`."]
    b = result.get("default_build")
    if b is None:
        lines += ["", "The build of the collection has not been measured yet.", ""]
    else:
        lines += [f"One build from scratch with the default paths: reading {b['read_s']} s, "
                  f"building {b['build_s']} s (wall, shared cores).", "",
                  "| texts | count | path | wall s | CPU s | texts/s | texts per CPU s |",
                  "|---|---:|---|---:|---:|---:|---:|"]
        for kind, v in b["kinds"].items():
            lines.append(f"| {kind} | {v['texts']} | {v['path']} | {v['wall_s']} | {v['cpu_s']} | "
                         f"{v['texts_per_s']} | {v['texts_per_cpu_s']} |")
        lines += ["", f"Sentences in context take {result['contexts_share_of_embedding_cpu']:.0%} of "
                  "the build's embedding CPU time.", ""]
    lines += ["## Cheaper precisions for the sentences in context", "",
              "Each index copied and rebuilt with `QA_CONTEXT_PRECISION`, which re-embeds only the "
              "sentences in context; paired against fp32 contexts (95 % intervals, default mode).", "",
              "| set | contexts | texts per CPU s | Hit@1 Δ | MRR@10 Δ | answer accuracy Δ [95 %] | "
              "first rank lost / gained | rule |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for name, c in result.get("contexts", {}).items():
        for precision, build in c["rebuild"].items():
            cmp = c["against_fp32"].get(precision)
            speed = build["texts_per_cpu_s"] if build else "—"
            if cmp is None:
                lines.append(f"| {name} | {precision} | {speed} | reference | | | | |")
                continue
            whole = cmp["splits"]["all"]
            cells = []
            for figure in ("Hit@1", "MRR@10", "Answer@1"):
                d = whole["figures"].get(figure, {}).get("difference")
                cells.append(f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]" if d else "—")
            fr = whole["first_rank"]
            halves = ", ".join(f"{s}: {p['figures']['Answer@1']['difference']['mean']:+.3f}"
                               for s, p in cmp["splits"].items() if s != "all"
                               and "Answer@1" in p["figures"])
            lines.append(f"| {name} | {precision} | {speed} | " + " | ".join(cells)
                         + f" | {fr['lost']} / {fr['gained']} | "
                         + ("kept" if cmp["keeps_rule"] else "**broken**")
                         + (f" ({halves})" if halves else "") + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "real-docs" / "root")
    parser.add_argument("--context-precisions", default="fp32,bf16,int8-static")
    parser.add_argument("--index-root", type=Path, default=None)
    parser.add_argument("--sets", default="")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help="which parts to run (each result is kept in --out and reused)")
    args = parser.parse_args()
    run(args.out, args.root, args.pages, [p for p in args.context_precisions.split(",") if p],
        args.index_root, [s for s in args.sets.split(",") if s],
        tuple(s for s in args.stages.split(",") if s))


if __name__ == "__main__":
    main()
