"""Many texts through an encoder in batches of similar length, so little of each batch is padding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def encode_in_length_order(
    embed: Callable[[list[str]], np.ndarray],
    texts: Sequence[str],
    dim: int,
    batch_size: int = 32,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Vectors of ``texts`` in their given order; ``on_batch(n)`` hears of each batch of ``n`` done."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i in range(0, len(texts), batch_size):
        rows = order[i : i + batch_size]
        out[rows] = embed([texts[j] for j in rows])
        if on_batch is not None:
            on_batch(len(rows))
    return out


def model_inputs(tokenizer: Any, texts: Sequence[str], max_length: int) -> dict[str, np.ndarray]:
    """The exported graph's inputs: token ids and attention mask, padded to the longest text."""
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length,
                    return_tensors="np")
    return {"input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64)}
