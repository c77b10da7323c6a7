"""Every question precision against fp32 on every test set: the rule that decides the default.

A faster question path may become the default (``QA_QUERY_PRECISION=auto``) only when, on
every evaluation set and both halves, the paired difference to fp32 in Hit@1, MRR@10 and
answer accuracy (Answer@1) has a 95 % interval that contains 0, and no set loses more than
1 in 100 of its first-rank answers (net: answers lost at rank 1 minus answers gained there).

For each set the index is built once (the default build: fp32 passages), and ``qa eval``
runs over it once per question precision (``QA_QUERY_PRECISION``), in the default mode;
the per-question rows of the reports are then paired exactly as ``qa compare`` pairs them
(``qa.eval.breakdown.comparisons``). Sets: the seed set, the municipal set, the
LibreOffice help set (span-labelled, with tune and held-out halves), SweFAQ dev (labelled
by document, so no answer accuracy, and no halves: none of it is tuned on) and the follow-up
conversations over the seeds and the municipal set (``seeds-followups``,
``kommun-followups``: ``qa eval --conversations`` over the same index, the follow-ups sent
with their history paired, topic changes and unanswerable questions left out). Speed is not
measured here: ``bench/embedding_paths.py`` times every path side by side.

    python -m bench.query_precision --index-root DIR [--libreoffice PAGES] [--paths fp32,int8,...]
        [--sets seeds,kommun,...] [--swefaq swefaq_dev.jsonl]

``--index-root`` holds (or receives) one index per set: ``seeds``, ``kommun``, ``swefaq`` and,
with ``--libreoffice PAGES`` (the folder ``python -m tests.eval.make_libreoffice_corpus``
writes), ``libreoffice``. Reports go to ``DIR/reports/<set>/<precision>/``. With ``--sets``
only those sets are run, and the other sets' figures are kept from the previous result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT, SWEFAQ, bench_parser, row, write_result
from qa.eval import breakdown

TESTSETS = ROOT / "qa" / "eval" / "testsets"
PATHS = ("fp32", "int8", "int8-static", "bf16")
FIGURES = ("Hit@1", "MRR@10", "Answer@1")
MAX_FIRST_RANK_LOSS = 0.01  # of a set's answerable questions


def _qa(args: list[str], env: dict[str, str]) -> None:
    """One ``qa`` command in a subprocess of this checkout (its own settings from ``env``)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **env}
    done = subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"qa {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def _sets(libreoffice: Path | None, swefaq: Path = SWEFAQ) -> dict[str, dict[str, Any]]:
    """Name -> where its corpus is and how ``qa eval`` reads its questions."""
    sets: dict[str, dict[str, Any]] = {
        "seeds": {"source": ROOT / "seeds", "eval": ["--questions", str(TESTSETS / "seeds_sv.jsonl")]},
        "kommun": {"source": TESTSETS / "kommun",
                   "eval": ["--questions", str(TESTSETS / "kommun_sv.jsonl")]},
    }
    if libreoffice is not None:
        sets["libreoffice"] = {"source": libreoffice,
                               "eval": ["--questions", str(TESTSETS / "libreoffice_sv.jsonl")]}
    sets["swefaq"] = {"source": None, "eval": ["--benchmark", "swefaq", "--data", str(swefaq)]}
    for name in ("seeds", "kommun"):  # conversations: over the same index, follow-ups only
        sets[f"{name}-followups"] = {
            "source": sets[name]["source"], "index": name, "kind": "followup",
            "eval": ["--conversations", str(TESTSETS / f"followups_{name}_sv.jsonl")]}
    return sets


def _index(name: str, spec: dict[str, Any], root: Path) -> Path:
    name = spec.get("index", name)
    index = root / name
    if (index / "CURRENT").exists() or (index / "manifest.json").exists():
        return index
    source = spec["source"]
    if source is None:  # SweFAQ: its corpus as qa eval --benchmark indexes it
        source = root / "swefaq.jsonl"
        _qa(["eval", *spec["eval"], "--export-corpus", str(source)], {})
    print(f"building the {name} index …", flush=True)
    _qa(["build", "--source", str(source), "--index", str(index)], {})
    return index


def _first_rank(rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], mode: str
                ) -> dict[str, int]:
    """Answerable questions whose first result is right in A but not B (lost), and the reverse."""
    a = {r["id"]: r["scores"][mode]["Hit@1"] for r in rows_a if "Hit@1" in r["scores"].get(mode, {})}
    b = {r["id"]: r["scores"][mode]["Hit@1"] for r in rows_b if "Hit@1" in r["scores"].get(mode, {})}
    common = [q for q in a if q in b]
    return {"questions": len(common), "lost": sum(1 for q in common if a[q] > b[q]),
            "gained": sum(1 for q in common if b[q] > a[q])}


def _paired(reference: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """B − A over the shared questions, overall and per split, with the rule's verdict."""
    mode = reference["default_mode"]
    rows_a, rows_b = reference["per_question"], other["per_question"]
    splits = sorted({r["split"] for r in rows_a if r.get("split")})
    parts: dict[str, Any] = {}
    for split in [None, *splits]:
        a = [r for r in rows_a if split is None or r.get("split") == split]
        b = [r for r in rows_b if split is None or r.get("split") == split]
        found = breakdown.comparisons(a, mode, b, mode, FIGURES)
        parts[split or "all"] = {
            "figures": breakdown.comparisons_json(found),
            "first_rank": _first_rank(a, b, mode),
            "intervals_contain_0": all(c.difference.low <= 0 <= c.difference.high
                                       for c in found.values()),
        }
    whole = parts["all"]["first_rank"]
    net_loss = (whole["lost"] - whole["gained"]) / max(whole["questions"], 1)
    return {"splits": parts, "net_first_rank_loss": round(net_loss, 4),
            "keeps_rule": all(p["intervals_contain_0"] for p in parts.values())
            and net_loss <= MAX_FIRST_RANK_LOSS}


def run(index_root: Path, libreoffice: Path | None, paths: list[str],
        only: list[str] | None = None, swefaq: Path = SWEFAQ) -> dict[str, Any]:
    sets = {n: s for n, s in _sets(libreoffice, swefaq).items() if not only or n in only}
    results: dict[str, Any] = {}
    for name, spec in sets.items():
        index = _index(name, spec, index_root)
        reports: dict[str, dict[str, Any]] = {}
        for precision in paths:
            out = index_root / "reports" / name / precision
            if not (out / "report.json").is_file():
                print(f"{name}: qa eval with QA_QUERY_PRECISION={precision} …", flush=True)
                _qa(["eval", "--index", str(index), *spec["eval"], "--out", str(out),
                     "--mode", "hybrid", "--no-progress"], {"QA_QUERY_PRECISION": precision})
            reports[precision] = json.loads((out / "report.json").read_text(encoding="utf-8"))
        kind = spec.get("kind")
        if kind is not None:  # a conversation set: pair only its follow-ups
            for r in reports.values():
                r["per_question"] = [q for q in r["per_question"] if q["kind"] == kind]
        results[name] = {
            "questions": reports["fp32"].get("questions", len(reports["fp32"]["per_question"])),
            "query_paths": {p: r["query_path"] for p, r in reports.items()},
            "against_fp32": {p: _paired(reports["fp32"], r) for p, r in reports.items() if p != "fp32"},
        }
    previous = ROOT / "bench" / "results" / "query_precision.json"
    if only and previous.is_file():  # the sets not run now keep their earlier figures
        before = json.loads(previous.read_text(encoding="utf-8"))
        results = {**{n: s for n, s in before["sets"].items() if n not in results}, **results}
        paths = [*before["paths"], *(p for p in paths if p not in before["paths"])]
    verdicts = {p: all(s["against_fp32"][p]["keeps_rule"] for s in results.values()
                       if p in s["against_fp32"])
                for p in paths if p != "fp32"}
    rows = [row(f"{p}: keeps the rule on every set and half", "yes" if ok else "no")
            for p, ok in verdicts.items()]
    result = {"sets": results, "paths": paths, "keeps_rule": verdicts, "summary": rows}
    _print(result)
    write_result("query_precision", result, False)
    (ROOT / "bench" / "results" / "query_precision.md").write_text(markdown(result), encoding="utf-8")
    return result


def markdown(result: dict[str, Any]) -> str:
    """The table docs/performance.md copies: every path against fp32, per set and half."""
    lines = ["# Question precisions against fp32 (paired, 95 % intervals)", "",
             "Produced by `python -m bench.query_precision`; B − A with A = fp32, default mode "
             "(hybrid). First rank: answerable questions right at rank 1 under fp32 and not under "
             "the path (lost) and the reverse (gained).", "",
             "| path | set | half | Hit@1 Δ [95 %] | MRR@10 Δ [95 %] | answer accuracy Δ [95 %] "
             "| first rank lost / gained | rule |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for path in result["paths"]:
        if path == "fp32":
            continue
        for name, s in result["sets"].items():
            if path not in s["against_fp32"]:
                continue
            cmp = s["against_fp32"][path]
            for split, part in cmp["splits"].items():
                cells = []
                for figure in FIGURES:
                    f = part["figures"].get(figure)
                    d = f and f["difference"]
                    cells.append(f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]" if d else "—")
                fr = part["first_rank"]
                ok = part["intervals_contain_0"] and (split != "all" or cmp["keeps_rule"])
                lines.append(f"| {path} | {name} | {split} | " + " | ".join(cells)
                             + f" | {fr['lost']} / {fr['gained']} of {fr['questions']} | "
                             + ("kept" if ok else "**broken**") + " |")
    lines += ["", "Verdict (every set and half): " + ", ".join(
        f"{p} {'keeps' if ok else 'breaks'} the rule" for p, ok in result["keeps_rule"].items()), ""]
    return "\n".join(lines)


def _print(result: dict[str, Any]) -> None:
    print(markdown(result))


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--index-root", type=Path, required=True)
    parser.add_argument("--libreoffice", type=Path, default=None)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--sets", default="", help="only these sets (comma-separated)")
    parser.add_argument("--swefaq", type=Path, default=SWEFAQ, help="SweFAQ dev (swefaq_dev.jsonl)")
    args = parser.parse_args()
    paths = [p for p in args.paths.split(",") if p]
    if "fp32" not in paths:
        paths.insert(0, "fp32")
    run(args.index_root, args.libreoffice, paths, [s for s in args.sets.split(",") if s], args.swefaq)


if __name__ == "__main__":
    main()
