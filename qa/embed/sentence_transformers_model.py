"""The model itself, run by sentence-transformers on torch: the reference every fast path is
tested against, and the path for models the ONNX export does not cover (e.g. CLS pooling).

Importing this module does not import torch; creating the encoder does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from qa.embed.model_files import ModelFiles
from qa.errors import ModelError

log = logging.getLogger(__name__)


def load_sentence_transformer(files: ModelFiles, device: str = "cpu", threads: int = 0,
                              purpose: str = "this path") -> Any:
    """``files`` as a ``SentenceTransformer`` from local files only, with torch at ``threads``
    threads (0 = torch's default); a ``ModelError`` naming the missing extra or the cause."""
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"{purpose} needs torch and sentence-transformers ({exc}); install the "
                         "project with its build extra (pip install 'svensk-qa[build]')") from None
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        return SentenceTransformer(str(files.location), device=device, local_files_only=True)
    except Exception as exc:  # the library raises many kinds; the user needs one line
        raise ModelError(f"cannot load model {files.model_id!r}: {exc}") from None


class SentenceTransformerEncoder:
    """Implements ``TextEncoder`` with ``SentenceTransformer.encode``."""

    name = "sentence-transformers"

    def __init__(self, files: ModelFiles, device: str = "cpu", threads: int = 0) -> None:
        self.model: Any = load_sentence_transformer(files, device, threads)
        self.model.eval()
        self.dim = files.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(list(texts), batch_size=max(len(texts), 1),
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
