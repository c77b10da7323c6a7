"""Whether the adapted model ranks better than the base, on material it was not trained on.

Two checks, each paired question by question (or pair by pair) and summarised by
``qa.eval.confidence.compare`` (the paired bootstrap 95 % interval of adapted − base):

- **labelled questions** (a ``qa eval`` test set of the collection): each question's
  reciprocal rank (at 10) of the first passage holding its evidence, in a dense ranking of the
  collection's passages as the index embeds them. The decision uses the set's ``tune`` half
  when it has one (the ``heldout`` half stays for the report, as everywhere in this project);
- **held-out pairs**: each pair's query against the positives of every pair of its kind; the
  reciprocal rank of its own positive. Pairs of a kind that was not trained on decide when there
  are no labelled questions; the held-out share of trained kinds is reported, never decisive
  (its queries come from the very structure the model was trained on).

The dense ranking measures the change the model makes on its own; the served ranking mixes in
BM25 and the other signals, so ``qa eval`` on the published generation is the figure to quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from qa.adapt.pairs import Pair
from qa.eval.confidence import Comparison, compare
from qa.eval.testset import EvalQuery
from qa.ingest.passages import Passage

K = 10


class Embedder(Protocol):
    """Normalised vectors of texts, a prompt put before each."""

    def __call__(self, texts: Sequence[str], prompt: str) -> np.ndarray: ...


@dataclass(frozen=True)
class Check:
    """One paired comparison: what was compared, on how many items, and its outcome."""

    name: str
    items: int
    mrr: Comparison
    hit1: Comparison
    decisive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "items": self.items, "decisive": self.decisive,
                f"mrr@{K}": self.mrr.to_json(), "hit@1": self.hit1.to_json()}

    def line(self) -> str:
        d = self.mrr.difference
        return (f"{self.name}: {self.items} items, MRR@{K} {self.mrr.a:.3f} -> {self.mrr.b:.3f} "
                f"(difference {d.text()}), Hit@1 {self.hit1.a:.3f} -> {self.hit1.b:.3f}"
                f"{'  [decides]' if self.decisive else ''}")


@dataclass
class Verdict:
    """The checks made and whether they adopt the adapted model, with the reason."""

    checks: list[Check] = field(default_factory=list)
    adopt: bool = False
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"adopt": self.adopt, "reason": self.reason,
                "checks": [c.to_json() for c in self.checks]}


def reciprocal_ranks(scores: np.ndarray, relevant: Sequence[set[int]], k: int = K) -> np.ndarray:
    """Per row of ``scores`` (query × candidate), 1/rank of its first relevant candidate within
    the top ``k`` (0 beyond it or without one)."""
    out = np.zeros(len(relevant), dtype=np.float64)
    n = min(k, scores.shape[1]) if scores.ndim == 2 else 0
    for i, wanted in enumerate(relevant):
        if not wanted or n == 0:
            continue
        top = np.argpartition(-scores[i], n - 1)[:n]
        top = top[np.argsort(-scores[i][top], kind="stable")]
        for rank, candidate in enumerate(top.tolist(), start=1):
            if candidate in wanted:
                out[i] = 1.0 / rank
                break
    return out


def _paired(name: str, base: np.ndarray, adapted: np.ndarray, decisive: bool) -> Check:
    return Check(name, len(base), compare(base.tolist(), adapted.tolist()),
                 compare((base == 1.0).astype(float).tolist(),
                         (adapted == 1.0).astype(float).tolist()), decisive)


def pair_check(name: str, pairs: Sequence[Pair], base: Embedder, adapted: Embedder,
               query_prompt: str, passage_prompt: str, decisive: bool = False) -> Check:
    """Each pair's query against the distinct positives of ``pairs``; paired base/adapted."""
    positives = list(dict.fromkeys(p.positive for p in pairs))
    where = {text: i for i, text in enumerate(positives)}
    relevant = [{where[p.positive]} for p in pairs]
    queries = [p.query for p in pairs]
    ranks = []
    for embed in (base, adapted):
        scores = embed(queries, query_prompt) @ embed(positives, passage_prompt).T
        ranks.append(reciprocal_ranks(scores, relevant))
    return _paired(name, ranks[0], ranks[1], decisive)


def question_check(name: str, queries: Sequence[EvalQuery], passages: Sequence[Passage],
                   base_vectors: np.ndarray, adapted_vectors: np.ndarray, base: Embedder,
                   adapted: Embedder, query_prompt: str, decisive: bool = False) -> Check:
    """Labelled questions against every passage (vectors as each model embeds the index's
    passage texts); answerable questions only."""
    answerable = [q for q in queries if q.answerable]
    relevant = [{row for row, p in enumerate(passages) if q.target_of(p) is not None}
                for q in answerable]
    texts = [q.question for q in answerable]
    ranks = [reciprocal_ranks(embed(texts, query_prompt) @ vectors.T, relevant)
             for embed, vectors in ((base, base_vectors), (adapted, adapted_vectors))]
    return _paired(name, ranks[0], ranks[1], decisive)


def decide(checks: list[Check]) -> Verdict:
    """Adopt only when every decisive check's interval of adapted − base lies above 0."""
    decisive = [c for c in checks if c.decisive]
    if not decisive:
        return Verdict(checks, False, "no check could decide: the collection has neither "
                       "labelled questions nor enough pairs of a kind left out of training")
    worse = [c for c in decisive if c.mrr.difference.low <= 0]
    if worse:
        c = worse[0]
        return Verdict(checks, False, f"{c.name}: the 95 % interval of the MRR@{K} difference "
                       f"{c.mrr.difference.text()} does not lie above 0; the base model stays")
    names = ", ".join(c.name for c in decisive)
    return Verdict(checks, True, f"{names}: the 95 % interval of the MRR@{K} difference lies "
                   "above 0")
