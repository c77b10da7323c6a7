"""Where uploaded files wait for their build: ``index_dir/.incoming/<random>/``, one folder an upload.

An upload is written inside the index directory it changes (same file system, same owner,
nothing in the shared temporary folder), under names the server makes (``0001.pdf``), never
the names the client sent: a client's file name is only shown and turned into an id, never
used as a path. The folder is removed when its upload has been indexed or refused.

An upload killed half-way (the server process dies) leaves its folder behind; the next build
of the index (``generations.clean_leftovers``, an upload's or a ``qa build``'s) removes it. A
folder in use is never removed: its upload holds an exclusive ``flock`` on it for its whole
life, and the cleaner removes only folders whose lock it can take; the OS drops the lock when
its holder dies, however it dies.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

try:
    import fcntl
except ImportError:  # Windows: no flock; interrupted uploads are then never removed
    fcntl = None  # type: ignore[assignment]

from qa import durable

logger = logging.getLogger(__name__)

INCOMING = ".incoming"
_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


def safe_name(number: int, client_name: str) -> str:
    """The name an uploaded file is stored under: its number, and the client's extension when
    that is a plain one (the readers choose by it); never any other part of the client's name."""
    suffix = PurePosixPath(client_name.replace("\\", "/")).suffix
    return f"{number:04d}{suffix.lower() if _SUFFIX.match(suffix) else ''}"


@contextmanager
def upload_folder(index_dir: Path) -> Iterator[Path]:
    """A new, empty folder for one upload's files, locked while the block runs, removed after."""
    root = Path(index_dir) / INCOMING
    durable.make_dirs(root)
    folder = root / secrets.token_hex(8)
    os.mkdir(folder, 0o700)
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def clean(index_dir: Path) -> int:
    """Remove the folders of uploads that were interrupted (no live holder); how many."""
    root = Path(index_dir) / INCOMING
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        if _abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed %d interrupted upload(s) from %s", removed, root)
    return removed


def _abandoned(folder: Path) -> bool:
    if not folder.is_dir() or folder.is_symlink():
        folder.unlink(missing_ok=True)  # nothing we made: a stray file
        return False
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return False  # its upload has just finished
    try:
        if fcntl is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # an upload in progress
        return True
    finally:
        os.close(fd)
