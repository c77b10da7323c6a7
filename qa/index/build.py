"""The index directory: build it atomically, reuse unchanged embeddings, open it safely.

Layout of an index directory::

    manifest.json      model, dimension, counts, corpus fingerprint, build time, settings
    passages.sqlite    documents and passages (row i = vector i)
    embeddings.npy     normalised passage vectors, float32
    vectors.faiss      FAISS index over those vectors (flat or HNSW)
    sentences.npy      normalised vectors of each passage's sentences (when enabled)
    sentence_spans.npy their [start, end) in the document; sentence_offsets.npy: passage i
                       owns sentences offsets[i]:offsets[i+1]
    sentences.faiss    FAISS index over the sentence vectors
    lexical/           BM25 index (bm25s) and the compound vocabulary
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm import tqdm

from qa import __version__
from qa.embed.build_encoder import BuildEncoder
from qa.embed.question_encoder import QuestionEncoder
from qa.errors import IndexLoadError
from qa.index.lexical import LexicalIndex
from qa.index.store import PassageStore, write_store
from qa.index.vectors import VectorIndex, kind_of, make_vector_index
from qa.ingest.documents import Document, make_document
from qa.ingest.passages import Passage, SegmentationParams, collapse, sentence_spans, split_document
from qa.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"


def corpus_fingerprint(documents: Sequence[Document]) -> str:
    """Order-independent hash of the corpus content."""
    digest = hashlib.sha256()
    for fp in sorted(d.fingerprint for d in documents):
        digest.update(fp.encode())
    return digest.hexdigest()[:16]


def segmentation_params(settings: Settings, embedder: BuildEncoder) -> SegmentationParams:
    return SegmentationParams(
        max_tokens=min(settings.passage_max_tokens, embedder.max_tokens),
        min_tokens=settings.passage_min_tokens,
        overlap_tokens=settings.passage_overlap_tokens,
        model_max_tokens=embedder.max_tokens,
        whole_document_tokens=settings.whole_document_tokens,
    )


def build_key(settings: Settings, embedder: BuildEncoder) -> dict[str, Any]:
    """What decides the passages and their vectors: equal keys make vectors reusable."""
    return {
        "model": embedder.model_id,
        "dim": embedder.dim,
        "passage_prompt": embedder.passage_prompt,
        "segmentation": asdict(segmentation_params(settings, embedder)),
        "embed_context": settings.embed_context,
        # fp32 through any engine gives the same vectors (cosine 0.9999); bf16 and int8 do not.
        "passage_precision": embedder.precision("passage"),
        "sentence_precision": embedder.precision("sentence") if settings.sentence_vectors else None,
        "sentence_vectors": settings.sentence_vectors,
    }


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexLoadError(
            f"no index at {index_dir}: build one with `qa build --index {index_dir}`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexLoadError(f"{path}: unreadable manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise IndexLoadError(f"{index_dir}: index format {manifest.get('format')} is not "
                             f"supported (expected {FORMAT}); rebuild it with `qa build`")
    return manifest


def _recover(index_dir: Path) -> None:
    """Finish a swap interrupted between its two renames."""
    backup = index_dir.with_name(f".{index_dir.name}.previous")
    if not index_dir.exists() and backup.exists():
        backup.rename(index_dir)


@dataclass
class BuildReport:
    documents: int
    passages: int
    embedded: int
    reused: int
    seconds: float
    index_dir: Path
    vector_index: str


@dataclass
class _Previous:
    store: PassageStore
    vectors: np.ndarray
    sentences: np.ndarray | None
    offsets: np.ndarray | None


def _reusable(index_dir: Path, manifest_key: dict[str, Any]) -> _Previous | None:
    """The previous build's store and vectors, if built with the same model and passage rules."""
    try:
        old = read_manifest(index_dir)
    except IndexLoadError:
        return None
    if any(old.get(k) != v for k, v in manifest_key.items()):
        return None
    try:
        sentences = offsets = None
        if manifest_key.get("sentence_vectors"):
            sentences = np.load(index_dir / "sentences.npy")
            offsets = np.load(index_dir / "sentence_offsets.npy")
        return _Previous(PassageStore(index_dir / "passages.sqlite"),
                         np.load(index_dir / "embeddings.npy"), sentences, offsets)
    except Exception:
        return None


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


def build_index(
    documents: Sequence[Document],
    embedder: BuildEncoder,
    settings: Settings,
    index_dir: Path,
    *,
    progress: bool = True,
    log: Callable[[str], None] = lambda _msg: None,
) -> BuildReport:
    """Segment, embed (reusing unchanged documents' vectors) and write a new index atomically.

    Everything is written to a temporary sibling directory, which replaces
    ``index_dir`` only once complete: an interrupted build leaves the previous
    index as it was.
    """
    t0 = time.perf_counter()
    if not documents:
        raise IndexLoadError("no documents to index")
    ids = [d.id for d in documents]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise IndexLoadError(f"duplicate document id {dup!r}")
    params = segmentation_params(settings, embedder)
    key = build_key(settings, embedder)
    index_dir = index_dir.resolve()
    _recover(index_dir)
    previous = _reusable(index_dir, key)

    per_doc = [split_document(doc, embedder.count_tokens, params) for doc in documents]
    passages = [p for found in per_doc for p in found]
    if not passages:
        raise IndexLoadError("the documents hold no text to index")
    sent_spans, offsets = _sentence_table(documents, per_doc)

    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    sent_vectors = np.zeros((len(sent_spans) if settings.sentence_vectors else 0, embedder.dim),
                            dtype=np.float32)
    todo: list[int] = []
    reused = 0
    old_rows: dict[str, list[int]] = {}
    old_fp: dict[str, str] = {}
    old_spans: dict[str, tuple[int, int]] = {}
    if previous is not None:
        for old_row, p in enumerate(previous.store.passages):
            old_rows.setdefault(p.document_id, []).append(old_row)
        old_fp = {d["id"]: d["fingerprint"] for d in previous.store.list_documents()}
        old_spans = {p.id: (p.start, p.end) for p in previous.store.passages}
        previous.store.close()
    row = 0
    for doc, found in zip(documents, per_doc, strict=True):
        rows = old_rows.get(doc.id, [])
        same = (
            previous is not None
            and old_fp.get(doc.id) == doc.fingerprint
            and len(rows) == len(found)
            and all(old_spans.get(p.id) == (p.start, p.end) for p in found)
        )
        if same:
            assert previous is not None
            vectors[row : row + len(found)] = previous.vectors[rows]
            if settings.sentence_vectors and previous.sentences is not None \
                    and previous.offsets is not None:
                for new_row, old_row in zip(range(row, row + len(found)), rows, strict=True):
                    a, b = offsets[new_row], offsets[new_row + 1]
                    oa, ob = previous.offsets[old_row], previous.offsets[old_row + 1]
                    sent_vectors[a:b] = previous.sentences[oa:ob]
            reused += len(found)
        else:
            todo.extend(range(row, row + len(found)))
        row += len(found)

    texts = {d.id: d.text for d in documents}
    passage_texts = [passages[i].embedding_text(settings.embed_context) for i in todo]
    # Each distinct sentence once: where passages overlap, their shared sentences have one span.
    sentence_rows: dict[tuple[str, int, int], list[int]] = {}
    for i in todo if settings.sentence_vectors else []:
        if offsets[i + 1] - offsets[i] > 1:
            for j in range(offsets[i], offsets[i + 1]):
                a, b = sent_spans[j]
                sentence_rows.setdefault((passages[i].document_id, int(a), int(b)), []).append(j)
    if todo:
        log(f"embedding {len(todo)} passages and {len(sentence_rows)} sentences "
            f"({reused} passages reused)")
        with tqdm(total=len(todo) + len(sentence_rows), desc="embedding", unit="text",
                  disable=not progress) as bar:
            vectors[todo] = embedder.embed_passages(passage_texts, on_batch=bar.update)
            if sentence_rows:
                sentence_texts = [collapse(texts[doc][a:b]) for doc, a, b in sentence_rows]
                embedded = embedder.embed_passages(sentence_texts, kind="sentence",
                                                   on_batch=bar.update)
                for rows, vec in zip(sentence_rows.values(), embedded, strict=True):
                    sent_vectors[rows] = vec
        if settings.sentence_vectors:
            # A one-sentence passage is its own sentence.
            for i in todo:
                if offsets[i + 1] - offsets[i] == 1:
                    sent_vectors[offsets[i]] = vectors[i]

    tmp = index_dir.with_name(f".{index_dir.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write_store(tmp / "passages.sqlite", documents, passages)
        np.save(tmp / "embeddings.npy", vectors)
        vindex = make_vector_index(vectors, settings.exact_search_max, settings.hnsw_m)
        faiss.write_index(vindex, str(tmp / "vectors.faiss"))
        if settings.sentence_vectors:
            np.save(tmp / "sentences.npy", sent_vectors)
            np.save(tmp / "sentence_spans.npy", sent_spans)
            np.save(tmp / "sentence_offsets.npy", offsets)
            sindex = make_vector_index(sent_vectors, settings.exact_search_max, settings.hnsw_m)
            faiss.write_index(sindex, str(tmp / "sentences.faiss"))
        (tmp / "lexical").mkdir()
        LexicalIndex.build([p.embedding_text(True) for p in passages]).save(tmp / "lexical")
        manifest = {
            "format": FORMAT,
            **key,
            "query_prompt": embedder.query_prompt,
            "passage_path": embedder.vector_path("passage"),
            "sentence_path": embedder.vector_path("sentence") if settings.sentence_vectors else None,
            "passages": len(passages),
            "sentences": len(sent_spans),
            "documents": len(documents),
            "corpus_fingerprint": corpus_fingerprint(documents),
            "vector_index": kind_of(vindex),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "qa_version": __version__,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        _swap(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuildReport(len(documents), len(passages), len(todo), reused,
                       time.perf_counter() - t0, index_dir, kind_of(vindex))


def _swap(new: Path, index_dir: Path) -> None:
    backup = index_dir.with_name(f".{index_dir.name}.previous")
    shutil.rmtree(backup, ignore_errors=True)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    if index_dir.exists():
        index_dir.rename(backup)
    new.rename(index_dir)
    shutil.rmtree(backup, ignore_errors=True)


@dataclass
class SentenceVectors:
    """Each passage's sentences as vectors: a passage is as close as its closest sentence."""

    vectors: np.ndarray
    spans: np.ndarray
    offsets: np.ndarray
    index: VectorIndex
    parent: np.ndarray

    @classmethod
    def load(cls, index_dir: Path, ef_search: int) -> SentenceVectors:
        offsets = np.load(index_dir / "sentence_offsets.npy")
        parent = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        return cls(np.load(index_dir / "sentences.npy"),
                   np.load(index_dir / "sentence_spans.npy"), offsets,
                   VectorIndex.load(index_dir / "sentences.faiss", ef_search), parent)

    def best(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """For each passage row, the highest cosine of its sentences with ``query``."""
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        idx = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        sims = np.asarray(self.vectors[idx]) @ query
        return np.maximum.reduceat(sims, np.cumsum(lengths) - lengths)


class Index:
    """An opened index: passages, vectors and the lexical index, checked against the model."""

    def __init__(self, index_dir: Path, manifest: dict[str, Any], store: PassageStore,
                 vectors: VectorIndex, embeddings: np.ndarray, lexical: LexicalIndex,
                 sentences: SentenceVectors | None = None) -> None:
        self.dir = index_dir
        self.manifest = manifest
        self.store = store
        self.vectors = vectors
        self.embeddings = embeddings
        self.lexical = lexical
        self.sentences = sentences

    @classmethod
    def open(cls, index_dir: Path, embedder: QuestionEncoder | BuildEncoder | None = None,
             settings: Settings | None = None) -> Index:
        settings = settings or Settings()
        index_dir = index_dir.resolve()
        _recover(index_dir)
        manifest = read_manifest(index_dir)
        if embedder is not None and (
            manifest.get("model") != embedder.model_id or manifest.get("dim") != embedder.dim
        ):
            raise IndexLoadError(
                f"the index at {index_dir} was built with model {manifest.get('model')!r} "
                f"(dimension {manifest.get('dim')}), but the service uses "
                f"{embedder.model_id!r} (dimension {embedder.dim}). Rebuild it with "
                f"`qa build --index {index_dir}` or set QA_MODEL={manifest.get('model')}"
            )
        try:
            store = PassageStore(index_dir / "passages.sqlite")
            vectors = VectorIndex.load(index_dir / "vectors.faiss", settings.hnsw_ef_search)
            embeddings = np.load(index_dir / "embeddings.npy")
            lexical = LexicalIndex.load(index_dir / "lexical")
            sentences = (SentenceVectors.load(index_dir, settings.hnsw_ef_search)
                         if manifest.get("sentence_vectors") else None)
        except Exception as exc:
            raise IndexLoadError(f"{index_dir}: damaged index ({exc}); rebuild it") from None
        if not (len(store) == len(vectors) == len(embeddings) == manifest.get("passages")):
            raise IndexLoadError(f"{index_dir}: passage counts disagree; rebuild the index")
        return cls(index_dir, manifest, store, vectors, embeddings, lexical, sentences)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.store.close()


def reload_documents(index: Index) -> list[Document]:
    """The indexed documents, re-analysed, so a build can add to them."""
    return [
        make_document(d.id, d.text, d.title, d.date, **d.metadata)
        for d in index.store.documents()
    ]
