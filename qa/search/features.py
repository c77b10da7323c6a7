"""What is known about each candidate passage of a question, as numbers for a learned fusion.

The candidates are the fused pool of hybrid ranking (nearest passages, passages of the
nearest sentences, best BM25 passages). Per candidate: its passage cosine, its best
sentence's cosine, BM25 relative to the pool's best and as a reciprocal rank, the share
of the question's term rarity (idf) the passage covers, and answer-type cues: whether the
question asks *when*, *how many*, *what it costs*, *who* or *where*, each times whether
the passage has what such an answer needs (a year or date, a number, an amount in kronor,
a person's name, a place after a preposition), as ``qa.search.answer_types`` tells them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.index.lexical import LexicalIndex
from qa.ingest.passages import Passage
from qa.search.answer_types import AnswerType, has_answer_type, question_type

# The answer types (qa.search.answer_types), each a feature: asked for x present.
ANSWER_TYPES: tuple[AnswerType, ...] = ("when", "how_many", "cost", "who", "where")

FEATURES = ("passage_cosine", "sentence_cosine", "bm25_relative", "bm25_reciprocal_rank",
            "term_coverage", *(f"asks_{kind}_has_it" for kind in ANSWER_TYPES))


@dataclass(frozen=True)
class Candidates:
    """A question's candidate passages with their raw signals, one entry per passage row."""

    rows: np.ndarray  # passage rows (int64)
    passage: np.ndarray  # cosine of question and passage
    sentence: np.ndarray  # cosine of question and the passage's closest sentence
    dense: np.ndarray  # the dense score (the engine's mix of the two)
    bm25: np.ndarray  # BM25 of each candidate; 0 when it shares no term with the question

    def __len__(self) -> int:
        return len(self.rows)


def _ranks_desc(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value, largest first (ties in order of appearance)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(1, len(values) + 1)
    return ranks


class FeatureExtractor:
    """Turns a question's ``Candidates`` into the matrix of ``FEATURES`` (one row each).

    Holds the index's term rarities and caches each passage's cues, so a question costs a
    few array operations over its candidates.
    """

    def __init__(self, lexical: LexicalIndex, passages: list[Passage]) -> None:
        self.lexical = lexical
        self.passages = passages
        self._idf = lexical.idf()
        self._cues: dict[tuple[int, AnswerType], bool] = {}

    def has(self, row: int, kind: AnswerType) -> bool:
        """Whether passage ``row`` holds an answer of ``kind`` (cached)."""
        found = self._cues.get((row, kind))
        if found is None:
            found = self._cues[(row, kind)] = has_answer_type(
                self.passages[row].embedding_text(False), kind)
        return found

    def coverage(self, question: str, rows: np.ndarray) -> np.ndarray:
        """Share of the question's idf mass (its distinct indexed terms) each passage holds."""
        terms = {t: self._idf.get(t, 0.0) for t in set(self.lexical.terms(question))}
        total = sum(terms.values())
        out = np.zeros(len(rows), np.float64)
        if total <= 0:
            return out
        for term, idf in terms.items():
            out += idf * np.isin(rows, self.lexical.holding(term))
        return out / total

    def matrix(self, question: str, c: Candidates) -> np.ndarray:
        """``len(c)`` × ``len(FEATURES)`` float64, columns in the order of ``FEATURES``."""
        n = len(c)
        best = float(c.bm25.max(initial=0.0))
        relative = c.bm25 / best if best > 0 else np.zeros(n)
        reciprocal = np.where(c.bm25 > 0, 1.0 / _ranks_desc(c.bm25), 0.0)
        asks = question_type(question)
        cue_columns = [[float(kind == asks and self.has(int(r), kind)) for r in c.rows]
                       for kind in ANSWER_TYPES]
        columns = [c.passage, c.sentence, relative, reciprocal, self.coverage(question, c.rows),
                   *cue_columns]
        return np.column_stack([np.asarray(col, np.float64) for col in columns]) if n else \
            np.zeros((0, len(FEATURES)))
