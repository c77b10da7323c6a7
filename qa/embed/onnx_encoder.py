"""The model through ONNX Runtime: the same vectors as sentence-transformers, several times faster.

The sentence-transformers pipeline Transformer → mean pooling → normalise is
exported once to ONNX (pooling and normalisation inside the graph) next to
the model cache. Run at fp32, its vectors
match the PyTorch path's to cosine 0.9999+ (tested), so an index is the same
whichever path built it. An int8 copy (weights of every matrix product
quantised per output channel, activations quantised on the fly, one text
per call) embeds passages about 1.5x faster again; it is opt-in, because on the
seed test set it lost 3 of 124 first-rank answers (README). Models with another pipeline (CLS pooling, extra
layers) keep the PyTorch path.

Measured and not kept: giving each sentence a vector by pooling its tokens
from the passage's forward pass ("late chunking", no extra model call). On the
seed test set it lost 1.3% MRR (hybrid) and 3.7% (dense); a sentence's pooled
vector was nearest to its own stand-alone embedding for only 7 of 17 seed
sentences.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from qa.embed.batching import encode_in_length_order, model_inputs

Precision = Literal["fp32", "int8"]

_EXPORT_FORMAT = 2  # bumped when the exported graph changes


def is_mean_pooled(model: Any) -> bool:
    """True for Transformer → Pooling(mean) → Normalize, the only shape we export."""
    from sentence_transformers.models import Normalize, Pooling, Transformer

    modules = list(model)
    return (
        len(modules) == 3
        and isinstance(modules[0], Transformer)
        and isinstance(modules[1], Pooling)
        and modules[1].pooling_mode == "mean"
        and isinstance(modules[2], Normalize)
    )


def export_path(cache: Path, model_id: str, model_dir: Path | None) -> Path:
    """Where the export of a model lives: keyed by its id, its config and the export format."""
    config_file = model_dir / "config.json" if model_dir else None
    config = config_file.read_bytes() if config_file and config_file.is_file() else b""
    key = hashlib.sha256(f"{model_id}\0{_EXPORT_FORMAT}\0".encode() + config).hexdigest()[:16]
    return cache / "onnx" / key / "model.onnx"


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(tmp_file)`` and move the result into place; concurrent writers are harmless."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def export(model: Any, target: Path) -> Path | None:
    """Write the ONNX graph of ``model`` to ``target``; None if the model is not exportable."""
    if target.is_file():
        return target
    if not is_mean_pooled(model):
        return None
    import torch

    hf = model[0].auto_model.eval()

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = hf

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = model.tokenizer(["passage: ett exempel", "passage: två"], padding=True, return_tensors="pt")

    def write(path: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer chatter about Python branches
            torch.onnx.export(
                Pipeline(), (sample["input_ids"], sample["attention_mask"]), str(path),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                              "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
                opset_version=17, dynamo=False,
            )

    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, write)
    (target.parent / "export.json").write_text(json.dumps({"torch": torch.__version__,
                                                           "format": _EXPORT_FORMAT}))
    return target


def quantized(source: Path) -> Path:
    """The int8 copy of an exported graph, made on first use.

    Dynamic quantisation of the matrix products' weights, per output channel
    (per-tensor scales lose more: cosine 0.986 against fp32 instead of 0.996 on
    the seed questions). The word-embedding table stays fp32: it is a lookup,
    not a product, and quantising it saves memory but no time.
    """
    target = source.with_name("model.int8.onnx")
    if target.is_file():
        return target
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # "run pre-processing"
    _write_atomically(target, lambda tmp: quantize_dynamic(
        source, tmp, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8, per_channel=True))
    return target


class OnnxEncoder:
    """Runs the exported graph; long inputs are batched by length so little is padding."""

    def __init__(self, path: Path, tokenizer: Any, max_length: int, dim: int, threads: int = 0,
                 per_text: bool = False) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.dim = dim
        # Dynamic int8 quantises activations with one scale per tensor, i.e. per batch: a text's
        # vector would move (cosine down to 0.994) with its neighbours and padding. One text per
        # call makes it depend on the text alone, and is no slower (no padding): 104 passages/s
        # against 82 in batches of 32, on the synthetic passages.
        self.per_text = per_text

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        return self.session.run(["embedding"], model_inputs(self.tokenizer, texts, self.max_length))[0]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One batch as given (questions: short, few, already waiting together)."""
        if self.per_text and len(texts) > 1:
            vectors = np.concatenate([self._run([t]) for t in texts])
        else:
            vectors = self._run(texts)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Many texts, in batches of similar length."""
        return encode_in_length_order(self.embed, texts, self.dim, batch_size, on_batch)
