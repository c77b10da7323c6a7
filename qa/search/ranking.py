"""Ranking: a question's vector and text in, passage rows best first out.

Modes: ``dense`` (e5 vectors of passages and of their sentences), ``lexical`` (BM25 over
Swedish stems and compound parts) and ``hybrid`` (the dense score plus a share of the relative
BM25 score, over both rankers' candidates, with RM3 widening the BM25 side). Only what the
evaluation adopted is here; the alternatives that were measured and not adopted (other
fusions, vector feedback, a learned fusion) live with their study in
``bench/studies/ranking_variants.py``.

Filters (``qa.search.filters``) restrict ranking to matching passages: each ranker searches
only them, so ``k`` matching passages come back whenever that many match.
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np

from qa.index.lexical import LexicalIndex
from qa.index.snapshot import Snapshot
from qa.search.feedback import rm3_scores
from qa.search.filters import PassageMask
from qa.settings import SearchSettings

_DUPLICATE_COSINE = 0.97


class Ranker:
    """Ranks the passages of one index snapshot by the search settings; thread-safe for reads."""

    def __init__(self, index: Snapshot, settings: SearchSettings) -> None:
        self.index = index
        self.settings = settings
        # A passage's indexed terms, for RM3's feedback: the same passages come back often.
        self._indexed_terms = lru_cache(maxsize=8192)(
            lambda row: tuple(index.lexical.terms(index.passages[row].embedding_text(True))))

    def dense_scores(self, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """Cosine of each passage, mixed with that of its closest sentence."""
        return self.mixed(*self.cosines(rows, qvec))

    def mixed(self, passage: np.ndarray, sentence: np.ndarray | None) -> np.ndarray:
        """The dense score: ``w`` x passage cosine + (1 - ``w``) x best sentence cosine."""
        w = self.settings.passage_weight
        return passage if sentence is None else w * passage + (1 - w) * sentence

    def cosines(self, rows: np.ndarray, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Each passage's cosine, and its closest sentence's (None without sentence vectors)."""
        passage = np.asarray(self.index.embeddings[rows]) @ qvec
        sentences = self.index.sentences
        if sentences is None or len(rows) == 0:
            return passage, None
        return passage, sentences.best(rows, qvec)

    def dense(self, qvec: np.ndarray, pool: int, mask: PassageMask | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) best first: nearest passages and passages of the nearest sentences.

        With a ``mask``, both vector searches run over the matching passages and their
        sentences only (``VectorIndex.search_within``).
        """
        sentences = self.index.sentences
        if mask is None:
            _, rows = self.index.vectors.search(qvec, pool)
            if sentences is not None:
                _, srows = sentences.index.search(qvec, pool)
                rows = np.union1d(rows, sentences.parent[srows])
        else:
            exact_max = self.index.exact_search_max
            _, rows = self.index.vectors.search_within(qvec, pool, mask.passages, exact_max)
            if sentences is not None and mask.sentences is not None:
                _, srows = sentences.index.search_within(qvec, pool, mask.sentences, exact_max)
                rows = np.union1d(rows, sentences.parent[srows])
        scores = self.dense_scores(rows, qvec)
        order = np.argsort(-scores, kind="stable")
        return scores[order], rows[order]

    def rank(self, question: str, qvec: np.ndarray, mode: str, n: int,
             timings: dict[str, float], mask: PassageMask | None = None,
             trace: dict[str, np.ndarray] | None = None) -> list[tuple[int, float]]:
        """(row, score) best first; with a ``mask``, only matching passages are candidates.

        ``trace`` receives each ranker's rows best first ("dense", "lexical"), for abstention:
        the question's own rankings, before RM3 widens the BM25 side.
        """
        trace = {} if trace is None else trace
        pool = max(self.settings.candidates, n)
        dense_rows = lex_rows = np.zeros(0, np.int64)
        dense_scores = lex_scores = np.zeros(0, np.float32)
        if mask is not None and mask.count == 0:
            return []
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            dense_scores, dense_rows = self.dense(qvec, pool, mask)
            trace["dense"] = dense_rows
            timings["dense_ms"] = (time.perf_counter() - t) * 1000
            if mode == "dense":
                return list(zip(dense_rows.tolist(), dense_scores.tolist(), strict=True))
        if mode in ("lexical", "hybrid"):
            t = time.perf_counter()
            _, lex_scores, lex_rows = self.lexical(question, pool, mask, trace,
                                                   expand=mode == "hybrid")
            timings["lexical_ms"] = (time.perf_counter() - t) * 1000
            if mode == "lexical":
                return list(zip(lex_rows.tolist(), lex_scores.tolist(), strict=True))
        t = time.perf_counter()
        fused = self.fuse(qvec, dense_rows, dense_scores, lex_rows, lex_scores)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        timings["fusion_ms"] = (time.perf_counter() - t) * 1000
        return ranked

    def lexical(self, question: str, pool: int, mask: PassageMask | None,
                trace: dict[str, np.ndarray], expand: bool
                ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(BM25 of every passage, best scores, best rows) of the lexical ranker; the question's
        own best rows go to ``trace``, then RM3 widens it when ``expand`` (hybrid ranking)."""
        plain = self.index.lexical.scores(question, None if mask is None else mask.weights)
        best = LexicalIndex.top(plain, pool)
        trace["lexical"] = best[1]
        scores = self.bm25(question, mask, plain) if expand else plain
        if scores is not plain:
            best = LexicalIndex.top(scores, pool)
        return scores, best[0], best[1]

    def bm25(self, question: str, mask: PassageMask | None, plain: np.ndarray | None
             ) -> np.ndarray | None:
        """Hybrid ranking's BM25 of every passage (None: no indexed term): ``plain`` (the
        question's own scores), RM3-expanded when ``rm3_terms``. Lexical mode does not expand:
        alone it ranked worse with RM3 (README's design note)."""
        s = self.settings
        if s.rm3_terms <= 0:
            return plain
        return rm3_scores(self.index.lexical, question, self._indexed_terms,
                          s.rm3_passages, s.rm3_terms, s.rm3_weight,
                          None if mask is None else mask.weights, first=plain)

    def fuse(self, qvec: np.ndarray, dense_rows: np.ndarray, dense_scores: np.ndarray,
             lex_rows: np.ndarray, lex_scores: np.ndarray) -> dict[int, float]:
        """Convex fusion: dense score plus ``lexical_weight`` x BM25 relative to the best BM25
        hit, over both pools (a BM25 candidate outside the dense pool gets its dense score)."""
        extra = rows_not_in(lex_rows, dense_rows)
        rows = np.concatenate([dense_rows, extra])
        dense = np.concatenate([dense_scores, self.dense_scores(extra, qvec)])
        lexical = dict(zip(lex_rows.tolist(), lex_scores.tolist(), strict=True))
        top = max(lex_scores.max(initial=0.0), 1e-9)
        w = self.settings.lexical_weight
        return {int(r): float(d) + w * lexical.get(int(r), 0.0) / top
                for r, d in zip(rows.tolist(), dense.tolist(), strict=True)}

    def dedupe(self, ranked: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        """Drop a passage that repeats a better one (overlapping span or near-identical text)."""
        kept: list[tuple[int, float]] = []
        passages = self.index.passages
        embeddings = self.index.embeddings
        for row, score in ranked:
            p = passages[row]
            duplicate = False
            for other, _ in kept:
                q = passages[other]
                if q.document_id == p.document_id:
                    overlap = min(p.end, q.end) - max(p.start, q.start)
                    if overlap > 0.5 * (p.end - p.start):
                        duplicate = True
                        break
                elif float(embeddings[row] @ embeddings[other]) > _DUPLICATE_COSINE:
                    duplicate = True
                    break
            if not duplicate:
                kept.append((row, score))
            if len(kept) == k:
                break
        return kept


def rows_not_in(rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``np.setdiff1d(rows, others)`` (the distinct ``rows`` not in ``others``, ascending, of
    ``rows``' type) for the short candidate pools of one search, where numpy's sorting
    machinery costs several times the work; the same rows, so the same ranking."""
    excluded = set(others.tolist())
    return np.array(sorted({r for r in rows.tolist() if r not in excluded}), dtype=rows.dtype)
