"""Placeholder until the index lifecycle branch lands (it owns this module)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def write_file_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp)`` beside ``target``, sync it and rename it into place."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
