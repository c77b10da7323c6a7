"""Batching by length: every text gets its own vector back in its place, each distinct text is
embedded once, and batches go in the order of the lengths given (model tokens in a build)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.embed.encoder import encode_in_length_order
from qa.embed.hashed import HashedNgrams

TEXTS = ["Välj Format - Tecken.", "Klicka på OK.", "Välj Format - Tecken.",
         "Ett längre stycke om hur en tabell infogas i ett textdokument med menyn Tabell.",
         "Klicka på OK.", "Tryck Ctrl+S för att spara.", "Klicka på OK.", "Ja."]


class Recording:
    """The hashed encoder, noting each batch it is given."""

    def __init__(self) -> None:
        self.inner = HashedNgrams()
        self.dim = self.inner.dim
        self.batches: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


def test_each_text_gets_its_own_vector_and_repeats_are_embedded_once():
    encoder = Recording()
    heard: list[int] = []
    vectors = encode_in_length_order(encoder, TEXTS, batch_size=2, on_batch=heard.append)
    assert np.array_equal(vectors, HashedNgrams().embed(TEXTS))
    embedded = [t for batch in encoder.batches for t in batch]
    assert sorted(embedded) == sorted(set(TEXTS))
    assert sum(heard) == len(TEXTS)


def test_batches_follow_the_lengths_given():
    encoder = Recording()
    words = lambda texts: [len(t.split()) for t in texts]  # noqa: E731
    encode_in_length_order(encoder, TEXTS, batch_size=3, lengths=words)
    order = [len(t.split()) for batch in encoder.batches for t in batch]
    assert order == sorted(order)


def test_no_texts_no_vectors():
    assert encode_in_length_order(Recording(), [], 4).shape == (0, HashedNgrams().dim)
