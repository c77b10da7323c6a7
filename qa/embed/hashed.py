"""A deterministic encoder that needs no model: hashed character n-grams (``QA_MODEL=hashed-ngrams``).

Each text becomes the counts of its character 3-, 4- and 5-grams (after NFKC, case folding and
collapsing everything but letters and digits to one space, so words are padded by spaces),
hashed with a sign into ``DIM`` buckets and L2-normalised. Texts that share words or word
parts therefore get similar vectors, and the same text always gets the same vector, on any
machine and in any process: a lexical bag of n-grams, not a semantic model.

What it is for: tests of everything that is not about the model's vectors (index
generations, leases, builds, the HTTP contract, document writes), which then run in
milliseconds instead of loading the model, and trying the service (``qa build``, ``qa serve``)
on a machine where the model is not prepared. It is a real index model as far as the rest of
the service is concerned: the manifest names it (``model: hashed-ngrams``), so an index built
with it is only served by a service configured with it, and the other way round.

Token counts (passage sizes, question bounds) are an approximation of a subword tokenizer:
one token per punctuation mark, one per started five characters of a word, plus two special
tokens. Prompts are empty unless ``QA_QUERY_PROMPT``/``QA_PASSAGE_PROMPT`` set them: a shared
prefix would only add the same n-grams to every vector.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.embed.encoder import encode_in_length_order
from qa.settings import EmbedSettings

NAME = "hashed-ngrams"
DIM = 384
MAX_TOKENS = 512
NGRAMS = (3, 4, 5)
RUNTIME = "hashed-ngrams"

_NOT_WORD = re.compile(r"[\W_]+")
_TOKENS = re.compile(r"\w+|[^\w\s]")
_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: spreads the code points
_MIX = np.uint64(0xFF51AFD7ED558CCD)  # MurmurHash3's finaliser constant


def is_hashed(settings: EmbedSettings) -> bool:
    """Whether the configured model is this encoder rather than a sentence-transformers model."""
    return settings.model == NAME


def count_tokens(text: str) -> int:
    """Approximate subword tokens of ``text``, special tokens included."""
    return 2 + sum(1 + (len(t) - 1) // 5 for t in _TOKENS.findall(text))


class TokenCounts:
    """``count`` as a tokenizer's: for ``QuestionEncoder`` (bounds and scheduling)."""

    def count(self, texts: Sequence[str]) -> list[int]:
        return [count_tokens(t) for t in texts]


class HashedNgrams:
    """Implements ``TextEncoder``: signed hashed character n-gram counts, L2-normalised."""

    name = RUNTIME

    def __init__(self, dim: int = DIM, sizes: Sequence[int] = NGRAMS) -> None:
        self.dim = dim
        self.sizes = tuple(sizes)

    def vector(self, text: str) -> np.ndarray:
        folded = _NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
        points = np.frombuffer(f" {folded} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        hashes = [self._hashes(points, n) for n in self.sizes if len(points) >= n and folded]
        out = np.zeros(self.dim, dtype=np.float64)
        if hashes:
            h = np.concatenate(hashes)
            signs = np.where((h >> np.uint64(63)) == 1, -1.0, 1.0)
            out += np.bincount((h % np.uint64(self.dim)).astype(np.int64), weights=signs,
                               minlength=self.dim)
        norm = float(np.linalg.norm(out))
        if norm == 0:  # no letters or digits (or the signs cancelled): one fixed direction
            out[0], norm = 1.0, 1.0
        return (out / norm).astype(np.float32)

    @staticmethod
    def _hashes(points: np.ndarray, n: int) -> np.ndarray:
        """A 64-bit hash of every n-gram of ``points`` (wrapping arithmetic), mixed."""
        count = len(points) - n + 1
        h = np.full(count, n, dtype=np.uint64)
        for k in range(n):
            h = h * _MULTIPLIER + points[k : k + count]
        h ^= h >> np.uint64(33)
        h *= _MIX
        h ^= h >> np.uint64(33)
        return h

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts])


@dataclass(frozen=True)
class HashedModel:
    """The facts a question encoder needs, as ``ModelFiles`` gives them for a real model."""

    model_id: str
    dim: int
    max_tokens: int
    query_prompt: str
    passage_prompt: str


def hashed_model(settings: EmbedSettings) -> HashedModel:
    return HashedModel(NAME, DIM, MAX_TOKENS, settings.query_prompt or "",
                       settings.passage_prompt or "")


class HashedBuildEncoder:
    """Implements ``PassageEncoder`` (what ``build_index`` needs) with ``HashedNgrams``."""

    def __init__(self, settings: EmbedSettings) -> None:
        model = hashed_model(settings)
        self.settings = settings
        self.model_id, self.dim, self.max_tokens = model.model_id, model.dim, model.max_tokens
        self.passage_prompt, self.query_prompt = model.passage_prompt, model.query_prompt
        self.encoder = HashedNgrams(self.dim)

    def load(self, sentences: bool = True) -> None:
        """Nothing to load (``BuildEncoder.load``'s counterpart)."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [count_tokens(self.passage_prompt + t) for t in texts]

    def precision(self, kind: str) -> str:
        return "fp32"

    def runtime(self, kind: str) -> str:
        return RUNTIME

    def embed_passages(self, texts: Sequence[str], kind: str = "passage",
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return encode_in_length_order(self.encoder, [self.passage_prompt + t for t in texts],
                                      self.settings.batch_size, on_batch)
