"""The search engine: one question in, ranked and cited passages out.

Used by the CLI, the HTTP API and the evaluation alike, so what is measured is
what is served. Modes: ``dense`` (e5 vectors of passages and of their
sentences), ``lexical`` (BM25 over Swedish stems and compound parts) and
``hybrid`` (the dense score plus a share of the relative BM25 score).

Filters (``qa.search.filters``) restrict a search to matching passages inside ranking: each
ranker searches only them, so ``k`` matching passages come back whenever that many match. A
search without filters runs exactly as it did before filters existed.

Every question's cost is bounded: one without content (no two letters or digits: "?", "a",
an emoji, invisible characters) is answered as no match without being embedded, and a long
one is searched and highlighted up to ``QA_QUESTION_MAX_TOKENS`` model tokens
(``QuestionEncoder.bounded``).

Besides ``search``, the engine answers what it holds (``health``, ``documents``,
``document``, ``document_text``, ``manifest``: the read API at the end of the
class), so no caller needs the index's or the embedder's internals.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from qa.embed.question_encoder import QuestionEncoder, open_question_encoder
from qa.errors import QuestionError, UnknownDocumentError
from qa.index.lexical import LexicalIndex
from qa.index.manifest import Manifest
from qa.index.snapshot import OriginalFile, Snapshot
from qa.index.store import DocumentSummary
from qa.ingest.documents import Document
from qa.ingest.passages import Passage, sentence_spans
from qa.search.abstention import AbstentionModel, Signals, signals
from qa.search.answer_types import AnswerType, question_type
from qa.search.features import Candidates, FeatureExtractor
from qa.search.feedback import rm3_scores, rocchio
from qa.search.filters import FilterMasks, Filters, PassageMask
from qa.search.fusion import LearnedFusion, fuse
from qa.search.highlight import Highlighter, IsListItem
from qa.search.modes import check_mode
from qa.search.results import Hit, SearchResult
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.search.rerank import Reranker

_DUPLICATE_COSINE = 0.97


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_question(question: str, max_chars: int) -> str:
    """The question as searched: control characters dropped, surrounding blanks stripped.

    Its length is counted as given (blanks included), as the API's schema states it.
    """
    if len(question) > max_chars:
        raise QuestionError(
            f"'question' is too long: {len(question)} characters, at most {max_chars}"
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in question):
        raise QuestionError("'question' holds invalid characters (unpaired UTF-16 surrogates)")
    question = _CONTROL.sub(" ", question).strip()
    if not question:
        raise QuestionError("'question' must not be empty")
    return question


def has_content(question: str) -> bool:
    """Whether ``question`` holds at least two letters or digits: "?", "a", a soft hyphen,
    zero-width characters or an emoji alone ask nothing a passage could answer."""
    found = 0
    for c in question:
        found += c.isalnum()
        if found == 2:
            return True
    return False


@dataclass(frozen=True)
class EngineInfo:
    """What the engine serves: counts, the model, how vectors were made, the index's identity."""

    documents: int
    passages: int
    model: str
    query_path: str  # how questions are embedded now
    passage_path: str | None  # how the index's passage vectors were embedded (older indexes: None)
    sentence_path: str | None  # same for sentence vectors; None without sentence vectors
    vector_index: str  # the kind of vector index: exact or HNSW
    built_at: str | None
    index_dir: Path
    generation: int  # the published generation of the index being served


_CENTROID_SAMPLE = 20_000


def _centroid(embeddings: np.ndarray) -> np.ndarray:
    """The collection's mean passage vector, normalised: where its subject matter lies.

    Over at most ``_CENTROID_SAMPLE`` evenly spaced passages, so opening a large index does
    not pay a pass over every vector for a mean the sample already fixes."""
    if len(embeddings) == 0:
        return np.zeros(embeddings.shape[1] if embeddings.ndim == 2 else 1, np.float32)
    step = max(1, len(embeddings) // _CENTROID_SAMPLE)
    mean = np.asarray(embeddings[::step], dtype=np.float64).mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


class SearchEngine:
    """Holds the index and the model for the life of the process; thread-safe for reads."""

    def __init__(self, index: Snapshot, questions: QuestionEncoder, settings: Settings, *,
                 reranker: Reranker | None = None) -> None:
        """``reranker``: one already loaded (a new generation reuses the served one's), else
        the configured one is loaded."""
        self.index = index
        self.questions = questions
        self.settings = settings
        self.highlighter = Highlighter(index.lexical)
        # Highlights need document text on every query; keep it in memory, not in SQLite.
        self._texts = index.document_texts()
        # List items of converted documents (DOCX, ODT, HTML, ...), whose text carries no marker.
        self._list_items = {doc: (np.array([a for a, _ in spans]), np.array([b for _, b in spans]))
                            for doc, spans in index.list_items().items()}
        self._masks = FilterMasks(index)  # empty until the first filtered search
        self._centroid = _centroid(index.embeddings)
        # A passage's indexed terms, for RM3's feedback: the same passages come back often.
        self._indexed_terms = lru_cache(maxsize=8192)(
            lambda row: tuple(index.lexical.terms(index.passages[row].embedding_text(True))))
        self.abstention = AbstentionModel.load(settings.abstention_model)
        self.reranker = reranker
        if reranker is None and settings.reranker:
            from qa.search.rerank import Reranker

            self.reranker = Reranker(settings.reranker, settings.device)

    @classmethod
    def open(cls, settings: Settings, index_dir: str | None = None,
             questions: QuestionEncoder | None = None) -> SearchEngine:
        """Load the question encoder (or share ``questions``, another engine's) and the index;
        a missing index fails before the model loads.

        Neither torch nor sentence-transformers is imported unless the configured
        question path is the model itself.
        """
        from qa.index.manifest import read_manifest

        where = Path(index_dir) if index_dir else settings.index_dir
        read_manifest(where)
        questions = questions or open_question_encoder(settings)
        snapshot = Snapshot.open(where, settings, model_id=questions.model_id, dim=questions.dim)
        return cls(snapshot, questions, settings)

    def warm_up(self) -> None:
        """Run one query so the first real one does not pay for lazy initialisation."""
        self.search("uppvärmning", 1, highlights=True)
        self.questions.forget("uppvärmning")

    def relevance(self, similarity: float) -> float:
        lo, hi = self.settings.relevance_floor, self.settings.relevance_ceiling
        return float(min(1.0, max(0.0, (similarity - lo) / (hi - lo))))

    def dense_scores(self, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """Cosine of each passage, mixed with that of its closest sentence."""
        return self._mixed(*self._cosines(rows, qvec))

    def _mixed(self, passage: np.ndarray, sentence: np.ndarray | None) -> np.ndarray:
        w = self.settings.passage_weight
        return passage if sentence is None else w * passage + (1 - w) * sentence

    def _cosines(self, rows: np.ndarray, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Each passage's cosine, and its closest sentence's (None without sentence vectors)."""
        passage = np.asarray(self.index.embeddings[rows]) @ qvec
        sentences = self.index.sentences
        if sentences is None or len(rows) == 0:
            return passage, None
        return passage, sentences.best(rows, qvec)

    def _dense(self, qvec: np.ndarray, pool: int, mask: PassageMask | None = None
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
            exact_max = self.settings.exact_search_max
            _, rows = self.index.vectors.search_within(qvec, pool, mask.passages, exact_max)
            if sentences is not None and mask.sentences is not None:
                _, srows = sentences.index.search_within(qvec, pool, mask.sentences, exact_max)
                rows = np.union1d(rows, sentences.parent[srows])
        scores = self.dense_scores(rows, qvec)
        order = np.argsort(-scores, kind="stable")
        return scores[order], rows[order]

    def _rank(self, question: str, qvec: np.ndarray, mode: str, n: int,
              timings: dict[str, float], mask: PassageMask | None = None,
              trace: dict[str, np.ndarray] | None = None) -> list[tuple[int, float]]:
        """(row, score) best first; with a ``mask``, only matching passages are candidates.

        ``trace`` receives each ranker's rows best first ("dense", "lexical"), for abstention:
        the question's own rankings, before any feedback. Settings choose among ranking
        experiments (README's design note): vector feedback (``prf_beta``, off), RM3 on hybrid
        ranking's BM25 side (``rm3_terms``, on) and the fusion (``fusion``, convex).
        """
        trace = {} if trace is None else trace
        s = self.settings
        pool = max(s.candidates, n)
        dense_rows = lex_rows = np.zeros(0, np.int64)
        dense_scores = lex_scores = np.zeros(0, np.float32)
        lex_all: np.ndarray | None = None
        if mask is not None and mask.count == 0:
            return []
        if mode in ("dense", "hybrid"):
            t = time.perf_counter()
            qvec, dense_scores, dense_rows = self._dense_side(qvec, pool, mask, trace)
            timings["dense_ms"] = (time.perf_counter() - t) * 1000
            if mode == "dense":
                return list(zip(dense_rows.tolist(), dense_scores.tolist(), strict=True))
        if mode in ("lexical", "hybrid"):
            t = time.perf_counter()
            lex_all, lex_scores, lex_rows = self._lexical_side(question, pool, mask, trace,
                                                               expand=mode == "hybrid")
            timings["lexical_ms"] = (time.perf_counter() - t) * 1000
            if mode == "lexical":
                return list(zip(lex_rows.tolist(), lex_scores.tolist(), strict=True))
        t = time.perf_counter()
        if s.fusion == "convex":
            fused = self._fuse_convex(qvec, dense_rows, dense_scores, lex_rows, lex_scores)
        else:
            found = self._candidates(qvec, dense_rows, lex_rows, lex_all)
            fused = dict(zip(found.rows.tolist(), self._fuse_other(question, found).tolist(),
                             strict=True))
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        timings["fusion_ms"] = (time.perf_counter() - t) * 1000
        return ranked

    def _dense_side(self, qvec: np.ndarray, pool: int, mask: PassageMask | None,
                    trace: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(question vector as searched, scores, rows) of the dense ranker; the question's own
        rows go to ``trace``, then vector feedback moves the question when ``prf_beta``."""
        scores, rows = self._dense(qvec, pool, mask)
        trace["dense"] = rows
        s = self.settings
        if s.prf_beta > 0:
            qvec = rocchio(qvec, self.index.embeddings[rows[: s.prf_passages]], s.prf_beta)
            scores, rows = self._dense(qvec, pool, mask)
        return qvec, scores, rows

    def _lexical_side(self, question: str, pool: int, mask: PassageMask | None,
                      trace: dict[str, np.ndarray], expand: bool
                      ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(BM25 of every passage, best scores, best rows) of the lexical ranker; the question's
        own best rows go to ``trace``, then RM3 widens it when ``expand`` (hybrid ranking)."""
        plain = self.index.lexical.scores(question, None if mask is None else mask.weights)
        best = LexicalIndex.top(plain, pool)
        trace["lexical"] = best[1]
        scores = self._bm25(question, mask, plain) if expand else plain
        if scores is not plain:
            best = LexicalIndex.top(scores, pool)
        return scores, best[0], best[1]

    def _fuse_convex(self, qvec: np.ndarray, dense_rows: np.ndarray, dense_scores: np.ndarray,
                     lex_rows: np.ndarray, lex_scores: np.ndarray) -> dict[int, float]:
        """Dense score plus weight x BM25 relative to the best BM25 hit, over both pools."""
        extra = np.setdiff1d(lex_rows, dense_rows)
        rows = np.concatenate([dense_rows, extra])
        dense = np.concatenate([dense_scores, self.dense_scores(extra, qvec)])
        lexical = dict(zip(lex_rows.tolist(), lex_scores.tolist(), strict=True))
        top = max(lex_scores.max(initial=0.0), 1e-9)
        w = self.settings.lexical_weight
        return {int(r): float(d) + w * lexical.get(int(r), 0.0) / top
                for r, d in zip(rows.tolist(), dense.tolist(), strict=True)}

    # ------------------------------------------------------------------ ranking experiments
    # Alternatives to the default ranking behind settings (qa.search.feedback, fusion, features).

    def _bm25(self, question: str, mask: PassageMask | None, plain: np.ndarray | None
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

    def _candidates(self, qvec: np.ndarray, dense_rows: np.ndarray, lex_rows: np.ndarray,
                    lex_all: np.ndarray | None) -> Candidates:
        """The fused pool (dense rows, then BM25's others) with each one's signals."""
        rows = np.concatenate([dense_rows, np.setdiff1d(lex_rows, dense_rows)]).astype(np.int64)
        passage, sentence = self._cosines(rows, qvec)
        mixed = self._mixed(passage, sentence)
        bm25 = lex_all[rows] if lex_all is not None else np.zeros(len(rows), np.float32)
        return Candidates(rows, passage.astype(np.float64),
                          (passage if sentence is None else sentence).astype(np.float64),
                          mixed.astype(np.float64), np.asarray(bm25, np.float64))

    def _fuse_other(self, question: str, found: Candidates) -> np.ndarray:
        s = self.settings
        learned = None
        if s.fusion == "learned":
            learned = self._learned_fusion.score(self.features.matrix(question, found))
        return fuse(s.fusion, found, s.lexical_weight, s.rrf_k, learned)

    @cached_property
    def features(self) -> FeatureExtractor:
        """The learned fusion's features of candidates (built on first use)."""
        return FeatureExtractor(self.index.lexical, self.passages)

    @cached_property
    def _learned_fusion(self) -> LearnedFusion:
        return LearnedFusion.load(self.settings.fusion_weights)

    def candidates(self, question: str) -> tuple[Candidates, np.ndarray]:
        """A question's hybrid candidate pool, unfused, with its feature matrix.

        The same pool hybrid ranking fuses (vector feedback and RM3 included when set), for
        fitting a learned fusion offline (``bench.ranking_experiments``).
        """
        pool = self.settings.candidates
        question = self.questions.bounded(question)
        trace: dict[str, np.ndarray] = {}
        qvec, _, dense_rows = self._dense_side(self.questions.embed(question), pool, None, trace)
        lex_all, _, lex_rows = self._lexical_side(question, pool, None, trace, expand=True)
        found = self._candidates(qvec, dense_rows, lex_rows, lex_all)
        return found, self.features.matrix(question, found)

    def _dedupe(self, ranked: list[tuple[int, float]], k: int) -> list[tuple[int, float]]:
        """Drop a passage that repeats a better one (overlapping span or near-identical text)."""
        kept: list[tuple[int, float]] = []
        passages = self.passages
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
                elif float(self.index.embeddings[row] @ self.index.embeddings[other]) > _DUPLICATE_COSINE:
                    duplicate = True
                    break
            if not duplicate:
                kept.append((row, score))
            if len(kept) == k:
                break
        return kept

    def search(self, question: str, k: int | None = None, mode: str | None = None,
               highlights: bool = True, filters: Filters | None = None) -> SearchResult:
        """Ranked passages for ``question``; ``mode`` defaults to the configured best.

        ``filters`` (``Filters.make``) restrict the search to matching passages: up to ``k``
        of them, fewer only when fewer match (or, as without filters, when de-duplication
        or BM25's need of a shared term leaves fewer). A filter nothing matches gives no hits
        and ``no_good_match``; it is not an error.
        """
        t0 = time.perf_counter()
        mode = check_mode(mode or self.settings.default_mode)
        if not has_content(question):
            return self._no_content(question, mode, t0, filters)
        question = self.questions.bounded(question)
        qvec = self.questions.embed(question)
        return self._answer(question, qvec, k or self.settings.default_k, mode, highlights, t0,
                            filters)

    async def search_async(self, question: str, k: int | None = None,
                           mode: str | None = None, filters: Filters | None = None
                           ) -> SearchResult:
        """``search`` for an event loop: the question's vector is awaited, not waited for.

        The web server's requests then need no thread each while the embedding
        thread works; ranking itself is short and runs on the loop.
        """
        t0 = time.perf_counter()
        mode = check_mode(mode or self.settings.default_mode)
        if not has_content(question):
            return self._no_content(question, mode, t0, filters)
        question = self.questions.bounded(question)
        qvec = await self.questions.embed_async(question)
        return self._answer(question, qvec, k or self.settings.default_k, mode, True, t0, filters)

    def _no_content(self, question: str, mode: str, t0: float, filters: Filters | None
                    ) -> SearchResult:
        """The answer to a question without content: no hits, no good match, nothing embedded."""
        return SearchResult(question, mode, [], (time.perf_counter() - t0) * 1000, True, {},
                            filters, self.index.generation)

    def _answer(self, question: str, qvec: np.ndarray, k: int, mode: str, highlights: bool,
                t0: float, filters: Filters | None = None) -> SearchResult:
        """Rank, rerank, de-duplicate, highlight and decide ``no_good_match``, given the
        question's vector."""
        timings = {"embed_ms": (time.perf_counter() - t0) * 1000}
        mask = None
        if filters:  # an empty filter lets everything through: no mask work at all
            t = time.perf_counter()
            mask = self._masks.mask(filters)
            timings["filter_ms"] = (time.perf_counter() - t) * 1000
        trace: dict[str, np.ndarray] = {}
        ranked = self._rank(question, qvec, mode, k, timings, mask, trace)
        ranked = self._reranked(question, ranked, timings)
        hits = self._hits(question, qvec, self._dedupe(ranked, k), highlights, timings)
        found = self._signals(question, qvec, hits[0].similarity, trace, mask) if hits else None
        unanswered = 1.0 if found is None else self.abstention.probability(found)
        took = (time.perf_counter() - t0) * 1000
        return SearchResult(question, mode, hits, took, unanswered >= self.abstention.threshold,
                            timings, filters, self.index.generation, found, unanswered)

    def _signals(self, question: str, qvec: np.ndarray, similarity: float,
                 trace: dict[str, np.ndarray], mask: PassageMask | None) -> Signals:
        """What abstention decides on (``qa.search.abstention``): the best hit's ``similarity``
        and the rankers' lists; the one a mode did not run (BM25 in dense mode, vectors in
        lexical mode) is run here."""
        pool = self.settings.candidates
        dense = trace.get("dense")
        if dense is None:
            _, dense = self._dense(qvec, pool, mask)
        lexical = trace.get("lexical")
        if lexical is None:
            _, lexical = self.index.lexical.search(question, pool,
                                                   None if mask is None else mask.weights)
        return signals(similarity, float(qvec @ self._centroid),
                       int(dense[0]) if len(dense) else None, lexical)

    def _reranked(self, question: str, ranked: list[tuple[int, float]],
                  timings: dict[str, float]) -> list[tuple[int, float]]:
        top_n = self.settings.rerank_top
        if self.reranker is None or not ranked:
            return ranked
        t = time.perf_counter()
        top = self.reranker.rerank(question, ranked[:top_n], self.passages)
        timings["rerank_ms"] = (time.perf_counter() - t) * 1000
        return top + ranked[top_n:]

    def _hits(self, question: str, qvec: np.ndarray, kept: list[tuple[int, float]], highlights: bool,
              timings: dict[str, float]) -> list[Hit]:
        """The hits, with relevance that never rises as rank falls and highlights only where
        the relevance is above the floor: a weak card has nothing to point at."""
        rows = [row for row, _ in kept]
        sims = self.dense_scores(np.asarray(rows, dtype=np.int64), qvec).tolist() if rows else []
        hits = []
        t = time.perf_counter()
        terms = self.highlighter.terms(question) if highlights and kept else frozenset()
        kind = question_type(question) if highlights else None
        shown = 1.0
        for rank, ((row, score), sim) in enumerate(zip(kept, sims, strict=True), start=1):
            p = self.passages[row]
            shown = min(shown, self.relevance(sim))
            hl = self._highlight(terms, qvec, row, p, kind) if highlights and shown > 0 else []
            hits.append(Hit(rank, float(score), float(sim), shown, p, hl))
        timings["highlight_ms"] = (time.perf_counter() - t) * 1000
        return hits

    def _in_list_item(self, doc_id: str) -> IsListItem | None:
        found = self._list_items.get(doc_id)
        if found is None:
            return None
        starts, ends = found

        def inside(a: int, b: int) -> bool:
            i = bisect.bisect_right(starts, a) - 1
            return i >= 0 and a < ends[i]

        return inside

    def _highlight(self, terms: frozenset[str], qvec: np.ndarray, row: int, p: Passage,
                   kind: AnswerType | None) -> list[tuple[int, int]]:
        text = self._texts.get(p.document_id, "")
        sentences = self.index.sentences
        in_list = self._in_list_item(p.document_id)
        if sentences is None:
            return self.highlighter.highlight(terms, text, sentence_spans(text, p.start, p.end),
                                              answer_type=kind, in_list_item=in_list)
        a, b = sentences.offsets[row], sentences.offsets[row + 1]
        spans = [(int(x), int(y)) for x, y in sentences.spans[a:b]]
        cosines = sentences.for_highlights(row) @ qvec
        return self.highlighter.highlight(terms, text, spans, cosines, answer_type=kind,
                                          in_list_item=in_list)

    # ------------------------------------------------------------------ read API
    # What the engine holds, for the HTTP API, the CLI and the evaluation: they ask
    # here and never reach into the index or the embedder, so those can change
    # shape without their readers noticing.

    def health(self) -> EngineInfo:
        """Counts, model, embedding paths and the identity of the opened index."""
        m = self.index.manifest
        return EngineInfo(
            documents=m.documents,
            passages=len(self.passages),
            model=self.questions.model_id,
            query_path=self.questions.runtime,
            passage_path=m.passage_path,
            sentence_path=m.sentence_path,
            vector_index=self.index.vectors.kind,
            built_at=m.built_at,
            index_dir=self.index.dir,
            generation=self.index.generation,
        )

    @property
    def manifest(self) -> Manifest:
        """The index's manifest (model, build settings, counts, fingerprint); immutable."""
        return self.index.manifest

    @property
    def passages(self) -> list[Passage]:
        """Every indexed passage; position ``i`` is row ``i`` of the vectors. Do not modify."""
        return self.index.passages

    def documents(self) -> list[DocumentSummary]:
        """The indexed documents in index order, each with its passage count."""
        return self.index.documents()

    def passages_per_document(self) -> dict[str, int]:
        """How many passages each document was cut into."""
        return self.index.store.passages_per_document()

    def document(self, doc_id: str) -> Document:
        """One document: full original text, title, date, sections and metadata.

        Raises ``UnknownDocumentError`` for an id the index does not hold.
        """
        doc = self.index.document(doc_id)
        if doc is None:
            raise UnknownDocumentError(f"no document with id '{doc_id}'")
        return doc

    def original(self, doc_id: str) -> OriginalFile:
        """The file the document was read from, as it was then.

        Raises ``UnknownDocumentError`` for an unknown id or a document without one (a JSONL
        record, or a file that changed while it was indexed).
        """
        found = self.index.original(doc_id)
        if found is None:
            self.document(doc_id)  # an unknown id says so
            raise UnknownDocumentError(f"document '{doc_id}' has no original file (it did not "
                                       "come from a file, or the file changed while it was indexed)")
        return found

    def document_text(self, doc_id: str) -> str:
        """A document's original text, which every citation span indexes into (from memory)."""
        try:
            return self._texts[doc_id]
        except KeyError:
            raise UnknownDocumentError(f"no document with id '{doc_id}'") from None

    def document_texts(self) -> Mapping[str, str]:
        """Every document's original text by id, read-only (held in memory for highlights)."""
        return MappingProxyType(self._texts)

    def forget(self, question: str) -> None:
        """Drop the cached embedding of ``question``: the next search embeds it afresh."""
        self.questions.forget(question)

    def close(self) -> None:
        """Release the index (its files and its lease on the generation); the model stays.

        Only for an engine no request uses any more; an engine nobody references is closed
        by itself (see ``Snapshot``).
        """
        self.index.close()
