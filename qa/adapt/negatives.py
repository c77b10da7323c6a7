"""Hard negatives: for each pair, a passage that looks like an answer to its query but is not.

In-batch negatives alone are mostly easy (a random passage of the collection); a passage that
BM25 or the base model ranks high for the query, yet is not the pair's own, teaches the
distinctions the collection needs. Two sources, as the issue names them:

- ``bm25``: the collection's own lexical index (the generation's ``lexical/``);
- ``model``: the base model's vectors of the passages as the index stores them, against the
  query embedded by the base model (the caller passes those query vectors).

A candidate that is the pair's own passage or one of its neighbours in the same document
(passages overlap, so a neighbour often holds the same answer) is skipped, and so are the first
``skip`` candidates otherwise: the very top of a ranking is the likeliest to be an unlabelled
right answer (a false negative), which would teach the model the wrong thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from qa.adapt.pairs import Pair
from qa.index.lexical import LexicalIndex
from qa.ingest.passages import Passage, collapse

NegativeSource = Literal["bm25", "model", "both", "none"]
_CANDIDATES = 30


def _allowed(row: int, pair: Pair, passages: Sequence[Passage]) -> bool:
    if passages[row].document_id != pair.document_id:
        return True
    return abs(row - pair.row) > 1


def _first_allowed(rows: Sequence[int], pair: Pair, passages: Sequence[Passage],
                   skip: int) -> int | None:
    allowed = [int(r) for r in rows if _allowed(int(r), pair, passages)]
    if not allowed:
        return None
    return allowed[min(skip, len(allowed) - 1)]


def negative_text(pair: Pair, passage: Passage) -> str:
    """The negative passage in the shape of the pair's positive: with its heading for cloze
    pairs (whose positive has one), the body alone for the others."""
    body = collapse(passage.text)
    if pair.kind == "cloze" and passage.head:
        return f"{passage.head}\n{body}"
    return body


def bm25_negatives(pairs: Sequence[Pair], passages: Sequence[Passage], lexical: LexicalIndex,
                   skip: int = 1) -> list[int | None]:
    """Per pair, the row of its BM25 hard negative (None where BM25 finds none)."""
    out: list[int | None] = []
    for pair in pairs:
        _, rows = lexical.search(pair.query, _CANDIDATES)
        out.append(_first_allowed(rows.tolist(), pair, passages, skip))
    return out


def model_negatives(pairs: Sequence[Pair], passages: Sequence[Passage], query_vectors: np.ndarray,
                    passage_vectors: np.ndarray, skip: int = 1) -> list[int | None]:
    """Per pair, the row of its hard negative by the base model's cosine similarity."""
    out: list[int | None] = []
    n = min(_CANDIDATES, len(passages))
    scores = query_vectors @ passage_vectors.T
    for pair, row_scores in zip(pairs, scores, strict=True):
        top = np.argpartition(-row_scores, n - 1)[:n]
        top = top[np.argsort(-row_scores[top], kind="stable")]
        out.append(_first_allowed(top.tolist(), pair, passages, skip))
    return out


def choose(bm25: Sequence[int | None] | None, model: Sequence[int | None] | None,
           count: int) -> list[int | None]:
    """One negative per pair from the sources given: both alternate pair by pair (each pair's
    own source first, the other where it has none)."""
    out: list[int | None] = []
    for i in range(count):
        a = bm25[i] if bm25 is not None else None
        b = model[i] if model is not None else None
        first, second = (a, b) if i % 2 == 0 else (b, a)
        out.append(first if first is not None else second)
    return out
