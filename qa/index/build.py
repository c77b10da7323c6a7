"""Building an index: plan → embed → write → publish, under the index directory's build lock.

Unchanged documents keep their vectors (see ``plan``); the new generation is written beside
the published one and made current in one atomic step (see ``generations``), so a crash or
Ctrl-C at any point leaves the previous index as it was, and readers never see a partial one.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

from qa import __version__
from qa.errors import IndexLoadError
from qa.index import generations
from qa.index.layout import GenerationFiles
from qa.index.lexical import LexicalIndex
from qa.index.manifest import FORMAT, Manifest
from qa.index.originals import write_originals
from qa.index.plan import PassageEncoder, Plan, Previous, corpus_fingerprint, make_plan
from qa.index.sentences import write_sentence_vectors
from qa.index.store import reanalyse, write_store
from qa.index.vectors import VectorIndexKind, kind_of, make_vector_index
from qa.ingest.documents import Document
from qa.settings import IndexSettings

logger = logging.getLogger(__name__)


@dataclass
class BuildReport:
    documents: int
    passages: int
    embedded: int
    reused: int
    seconds: float
    index_dir: Path
    vector_index: str
    generation: int


@dataclass
class Staged:
    """A generation written to its staging directory, ready for ``generations.publish``."""

    path: Path
    manifest: Manifest
    plan: Plan


def build_index(
    documents: Sequence[Document],
    encoder: PassageEncoder,
    settings: IndexSettings,
    index_dir: Path,
    *,
    add: bool = False,
    remove: Collection[str] = (),
    progress: bool = True,
    log: Callable[[str], None] = lambda _msg: None,
) -> BuildReport:
    """Index ``documents`` into ``index_dir`` and publish them as its new generation.

    With ``add``, documents already indexed whose id is not among ``documents`` (nor in
    ``remove``, which needs ``add``) are kept; they are read inside the build lock, so
    concurrent ``add`` builds each add to what the other published. A second build of the
    same directory waits for the lock up to ``settings.build_lock_timeout`` seconds, then
    fails with a ``QAError``.
    """
    if remove and not add:
        raise ValueError("remove= keeps the other documents: it needs add=True")
    t0 = time.perf_counter()
    index_dir = Path(index_dir).resolve()
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexLoadError(f"{index_dir} is not a directory")
    with generations.build_lock(index_dir, settings.build_lock_timeout):
        staged = stage(documents, encoder, settings, index_dir, add=add, remove=remove,
                       progress=progress, log=log)
        published = generations.publish(index_dir, staged.path)
    logger.info("published generation %d of %s", published.number, index_dir)
    plan = staged.plan
    return BuildReport(len(plan.documents), len(plan.passages), len(plan.todo), plan.reused,
                       time.perf_counter() - t0, index_dir, staged.manifest.vector_index,
                       published.number)


def stage(documents: Sequence[Document], encoder: PassageEncoder, settings: IndexSettings,
          index_dir: Path, *, add: bool = False, remove: Collection[str] = (),
          progress: bool = False, log: Callable[[str], None] = lambda _msg: None) -> Staged:
    """Plan, embed and write the next generation into a staging directory; do not publish.

    The caller holds the build lock. Leftovers of interrupted builds are removed first.
    """
    generations.clean_leftovers(index_dir)
    previous = _open_previous(index_dir, required=add)
    try:
        if add and previous is not None:
            dropped = {d.id for d in documents} | set(remove)
            kept = [d for d in reanalyse(previous.store.documents()) if d.id not in dropped]
            documents = [*kept, *documents]
        plan = make_plan(documents, encoder, settings, previous)
    finally:
        if previous is not None:
            previous.close()
    embed(plan, encoder, progress=progress, log=log)
    number = generations.next_number(index_dir)
    path = generations.staging_dir(index_dir, number)
    try:
        manifest = write_generation(plan, encoder, settings, path, number,
                                    previous=_previous_files(index_dir))
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)  # else the next build removes it
        raise
    return Staged(path, manifest, plan)


def _open_previous(index_dir: Path, *, required: bool) -> Previous | None:
    """The published generation to start from; a damaged one is rebuilt, unless adding to it."""
    try:
        generation = generations.current(index_dir)
        return Previous.open(generation) if generation is not None else None
    except IndexLoadError as exc:
        if required:
            raise IndexLoadError(f"cannot add to the index at {index_dir}: {exc}") from None
        logger.warning("not reusing the index at %s: %s", index_dir, exc)
        return None


def _previous_files(index_dir: Path) -> GenerationFiles | None:
    """The published generation's files (originals are linked from there), if any."""
    try:
        generation = generations.current(index_dir)
    except IndexLoadError:
        return None
    return generation.files if generation is not None else None


_PROGRESS_SECONDS = 10.0


class _ProgressLines:
    """Progress as a line every few seconds, for a log that is not a terminal."""

    def __init__(self, total: int, log: Callable[[str], None]) -> None:
        self.total, self.log, self.every = total, log, _PROGRESS_SECONDS
        self.done = 0
        self.last = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        if time.monotonic() - self.last >= self.every:
            self.log(f"embedded {self.done}/{self.total} texts ({100 * self.done // self.total} %)")
            self.last = time.monotonic()


def embed(plan: Plan, encoder: PassageEncoder, *, progress: bool,
          log: Callable[[str], None]) -> None:
    """Compute the vectors the plan still lacks, in place."""
    if not plan.todo and not plan.context_rows:
        return
    log(f"embedding {len(plan.todo)} passages, {len(plan.sentences_todo)} sentences and "
        f"{len(plan.contexts_todo)} sentences in context ({plan.reused} passages reused)")
    total = len(plan.todo) + len(plan.sentences_todo) + len(plan.contexts_todo)
    with tqdm(total=total, desc="embedding", unit="text", disable=not progress) as bar:
        advance = bar.update if progress else _ProgressLines(total, log)
        if plan.todo:
            plan.vectors[plan.todo] = encoder.embed_passages(plan.passage_texts(), on_batch=advance)
        if plan.sentences_todo:
            _fill(plan.sentence_vectors, plan.sentences_todo.values(),
                  encoder.embed_passages(plan.sentence_texts(), kind="sentence", on_batch=advance))
        if plan.contexts_todo:
            _fill(plan.context_vectors, plan.contexts_todo.values(),
                  encoder.embed_passages(plan.context_texts(), kind="context", on_batch=advance))
    off = plan.sentence_offsets
    for row in plan.single_sentence_rows():
        plan.sentence_vectors[off[row]] = plan.vectors[row]
    for row in plan.single_sentence_context_rows():
        plan.context_vectors[off[row]] = plan.sentence_vectors[off[row]]


def _fill(target: np.ndarray, rows: Iterable[list[int]], vectors: np.ndarray) -> None:
    """Each text's vector into every row that text stands for (texts and rows in one order)."""
    for where, vector in zip(rows, vectors, strict=True):
        target[where] = vector


def write_generation(plan: Plan, encoder: PassageEncoder, settings: IndexSettings, folder: Path,
                     number: int, previous: GenerationFiles | None = None) -> Manifest:
    """Write every file of generation ``number`` into ``folder``, the manifest last.

    Original files come from ``previous`` (linked) where it holds them, else from their source.
    """
    files = GenerationFiles(folder)
    plan.documents = write_originals(plan.documents, files, previous)
    write_store(files.store, plan.documents, plan.passages)
    np.save(files.embeddings, plan.vectors)
    vindex = make_vector_index(plan.vectors, settings.exact_search_max, settings.hnsw_m)
    faiss.write_index(vindex, str(files.vectors))
    if plan.key.sentence_vectors:
        write_sentence_vectors(files, plan.sentence_vectors, plan.sentence_spans,
                               plan.sentence_offsets, settings.exact_search_max, settings.hnsw_m)
    if plan.key.sentence_contexts:
        np.save(files.sentence_contexts, plan.context_vectors)
    files.lexical.mkdir()
    LexicalIndex.build([p.embedding_text(True) for p in plan.passages]).save(files.lexical)
    manifest = _manifest(plan, encoder, kind_of(vindex), number)
    manifest.write(folder)
    return manifest


def _manifest(plan: Plan, encoder: PassageEncoder, vector_index: VectorIndexKind,
              number: int) -> Manifest:
    key = plan.key
    return Manifest(
        format=FORMAT,
        **{f.name: getattr(key, f.name) for f in fields(key)},
        query_prompt=encoder.query_prompt,
        passage_path=encoder.runtime("passage"),
        sentence_path=encoder.runtime("sentence") if key.sentence_vectors else None,
        context_path=encoder.runtime("context") if key.sentence_contexts else None,
        passages=len(plan.passages),
        sentences=len(plan.sentence_spans),
        documents=len(plan.documents),
        corpus_fingerprint=corpus_fingerprint(plan.documents),
        vector_index=vector_index,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        qa_version=__version__,
        generation=number,
    )
