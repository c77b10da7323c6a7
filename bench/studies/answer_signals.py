"""Abstention signals that read the answer, over every question of several sets, and fits.

Per question, one hybrid search as served; beside the model's four signals: the IDF-weighted
share of the question's words found in the first passage (title and section included), in
its highlight and in the best of the first five; the rarest question word the first passage
lacks (IDF over the largest possible); the margin between the first two similarities; whether
BM25's and the vectors' first passages share their document. Then: each signal's ROC AUC per
set; the unanswerable share one signal catches at a threshold that flags 5 % of the set's own
answerable questions; logistic fits (``qa.eval.calibrate.fit``) on the tune halves of all
sets, per-collection and pooled threshold, flagged shares per set and half.
Record: docs/design/2026-12-07-long-documents.md.

    python -m bench.studies.answer_signals seeds=var/seeds-index=qa/eval/testsets/seeds_sv.jsonl \\
        kommun=... lo=... ll=...
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from qa.eval.calibrate import MAX_FLAGGED, Labelled, _threshold, fit
from qa.eval.testset import load_testset, resolve
from qa.index.lexical import LexicalIndex
from qa.search.engine import SearchEngine
from qa.settings import Settings

OUT = Path(__file__).resolve().parent / "results" / "answer_signals.json"
# signal -> +1 when a high value means "not answered", -1 when a low one does
SIGNS = {"similarity": -1, "centroid": -1, "agreement": -1, "unknown": 1, "cover": -1,
         "cover_highlight": -1, "cover_best5": -1, "rarest_missing": 1, "margin": -1,
         "same_document": -1}
BASE = ("similarity", "centroid", "agreement", "unknown")
FITS = [BASE[:3], BASE, (*BASE, "cover"), (*BASE, "cover_highlight"), (*BASE, "rarest_missing"),
        (*BASE, "cover", "margin", "same_document"), (*BASE, "cover_best5"),
        ("similarity", "agreement", "unknown", "cover", "rarest_missing")]


def cover(lex: LexicalIndex, idf: dict[str, float], most: float, question: str, text: str
          ) -> tuple[float, float]:
    """(IDF-weighted share of the question's words in ``text``, the rarest one missing / most)."""
    have = set(lex.analyzer.tokens(text))
    total = found = missing = 0.0
    for w in lex.analyzer.words(question):
        if not w.isalpha():
            continue
        stem, parts = lex.analyzer.word_terms(w)
        weight = idf.get(stem, min((idf.get(p, most) for p in parts), default=most))
        total += weight
        if stem in have or (parts and all(p in have for p in parts)):
            found += weight
        else:
            missing = max(missing, weight)
    return (found / total if total else 1.0), missing / most


def collect(name: str, index: str, questions: str) -> list[dict[str, Any]]:
    engine = SearchEngine.open(Settings(), Path(index))
    lex = engine.index.lexical
    idf, most = lex.idf(), math.log(1 + len(engine.passages))
    texts = engine.document_texts()
    rows = []
    for q in resolve(load_testset(Path(questions)), texts):
        r = engine.search(q.question, k=5, mode="hybrid", highlights=True)
        if not r.hits or r.signals is None:
            continue
        first = r.hits[0].passage
        marked = " ".join(texts[first.document_id][a:b] for a, b in r.hits[0].highlights)
        c1, rarest = cover(lex, idf, most, q.question, f"{first.head}\n{first.text}")
        qvec = engine.questions.embed(q.question)
        _, dense = engine.ranker.dense(qvec, engine.settings.candidates)
        _, lexical = lex.search(q.question, engine.settings.candidates)
        sims = [h.similarity for h in r.hits]
        rows.append({
            "set": name, "id": q.id, "split": q.split, "answerable": q.answerable,
            **{f: getattr(r.signals, f) for f in BASE},
            "cover": c1, "rarest_missing": rarest,
            "cover_highlight": cover(lex, idf, most, q.question, marked or first.text)[0],
            "cover_best5": max(cover(lex, idf, most, q.question, f"{h.passage.head}\n{h.passage.text}")[0]
                               for h in r.hits),
            "margin": sims[0] - sims[1] if len(sims) > 1 else 0.0,
            "same_document": float(len(dense) > 0 and len(lexical) > 0 and
                                   engine.passages[int(dense[0])].document_id
                                   == engine.passages[int(lexical[0])].document_id)})
    return rows


class _Values:
    """Signals of one question as ``fit`` reads them (``vector``)."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row

    def vector(self, features: Any) -> list[float]:
        return [float(self.row[f]) for f in features]


def main() -> None:
    rows = [r for arg in sys.argv[1:] for r in collect(*arg.split("="))]
    sets = list(dict.fromkeys(r["set"] for r in rows))
    auc, ceiling = {}, {}
    for f, sign in SIGNS.items():
        auc[f], ceiling[f] = {}, {}
        for s in sets:
            part = [r for r in rows if r["set"] == s]
            y = [not r["answerable"] for r in part]
            auc[f][s] = round(float(roc_auc_score(y, [sign * r[f] for r in part])), 3)
            a = np.array([sign * r[f] for r in part if r["answerable"]])
            u = np.array([sign * r[f] for r in part if not r["answerable"]])
            t = np.sort(a)[::-1][int(np.floor(0.05 * len(a)))]
            ceiling[f][s] = round(float(np.mean(u > t)), 3)
    data = [Labelled(r["id"], r["split"], _Values(r), r["answerable"], r["set"])  # type: ignore[arg-type]
            for r in rows]
    tune = [d for d in data if d.split == "tune"]
    fits = []
    for features in FITS:
        for pooled in (False, True):
            model = fit(tune, features=features)
            if pooled:
                answered = np.array([model.probability(d.signals) for d in tune if d.answerable])  # type: ignore[arg-type]
                model = replace(model, threshold=_threshold(answered, MAX_FLAGGED))
            shares = {}
            for s in sets:
                for h in ("tune", "heldout"):
                    group = [d for d in data if d.collection == s and d.split == h]
                    shares[f"{s} {h}"] = [
                        round(float(np.mean([model.flags(d.signals) for d in group  # type: ignore[arg-type]
                                             if d.answerable == want])), 3)
                        for want in (True, False)]
            fits.append({"features": list(features), "threshold": "pooled" if pooled else
                         "per collection", "flagged answerable, unanswerable": shares})
            print(fits[-1], flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"auc": auc, "one_signal_at_5_percent": ceiling, "fits": fits},
                              indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"auc": auc, "one_signal_at_5_percent": ceiling}, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
