"""Original files kept in a generation, so each document can be downloaded as it was read.

A copy is named by its SHA-256 (``originals/<sha256>``): two documents with the same file share
one copy, and an unchanged file is hard-linked from the previous generation instead of copied
again (a copy where the file system cannot link). The source file is hashed while it is copied;
a file changed since it was read is not kept (its text in the index would not match it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from qa.index.layout import GenerationFiles
from qa.ingest.documents import Document

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


def write_originals(documents: Sequence[Document], files: GenerationFiles,
                    previous: GenerationFiles | None) -> list[Document]:
    """Keep every document's original in ``files.originals``; returns the documents as stored.

    A document whose original cannot be kept (gone, changed, unreadable) is returned without
    it, with a warning in the log; the build goes on.
    """
    files.originals.mkdir(exist_ok=True)
    stored: list[Document] = []
    for doc in documents:
        original = doc.original
        if original is not None and not _keep(original.sha256, original.source, files, previous):
            logger.warning("%s: the original file is not kept (%s changed or is gone since it was "
                           "read)", doc.id, original.filename)
            doc = replace(doc, original=None)
        stored.append(doc)
    return stored


def _keep(sha256: str, source: Path | None, files: GenerationFiles,
          previous: GenerationFiles | None) -> bool:
    target = files.original(sha256)
    if target.exists():
        return True
    if previous is not None and previous.original(sha256).is_file():
        try:
            os.link(previous.original(sha256), target)
        except OSError:
            shutil.copyfile(previous.original(sha256), target)
        return True
    if source is None:
        return False
    return _copy_verified(source, target, sha256)


def _copy_verified(source: Path, target: Path, sha256: str) -> bool:
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, partial.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
    except OSError:
        partial.unlink(missing_ok=True)
        return False
    if digest.hexdigest() != sha256:
        partial.unlink()
        return False
    partial.rename(target)
    return True
