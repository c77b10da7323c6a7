"""The word-embedding table of the question graph, read row by row from its file.

The table (250,037 × 384 floats for e5-small) is most of the model. A question
needs a few dozen of its rows, so they are read with ``pread`` when asked for:
nothing of the table is held in the process, the operating system's page cache
keeps the rows in use warm, and memory-mapping (whose readahead pulls in large
runs of neighbouring rows) would have grown the process with every new word.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qa.errors import ModelError


class WordTable:
    """Rows of a float32 ``.npy`` matrix by index; thread-safe (``pread`` has no file position)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        try:
            with open(path, "rb") as fh:
                major, _minor = np.lib.format.read_magic(fh)
                read_header = (np.lib.format.read_array_header_1_0 if major == 1
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(fh)
                self._offset = fh.tell()
        except (OSError, ValueError) as exc:
            os.close(self._fd)
            raise ModelError(f"{path}: not a word-embedding table ({exc})") from None
        if fortran or dtype != np.float32 or len(shape) != 2:
            os.close(self._fd)
            raise ModelError(f"{path}: expected a C-ordered float32 matrix, found {dtype} {shape}")
        self.rows, self.dim = int(shape[0]), int(shape[1])
        self._row_bytes = self.dim * 4

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """``table[ids]`` for an integer array of any shape: shape ``ids.shape + (dim,)``."""
        distinct, inverse = np.unique(ids, return_inverse=True)
        if len(distinct) and (distinct[0] < 0 or distinct[-1] >= self.rows):
            raise IndexError(f"token id out of range 0..{self.rows - 1}")
        rows = np.empty((len(distinct), self.dim), dtype=np.float32)
        for i, token in enumerate(distinct.tolist()):
            data = os.pread(self._fd, self._row_bytes, self._offset + token * self._row_bytes)
            rows[i] = np.frombuffer(data, dtype=np.float32)
        return rows[inverse.reshape(ids.shape)]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()
