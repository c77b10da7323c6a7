"""Highlights: the sentence(s) of a passage that best answer the question.

Each sentence is scored by its vector's cosine with the question (the index
keeps one vector per sentence) plus a share of the question's rare terms it
contains, so "21" or "länsstyrelser" can tip the balance. Without sentence
vectors the term overlap alone decides.
"""

from __future__ import annotations

import numpy as np

from qa.index.lexical import LexicalIndex

_TERM_WEIGHT = 0.05
_NEIGHBOUR_MARGIN = 0.01


class Highlighter:
    """Marks the answering sentences inside a passage's span."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self.analyzer = lexical.analyzer
        self._term_cache: dict[str, frozenset[str]] = {}
        self._idf = lexical.idf()

    def _terms(self, sentence: str) -> frozenset[str]:
        terms = self._term_cache.get(sentence)
        if terms is None:
            terms = frozenset(self.analyzer.tokens(sentence))
            if len(self._term_cache) > 100_000:
                self._term_cache.clear()
            self._term_cache[sentence] = terms
        return terms

    def terms(self, question: str) -> frozenset[str]:
        """The question's terms, as ``highlight`` takes them (computed once per question)."""
        return frozenset(self.analyzer.tokens(question))

    def _overlap(self, q_terms: frozenset[str], sentence: str) -> float:
        return sum(self._idf.get(t, 0.0) for t in q_terms & self._terms(sentence))

    def highlight(self, q_terms: frozenset[str], text: str, spans: list[tuple[int, int]],
                  cosines: np.ndarray | None = None) -> list[tuple[int, int]]:
        """The best sentence, with an adjacent one when it scores nearly as well; ``q_terms``
        from ``terms``."""
        overlap = np.array([self._overlap(q_terms, text[a:b]) for a, b in spans])
        bare = np.array([_is_bare_heading(text[a:b]) for a, b in spans])
        scores = overlap / max(overlap.max(initial=0.0), 1e-9) * _TERM_WEIGHT
        if cosines is not None:
            scores = scores + cosines
        elif not overlap.any():
            scores = np.array([len(text[a:b].split()) for a, b in spans], dtype=float)
        # A bare heading restates the topic; the answer is in the sentences under it.
        scores = np.where(bare & (len(spans) > 1), scores - 1.0, scores)
        best = int(np.argmax(scores))
        chosen = [best]
        for j in (best + 1, best - 1):
            if 0 <= j < len(spans) and not bare[j] and scores[j] >= scores[best] - _NEIGHBOUR_MARGIN:
                chosen.append(j)
                break
        return [spans[i] for i in sorted(chosen)]


def _is_bare_heading(sentence: str) -> bool:
    return len(sentence.split()) <= 12 and not sentence.rstrip().endswith((".", "!", "…", ":", "?"))

