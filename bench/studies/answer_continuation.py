"""The sentence after the best one, marked with it when it goes on with it, per set and half.

For every answerable question of each set, one hybrid search; the first hit's highlight is then
chosen again under each variant of the next-sentence rule (``Highlighter.next_margin``,
``QA_ANSWER_NEXT_MARGIN``): the sentence after the best one is marked with it when it
scores within the margin (the served rule), or only when it also opens by referring back to
the best one ("Detta …", "De …"); and a variant that lets such a sentence count the question's
terms of the sentence before it as its own. Answer@1 per set and split, the questions gained
and lost, and the marked span's median length. Record: docs/design/2026-12-07-long-documents.md.

    python -m bench.studies.answer_continuation seeds=var/seeds-index=qa/eval/testsets/seeds_sv.jsonl \\
        kommun=... lo=... ll=...
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

import qa.search.highlight as rules
from qa.eval.testset import load_testset, resolve
from qa.search.answer_types import question_type
from qa.search.engine import SearchEngine
from qa.settings import Settings

OUT = Path(__file__).resolve().parent / "results" / "answer_continuation.json"
# A sentence that opens by pointing back at what the one before it named ("Detta är endast
# implementerat i windows.", "De får ta från två till 32 strängargument"): a variant's condition.
REFERS_BACK = re.compile(
    r"^(?:det|detta|den|denna|dessa|de|dess|deras|han|hon|hans|hennes|där|då|sådan|sådana|"
    r"så|därför|dock|men|annars|den här|det här|de här)\b", re.IGNORECASE)
ANY_SENTENCE = re.compile(r"")
SERVED_CONTINUED = rules.Highlighter._continued
SERVED_SCORES = rules.Highlighter._scores


def carried_scores(self: rules.Highlighter, q_terms: frozenset[str], sentences: list[str],
                   cosines: np.ndarray | None, answer_type: Any) -> np.ndarray:
    """Study variant: a sentence that refers back counts the question's terms of the sentence
    before it as its own (its subject is that sentence's)."""
    overlap = np.array([self._overlap(q_terms, s) for s in sentences])
    for i in range(1, len(sentences)):
        if REFERS_BACK.match(sentences[i].lstrip()):
            overlap[i] = max(overlap[i], overlap[i - 1])
    scores = overlap / max(overlap.max(initial=0.0), 1e-9) * rules._TERM_WEIGHT
    if cosines is not None:
        scores = scores + cosines
    if answer_type is not None:
        scores = scores + rules._CUE_WEIGHT * np.array(
            [rules.has_answer_type(s, answer_type) for s in sentences], dtype=float)
    return scores


# (label, margin, opener rule)
VARIANTS: list[tuple[str, float, re.Pattern[str], bool]] = [
    ("carried subject terms", 0.0, REFERS_BACK, True),
    ("carried subject terms, refers back margin 0.05", 0.05, REFERS_BACK, True),
    ("off", 0.0, REFERS_BACK, False),
    ("refers back, margin 0.02", 0.02, REFERS_BACK, False),
    ("refers back, margin 0.03", 0.03, REFERS_BACK, False),
    ("refers back, margin 0.05", 0.05, REFERS_BACK, False),
    ("refers back, margin 0.08", 0.08, REFERS_BACK, False),
    ("refers back, any score", 1.0, REFERS_BACK, False),
    ("any next sentence, margin 0.03", 0.03, ANY_SENTENCE, False),
    ("any next sentence, margin 0.04", 0.04, ANY_SENTENCE, False),
    ("any next sentence, margin 0.05 (adopted)", 0.05, ANY_SENTENCE, False),
    ("any next sentence, margin 0.06", 0.06, ANY_SENTENCE, False),
    ("any next sentence, margin 0.08", 0.08, ANY_SENTENCE, False),
]


def cases_of(engine: SearchEngine, name: str, questions: Path) -> list[dict[str, Any]]:
    """Highlight inputs of each answerable question's first hit."""
    rows = {id(p): i for i, p in enumerate(engine.passages)}
    sentences = engine.index.sentences
    assert sentences is not None
    texts = engine.document_texts()
    out = []
    for q in resolve(load_testset(questions), texts):
        if not q.answerable:
            continue
        hit = engine.search(q.question, mode="hybrid", highlights=False).hits[0].passage
        row, target = rows[id(hit)], q.targets[0]
        a, b = sentences.offsets[row], sentences.offsets[row + 1]
        qvec = engine.questions.embed(q.question)
        out.append({
            "set": name, "id": q.id, "split": q.split, "highlighter": engine.highlighter,
            "terms": engine.highlighter.terms(q.question), "text": texts[hit.document_id],
            "spans": [(int(x), int(y)) for x, y in sentences.spans[a:b]],
            "cosines": np.asarray(sentences.for_highlights(row)) @ qvec,
            "kind": question_type(q.question), "in_list": engine._in_list_item(hit.document_id),
            "right_document": hit.document_id == target.document_id,
            "target": (target.start, target.end)})
    return out


def judge(cases: list[dict[str, Any]], margin: float, opener: re.Pattern[str], carried: bool
          ) -> tuple[dict[str, bool], list[int]]:
    rules.Highlighter._scores = carried_scores if carried else SERVED_SCORES  # type: ignore[method-assign]
    hits, lengths = {}, []
    for c in cases:
        c["highlighter"].next_margin = margin
        sentences = [c["text"][a:b] for a, b in c["spans"]]

        def continued(self: rules.Highlighter, best: int, scores: np.ndarray, items: list[bool],
                      bare: np.ndarray, sentences: list[str] = sentences) -> int:
            after = best + 1
            if after < len(sentences) and not opener.match(sentences[after].lstrip()):
                return best
            return SERVED_CONTINUED(self, best, scores, items, bare)

        rules.Highlighter._continued = continued  # type: ignore[method-assign]
        [(a, b)] = c["highlighter"].highlight(c["terms"], c["text"], c["spans"], c["cosines"],
                                              c["kind"], c["in_list"])
        start, end = c["target"]
        hits[f"{c['set']}/{c['id']}"] = bool(c["right_document"] and a < end and start < b)
        lengths.append(b - a)
    rules.Highlighter._continued = SERVED_CONTINUED  # type: ignore[method-assign]
    rules.Highlighter._scores = SERVED_SCORES  # type: ignore[method-assign]
    return hits, lengths


def main() -> None:
    sets = [arg.split("=") for arg in sys.argv[1:]]
    settings = Settings()
    cases: list[dict[str, Any]] = []
    for name, index, questions in sets:
        cases += cases_of(SearchEngine.open(settings, Path(index)), name, Path(questions))
    base, _ = judge(cases, 0.0, REFERS_BACK, False)
    results: dict[str, Any] = {}
    for label, margin, opener, carried in VARIANTS:
        hits, lengths = judge(cases, margin, opener, carried)
        row: dict[str, Any] = {}
        for c in cases:
            key = f"{c['set']}/{c['id']}"
            cell = row.setdefault(f"{c['set']}/{c['split']}", {"n": 0, "Answer@1": 0.0,
                                                                "gained": [], "lost": []})
            cell["n"] += 1
            cell["Answer@1"] += hits[key]
            if hits[key] and not base[key]:
                cell["gained"].append(c["id"])
            if base[key] and not hits[key]:
                cell["lost"].append(c["id"])
        for cell in row.values():
            cell["Answer@1"] = round(cell["Answer@1"] / cell["n"], 3)
        row["median span"] = statistics.median(lengths)
        results[label] = row
        print(label, {k: (v["Answer@1"], len(v["gained"]), -len(v["lost"])) if isinstance(v, dict)
                      else v for k, v in sorted(row.items())}, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
