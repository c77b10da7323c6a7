"""Lexical retrieval: BM25 over Swedish stems, with compounds split into their parts.

Swedish writes compounds as one word ("utvecklingsstrategin"), so a question
that says "strategi för utveckling" shares no whole word with the text. Every
long word is therefore also indexed as the stems of the corpus words it is
made of, found by a greedy split against a vocabulary: the corpus's own words by
default, or (``LexicalIndex.build``'s ``compound_vocabulary``, a study's choice: no setting
selects it, see ``bench.studies.ranking_variants``) the word list of the Hunspell Swedish
dictionary, alone or with the corpus's. The vocabulary is saved with the index, so questions are
analysed exactly as the passages were.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_SWEDISH

from qa.errors import QAError

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(STOPWORDS_SWEDISH) | {"hur", "vad", "vem", "vilka", "vilken", "vilket", "när",
                                         "varför", "finns", "många"}
_MIN_PART = 3
_MIN_COMPOUND = 7
_LINKS = ("s", "e", "a", "u", "o")
_ENDINGS = ("erna", "arna", "orna", "na", "en", "et", "n", "t")
_VOCAB_FILE = "compound_vocab.json"


_WORD_CACHE = 50_000  # words whose stem and compound parts are kept


class SwedishAnalyzer:
    """Words → stems, plus the stems of compound parts known from the corpus."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._stemmer = Stemmer.Stemmer("swedish")
        self.vocabulary = frozenset(vocabulary)
        # Bounded: a server meets new words (names, numbers, typos) with every new question,
        # and each cached word costs about 500 bytes; a corpus's frequent words stay cached.
        self._stem = lru_cache(maxsize=_WORD_CACHE)(self._stemmer.stemWord)
        self._split = lru_cache(maxsize=_WORD_CACHE)(self._split_uncached)

    @staticmethod
    def words(text: str) -> list[str]:
        return [w for w in _WORD.findall(text.lower()) if w not in _STOP]

    @classmethod
    def learn(cls, texts: Iterable[str], words: Iterable[str] = (), corpus: bool = True
              ) -> SwedishAnalyzer:
        """An analyser whose compound parts are known words, each also seen as its stem.

        The known words are the corpus's own (``corpus``) plus ``words`` (a dictionary's,
        see ``hunspell_words``).
        """
        counts: Counter[str] = Counter()
        if corpus:
            for text in texts:
                counts.update(w for w in _WORD.findall(text.lower()) if w.isalpha())
        return cls(_vocabulary([*counts, *words]))

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

    def word_terms(self, word: str) -> tuple[str, tuple[str, ...]]:
        """One lower-cased word's stem and the stems of its compound parts (``()`` if none)."""
        return self._stem(word), self._split(word)

    def tokens(self, text: str) -> list[str]:
        out: list[str] = []
        for word in self.words(text):
            out.append(self._stem(word))
            out.extend(self._split(word))
        return out


def _vocabulary(words: Iterable[str]) -> set[str]:
    """Words long enough to be a compound part, and their stems."""
    stemmer = Stemmer.Stemmer("swedish")
    long = {w for w in words if len(w) >= _MIN_PART + 1}
    return long | {stemmer.stemWord(w) for w in long}


def hunspell_words(dic: Path) -> list[str]:
    """The lower-case words of a Hunspell ``.dic`` file (its stems, affix flags dropped).

    Proper names (capitalised entries) and entries with other than letters are left out: a
    compound splits into common words. The affix rules (``.aff``) are not applied: the
    splitter stems every part with the Snowball stemmer and also tries it without a definite
    ending, which covers the inflected forms a compound's parts take.
    """
    try:
        lines = dic.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QAError(f"{dic}: cannot read the Hunspell dictionary ({exc.strerror}); install it "
                      "(Debian: apt-get install hunspell-sv) or name another .dic file") from None
    words = []
    for line in lines[1:]:  # the first line is the entry count
        word = line.split("/", 1)[0].strip()
        if word and word.isalpha() and word.islower():
            words.append(word)
    if not words:
        raise QAError(f"{dic}: no words found; not a Hunspell .dic file")
    return words


class LexicalIndex:
    """BM25 (bm25s, Lucene variant) over analysed passages."""

    def __init__(self, bm25: bm25s.BM25, analyzer: SwedishAnalyzer) -> None:
        self.bm25 = bm25
        self.analyzer = analyzer
        self._vocab: dict[str, int] = bm25.vocab_dict

    @classmethod
    def build(cls, texts: Sequence[str], compound_vocabulary: str = "corpus",
              dictionary: Path | None = None) -> LexicalIndex:
        """BM25 over ``texts``; compounds split against the corpus's words (``"corpus"``), the
        Hunspell ``dictionary``'s (``"hunspell"``) or both (``"both"``)."""
        if compound_vocabulary not in ("corpus", "hunspell", "both"):
            raise QAError(f"unknown compound vocabulary {compound_vocabulary!r}; expected corpus, "
                          "hunspell or both")
        words: list[str] = []
        if compound_vocabulary != "corpus":
            if dictionary is None:
                raise QAError("a Hunspell compound vocabulary needs the dictionary's .dic file")
            words = hunspell_words(dictionary)
        analyzer = SwedishAnalyzer.learn(texts, words, corpus=compound_vocabulary != "hunspell")
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

    def unknown_share(self, text: str) -> float:
        """The share of ``text``'s words (stop words and numbers aside) that no passage uses:
        neither the word's stem nor, for a compound, every one of its parts is an indexed
        term. 0.0 for a text without such words."""
        words = [w for w in self.analyzer.words(text) if w.isalpha()]
        if not words:
            return 0.0
        vocab = self._vocab
        unknown = 0
        for w in words:
            stem, parts = self.analyzer.word_terms(w)
            if stem in vocab:
                continue
            if not (parts and all(p in vocab for p in parts)):
                unknown += 1
        return unknown / len(words)

    def terms(self, text: str) -> list[str]:
        """The indexed terms of ``text`` as BM25 scores them (repeats kept)."""
        return [t for t in self.analyzer.tokens(text) if t in self._vocab]

    def scores(self, question: str, within: np.ndarray | None = None) -> np.ndarray | None:
        """BM25 of every passage for ``question``; None when it has no indexed term.

        ``within``: one weight per passage, 1 for those that may be returned and 0 for the
        rest (float32); bm25s multiplies each passage's score by it (``weight_mask``). BM25's
        term statistics stay those of the whole index.
        """
        terms = self.terms(question)
        return self.bm25.get_scores(terms, weight_mask=within) if terms else None

    def weighted_scores(self, weights: Mapping[str, float], within: np.ndarray | None = None
                        ) -> np.ndarray | None:
        """BM25 of every passage for a weighted query: sum of weight x the term's BM25.

        bm25s scores a query as an unweighted sum over its terms, so each term is scored
        alone and weighted here (RM3's expanded queries). None when no term is indexed.
        """
        known = {t: w for t, w in weights.items() if t in self._vocab and w > 0}
        if not known:
            return None
        total = np.zeros(int(self.bm25.scores["num_docs"]), np.float64)
        for term, w in known.items():
            total += w * self.bm25.get_scores([term], weight_mask=within)
        return total.astype(np.float32)

    def holding(self, term: str) -> np.ndarray:
        """Rows of the passages that contain ``term`` (empty when it is not indexed)."""
        tid = self._vocab.get(term)
        indptr = self.bm25.scores["indptr"]  # one column of the sparse matrix per term
        if tid is None or tid + 1 >= len(indptr):
            return np.zeros(0, np.int64)
        return np.asarray(self.bm25.scores["indices"][indptr[tid]:indptr[tid + 1]], np.int64)

    @staticmethod
    def top(scores: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the best ``n`` positive ``scores``, best first."""
        if scores is None or n <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top].astype(np.float32), top.astype(np.int64)

    def search(self, question: str, n: int, within: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the best ``n`` passages with a positive score, best first.

        ``within`` as in ``scores``: the ``n`` come from the allowed passages only.
        """
        return self.top(self.scores(question, within) if n > 0 else None, n)
