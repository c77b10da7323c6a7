"""The lifecycle of an index directory: generations, one pointer, one lock.

Layout::

    index_dir/
        CURRENT              the name of the published generation, e.g. "000007"
        generations/
            000006/          the previous generation (kept for processes that still read it)
            000007/          the published generation (files: see ``layout``)
            .staging-000008/ a build in progress (or a leftover of an interrupted one)
        .build.lock          held by the one build that may stage and publish
        .incoming/           uploaded files waiting for their build (see ``incoming``)

A build holds the lock from reading the current generation to publishing the new one, so a
second build waits (up to ``QA_BUILD_LOCK_TIMEOUT``) and ``--add`` always adds to the latest
documents. It writes the new generation under ``.staging-N``; :func:`publish` flushes it to disk,
renames it to ``N`` and then replaces ``CURRENT`` with one atomic rename, the single instant at
which readers switch. A process killed at any system call therefore leaves ``CURRENT`` naming a
complete generation. Generations older than the previous one, and whatever interrupted builds
left behind, are removed by the next build or by :func:`prune`, never while opening: opening an
index only reads.

Readers hold a **lease** on the generation they read (:func:`lease`: a shared ``flock`` on its
``manifest.json``, which every generation has, also those older code wrote), from opening it to
closing it. Removing a generation first takes an exclusive ``flock`` on that file without
waiting; while any process or thread holds a lease that fails, and the generation is kept for a
later prune. So a server that swaps generations keeps the old one on disk exactly as long as a
request still reads it, however many builds publish meanwhile. A lease writes nothing and the
OS drops it when its holder dies.

An index directory written before generations existed holds one generation's files at its top
and no ``CURRENT``; it is read as generation 0, and the next build turns it into generations
(keeping the old files as the previous generation until the build after).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from qa import durable
from qa.errors import IndexBusyError, IndexLoadError
from qa.index import incoming
from qa.index.layout import MANIFEST, GenerationFiles

try:
    import fcntl
except ImportError:  # Windows: open files cannot be removed there anyway
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
GENERATIONS = "generations"
LOCK = ".build.lock"
_STAGING = ".staging-"
_TRASH = ".trash-"
_NAME = re.compile(r"^\d{1,18}$")


@dataclass(frozen=True)
class Generation:
    """One published generation: its number and the directory holding its files."""

    number: int
    path: Path

    @property
    def files(self) -> GenerationFiles:
        return GenerationFiles(self.path)

    @property
    def flat(self) -> bool:
        """True for an index directory in the layout written before generations (number 0)."""
        return self.number == 0


def name_of(number: int) -> str:
    return f"{number:06d}"


def current(index_dir: Path) -> Generation | None:
    """The generation readers open, or None when the directory holds no index. Never writes."""
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        flat = GenerationFiles(index_dir)
        return Generation(0, index_dir) if flat.manifest.is_file() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexLoadError(f"{pointer}: unreadable ({exc}); rebuild the index") from None
    if not _NAME.match(name):
        raise IndexLoadError(f"{pointer} names no generation ({name[:40]!r}); rebuild the index")
    path = index_dir / GENERATIONS / name
    if not path.is_dir():
        raise IndexLoadError(f"{pointer} names generation {name}, which is missing; "
                             "rebuild the index")
    return Generation(int(name), path)


@contextmanager
def build_lock(index_dir: Path, timeout: float) -> Iterator[None]:
    """Hold the index directory's build lock; wait at most ``timeout`` seconds for it."""
    durable.make_dirs(index_dir)
    path = index_dir / LOCK
    lock = FileLock(path, timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise IndexBusyError(
            f"another build of {index_dir} is running: the lock {path} stayed taken for "
            f"{timeout:g} s (QA_BUILD_LOCK_TIMEOUT); try again when it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


class Lease:
    """A reader's shared hold on one generation: while held, no prune removes the generation.

    ``release`` is idempotent; a lease that is never released ends with its process.
    """

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def lease(generation: Generation) -> Lease:
    """Take a lease on ``generation`` (a shared flock on its manifest); only reads.

    Raises ``IndexLoadError`` when the generation is gone or being removed (a prune holds its
    exclusive lock, or has already renamed it away): the pointer has then moved on.
    """
    path = generation.files.manifest
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise IndexLoadError(f"{generation.path}: the manifest is missing; rebuild the index"
                             ) from None
    except OSError as exc:
        raise IndexLoadError(f"{path}: unreadable ({exc}); rebuild the index") from None
    if fcntl is None:
        return Lease(fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        # A prune may have renamed the generation away between our open and our lock.
        held, there = os.fstat(fd), os.stat(path)
        if (held.st_dev, held.st_ino) != (there.st_dev, there.st_ino):
            raise FileNotFoundError(path)
    except (BlockingIOError, FileNotFoundError):
        os.close(fd)
        raise IndexLoadError(f"{generation.path} is being removed (a newer generation is "
                             "published)") from None
    except BaseException:
        os.close(fd)
        raise
    return Lease(fd)


@contextmanager
def _unleased(manifest: Path) -> Iterator[bool]:
    """Whether no reader leases the generation of ``manifest``; if none, new leases fail until
    the block ends (the caller removes the generation inside it)."""
    try:
        fd = os.open(manifest, os.O_RDONLY)
    except FileNotFoundError:
        yield True  # nothing to lease: no reader can hold it
        return
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
        yield True
    finally:
        os.close(fd)


def prune(index_dir: Path) -> bool:
    """Remove the generations nobody needs, outside a build; a server calls it after a swap.

    Keeps the current generation, the one before it and every leased one; removes the rest and
    what interrupted builds left. Takes the build lock without waiting: while a build runs it
    does nothing (that build prunes when it publishes). Returns True when nothing is left to
    remove, False when it was skipped or kept a generation only because it is leased (worth
    another try later).
    """
    index_dir = Path(index_dir)
    if not (index_dir / GENERATIONS).is_dir():
        return True
    lock = FileLock(index_dir / LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return False
    try:
        try:
            now = current(index_dir)
        except IndexLoadError:
            return True  # a broken pointer: keep every generation; the next build repairs it
        return _prune(index_dir, now)
    finally:
        lock.release()


def clean_leftovers(index_dir: Path) -> None:
    """Remove what interrupted builds left behind. The caller holds the build lock.

    That is: staging and trash directories, temporary pointers, generations that were never
    published (newer than the current one) and those older than the previous one, and the
    files of uploads that were interrupted (``incoming``).
    """
    for tmp in durable.temporaries(index_dir / CURRENT):
        tmp.unlink(missing_ok=True)
    incoming.clean(index_dir)
    try:
        now = current(index_dir)
    except IndexLoadError:
        _remove_temporary_dirs(index_dir)  # a broken pointer: keep every generation
        return
    _prune(index_dir, now)


def next_number(index_dir: Path) -> int:
    """The number of the next generation: above every existing one. Call after cleaning."""
    return max([0, *_numbers(index_dir)]) + 1


def staging_dir(index_dir: Path, number: int) -> Path:
    """A new, empty directory (on disk) in which a build writes generation ``number``."""
    staged = index_dir / GENERATIONS / f"{_STAGING}{name_of(number)}"
    if staged.exists():
        shutil.rmtree(staged)
    durable.make_dirs(staged)
    return staged


def publish(index_dir: Path, staged: Path) -> Generation:
    """Make the complete generation in ``staged`` the current one. The caller holds the lock.

    Its files and directory reach the disk, it gets its final name, then ``CURRENT`` is
    replaced (the instant readers switch), then generations before the previous one go.
    """
    if not staged.name.startswith(_STAGING) or staged.parent != index_dir / GENERATIONS:
        raise ValueError(f"{staged} is not a staging directory of {index_dir}")
    number = int(staged.name.removeprefix(_STAGING))
    final = index_dir / GENERATIONS / name_of(number)
    durable.publish_directory(staged, final)
    durable.write_file_atomically(
        index_dir / CURRENT, lambda tmp: tmp.write_text(name_of(number) + "\n", encoding="ascii"))
    published = Generation(number, final)
    _prune(index_dir, published)
    return published


def _numbers(index_dir: Path) -> list[int]:
    folder = index_dir / GENERATIONS
    if not folder.is_dir():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if _NAME.match(p.name) and p.is_dir())


def _prune(index_dir: Path, now: Generation | None) -> bool:
    """Keep ``now``, the generation before it (the flat files if there is none) and every
    leased one; drop the rest. True when nothing was kept only for a lease."""
    _remove_temporary_dirs(index_dir)
    numbers = _numbers(index_dir)
    keep: set[int] = set()
    done = True
    if now is not None and not now.flat:
        older = [n for n in numbers if n < now.number]
        keep = {now.number, *older[-1:]}
        if older and not _remove_flat_files(index_dir):
            done = False
    for number in numbers:
        if number not in keep and not _remove_generation(index_dir / GENERATIONS / name_of(number)):
            logger.info("kept generation %s of %s: a reader still uses it", name_of(number),
                        index_dir)
            done = False
    return done


def _remove_generation(path: Path) -> bool:
    """Remove a generation nobody leases (else False). Renamed first, so that a directory with
    a generation's name is always complete."""
    trash = path.with_name(f"{_TRASH}{path.name}")
    with _unleased(path / MANIFEST) as free:
        if not free:
            return False
        os.rename(path, trash)
        durable.fsync_dir(path.parent)
    shutil.rmtree(trash)
    return True


def _remove_temporary_dirs(index_dir: Path) -> None:
    folder = index_dir / GENERATIONS
    if not folder.is_dir():
        return
    for leftover in folder.iterdir():
        if leftover.name.startswith((_STAGING, _TRASH)):
            shutil.rmtree(leftover)


def _remove_flat_files(index_dir: Path) -> bool:
    """The files of a flat index directory, once two generations have replaced them and
    nobody leases them (else False)."""
    files = GenerationFiles(index_dir)
    with _unleased(files.manifest) as free:
        if not free:
            return False
        for path in files.all():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    return True
