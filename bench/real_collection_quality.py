"""Quality on the real collections against issue 22's outside targets, before and after a change.

Reads pairs of ``qa eval`` reports (``report.json``, hybrid) over the same questions, one pair
per set, and writes per split: each figure of the outside check with its 95 % interval, B − A
paired with its interval and verdict (as ``qa compare``), and whether B meets each target
(Hit@1 ≥ 0.75, Hit@5 ≥ 0.85, Answer@1 ≥ 0.55, at most 5 % of answerable questions flagged
``no_good_match`` and at least half of the unanswerable ones). Writes
bench/results/real_collection_quality.json and .md.

    python -m bench.real_collection_quality ll=var/e-before-ll/report.json,var/e-after-ll/report.json \\
        lo=... seeds=... kommun=...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from qa.eval import breakdown

OUT = Path(__file__).resolve().parent / "results" / "real_collection_quality"
FIGURES = ["Hit@1", "Hit@5", "MRR@10", "Answer@1", "Flagged answerable", "Flagged unanswerable"]
TARGETS = {"Hit@1": (">=", 0.75), "Hit@5": (">=", 0.85), "Answer@1": (">=", 0.55),
           "Flagged answerable": ("<=", 0.05), "Flagged unanswerable": (">=", 0.5)}


def meets(name: str, value: float) -> bool | None:
    if name not in TARGETS:
        return None
    op, bound = TARGETS[name]
    return value >= bound if op == ">=" else value <= bound


def main() -> None:
    results: dict[str, Any] = {"targets": {k: f"{op} {v}" for k, (op, v) in TARGETS.items()},
                               "sets": {}}
    lines = ["# Real-collection quality: issue 22's outside targets", "",
             f"`python -m bench.real_collection_quality {' '.join(sys.argv[1:])}`", "",
             "| set | split | figure | A | B [95 % interval] | B − A [95 % interval] | verdict "
             "| B meets target |", "|---|---|---|---:|---:|---:|---|---|"]
    for arg in sys.argv[1:]:
        name, paths = arg.split("=", 1)
        a_path, b_path = paths.split(",")
        a, b = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (a_path, b_path))
        mode_a, mode_b = a["default_mode"], b["default_mode"]
        for split in ("tune", "heldout"):
            rows = [[r for r in rep["per_question"] if r.get("split") == split] for rep in (a, b)]
            found = breakdown.comparisons(rows[0], mode_a, rows[1], mode_b, FIGURES)
            own = b["split_intervals"][split][mode_b]
            cell: dict[str, Any] = {}
            for figure in FIGURES:
                c, iv = found[figure], own[figure]
                d = c.difference
                cell[figure] = {"a": round(c.a, 3), "b": round(c.b, 3),
                                "b_interval": [iv["low"], iv["high"]], "n": iv["n"],
                                "difference": [round(d.mean, 3), round(d.low, 3), round(d.high, 3)],
                                "verdict": breakdown.verdict(figure, c),
                                "meets_target": meets(figure, c.b)}
                ok = meets(figure, c.b)
                lines.append(f"| {name} | {split} | {figure} | {c.a:.3f} | {c.b:.3f} "
                             f"[{iv['low']:.3f}, {iv['high']:.3f}] | {d.mean:+.3f} "
                             f"[{d.low:+.3f}, {d.high:+.3f}] | {breakdown.verdict(figure, c)} | "
                             f"{'' if ok is None else ('yes' if ok else 'no')} |")
            results["sets"].setdefault(name, {"a": a_path, "b": b_path})[split] = cell
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    OUT.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
