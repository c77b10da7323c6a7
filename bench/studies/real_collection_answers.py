"""Highlight variants and abstention fits over the four test sets, the real collections included.

For every answerable question of each set, one hybrid search; the first hit's highlight is then
re-chosen under each variant of ``qa.search.highlight``'s rules (module constants), and
Answer@1 is counted per set and split. For every question, the abstention signals as served;
logistic fits over several feature sets and two threshold rules are judged on the held-out
halves, and fitted on three collections, on the fourth (leave one collection out).
Record: docs/design/2026-12-06-real-collection-answers.md.

    python -m bench.studies.real_collection_answers seeds=var/seeds-index=qa/eval/testsets/seeds_sv.jsonl \\
        kommun=... lo=... ll=...
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import qa.search.highlight as rules
from qa.eval.calibrate import Labelled, collect, fit, flagged_shares
from qa.eval.testset import load_testset, resolve
from qa.search.answer_types import question_type
from qa.search.engine import SearchEngine
from qa.settings import Settings

OUT = Path(__file__).resolve().parent / "results" / "real_collection_answers.json"
BASE = {"_WHOLE_LIST": False, "_STEP_MARGIN": -9.0, "_TERM_WEIGHT": 0.05, "_RESTATE_SHARE": 0.6}
VARIANTS: list[dict[str, Any]] = [
    {"_WHOLE_LIST": True}, {"_STEP_MARGIN": 0.03}, {"_STEP_MARGIN": 0.05},
    {"_WHOLE_LIST": True, "_STEP_MARGIN": 0.05},
    {"_WHOLE_LIST": True, "_STEP_MARGIN": 0.05, "_TERM_WEIGHT": 0.03},
    {"_TERM_WEIGHT": 0.02}, {"_RESTATE_SHARE": 0.5}, {"context": 0.5}, {"context": 0.0},
]
FEATURE_SETS = [("similarity", "centroid", "agreement"),
                ("similarity", "centroid", "agreement", "unknown")]


def first_hits(engine: SearchEngine, name: str, questions: Path) -> tuple[list[dict], list[Labelled]]:
    """Highlight inputs of each answerable question's first hit, and every question's signals."""
    rows = {id(p): i for i, p in enumerate(engine.passages)}
    sentences = engine.index.sentences
    assert sentences is not None and sentences.contexts is not None
    queries = resolve(load_testset(questions), engine.document_texts())
    cases = []
    for q in queries:
        if not q.answerable:
            continue
        hit = engine.search(q.question, mode="hybrid", highlights=False).hits[0].passage
        row, target = rows[id(hit)], q.targets[0]
        a, b = sentences.offsets[row], sentences.offsets[row + 1]
        qvec = engine.questions.embed(q.question)
        cases.append({
            "set": name, "id": q.id, "split": q.split, "highlighter": engine.highlighter,
            "terms": engine.highlighter.terms(q.question), "text": engine.document_texts()[hit.document_id],
            "spans": [(int(x), int(y)) for x, y in sentences.spans[a:b]],
            "in_context": np.asarray(sentences.contexts[a:b]) @ qvec,
            "plain": np.asarray(sentences.vectors[a:b]) @ qvec, "kind": question_type(q.question),
            "in_list": engine._in_list_item(hit.document_id),
            "right_document": hit.document_id == target.document_id,
            "target": (target.start, target.end)})
    labelled = [replace(d, collection=name) for d in collect(engine, queries, mode="hybrid")]
    return cases, labelled


def answer_at_1(cases: list[dict], variant: dict[str, Any]) -> dict[tuple[str, str], bool]:
    """Per (set, question): does the first hit's highlight overlap the evidence under ``variant``."""
    for key, value in {**BASE, **variant}.items():
        if key != "context":
            setattr(rules, key, value)
    share = variant.get("context", 1.0)
    out = {}
    for c in cases:
        cosines = share * c["in_context"] + (1 - share) * c["plain"]
        [(a, b)] = c["highlighter"].highlight(c["terms"], c["text"], c["spans"], cosines, c["kind"],
                                              c["in_list"])
        start, end = c["target"]
        out[(c["set"], c["id"])] = bool(c["right_document"] and a < end and start < b)
    return out


def by_split(cases: list[dict], hits: dict[tuple[str, str], bool]) -> dict[str, float]:
    groups: dict[str, list[bool]] = {}
    for c in cases:
        groups.setdefault(f"{c['set']}/{c['split']}", []).append(hits[(c["set"], c["id"])])
    return {k: round(sum(v) / len(v), 3) for k, v in sorted(groups.items())}


def held_out_flags(model: Any, data: list[Labelled], names: list[str]) -> dict[str, dict[str, float]]:
    return {n: flagged_shares(model, [d for d in data if d.collection == n and d.split == "heldout"])
            for n in names}


def main() -> None:
    sets = [arg.split("=") for arg in sys.argv[1:]]
    names = [name for name, _, _ in sets]
    cases: list[dict] = []
    data: list[Labelled] = []
    encoder = None
    for name, index, questions in sets:
        engine = SearchEngine.open(Settings(), index, encoder)
        encoder = engine.questions
        found, labelled = first_hits(engine, name, Path(questions))
        cases += found
        data += labelled
    base = answer_at_1(cases, {})
    highlights: dict[str, Any] = {"base": by_split(cases, base)}
    split_of = {(c["set"], c["id"]): c["split"] for c in cases}
    for variant in VARIANTS:
        hits = answer_at_1(cases, variant)
        tune = sum(int(hits[k]) - int(base[k]) for k in hits if split_of[k] == "tune")
        highlights[json.dumps(variant)] = {"tune_gained_minus_lost": tune, **by_split(cases, hits)}
        print(json.dumps(variant), "tune Δ", tune, by_split(cases, hits))
    tune = [d for d in data if d.split == "tune"]
    fits: dict[str, Any] = {}
    for features in FEATURE_SETS:
        for pooled in (True, False):
            train = [replace(d, collection="") for d in tune] if pooled else tune
            model = fit(train, features=features)
            loco = {}
            for n in names:
                others = [d for d in tune if d.collection != n]
                m = fit([replace(d, collection="") for d in others] if pooled else others,
                        features=features)
                loco[n] = held_out_flags(m, data, [n])[n]
            key = f"{','.join(features)} ({'pooled' if pooled else 'per-collection'} threshold)"
            fits[key] = {"held_out": held_out_flags(model, data, names), "leave_one_out": loco}
            print(key, fits[key])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"highlights": highlights, "abstention": fits}, indent=2) + "\n",
                   encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
