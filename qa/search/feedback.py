"""Pseudo-relevance feedback: a question widened by what its own best passages say.

**RM3** on the BM25 side of hybrid ranking (``QA_RM3_TERMS``, on): terms frequent in the best
BM25 passages, each passage weighted by its BM25 score, join the question's own terms with
weights (relevance model 3 of Lavrenko and Croft, as Anserini and Pyserini implement it). It
only decides which passages rank where; similarity, highlights and ``no_good_match`` still
use the question as asked. (Vector feedback, measured and not adopted, lives with its study:
``bench/studies/ranking_variants.py``.)
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from qa.index.lexical import LexicalIndex


def rm3_weights(question_terms: Sequence[str], feedback: Sequence[tuple[Sequence[str], float]],
                terms: int, original_weight: float) -> dict[str, float]:
    """The expanded query: term -> weight, summing to 1.

    ``question_terms``: the question's indexed terms; ``feedback``: each feedback passage's
    indexed terms with its BM25 score. A term's expansion weight is the score-weighted sum
    over the passages of its share of the passage, ``sum_d score(d) * tf(t, d) / |d|``; the
    best ``terms`` are kept and normalised. The question's terms (normalised) get
    ``original_weight`` of the total, the expansion terms the rest.
    """
    own = Counter(question_terms)
    if not own:
        return {}
    total_own = sum(own.values())
    weights = {t: original_weight * n / total_own for t, n in own.items()}
    relevance: defaultdict[str, float] = defaultdict(float)
    mass = sum(max(s, 0.0) for _, s in feedback)
    for passage_terms, score in feedback:
        if not passage_terms or score <= 0 or mass <= 0:
            continue
        counts = Counter(passage_terms)
        for t, n in counts.items():
            relevance[t] += (score / mass) * n / len(passage_terms)
    best = heapq.nlargest(terms, relevance.items(), key=lambda item: item[1])  # as most_common
    spread = sum(v for _, v in best)
    if spread <= 0 or original_weight >= 1:
        return weights
    for t, v in best:
        weights[t] = weights.get(t, 0.0) + (1 - original_weight) * v / spread
    return weights


def rm3_scores(lexical: LexicalIndex, question: str, terms_of: Callable[[int], Sequence[str]],
               passages: int,
               terms: int, original_weight: float, within: np.ndarray | None = None,
               first: np.ndarray | None = None) -> np.ndarray | None:
    """BM25 of every passage for the RM3-expanded ``question`` (None: no indexed term).

    The feedback passages are the question's best ``passages`` by plain BM25 (within the
    ``within`` mask; ``first``: those plain scores when the caller has them already);
    ``terms_of(row)`` gives a passage's indexed terms (``LexicalIndex.terms`` of its text as
    indexed; the engine caches them, as the same passages feed back again and again).
    """
    if first is None:
        first = lexical.scores(question, within)
    if first is None or terms <= 0:
        return first
    top_scores, top_rows = lexical.top(first, passages)
    if len(top_rows) == 0:
        return first
    feedback = [(terms_of(int(r)), float(s))
                for r, s in zip(top_rows.tolist(), top_scores.tolist(), strict=True)]
    weights = rm3_weights(lexical.terms(question), feedback, terms, original_weight)
    return lexical.weighted_scores(weights, within)
