"""Several named collections served by one process: every index directory ``DIR/NAME/``.

``Collections`` holds one ``LiveEngine`` per collection, all around **one** question encoder
per model (the model loads once, whatever the number of collections; its cache of question
vectors is shared too, which is sound because the vector of a question depends on the model
only) and one reranker when one is configured. A collection that ``qa adapt`` adapted is served
with its adapted model's encoder, which its manifest names (``question_models``).
A collection is an index directory built as any other (``qa build --source S --index
DIR/NAME``) with its own generations, its own ``examples.txt`` (example questions
for the page, optional) and its own ``access.toml`` (``collection_access``).

One watcher thread (``start``) calls ``scan`` every ``QA_COLLECTIONS_SECONDS``. A scan:

- serves a directory that has appeared once it holds a published generation (a build still
  staging its first generation is not a collection yet), opening it beside the others;
- drops a collection whose directory is gone, or no longer holds an index;
- treats a directory that was removed and made again under the same name (another inode) as a
  new collection, so a rebuilt-from-scratch collection never keeps the old one's engine;
- re-reads each ``access.toml`` (a changed token holds from the next scan on; a broken file
  withholds the collection: fail closed);
- asks each collection's live engine for a newer generation (``LiveEngine.refresh``).

The served set is replaced whole, in one assignment, after a scan: a request takes a
collection once (``get``) and keeps its live engine and engine to the end, so adding, rebuilding
or removing one collection never fails a request of another, and a request already under way in
a removed collection finishes with the engine it took. A collection that fails to open is logged
and skipped until its directory or generation changes.

Names are ``[A-Za-z0-9][A-Za-z0-9_-]{0,63}``: nothing that could step out of ``DIR`` or need
escaping in a URL. A request for any other name is simply not found, since collections are only
ever looked up among the directories a scan found.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qa.embed.question_encoder import QuestionEncoder, open_question_encoder
from qa.errors import IndexLoadError, UnknownCollectionError
from qa.index import generations
from qa.index.snapshot import Snapshot
from qa.search.collection_access import Access, AccessFileError, read_access
from qa.search.engine import SearchEngine
from qa.search.live import LiveEngine
from qa.search.question_models import QuestionEncoders
from qa.search.watcher import Watcher
from qa.settings import Settings

if TYPE_CHECKING:
    from qa.search.rerank import Reranker

logger = logging.getLogger(__name__)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
EXAMPLES_FILE = "examples.txt"


def is_valid_name(name: str) -> bool:
    """Whether ``name`` can be a collection's name (letters, digits, '-' and '_'; 1-64)."""
    return bool(_NAME.fullmatch(name))


@dataclass(frozen=True)
class Collection:
    """One served collection: its name, live engine, tokens and the identity of its directory
    (device and inode: a directory made anew under the same name is another collection)."""

    name: str
    live: LiveEngine
    access: Access
    identity: tuple[int, int]


class Collections:
    """The collections of one folder, kept in step with it; thread-safe."""

    def __init__(self, root: Path | str, questions: QuestionEncoder, settings: Settings) -> None:
        """Serve the collections under ``root`` around ``questions`` (shared by all).

        ``settings``: the whole configuration; each collection's live engine gets a copy whose
        index directory is its own and whose example questions are its ``examples.txt``.
        Nothing is opened until ``scan``.
        """
        self.root = Path(root).resolve()
        self.questions = questions
        self.encoders = QuestionEncoders(settings.embed, questions)
        self.settings = settings
        self._served: dict[str, Collection] = {}
        self._failed: dict[str, tuple[tuple[int, int], int]] = {}
        self._bad_access: dict[str, str] = {}
        self._reranker: Reranker | None = None
        self._scanning = threading.Lock()
        self._watcher = Watcher("qa-collections", settings.server.collections_seconds, self.scan,
                                f"looking at the collections in {self.root}")

    @classmethod
    def open(cls, settings: Settings, root: Path | str | None = None) -> Collections:
        """Load the question encoder once and open every collection under ``root`` (default
        ``QA_COLLECTIONS_DIR``); a missing folder fails before the model loads."""
        where = Path(root) if root is not None else settings.server.collections_dir
        if where is None:
            raise IndexLoadError("no collections folder: give --collections DIR "
                                 "(QA_COLLECTIONS_DIR)")
        if not where.is_dir():
            raise IndexLoadError(f"{where}: no such folder of collections; build one with "
                                 f"`qa build --source S --index {where}/NAME`")
        collections = cls(where, open_question_encoder(settings.embed), settings)
        collections.scan()
        return collections

    # --- reading ------------------------------------------------------------------------------

    def get(self, name: str) -> Collection:
        """The collection ``name``; ``UnknownCollectionError`` (404) if none is served so."""
        found = self._served.get(name)
        if found is None:
            raise UnknownCollectionError(f"no collection named {name[:64]!r} is served here "
                                         "(GET /api/collections lists those you may read)")
        return found

    def all(self) -> list[Collection]:
        """Every served collection, by name."""
        served = self._served
        return [served[name] for name in sorted(served)]

    # --- following the folder -----------------------------------------------------------------

    def scan(self) -> None:
        """Bring the served set in step with the folder (see the module docstring)."""
        with self._scanning:
            try:
                entries = sorted(self.root.iterdir(), key=lambda p: p.name)
            except OSError as exc:
                logger.error("cannot list the collections folder %s (%s); still serving %d "
                             "collections", self.root, exc, len(self._served))
                return
            found: dict[str, Collection] = {}
            for entry in entries:
                if not is_valid_name(entry.name):
                    continue  # hidden files, editors' leftovers, names no URL should carry
                try:
                    kept = self._follow(entry)
                except Exception:  # one collection's trouble never stops the others
                    logger.exception("looking at collection %s failed", entry.name)
                    kept = self._served.get(entry.name)
                if kept is not None:
                    found[entry.name] = kept
            before = self._served
            self._served = found  # the swap: requests from now on see the new set
            for name in sorted(before.keys() - found.keys()):
                logger.info("collection %s is no longer served (its directory is gone or "
                            "holds no index)", name)
            for name in sorted(found.keys() - before.keys()):
                logger.info("serving collection %s (generation %d)", name,
                            found[name].live.generation)
            for name, now in found.items():
                if name in before and before[name].live is not now.live:
                    logger.info("collection %s was made anew; serving its generation %d",
                                name, now.live.generation)

    def _follow(self, path: Path) -> Collection | None:
        """The collection at ``path`` after this scan, or None when it is not (or no longer)
        served."""
        name = path.name
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_dir():
            return None
        identity = (info.st_dev, info.st_ino)
        old = self._served.get(name)
        if old is not None and old.identity != identity:
            old = None  # removed and made again between two scans: a new collection
        try:
            pointed = generations.current(path)
        except IndexLoadError as exc:
            if old is None:
                logger.warning("collection %s is not served: %s", name, exc)
                return None
            pointed = None
            broken = True
        else:
            broken = False
        if pointed is None and not broken:
            return None  # not built yet, or its index was removed
        access = self._access(path)
        if access is None:
            return None
        if old is not None:
            old.live.refresh()
            return old if old.access == access else replace(old, access=access)
        assert pointed is not None
        if self._failed.get(name) == (identity, pointed.number):
            return None
        try:
            live = self._open(path)
        except Exception as exc:  # damaged, or built with another model
            logger.error("cannot serve collection %s (%s); tried again when it changes",
                         name, exc, exc_info=not isinstance(exc, IndexLoadError))
            self._failed[name] = (identity, pointed.number)
            return None
        self._failed.pop(name, None)
        return Collection(name, live, access, identity)

    def _access(self, path: Path) -> Access | None:
        """The tokens of the collection at ``path``; None (withheld) while its file is broken."""
        try:
            access = read_access(path)
        except AccessFileError as exc:
            if self._bad_access.get(path.name) != str(exc):
                logger.error("collection %s is not served: %s", path.name, exc)
            self._bad_access[path.name] = str(exc)
            return None
        self._bad_access.pop(path.name, None)
        return access

    def settings_for(self, path: Path) -> Settings:
        """The configuration a collection is served with: the service's, with the collection's
        own index directory and example questions (``examples.txt``, else drawn from the
        index)."""
        examples = path / EXAMPLES_FILE
        return self.settings.model_copy(update={
            "index_dir": path, "examples_file": examples if examples.is_file() else None})

    def _open(self, path: Path) -> LiveEngine:
        """A warmed live engine of the collection at ``path``, around the shared encoder."""
        settings = self.settings_for(path)
        questions = self.encoders.for_index(path)
        snapshot = Snapshot.open(path, settings.index, model_id=questions.model_id,
                                 dim=questions.dim)
        try:
            engine = SearchEngine(snapshot, questions, settings.search,
                                  reranker=self._reranker,
                                  device=settings.embed.device)
            engine.warm_up()
        except BaseException:
            snapshot.close()
            raise
        self._reranker = engine.reranker
        return LiveEngine(path, questions, settings, engine=engine, encoders=self.encoders)

    def start(self) -> None:
        """Start the watcher thread (one for all collections; see the module docstring)."""
        self._watcher.start()

    def stop(self) -> None:
        """Stop the watcher and wait for it (a scan under way finishes first)."""
        self._watcher.stop()

    def close(self) -> None:
        """Stop the watcher and close every served engine (no request may use them after)."""
        self.stop()
        for collection in self.all():
            collection.live.close()
        self._served = {}
