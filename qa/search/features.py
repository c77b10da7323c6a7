"""What is known about each candidate passage of a question, as numbers for a learned fusion.

The candidates are the fused pool of hybrid ranking (nearest passages, passages of the
nearest sentences, best BM25 passages). Per candidate: its passage cosine, its best
sentence's cosine, BM25 relative to the pool's best and as a reciprocal rank, the share
of the question's term rarity (idf) the passage covers, and answer-type cues: whether the
question asks *when*, *how many*, *what it costs*, *who* or *where*, each times whether
the passage has what such an answer needs (a year or date, a number, an amount in kronor,
a person's name, a place after a preposition). The cues are surface patterns of Swedish
text, deliberately simple: they only have to tell a model which passages *could* answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qa.index.lexical import LexicalIndex
from qa.ingest.passages import Passage

# Question types, from the question's wording (lower-cased).
_ASKS = {
    "when": re.compile(r"\b(när|vilket år|vilken dag|vilket datum|vilken månad|hur länge sedan|"
                       r"sedan när|datum)\b"),
    "how_many": re.compile(r"\b(hur många|hur mycket|hur stor|hur stort|hur stora|hur lång|"
                           r"hur långt|antal|antalet|andel|andelen|procent)\b"),
    "cost": re.compile(r"\b(kostar|kosta|kostnad\w*|pris\w*|avgift\w*|hur dyr\w*|budget\w*)\b"),
    "who": re.compile(r"\b(vem|vilka personer|vilken person|vems)\b"),
    # "var" is also "was": only a question that starts with it, or names a kind of place.
    "where": re.compile(r"^(var|vart|varifrån)\b|\b(var ligger|var finns|i vilken (stad|kommun|ort|"
                        r"region|del)|i vilket (län|land))\b"),
}

_MONTHS = ("januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december")
# What a passage offers, from its text (case kept: names and places are capitalised).
_HAS = {
    "date": re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b\d{{1,2}}(-\d{{1,2}})?\s+({_MONTHS})\b|"
                       r"\b\d{4}-\d{2}-\d{2}\b", re.IGNORECASE),
    "number": re.compile(r"\d"),
    "amount": re.compile(r"\d[\d\s.,]*\s*(kr|kronor|sek|mkr|tkr|miljoner kronor|miljarder kronor|"
                         r"miljoner|miljarder)\b", re.IGNORECASE),
    # Two capitalised words in a row, not right after a sentence's end: a person's name.
    "name": re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZÅÄÖ][a-zåäöé]+\s[A-ZÅÄÖ][a-zåäöé]+"),
    "place": re.compile(r"\b(i|på|vid|från|till|inom|utanför|norr om|söder om)\s[A-ZÅÄÖ][a-zåäö]+"),
}

# Which passage cue answers which question type.
CUES = (("when", "date"), ("how_many", "number"), ("cost", "amount"), ("who", "name"),
        ("where", "place"))

FEATURES = ("passage_cosine", "sentence_cosine", "bm25_relative", "bm25_reciprocal_rank",
            "term_coverage", *(f"{q}_x_{p}" for q, p in CUES))


def question_types(question: str) -> frozenset[str]:
    """The answer types a question asks for (none, one or several)."""
    text = question.lower()
    return frozenset(kind for kind, pattern in _ASKS.items() if pattern.search(text))


def passage_cues(text: str) -> frozenset[str]:
    """What kinds of answer a passage's text holds."""
    return frozenset(kind for kind, pattern in _HAS.items() if pattern.search(text))


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
        self._cues: dict[int, frozenset[str]] = {}

    def cues(self, row: int) -> frozenset[str]:
        found = self._cues.get(row)
        if found is None:
            found = self._cues[row] = passage_cues(self.passages[row].text)
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
        asks = question_types(question)
        cue_columns = []
        for q_kind, p_kind in CUES:
            if q_kind in asks:
                cue_columns.append([float(p_kind in self.cues(int(r))) for r in c.rows])
            else:
                cue_columns.append([0.0] * n)
        columns = [c.passage, c.sentence, relative, reciprocal, self.coverage(question, c.rows),
                   *cue_columns]
        return np.column_stack([np.asarray(col, np.float64) for col in columns]) if n else \
            np.zeros((0, len(FEATURES)))
