"""Adapting the model to each test collection: `qa adapt --dry-run` per set and variant.

Usage::

    python -m bench.adapt --index-root DIR [--sets seeds,kommun,...] [--variants all,...]
        [--minutes N]

``DIR/<set>`` must be an index of the set's corpus (``qa build``; how each is made is in
docs/design/2026-12-07-adapting-the-model.md). Every run adapts on its own collection, checks
against the base with the set's labelled questions (the tune half decides, the held-out half is
reported) and publishes nothing. Variants: ``all`` (every kind of pair, hard negatives from both
sources), ``no-<kind>`` (that kind left out), ``only-<kind>`` (that kind alone),
``no-negatives``, ``pairs-only`` (no labelled questions: a kind left out of training decides).
One run at a time, niced: training takes both cores. Writes bench/results/adapt.json and
adapt.md. Each run here is a whole ``qa adapt`` under its time budget; the ablations per kind
of pair, at an equal number of steps and against the all-kinds model question by question,
are bench/adapt_ablation.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, bench_parser, qa_command, write_result

TESTSETS = ROOT / "qa" / "eval" / "testsets"
QUESTIONS = {"seeds": TESTSETS / "seeds_sv.jsonl", "kommun": TESTSETS / "kommun_sv.jsonl",
             "libreoffice": TESTSETS / "libreoffice_sv.jsonl",
             "lifelines": TESTSETS / "lifelines_sv.jsonl"}
KINDS = ("heading", "question", "cloze", "list")


def variant_args(variant: str) -> list[str]:
    if variant == "all":
        return []
    if variant == "no-negatives":
        return ["--negatives", "none"]
    if variant.startswith("no-") and variant[3:] in KINDS:
        return ["--kinds", ",".join(k for k in KINDS if k != variant[3:])]
    if variant.startswith("only-") and variant[5:] in KINDS:
        return ["--kinds", variant[5:]]
    raise SystemExit(f"unknown variant {variant!r}")


def run(index: Path, questions: Path | None, variant: str, minutes: float, out: Path
        ) -> dict[str, Any]:
    args = ["adapt", "--index", str(index), "--dry-run", "--minutes", str(minutes),
            "--report", str(out), *variant_args(variant if variant != "pairs-only" else "all")]
    if questions is not None and variant != "pairs-only":
        args += ["--questions", str(questions)]
    t0 = time.monotonic()
    proc = subprocess.run(["nice", "-n", "10", "/usr/bin/time", "-f", "%M %U %S",
                           *qa_command(*args)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return {"error": proc.stderr.strip().splitlines()[-1:], "variant": variant}
    peak_kb, user, system = proc.stderr.strip().splitlines()[-1].split()
    report = json.loads(out.read_text(encoding="utf-8"))
    report.update(variant=variant, wall_seconds=round(time.monotonic() - t0, 1),
                  cpu_seconds=round(float(user) + float(system), 1),
                  peak_rss_mb=round(int(peak_kb) / 1024, 1))
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(proc.stdout.strip().splitlines()), flush=True)
    return report


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["# Adapting the model per collection (`python -m bench.adapt`, dry runs)", "",
             "| set | variant | pairs trained | steps | wall s | CPU s | peak MB | check | "
             "base → adapted MRR@10 | difference [95 %] | Hit@1 base → adapted |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['set']} | {r['variant']} | error: {r['error']} |")
            continue
        t = r.get("training") or {}
        for c in r["check"]["checks"]:
            m, h = c["mrr@10"], c["hit@1"]
            d = m["difference"]
            lines.append(
                f"| {r['set']} | {r['variant']} | {r['trained_pairs']} | {t.get('steps', 0)} | "
                f"{r['wall_seconds']} | {r['cpu_seconds']} | {r['peak_rss_mb']} | "
                f"{c['name']}{' (decides)' if c['decisive'] else ''} ({c['items']}) | "
                f"{m['a']:.3f} → {m['b']:.3f} | {d['mean']:+.3f} [{d['low']:+.3f}, "
                f"{d['high']:+.3f}] | {h['a']:.3f} → {h['b']:.3f} |")
        lines.append(f"| {r['set']} | {r['variant']} | | | | | | verdict | "
                     f"{'adopted' if r['check']['adopt'] else 'not adopted'} | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--index-root", type=Path, required=True)
    parser.add_argument("--sets", default="seeds,kommun,libreoffice,lifelines,swefaq")
    parser.add_argument("--variants", default="all")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--swefaq-questions", type=Path, default=None,
                        help="SweFAQ dev as a qa eval test set (see the design record)")
    parser.add_argument("--name", default="adapt")
    parser.add_argument("--from-reports", action="store_true",
                        help="collect the reports earlier runs left in INDEX_ROOT/reports")
    args = parser.parse_args()
    questions = {**QUESTIONS, "swefaq": args.swefaq_questions}
    results = []
    scratch = args.index_root / "reports"
    scratch.mkdir(parents=True, exist_ok=True)
    for name in [s for s in args.sets.split(",") if s]:
        for variant in [v for v in args.variants.split(",") if v]:
            out = scratch / f"{name}-{variant}.json"
            if args.from_reports:
                if out.is_file():
                    found = json.loads(out.read_text(encoding="utf-8"))
                    found.setdefault("variant", variant)
                    found.setdefault("wall_seconds", found["seconds"])
                    found.setdefault("cpu_seconds", "")
                    found.setdefault("peak_rss_mb", (found.get("training") or {})
                                     .get("peak_rss_mb", ""))
                    results.append({"set": name, **found})
                continue
            print(f"== {name} / {variant}", flush=True)
            report = run(args.index_root / name, questions.get(name), variant, args.minutes, out)
            results.append({"set": name, **report})
    write_result(args.name, {"minutes": args.minutes, "results": results}, args.quick)
    path = (RESULTS / "quick" if args.quick else RESULTS) / f"{args.name}.md"
    path.write_text(markdown(results), encoding="utf-8")
    print(f"→ {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
