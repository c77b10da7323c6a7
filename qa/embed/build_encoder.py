"""Passages and sentences → vectors for ``qa build``, each kind through its chosen path.

``qa.embed.build_runtimes`` decides the runtime and precision of each kind; this
class loads those runtimes once (exporting the ONNX graph on first use) and
counts tokens for the passage builder with the model's own tokenizer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from qa.embed import native_heap, onnx_export, openvino_runtime
from qa.embed.build_runtimes import (
    Machine,
    VectorKind,
    VectorPrecision,
    fp32_runtime,
    runtime_name,
    vector_precision,
)
from qa.embed.encoder import TextEncoder, encode_in_length_order
from qa.embed.hashed import HashedBuildEncoder, is_hashed
from qa.embed.model_files import ModelFiles, read_model_files
from qa.embed.tokenizer import TextTokenizer
from qa.errors import ModelError
from qa.settings import EmbedSettings

log = logging.getLogger(__name__)

# Padded tokens the build's OpenVINO runtimes compute at once (8 texts of 512 tokens): a batch of
# 32 long passages is run in slices, which bounds the runtime's working set (about 2 GB more for
# 32 × 512 tokens in fp32) without changing a vector (bench/build_memory.py, notes/buildmem.md).
BATCH_TOKENS = 8 * 512


class BuildEncoder:
    """What a build needs of the model: its facts, token counts and passage/sentence vectors."""

    def __init__(self, settings: EmbedSettings, files: ModelFiles | None = None) -> None:
        self.settings = settings
        self.files = files or read_model_files(settings)
        self.model_id = self.files.model_id
        self.dim = self.files.dim
        self.max_tokens = self.files.max_tokens
        self.passage_prompt = self.files.passage_prompt
        self.query_prompt = self.files.query_prompt
        self.tokenizer = TextTokenizer(self.files.location, self.max_tokens)
        self._machine: Machine | None = None
        self._encoders: dict[str, TextEncoder] = {}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens of each passage text with its prompt and special tokens."""
        return self.tokenizer.count([self.passage_prompt + t for t in texts])

    @property
    def machine(self) -> Machine:
        if self._machine is None:
            has_openvino = openvino_runtime.available()
            self._machine = Machine(self.files.mean_pooled, has_openvino,
                                    has_openvino and openvino_runtime.cpu_has_bf16())
        return self._machine

    def precision(self, kind: VectorKind) -> VectorPrecision:
        """Precision of the passage or the sentence vectors a build writes (decided, not loaded)."""
        return vector_precision(self.settings, kind, self.machine)

    def runtime(self, kind: VectorKind) -> str:
        """E.g. 'openvino-bf16': named in the index manifest and the evaluation report."""
        return runtime_name(self.precision(kind), fp32_runtime(self.settings, self.machine))

    def encoder(self, kind: VectorKind) -> TextEncoder:
        """The runtime that embeds ``kind`` (loaded, and exported if needed, on first use)."""
        runtime = self.runtime(kind)
        if runtime not in self._encoders:
            self._encoders[runtime] = self._load(runtime)
        return self._encoders[runtime]

    def load(self, sentences: bool = True) -> None:
        """Load every runtime a build will use, before its clock starts; ``sentences``: the
        build embeds sentences too (``QA_SENTENCE_VECTORS``, an index setting)."""
        self.encoder("passage")
        if sentences:
            self.encoder("sentence")
            self.encoder("context")

    def _load(self, runtime: str) -> TextEncoder:
        s, cache = self.settings, self.settings.model_cache
        if runtime == "sentence-transformers-fp32":
            from qa.embed.sentence_transformers_model import SentenceTransformerEncoder

            return SentenceTransformerEncoder(self.files, s.device, s.threads)
        if runtime.startswith("openvino-"):
            precision: Literal["fp32", "bf16"] = "bf16" if runtime.endswith("bf16") else "fp32"
            graph = onnx_export.export(cache, self.files)
            try:
                return openvino_runtime.OpenVinoEncoder(graph, self.tokenizer, self.dim, precision,
                                                        s.threads, max_batch_tokens=BATCH_TOKENS)
            except Exception as exc:
                raise ModelError(f"cannot compile {self.model_id!r} with OpenVINO: {exc}") from None
        from qa.embed.onnx_runtime import OnnxRuntimeEncoder

        # Dynamic int8 embeds each text alone (its activation scales would follow the batch);
        # static int8's scales are fixed, so its texts batch like fp32's.
        int8 = runtime == "onnxruntime-int8"
        name = {"onnxruntime-int8": onnx_export.INT8_GRAPH,
                "onnxruntime-int8-static": onnx_export.INT8_STATIC_GRAPH}.get(runtime,
                                                                              onnx_export.FULL_GRAPH)
        graph = onnx_export.export(cache, self.files, name)
        return OnnxRuntimeEncoder(graph, self.tokenizer, self.dim, threads=s.threads, per_text=int8,
                                  name=runtime)

    def embed_passages(self, texts: Sequence[str], kind: VectorKind = "passage",
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors of passages (or sentences, ``kind``), prompt added; texts
        in order of their model tokens, each distinct text once (``encode_in_length_order``).

        After each batch the native heap's free pages go back to the system
        (``native_heap.release``): else the runtime's buffers for every batch shape met stay
        resident, and a build's peak memory grows with the collection.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)

        def done(n: int) -> None:
            native_heap.release()
            if on_batch is not None:
                on_batch(n)

        return encode_in_length_order(self.encoder(kind), [self.passage_prompt + t for t in texts],
                                      self.settings.batch_size, done, self._tokens)

    def _tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of prompted texts as the runtimes see them: cut at the model's window."""
        return [min(n, self.max_tokens) for n in self.tokenizer.count(texts)]


def open_build_encoder(settings: EmbedSettings) -> BuildEncoder | HashedBuildEncoder:
    """The configured model's build encoder (not loaded yet): ``BuildEncoder``, or for
    ``QA_MODEL=hashed-ngrams`` the model-free one of ``qa.embed.hashed``."""
    if is_hashed(settings):
        return HashedBuildEncoder(settings)
    return BuildEncoder(settings)


def prepare(settings: EmbedSettings) -> ModelFiles:
    """Make every path of the configured model ready offline (``qa model``): rebuild, export."""
    encoder = BuildEncoder(settings)
    encoder.load()
    if encoder.files.mean_pooled and settings.query_runtime in ("auto", "onnx"):
        from qa.embed.question_encoder import ADOPTED_PRECISIONS, question_graphs

        # With 'auto', every path auto may take (and fp32), not only this CPU's: a prepared
        # model or its export (`qa model --export`) may serve on another machine.
        precisions = (["fp32", *ADOPTED_PRECISIONS] if settings.query_precision == "auto"
                      else [settings.query_precision])
        cache = settings.model_cache
        for name in dict.fromkeys(n for p in precisions for n in question_graphs(p)):
            onnx_export.export(cache, encoder.files, name)
        TextTokenizer(encoder.files.location, encoder.max_tokens, compact_cache=cache)  # made once
    return encoder.files
