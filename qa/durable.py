"""Durable publishing: files and directories that are complete on disk before anyone can see them.

Everything that publishes (the index's generations and its pointer, the rebuilt model, the ONNX
exports) goes through these helpers, so the rule is kept in one place: write under a temporary
name, ``fsync`` the data, make it visible with one ``rename``, then ``fsync`` the directory that
holds the new name. A process killed at any instant leaves either the old or the new version,
never a half-written one; after a power loss the same holds once the rename is on disk.

Calls go through the ``os`` module at call time (``os.fsync``, ``os.replace``...), so a test can
interpose on each system call of a publish step.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

_TEMPORARY = ".{name}.tmp-"


def fsync_file(path: Path) -> None:
    """Flush one file's data and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (names created, renamed or removed in it) to disk.

    A no-op where directories cannot be opened (Windows), which orders renames itself.
    """
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` (``root`` included), children first."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            fsync_file(Path(folder, name))
        fsync_dir(Path(folder))


def make_dirs(path: Path) -> None:
    """``mkdir -p`` whose new entries are on disk: each created directory's parent is flushed."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        fsync_dir(folder.parent)


def write_file_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Run ``write(tmp)``, flush ``tmp`` and rename it to ``target``, then flush the directory.

    Readers see the old file or the complete new one. ``tmp`` is unique to this call (process
    id and a random token), so concurrent writers of the same target do not disturb each other:
    the last rename wins. On failure ``tmp`` is removed; after a crash it stays behind under a
    name :func:`temporaries` finds.
    """
    tmp = target.with_name(f"{_TEMPORARY.format(name=target.name)}{os.getpid()}-"
                           f"{secrets.token_hex(4)}")
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def temporaries(target: Path) -> list[Path]:
    """Temporary files that interrupted :func:`write_file_atomically` calls left for ``target``."""
    return sorted(target.parent.glob(f"{_TEMPORARY.format(name=target.name)}*"))


def publish_directory(staged: Path, target: Path) -> None:
    """Flush the complete directory ``staged``, rename it to ``target`` and flush the parent.

    ``target`` must not exist or be an empty directory (POSIX ``rename`` replaces an empty one
    and refuses any other). ``staged`` and ``target`` must be on one file system.
    """
    fsync_tree(staged)
    os.rename(staged, target)
    fsync_dir(target.parent)
