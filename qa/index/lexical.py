"""Lexical retrieval: BM25 over Swedish stems, with compounds split into their parts.

Swedish writes compounds as one word ("utvecklingsstrategin"), so a question
that says "strategi för utveckling" shares no whole word with the text. Every
long word is therefore also indexed as the stems of the corpus words it is
made of, found by a greedy split against the corpus's own vocabulary.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_SWEDISH

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(STOPWORDS_SWEDISH) | {"hur", "vad", "vem", "vilka", "vilken", "vilket", "när",
                                         "varför", "finns", "många"}
_MIN_PART = 3
_MIN_COMPOUND = 7
_LINKS = ("s", "e", "a", "u", "o")
_ENDINGS = ("erna", "arna", "orna", "na", "en", "et", "n", "t")
_VOCAB_FILE = "compound_vocab.json"


class SwedishAnalyzer:
    """Words → stems, plus the stems of compound parts known from the corpus."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._stemmer = Stemmer.Stemmer("swedish")
        self.vocabulary = frozenset(vocabulary)
        self._stem = lru_cache(maxsize=200_000)(self._stemmer.stemWord)
        self._split = lru_cache(maxsize=200_000)(self._split_uncached)

    @staticmethod
    def words(text: str) -> list[str]:
        return [w for w in _WORD.findall(text.lower()) if w not in _STOP]

    @classmethod
    def learn(cls, texts: Iterable[str]) -> SwedishAnalyzer:
        """An analyser whose compound parts are the corpus's own words (seen as stems)."""
        stemmer = Stemmer.Stemmer("swedish")
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w for w in _WORD.findall(text.lower()) if w.isalpha())
        vocab = {stemmer.stemWord(w) for w in counts if len(w) >= _MIN_PART + 1}
        vocab |= {w for w in counts if len(w) >= _MIN_PART + 1}
        return cls(vocab)

    def _known(self, part: str) -> str | None:
        """The stem of ``part`` if it (or it without a definite ending) is a corpus word."""
        if len(part) < _MIN_PART:
            return None
        for form in (part, *(part[: -len(e)] for e in _ENDINGS if part.endswith(e))):
            if len(form) >= _MIN_PART:
                stem = self._stem(form)
                if form in self.vocabulary or stem in self.vocabulary:
                    return stem
        return None

    def _split_uncached(self, word: str) -> tuple[str, ...]:
        """Stems of the longest known head and the rest split again; () if none fits."""
        if len(word) < _MIN_COMPOUND or not word.isalpha():
            return ()
        for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            heads = [head] + [head[: -len(lk)] for lk in _LINKS if head.endswith(lk)]
            for h in heads:
                h_stem = self._known(h)
                if h_stem is None:
                    continue
                t_stem = self._known(tail)
                if t_stem is not None:
                    return (h_stem, t_stem)
                rest = self._split(tail)
                if rest:
                    return (h_stem, *rest)
        return ()

    def tokens(self, text: str) -> list[str]:
        out: list[str] = []
        for word in self.words(text):
            out.append(self._stem(word))
            out.extend(self._split(word))
        return out


class LexicalIndex:
    """BM25 (bm25s, Lucene variant) over analysed passages."""

    def __init__(self, bm25: bm25s.BM25, analyzer: SwedishAnalyzer) -> None:
        self.bm25 = bm25
        self.analyzer = analyzer
        self._vocab: dict[str, int] = bm25.vocab_dict

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        analyzer = SwedishAnalyzer.learn(texts)
        bm25 = bm25s.BM25()
        bm25.index([analyzer.tokens(t) or [""] for t in texts], show_progress=False)
        return cls(bm25, analyzer)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)
        (folder / _VOCAB_FILE).write_text(
            json.dumps(sorted(self.analyzer.vocabulary), ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        vocab = json.loads((folder / _VOCAB_FILE).read_text(encoding="utf-8"))
        return cls(bm25, SwedishAnalyzer(vocab))

    def idf(self) -> dict[str, float]:
        """Each indexed term's rarity, ``log(1 + passages / (1 + passages holding it))``.

        A smoothed inverse document frequency for weighting term overlap (the highlighter's);
        BM25's own weights stay inside ``search``.
        """
        n_docs = max(int(self.bm25.scores["num_docs"]), 1)
        indptr = self.bm25.scores["indptr"]  # bm25s: one column of the sparse matrix per term
        # bm25s also lists the empty term, which has no column: it is in no passage.
        held = {tid: int(indptr[tid + 1] - indptr[tid]) for tid in range(len(indptr) - 1)}
        return {term: math.log(1 + n_docs / (1 + held.get(tid, 0))) for term, tid in self._vocab.items()}

    def search(self, question: str, n: int, within: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the best ``n`` passages with a positive score, best first.

        ``within``: one weight per passage, 1 for those that may be returned and 0 for the
        rest (float32); bm25s multiplies each passage's score by it (``weight_mask``) before
        the best are taken, so the ``n`` come from the allowed passages only. BM25's term
        statistics stay those of the whole index.
        """
        terms = [t for t in self.analyzer.tokens(question) if t in self._vocab]
        if not terms or n <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores = self.bm25.get_scores(terms, weight_mask=within)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top].astype(np.float32), top.astype(np.int64)
