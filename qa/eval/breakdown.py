"""Figures drawn from a report's per-question rows: intervals, kinds, paired comparisons.

They work on the rows of ``report.json`` (``per_question``: id, split, kind,
answerable, each mode's per-question ``scores`` and ``no_good_match``), so the same
code serves a fresh evaluation and ``qa compare`` of two saved reports. Means are
over the questions that have the value: retrieval metrics over answerable
questions, answer metrics over span-labelled ones, and ``no_good_match`` as two
shares: answerable questions wrongly flagged and unanswerable ones rightly flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qa.eval.confidence import Comparison, Interval, compare, interval

Row = Mapping[str, Any]
FLAGGED_ANSWERABLE = "Flagged answerable"
FLAGGED_UNANSWERABLE = "Flagged unanswerable"


def headline(k: int) -> list[str]:
    """The figures a report gives with intervals (those that exist at rank depth ``k``)."""
    hits = [f"Hit@{c}" for c in (1, 3, 5) if c < k]
    return [*hits, f"MRR@{k}", f"nDCG@{k}", "Answer@1", "Answer@3",
            FLAGGED_ANSWERABLE, FLAGGED_UNANSWERABLE]


def _values(rows: Iterable[Row], mode: str, name: str) -> dict[str, float]:
    """Question id -> value of ``name`` in ``mode``, for the questions that have it."""
    if name in (FLAGGED_ANSWERABLE, FLAGGED_UNANSWERABLE):
        want = name == FLAGGED_ANSWERABLE
        return {r["id"]: float(r["no_good_match"][mode]) for r in rows
                if r["answerable"] == want and mode in r.get("no_good_match", {})}
    return {r["id"]: r["scores"][mode][name] for r in rows
            if mode in r.get("scores", {}) and name in r["scores"][mode]}


def interval_lines(found: Mapping[str, Mapping[str, Interval]], columns: Sequence[str],
                   names: Sequence[str]) -> list[str]:
    """A Markdown table: one row per figure, one column per run (mode, split or kind)."""
    lines = ["| figure | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name in names:
        cells = [found.get(c, {}).get(name) for c in columns]
        if any(cells):
            lines.append(f"| {name} | " + " | ".join("—" if i is None else i.text() for i in cells)
                         + " |")
    return lines


def intervals(rows: Sequence[Row], mode: str, names: Sequence[str]) -> dict[str, Interval]:
    """Each figure's mean with its 95 % bootstrap interval over the questions."""
    out = {}
    for name in names:
        values = _values(rows, mode, name)
        if values:
            out[name] = interval(list(values.values()))
    return out


def by_kind(rows: Sequence[Row], mode: str, names: Sequence[str]) -> dict[str, dict[str, Interval]]:
    """``intervals`` for each question kind (answerable kinds only)."""
    kinds = sorted({r["kind"] for r in rows if r["answerable"] and r.get("kind")})
    return {kind: intervals([r for r in rows if r.get("kind") == kind], mode, names)
            for kind in kinds}


def comparisons(rows_a: Sequence[Row], mode_a: str, rows_b: Sequence[Row], mode_b: str,
                names: Sequence[str]) -> dict[str, Comparison]:
    """B − A for each figure, paired over the questions both runs scored (matched by id)."""
    out = {}
    for name in names:
        a, b = _values(rows_a, mode_a, name), _values(rows_b, mode_b, name)
        common = [qid for qid in a if qid in b]
        if common:
            out[name] = compare([a[q] for q in common], [b[q] for q in common])
    return out


def verdict(name: str, c: Comparison) -> str:
    """The comparison's verdict for ``name``, where fewer answerable questions flagged is better."""
    if name == FLAGGED_ANSWERABLE and c.verdict != "no clear difference":
        return "better" if c.verdict == "worse" else "worse"
    return c.verdict


def comparisons_json(found: Mapping[str, Comparison]) -> dict[str, Any]:
    return {name: {**c.to_json(), "verdict": verdict(name, c)} for name, c in found.items()}


def comparison_lines(found: Mapping[str, Comparison], label_a: str, label_b: str) -> list[str]:
    """A Markdown table of ``comparisons``."""
    lines = [f"| figure | {label_a} | {label_b} | difference [95 % interval] | verdict |",
             "|---|---:|---:|---:|---|"]
    for name, c in found.items():
        d = c.difference
        lines.append(f"| {name} | {c.a:.3f} | {c.b:.3f} | {d.mean:+.3f} [{d.low:+.3f}, "
                     f"{d.high:+.3f}] | {verdict(name, c)} |")
    return lines
