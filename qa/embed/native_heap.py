"""Returning the native heap's free pages to the system between embedding batches.

The embedding runtimes (OpenVINO above all, ONNX Runtime too) allocate working buffers and
kernels for every new input shape, and a build meets a new shape with nearly every batch: texts
go in length order, so each batch is padded to a new width. What a runtime frees goes back to
glibc's heap, not to the system, and fragmented heaps are only ever trimmed from the top; so a
build's resident memory grew with the number of batch shapes it had met, which is to say with
the collection. ``malloc_trim`` hands every free page of every heap back (``madvise``), which
leaves a build's peak bounded by its largest batch instead. It changes no computation: the
vectors are the same bit for bit.

Only glibc has ``malloc_trim``; elsewhere (musl, macOS, Windows) ``release`` does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Callable
from functools import cache

logger = logging.getLogger(__name__)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        logger.debug("no malloc_trim in this C library: freed native memory stays in its heap")
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def can_release() -> bool:
    """True where ``release`` returns memory (glibc)."""
    return _malloc_trim() is not None


def release() -> None:
    """Give the free pages of the process's native heaps back to the system (a few ms)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
