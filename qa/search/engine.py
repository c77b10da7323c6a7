"""The search engine: one question in, ranked and cited passages out.

Used by the CLI, the HTTP API and the evaluation alike, so what is measured is
what is served. Three concepts, three modules: ranking (``qa.search.ranking.Ranker``: the
dense, lexical and hybrid modes), answer assembly (here: reranking, de-duplication,
relevance, highlights and ``no_good_match``) and the read API (``qa.search.reads``:
``health``, ``documents``, ``document``, ``document_text``, ``manifest``), so no caller needs
the index's or the embedder's internals.

Filters (``qa.search.filters``) restrict a search to matching passages inside ranking: each
ranker searches only them, so ``k`` matching passages come back whenever that many match. A
search without filters runs exactly as it did before filters existed.

Follow-up questions (``history``, the conversation's earlier questions) are read by
``qa.search.conversation``: a follow-up is ranked with its earlier topic, a new topic exactly
as without history. A search without history runs exactly as it did before conversations.

Every question's cost is bounded: one without content (no two letters or digits: "?", "a",
an emoji, invisible characters) is answered as no match without being embedded, and a long
one is searched and highlighted up to ``QA_QUESTION_MAX_TOKENS`` model tokens
(``QuestionEncoder.bounded``).
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qa.embed.question_encoder import QuestionEncoder, open_question_encoder
from qa.errors import QuestionError, UnknownDocumentError
from qa.index.snapshot import Snapshot
from qa.ingest.passages import Passage, sentence_spans
from qa.search.abstention import AbstentionModel, Signals, signals
from qa.search.answer_types import AnswerType, question_type
from qa.search.conversation import FollowUp, FollowUps, Reading, topic_of
from qa.search.cues import Cue, continuation_cue, contrasted
from qa.search.filters import FilterMasks, Filters, PassageMask
from qa.search.highlight import Highlighter, IsListItem
from qa.search.modes import check_mode
from qa.search.ranking import Ranker
from qa.search.reads import EngineInfo, IndexReads
from qa.search.results import Hit, SearchResult
from qa.settings import SearchMode, SearchSettings, Settings

if TYPE_CHECKING:
    from qa.search.rerank import Reranker

__all__ = ["EngineInfo", "QuestionError", "SearchEngine", "UnknownDocumentError",
           "clean_question", "has_content"]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_question(question: str, max_chars: int, name: str = "question") -> str:
    """The question as searched: control characters dropped, surrounding blanks stripped.

    Its length is counted as given (blanks included), as the API's schema states it. ``name``:
    what the error messages call it (an earlier question of ``history`` is checked alike).
    """
    if len(question) > max_chars:
        raise QuestionError(
            f"'{name}' is too long: {len(question)} characters, at most {max_chars}"
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in question):
        raise QuestionError(f"'{name}' holds invalid characters (unpaired UTF-16 surrogates)")
    question = _CONTROL.sub(" ", question).strip()
    if not question:
        raise QuestionError(f"'{name}' must not be empty")
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


@dataclass(frozen=True)
class _Asked:
    """A question accepted for ranking: as searched (bounded), its mode, when it came."""

    question: str
    mode: SearchMode
    t0: float


class SearchEngine(IndexReads):
    """Holds the index and the model for the life of the process; thread-safe for reads.

    Ranks with a ``Ranker`` (``ranker_class``), then assembles the answer; the read API comes
    from ``IndexReads``.
    """

    ranker_class: type[Ranker] = Ranker

    def __init__(self, index: Snapshot, questions: QuestionEncoder, settings: SearchSettings, *,
                 reranker: Reranker | None = None, device: str = "cpu") -> None:
        """``settings``: the search group (``Settings.search``). ``reranker``: one already
        loaded (a new generation reuses the served one's), else the configured one
        (``QA_RERANKER``) is loaded on ``device`` (``QA_DEVICE``)."""
        self.index = index
        self.questions = questions
        self.settings = settings
        self.ranker = self.ranker_class(index, settings)
        self.followups = FollowUps(self.ranker, settings)
        self.highlighter = Highlighter(index.lexical, settings.answer_next_margin)
        # Highlights need document text on every query; keep it in memory, not in SQLite.
        self._texts = index.document_texts()
        # List items of converted documents (DOCX, ODT, HTML, ...), whose text carries no marker.
        self._list_items = {doc: (np.array([a for a, _ in spans]), np.array([b for _, b in spans]))
                            for doc, spans in index.list_items().items()}
        self._sections = index.section_spans()
        self._masks = FilterMasks(index)  # empty until the first filtered search
        self._centroid = _centroid(index.embeddings)
        self.abstention = AbstentionModel.load(settings.abstention_model)
        self.reranker = reranker
        if reranker is None and settings.reranker:
            from qa.search.rerank import Reranker

            self.reranker = Reranker(settings.reranker, device)

    @classmethod
    def open(cls, settings: Settings, index_dir: str | Path | None = None,
             questions: QuestionEncoder | None = None) -> SearchEngine:
        """Load the question encoder (or share ``questions``, another engine's) and the index;
        a missing index fails before the model loads. A composition point: it hands each
        part its own settings group.

        Neither torch nor sentence-transformers is imported unless the configured
        question path is the model itself.
        """
        from qa.index.manifest import read_manifest
        from qa.search.question_models import embed_settings_for

        where = Path(index_dir) if index_dir else settings.index.index_dir
        read_manifest(where)
        questions = questions or open_question_encoder(embed_settings_for(where, settings.embed))
        snapshot = Snapshot.open(where, settings.index, model_id=questions.model_id,
                                 dim=questions.dim)
        return cls(snapshot, questions, settings.search, device=settings.embed.device)

    @property
    def centroid(self) -> np.ndarray:
        """The collection's mean passage vector, normalised (see ``_centroid``)."""
        return self._centroid

    def warm_up(self) -> None:
        """Run one query so the first real one does not pay for lazy initialisation."""
        self.search("uppvärmning", 1, highlights=True)
        self.questions.forget("uppvärmning")

    def relevance(self, similarity: float) -> float:
        lo, hi = self.settings.relevance_floor, self.settings.relevance_ceiling
        return float(min(1.0, max(0.0, (similarity - lo) / (hi - lo))))

    def dense_scores(self, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """Cosine of each passage, mixed with that of its closest sentence (``Ranker``)."""
        return self.ranker.dense_scores(rows, qvec)

    def search(self, question: str, k: int | None = None, mode: str | None = None,
               highlights: bool = True, filters: Filters | None = None,
               history: Sequence[str] | None = None) -> SearchResult:
        """Ranked passages for ``question``; ``mode`` defaults to the configured best.

        ``filters`` (``Filters.make``) restrict the search to matching passages: up to ``k``
        of them, fewer only when fewer match (or, as without filters, when de-duplication
        or BM25's need of a shared term leaves fewer). A filter nothing matches gives no hits
        and ``no_good_match``; it is not an error.

        ``history``: the conversation's earlier questions, oldest first, each already cleaned
        (``clean_question``). Given (even empty), the result carries its ``reading``; a
        follow-up is ranked with its topic (``qa.search.conversation``). Without it the search
        is exactly the one before conversations existed.
        """
        asked = self._ask(question, mode, filters)
        if isinstance(asked, SearchResult):
            return self._read_alone(asked, history)
        qvec = self.questions.embed(asked.question)
        if history is None:
            return self._answer(asked, qvec, k, highlights, filters)
        topic, cue, ranked_topic = self._topic(asked.question, history)
        topic_vec = self.questions.embed(" ".join(ranked_topic)) if topic else None
        return self._answer_in_conversation(asked, qvec, topic, ranked_topic, cue, topic_vec, k,
                                            highlights, filters)

    async def search_async(self, question: str, k: int | None = None,
                           mode: str | None = None, filters: Filters | None = None,
                           highlights: bool = True, history: Sequence[str] | None = None
                           ) -> SearchResult:
        """``search`` for an event loop: the question's vector is awaited, not waited for.

        The web server's requests then need no thread each while the embedding
        thread works; ranking itself is short and runs on the loop.
        """
        asked = self._ask(question, mode, filters)
        if isinstance(asked, SearchResult):
            return self._read_alone(asked, history)
        qvec = await self.questions.embed_async(asked.question)
        if history is None:
            return self._answer(asked, qvec, k, highlights, filters)
        topic, cue, ranked_topic = self._topic(asked.question, history)
        topic_vec = await self.questions.embed_async(" ".join(ranked_topic)) if topic else None
        return self._answer_in_conversation(asked, qvec, topic, ranked_topic, cue, topic_vec, k,
                                            highlights, filters)

    def _topic(self, question: str, history: Sequence[str]
               ) -> tuple[tuple[str, ...], Cue | None, tuple[str, ...]]:
        """The earlier questions a follow-up is read with, each bounded like a question; the
        question's continuation cue; and the topic as the question is ranked with it (its
        names left out when the question swaps them for its own, ``contrasted``)."""
        topic = topic_of([q for q in history if has_content(q)])
        bounded = tuple(self.questions.bounded(q) for q in topic)
        cue = continuation_cue(question)
        return bounded, cue, contrasted(question, bounded, cue)

    @staticmethod
    def _read_alone(result: SearchResult, history: Sequence[str] | None) -> SearchResult:
        if history is not None:
            result.reading = Reading(result.question, (), "new topic")
        return result

    def _answer_in_conversation(self, asked: _Asked, qvec: np.ndarray, topic: tuple[str, ...],
                                ranked_topic: tuple[str, ...], cue: Cue | None,
                                topic_vec: np.ndarray | None, k: int | None, highlights: bool,
                                filters: Filters | None) -> SearchResult:
        """The answer to a question with history: read with its topic when it follows it up,
        else exactly the answer without history."""
        if topic_vec is None:
            return self._read_alone(self._answer(asked, qvec, k, highlights, filters), ())
        mask = self._masks.mask(filters) if filters else None
        read = self.followups.read(asked.question, qvec, topic, topic_vec, asked.mode,
                                   k or self.settings.default_k, mask, cue,
                                   " ".join(ranked_topic))
        if isinstance(read, Reading):
            result = self._answer(asked, qvec, k, highlights, filters)
            result.reading = read
            return result
        result = self._answer(asked, read.qvec, k, highlights, filters, read)
        result.reading = read.reading
        return result

    def _ask(self, question: str, mode: str | None, filters: Filters | None
             ) -> _Asked | SearchResult:
        """The question as it will be searched, or at once the answer to one without content
        (no hits, no good match, nothing embedded). Both ``search`` paths start here."""
        t0 = time.perf_counter()
        checked = check_mode(mode or self.settings.default_mode)
        if not has_content(question):
            return SearchResult(question, checked, [], (time.perf_counter() - t0) * 1000, True,
                                {}, filters, self.index.generation)
        return _Asked(self.questions.bounded(question), checked, t0)

    def _answer(self, asked: _Asked, qvec: np.ndarray, k: int | None, highlights: bool,
                filters: Filters | None, followup: FollowUp | None = None) -> SearchResult:
        """Rank, rerank, de-duplicate, highlight and decide ``no_good_match``, given the
        question's vector; a ``followup`` brings its own ranking and (as ``qvec``) vector."""
        question, mode, t0 = asked.question, asked.mode, asked.t0
        k = k or self.settings.default_k
        timings = {"embed_ms": (time.perf_counter() - t0) * 1000}
        mask = None
        if filters:  # an empty filter lets everything through: no mask work at all
            t = time.perf_counter()
            mask = self._masks.mask(filters)
            timings["filter_ms"] = (time.perf_counter() - t) * 1000
        trace: dict[str, np.ndarray] = {}
        if followup is None:
            ranked = self.ranker.rank(question, qvec, mode, k, timings, mask, trace)
        else:
            ranked = followup.ranked
        ranked = self._reranked(question, ranked, timings)
        hits = self._hits(question, qvec, self.ranker.dedupe(ranked, k), highlights, timings)
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
            _, dense = self.ranker.dense(qvec, pool, mask)
        lexical = trace.get("lexical")
        if lexical is None:
            _, lexical = self.index.lexical.search(question, pool,
                                                   None if mask is None else mask.weights)
        return signals(similarity, float(qvec @ self._centroid),
                       int(dense[0]) if len(dense) else None, lexical,
                       self.index.lexical.unknown_share(question))

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
            section = self._section_at(p.document_id, hl[0][0]) if hl else None
            hits.append(Hit(rank, float(score), float(sim), shown, p, hl,
                            section if section != p.section else None))
        timings["highlight_ms"] = (time.perf_counter() - t) * 1000
        return hits

    def _section_at(self, doc_id: str, offset: int) -> str | None:
        """The title of the innermost section of ``doc_id`` holding ``offset``, if any."""
        found = None
        for start, end, title in self._sections.get(doc_id, ()):
            if start > offset:
                break
            if offset < end:
                found = title  # sections come outer first: a later one is nested deeper
        return found

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

    def forget(self, question: str) -> None:
        """Drop the cached embedding of ``question``: the next search embeds it afresh."""
        self.questions.forget(question)

