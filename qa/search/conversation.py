"""Reading a question in its conversation: is it a follow-up, and what does it then ask?

A caller sends the earlier questions of the conversation with the new one (``history``,
oldest first). No model that rewrites text is available offline, so a follow-up is resolved
from what the service has: the structure of the Swedish question (``qa.search.cues``), the
earlier question and the passage that answered it.

The decision, in order:

1. The *topic* is the latest earlier question, together with the ones before it that it
   itself continued (a chain of follow-ups carries back to the question that opened it).
2. A question with a continuation cue (pronoun, demonstrative, leading "och", "varför då?",
   a lost head, too few words of its own) is read with the topic.
3. A question without a cue is read with the topic only when its best match alone is weak
   (dense similarity below ``followup_weak_similarity``), the topic makes it clearly
   stronger (by ``followup_gain``) and the passage it would then be answered from holds at
   least ``followup_own_words`` of the question's own words (``own_words_held``): positive
   evidence that the topic's passage answers it, not merely resembles it. Else it is a new
   topic and is searched exactly as without history, so a self-contained question about
   something else, or about something the collection does not cover, is not dragged along.

Read with the topic, the question is ranked by (each weight a ``QA_FOLLOWUP_*`` setting, each
choice measured in ``bench/followup.py``):

* its own vector plus ``followup_vector_weight`` x the topic's vector (normalised), so the
  new question decides what is asked and the topic what it is about; the topic's vector
  includes ``followup_answer_weight`` x that of the passage that answered it, unless the
  question's own words point to another passage of that document (``_with_answer``);
* BM25 of its own terms plus ``followup_lexical_weight`` x BM25 of the topic's terms;
* a bonus of ``followup_document_bonus`` for passages of the document that answered the topic
  and ``followup_section_bonus`` more for its section: a follow-up is usually answered next to
  the answer it follows. Not for a question that swaps the topic's names for its own ("Och hur
  gör Kronoberg?", ``cues.contrasted``): it asks the same of someone else, usually elsewhere.
  The topic's own passages are candidates even when neither ranker found them.

A request without history never comes here; the engine's path for it is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.index.lexical import LexicalIndex
from qa.search.cues import Cue, continuation_cue
from qa.search.filters import PassageMask
from qa.search.ranking import Ranker
from qa.settings import SearchSettings

__all__ = ["FollowUps", "Reading", "topic_of"]

#: How many earlier questions a chain of follow-ups carries back at most.
_CHAIN = 3
#: How far from the topic's passage (in rows of its document) candidates are added.
_NEAR_ROWS = 200


@dataclass(frozen=True)
class Reading:
    """How a question was read in its conversation, as the answer reports it.

    ``carried``: the earlier questions read together with it, oldest first (empty: read
    alone, as a new topic). ``reason``: the cue or test that decided.
    """

    question: str
    carried: tuple[str, ...]
    reason: str

    @property
    def read_as(self) -> str:
        """The question as it was read: the carried questions, then the question itself."""
        return " ".join((*self.carried, self.question))

    def to_json(self) -> dict[str, Any]:
        return {"read_as": self.read_as, "carried": list(self.carried), "reason": self.reason}


@dataclass(frozen=True)
class FollowUp:
    """A question read with its topic: the reading, the combined vector, the ranked rows."""

    reading: Reading
    qvec: np.ndarray
    ranked: list[tuple[int, float]]


def topic_of(history: Sequence[str]) -> tuple[str, ...]:
    """The earlier questions a new question would be read with: the latest one and those
    before it that it continued in turn (by their cues alone), oldest first."""
    if not history:
        return ()
    chain = [history[-1]]
    i = len(history) - 1
    while i > 0 and len(chain) < _CHAIN and continuation_cue(history[i]) is not None:
        i -= 1
        chain.insert(0, history[i])
    return tuple(chain)


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


class FollowUps:
    """Reads follow-up questions over one index snapshot's ranker; thread-safe for reads."""

    def __init__(self, ranker: Ranker, settings: SearchSettings) -> None:
        self.ranker = ranker
        self.settings = settings
        self._doc_rows: dict[str, np.ndarray] | None = None

    def rows_of(self, document_id: str) -> np.ndarray:
        """The rows of a document's passages (built on first use, then kept)."""
        if self._doc_rows is None:
            found: dict[str, list[int]] = {}
            for row, p in enumerate(self.ranker.index.passages):
                found.setdefault(p.document_id, []).append(row)
            self._doc_rows = {d: np.asarray(r, np.int64) for d, r in found.items()}
        return self._doc_rows.get(document_id, np.zeros(0, np.int64))

    def read(self, question: str, qvec: np.ndarray, topic: tuple[str, ...],
             topic_vec: np.ndarray, mode: str, n: int, mask: PassageMask | None,
             cue: Cue | None = None, topic_text: str | None = None) -> FollowUp | Reading:
        """``question`` read in its conversation: a ``FollowUp`` (ranked with the topic) or,
        for a new topic, only the ``Reading`` (the caller then searches it alone).

        ``topic``: ``topic_of(history)``; ``topic_vec``: the vector of ``topic_text``, the
        topic's questions as the question is ranked with them (by default joined by a space;
        the engine leaves out names the question swaps, ``cues.contrasted``); ``cue``:
        ``continuation_cue(question)`` when already known.
        """
        cue = cue if cue is not None else continuation_cue(question)
        s = self.settings
        if (mask is not None and mask.count == 0) or not topic:
            return Reading(question, (), "new topic")
        alone = 0.0
        if cue is None:  # a question strong alone is a new topic: no reading with the topic
            alone = self._best_similarity(self.ranker.dense(qvec, s.candidates, mask)[1][:1], qvec)
            if alone >= s.followup_weak_similarity:
                return Reading(question, (), "new topic")
        topic_text = topic_text if topic_text is not None else " ".join(topic)
        anchor = self._anchor(topic_text, topic_vec, mask)
        swapped = topic_text != " ".join(topic)
        if not swapped:
            topic_vec = self._with_answer(question, topic_text, topic_vec, anchor)
        combined = _unit(qvec + s.followup_vector_weight * topic_vec)
        ranked = self._rank(question, topic_text, combined, anchor, mode, n, mask, swapped)
        if cue is not None:
            return FollowUp(Reading(question, topic, str(cue)), combined, ranked)
        top = np.asarray([r for r, _ in ranked[:1]], np.int64)
        joint = self._best_similarity(top, combined)
        if (joint - alone >= s.followup_gain and len(top)
                and self.own_words_held(question, topic_text, int(top[0]))
                >= s.followup_own_words):
            return FollowUp(Reading(question, topic, "weak alone, strong with the earlier "
                                    "question"), combined, ranked)
        return Reading(question, (), "new topic")

    def _with_answer(self, question: str, topic_text: str, topic_vec: np.ndarray,
                     anchor: int | None) -> np.ndarray:
        """The topic's vector with ``followup_answer_weight`` x the vector of the passage that
        answered it, normalised; the topic's vector as it is when the question's own words
        point elsewhere: another passage of that document holds more of them than the answer.

        What the earlier question asked is often said more fully by its answer ("Hur gick
        det?" after a question on a meeting: the answer names the meeting's place and
        parties), so the answer's vector brings the follow-up back to it. A follow-up with a
        word of its own that the answer lacks and its document has ("Vid vilket
        universitet?") asks for something next to the answer, where the answer's vector would
        hold it back.
        """
        weight = self.settings.followup_answer_weight
        if anchor is None or weight <= 0:
            return topic_vec
        own = self._own_terms(question, topic_text)
        if own:
            document = self.rows_of(self.ranker.index.passages[anchor].document_id)
            at_answer = float(self._held(own, np.asarray([anchor], np.int64))[0])
            if float(self._held(own, document).max(initial=0.0)) > at_answer:
                return topic_vec
        answer = np.asarray(self.ranker.index.embeddings[anchor], np.float32)
        return _unit(topic_vec + weight * answer)

    def own_words_held(self, question: str, topic_text: str, row: int) -> float:
        """The share of the question's own words (not stop words, not the topic's) that the
        passage at ``row`` holds, a compound also by all of its parts; 1.0 when it has none.

        The evidence a question without a cue needs to be read with its topic: similarities
        of this model are too compressed to tell a question the topic's passage answers from
        one it merely resembles ("Hur söker jag parkeringstillstånd?" after a question on
        steering), while a passage that answers it uses some of its words. A word no passage
        uses is never held.
        """
        own = self._own_terms(question, topic_text)
        return float(self._held(own, np.asarray([row], np.int64))[0]) if own else 1.0

    def _own_terms(self, question: str, topic_text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(stem, compound parts) of each of the question's words that is neither a stop
        word nor one of the topic's terms."""
        analyzer = self.ranker.index.lexical.analyzer
        topic_terms = set(analyzer.tokens(topic_text))
        own = [analyzer.word_terms(w) for w in analyzer.words(question) if w.isalpha()]
        return [(stem, parts) for stem, parts in own if stem not in topic_terms]

    def _held(self, own: list[tuple[str, tuple[str, ...]]], rows: np.ndarray) -> np.ndarray:
        """Per row, the share of the ``own`` words its passage holds (by its stem, or a
        compound by all of its parts)."""
        lexical = self.ranker.index.lexical
        held = np.zeros(len(rows), np.float32)
        for stem, parts in own:
            holding = lexical.holding(stem)
            if parts:
                by_parts = lexical.holding(parts[0])
                for t in parts[1:]:
                    by_parts = np.intersect1d(by_parts, lexical.holding(t))
                holding = np.union1d(holding, by_parts)
            held += np.isin(rows, holding)
        return held / max(len(own), 1)

    def _best_similarity(self, rows: np.ndarray, qvec: np.ndarray) -> float:
        return float(self.ranker.dense_scores(rows, qvec)[0]) if len(rows) else 0.0

    def _anchor(self, topic_text: str, topic_vec: np.ndarray, mask: PassageMask | None
                ) -> int | None:
        """The row of the passage that answers the topic (its best hybrid match)."""
        pool = self.settings.candidates
        _, dense_rows = self.ranker.dense(topic_vec, pool, mask)
        dense_scores = self.ranker.dense_scores(dense_rows, topic_vec)
        lex_scores, lex_rows = self._lexical_top(topic_text, None, 0.0, pool, mask)
        fused = self.ranker.fuse(topic_vec, dense_rows, dense_scores, lex_rows, lex_scores)
        return max(fused, key=lambda r: fused[r]) if fused else None

    def _lexical_top(self, question: str, topic_text: str | None, weight: float, pool: int,
                     mask: PassageMask | None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) best first of BM25 for the question plus ``weight`` x BM25 for the
        topic's terms."""
        lexical = self.ranker.index.lexical
        within = None if mask is None else mask.weights
        scores = lexical.scores(question, within)
        if topic_text is not None and weight > 0:
            extra = lexical.scores(topic_text, within)
            if extra is not None:
                scores = weight * extra if scores is None else scores + weight * extra
        return LexicalIndex.top(scores, pool)

    def _rank(self, question: str, topic_text: str, combined: np.ndarray, anchor: int | None,
              mode: str, n: int, mask: PassageMask | None, swapped: bool = False
              ) -> list[tuple[int, float]]:
        """(row, score) best first for the question read with its topic."""
        s = self.settings
        pool = max(s.candidates, n)
        empty_rows, empty_scores = np.zeros(0, np.int64), np.zeros(0, np.float32)
        dense_rows, dense_scores = empty_rows, empty_scores
        lex_rows, lex_scores = empty_rows, empty_scores
        if mode in ("dense", "hybrid"):
            dense_scores, dense_rows = self.ranker.dense(combined, pool, mask)
        if mode in ("lexical", "hybrid"):
            lex_scores, lex_rows = self._lexical_top(question, topic_text,
                                                     s.followup_lexical_weight, pool, mask)
        near = self._near(anchor, mask)
        if mode == "lexical":
            top = max(lex_scores.max(initial=0.0), 1e-9)
            scores = {int(r): float(v) / top for r, v in zip(lex_rows, lex_scores, strict=True)}
            scores.update({int(r): 0.0 for r in near if int(r) not in scores})
        else:
            extra = np.setdiff1d(near, np.union1d(dense_rows, lex_rows))
            dense_rows = np.concatenate([dense_rows, extra])
            dense_scores = np.concatenate([dense_scores,
                                           self.ranker.dense_scores(extra, combined)])
            if mode == "dense":
                scores = dict(zip(dense_rows.tolist(), dense_scores.tolist(), strict=True))
            else:
                scores = self.ranker.fuse(combined, dense_rows, dense_scores, lex_rows, lex_scores)
        if anchor is not None:
            passages = self.ranker.index.passages
            home = passages[anchor]
            for row in scores:
                p = passages[row]
                if p.document_id == home.document_id and not swapped:
                    scores[row] += s.followup_document_bonus
                    if p.section is not None and p.section == home.section:
                        scores[row] += s.followup_section_bonus
        return sorted(scores.items(), key=lambda kv: -kv[1])

    def _near(self, anchor: int | None, mask: PassageMask | None) -> np.ndarray:
        """The passages of the document that answered the topic (those the mask allows)."""
        if anchor is None:
            return np.zeros(0, np.int64)
        rows = self.rows_of(self.ranker.index.passages[anchor].document_id)
        rows = rows[np.abs(rows - anchor) <= _NEAR_ROWS]
        if mask is not None:
            rows = rows[mask.weights[rows] > 0]
        return rows
