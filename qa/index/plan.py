"""Planning a build: which passages and sentences a corpus gives, and which vectors can be reused.

The plan is everything a build decides before it embeds: the passages (row ``i`` = vector
``i``), each passage's sentences, the vectors carried over from the previous generation (same
build key, same document fingerprint, same passage spans) and the passages and distinct
sentences left to embed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, Protocol

import numpy as np

from qa.errors import IndexLoadError
from qa.index.generations import Generation
from qa.index.manifest import BuildKey, load_manifest
from qa.index.store import PassageStore
from qa.ingest.documents import Document
from qa.ingest.passages import Passage, SegmentationParams, collapse, sentence_spans, split_document
from qa.settings import IndexSettings

Kind = Literal["passage", "sentence", "context"]


class PassageEncoder(Protocol):
    """What a build needs of the model: token counts, passage and sentence vectors, names."""

    model_id: str
    dim: int
    max_tokens: int
    passage_prompt: str
    query_prompt: str

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed_passages(self, texts: Sequence[str], kind: Kind = "passage",
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray: ...

    def precision(self, kind: Kind) -> str: ...

    def runtime(self, kind: Kind) -> str: ...


def corpus_fingerprint(documents: Sequence[Document]) -> str:
    """Order-independent hash of the corpus content."""
    digest = hashlib.sha256()
    for fp in sorted(d.fingerprint for d in documents):
        digest.update(fp.encode())
    return digest.hexdigest()[:16]


def segmentation_params(settings: IndexSettings, encoder: PassageEncoder) -> SegmentationParams:
    return SegmentationParams(
        max_tokens=min(settings.passage_max_tokens, encoder.max_tokens),
        min_tokens=settings.passage_min_tokens,
        overlap_tokens=settings.passage_overlap_tokens,
        model_max_tokens=encoder.max_tokens,
        whole_document_tokens=settings.whole_document_tokens,
    )


def build_key(settings: IndexSettings, encoder: PassageEncoder) -> BuildKey:
    return BuildKey(
        model=encoder.model_id,
        dim=encoder.dim,
        passage_prompt=encoder.passage_prompt,
        segmentation=segmentation_params(settings, encoder),
        embed_context=False,  # the flag of an older experiment: always off
        section_min_passages=settings.section_min_passages,
        passage_precision=encoder.precision("passage"),
        sentence_precision=encoder.precision("sentence") if settings.sentence_vectors else None,
        sentence_vectors=settings.sentence_vectors,
        sentence_contexts=settings.sentence_vectors and settings.sentence_contexts,
        context_precision=encoder.precision("context")
        if settings.sentence_vectors and settings.sentence_contexts else None,
    )


@dataclass
class Previous:
    """The published generation a build starts from: its documents, and vectors to reuse."""

    key: BuildKey
    store: PassageStore
    vectors: np.ndarray
    sentences: np.ndarray | None
    offsets: np.ndarray | None
    contexts: np.ndarray | None = None

    @classmethod
    def open(cls, generation: Generation) -> Previous:
        """Read the generation (vector files memory-mapped); IndexLoadError if it is damaged."""
        files = generation.files
        manifest = load_manifest(generation.path)
        try:
            store = PassageStore(files.store)
        except Exception as exc:
            raise IndexLoadError(f"{generation.path}: damaged passage store ({exc})") from None
        try:
            sentences = offsets = contexts = None
            if manifest.sentence_vectors:
                sentences = np.load(files.sentences, mmap_mode="r")
                offsets = np.load(files.sentence_offsets)
            if manifest.sentence_contexts:
                contexts = np.load(files.sentence_contexts, mmap_mode="r")
            return cls(manifest.build_key, store, np.load(files.embeddings, mmap_mode="r"),
                       sentences, offsets, contexts)
        except Exception as exc:
            store.close()
            raise IndexLoadError(f"{generation.path}: damaged vectors ({exc})") from None

    def close(self) -> None:
        self.store.close()


@dataclass
class Plan:
    """The new generation's content, with the vectors already known filled in."""

    key: BuildKey
    documents: Sequence[Document]
    passages: list[Passage]
    sentence_spans: np.ndarray  # (sentences, 2): [start, end) in the document
    sentence_offsets: np.ndarray  # passage i owns sentences offsets[i]:offsets[i+1]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    context_vectors: np.ndarray  # sentences read in context (rows as sentence_vectors), or none
    reused: int = 0
    todo: list[int] = field(default_factory=list)  # passage rows to embed
    # Each distinct sentence of those passages once: (document, start, end) -> its rows.
    sentences_todo: dict[tuple[str, int, int], list[int]] = field(default_factory=dict)
    # Passage rows whose sentences need context vectors: those to embed, and reused ones whose
    # previous generation has none.
    context_rows: list[int] = field(default_factory=list)
    # Each distinct sentence-in-context text of those passages once -> its sentence rows.
    contexts_todo: dict[str, list[int]] = field(default_factory=dict)

    def passage_texts(self) -> list[str]:
        sectioned = self.sectioned_documents
        return [p.sectioned_text() if p.document_id in sectioned else p.embedding_text(False)
                for p in (self.passages[i] for i in self.todo)]

    @cached_property
    def sectioned_documents(self) -> frozenset[str]:
        """The documents whose passages are embedded after the title of their section: those
        cut into at least ``key.section_min_passages`` passages (none when it is 0).

        In a long manual or book many passages share the document's subject and read alike
        out of context; their section names what each one is about ("Listfönstret",
        "Teckenkodning"), which a question often names too. The document's title is not
        added: every passage of the document shares it, so it tells none of them apart and
        only moves them all towards it. A short page keeps its passages as they are: there the
        experiments that prepended title and section to every passage lost.
        """
        least = self.key.section_min_passages
        if least <= 0:
            return frozenset()
        counts: dict[str, int] = {}
        for p in self.passages:
            counts[p.document_id] = counts.get(p.document_id, 0) + 1
        return frozenset(doc for doc, n in counts.items() if n >= least)

    def sentence_texts(self) -> list[str]:
        return [collapse(self.document_texts[doc][a:b]) for doc, a, b in self.sentences_todo]

    @cached_property
    def document_texts(self) -> dict[str, str]:
        """Each document's text by id, where sentences are cut from."""
        return {d.id: d.text for d in self.documents}

    def context_texts(self) -> list[str]:
        return list(self.contexts_todo)

    def single_sentence_rows(self) -> list[int]:
        """Passages to embed that are one sentence: that sentence's vector is the passage's."""
        off = self.sentence_offsets
        sectioned = self.sectioned_documents  # their passage vectors read the section too
        return [i for i in self.todo if off[i + 1] - off[i] == 1
                and self.passages[i].document_id not in sectioned] if self.key.sentence_vectors else []

    def single_sentence_context_rows(self) -> list[int]:
        """Passages needing context vectors that are one sentence: nothing to choose between in
        them, so the sentence's own vector stands in."""
        off = self.sentence_offsets
        return [i for i in self.context_rows if off[i + 1] - off[i] == 1]


def make_plan(documents: Sequence[Document], encoder: PassageEncoder, settings: IndexSettings,
              previous: Previous | None) -> Plan:
    """Segment the documents and carry over every vector that ``previous`` already holds."""
    _check_ids(documents)
    key = build_key(settings, encoder)
    per_doc = [split_document(doc, encoder.count_tokens, key.segmentation) for doc in documents]
    passages = [p for found in per_doc for p in found]
    if not passages:
        raise IndexLoadError("the documents hold no text to index")
    spans, offsets = _sentence_table(documents, per_doc)
    plan = Plan(key, documents, passages, spans, offsets,
                np.zeros((len(passages), encoder.dim), dtype=np.float32),
                np.zeros((len(spans) if key.sentence_vectors else 0, encoder.dim), dtype=np.float32),
                np.zeros((len(spans) if key.sentence_contexts else 0, encoder.dim), dtype=np.float32))
    reusable = previous if previous is not None and key.reuses(previous.key) else None
    row = 0
    for doc, found in zip(documents, per_doc, strict=True):
        rows = range(row, row + len(found))
        if reusable is not None and _reuse(plan, doc, found, rows, reusable):
            plan.reused += len(found)
            if key.sentence_contexts and (reusable.contexts is None or
                                          reusable.key.context_precision != key.context_precision):
                plan.context_rows.extend(rows)
        else:
            plan.todo.extend(rows)
            if key.sentence_contexts:
                plan.context_rows.extend(rows)
        row += len(found)
    plan.sentences_todo = _distinct_sentences(plan)
    plan.contexts_todo = _distinct_contexts(plan)
    return plan


def _check_ids(documents: Sequence[Document]) -> None:
    if not documents:
        raise IndexLoadError("no documents to index")
    seen: set[str] = set()
    for d in documents:
        if d.id in seen:
            raise IndexLoadError(f"duplicate document id {d.id!r}")
        seen.add(d.id)


def _sentence_table(documents: Sequence[Document], per_doc: list[list[Passage]]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Sentence spans of every passage, in passage order, and each passage's first sentence."""
    spans: list[tuple[int, int]] = []
    offsets = [0]
    for doc, found in zip(documents, per_doc, strict=True):
        for p in found:
            spans.extend(sentence_spans(doc.text, p.start, p.end))
            offsets.append(len(spans))
    return np.asarray(spans, dtype=np.int64).reshape(-1, 2), np.asarray(offsets, dtype=np.int64)


def _reuse(plan: Plan, doc: Document, found: list[Passage], rows: range, previous: Previous) -> bool:
    """Copy the document's vectors from ``previous`` if it is unchanged there; else False."""
    old_rows = previous.store.rows_of(doc.id)
    old = [previous.store.passages[r] for r in old_rows]
    if previous.store.fingerprint(doc.id) != doc.fingerprint or len(old) != len(found):
        return False
    if any((o.id, o.start, o.end) != (p.id, p.start, p.end) for o, p in zip(old, found, strict=True)):
        return False
    plan.vectors[rows.start:rows.stop] = previous.vectors[old_rows]
    if plan.key.sentence_vectors and previous.sentences is not None and previous.offsets is not None:
        _copy_sentence_rows(plan.sentence_vectors, previous.sentences, plan.sentence_offsets,
                            previous.offsets, rows, old_rows)
        if plan.key.sentence_contexts and previous.contexts is not None:
            _copy_sentence_rows(plan.context_vectors, previous.contexts, plan.sentence_offsets,
                                previous.offsets, rows, old_rows)
    return True


def _copy_sentence_rows(new: np.ndarray, old: np.ndarray, new_off: np.ndarray, old_off: np.ndarray,
                        rows: range, old_rows: Sequence[int]) -> None:
    """Copy the sentence rows of passages ``old_rows`` (of ``old``) to those of ``rows``."""
    for new_row, old_row in zip(rows, old_rows, strict=True):
        new[new_off[new_row]:new_off[new_row + 1]] = old[old_off[old_row]:old_off[old_row + 1]]


def _distinct_sentences(plan: Plan) -> dict[tuple[str, int, int], list[int]]:
    """The sentences of the passages to embed, each once (overlapping passages share some)."""
    distinct: dict[tuple[str, int, int], list[int]] = {}
    if not plan.key.sentence_vectors:
        return distinct
    off = plan.sentence_offsets
    sectioned = plan.sectioned_documents
    for i in plan.todo:
        doc = plan.passages[i].document_id
        if off[i + 1] - off[i] > 1 or doc in sectioned:
            for j in range(off[i], off[i + 1]):
                a, b = plan.sentence_spans[j]
                distinct.setdefault((doc, int(a), int(b)), []).append(j)
    return distinct


def _distinct_contexts(plan: Plan) -> dict[str, list[int]]:
    """The sentences-in-context texts of ``plan.context_rows`` with several sentences, each once."""
    distinct: dict[str, list[int]] = {}
    off = plan.sentence_offsets
    for i in plan.context_rows:
        if off[i + 1] - off[i] < 2:
            continue
        p = plan.passages[i]
        before = ""
        for j in range(off[i], off[i + 1]):
            a, b = plan.sentence_spans[j]
            sentence = collapse(plan.document_texts[p.document_id][a:b])
            distinct.setdefault(p.sentence_in_context(sentence, before), []).append(j)
            before = sentence
    return distinct
