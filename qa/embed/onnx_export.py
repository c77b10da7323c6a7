"""The model exported once to ONNX, so that it runs without torch.

The sentence-transformers pipeline Transformer → mean pooling → Normalize is
traced once (pooling and normalisation inside the graph) into ``model.onnx``
beside the model cache; ONNX Runtime and OpenVINO run it with the model's own
vectors (tested). Models with another pipeline keep the sentence-transformers path.

Two derived files serve questions with little memory: ``question.onnx`` is the
same graph with its word-embedding lookup taken out, and ``word_embeddings.npy``
holds that table, from which the question encoder reads only the rows of the
tokens it sees (``qa.embed.word_table``). The lookup is exact, so the vectors are identical
(tested); the table is most of the model's size. ``model.int8.onnx`` is the int8 copy with
activations quantised at run time (per call), ``model.int8-static.onnx`` the one with
activation scales calibrated once (``qa.embed.calibration``); builds run those. Questions run
their copies made from ``question.onnx`` (``question.int8.onnx``, ``question.int8-static.onnx``):
the same quantisation of the same products, with the word rows read from the same table file,
so a process serving quantised questions does not hold the table either. Exporting needs torch
(``qa model`` does it once); running does not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any, cast

from qa.durable import write_file_atomically
from qa.embed.model_files import ModelFiles
from qa.errors import ModelError

log = logging.getLogger(__name__)

_EXPORT_FORMAT = 3  # bumped when the exported graphs change
FULL_GRAPH = "model.onnx"
INT8_GRAPH = "model.int8.onnx"
INT8_STATIC_GRAPH = "model.int8-static.onnx"
QUESTION_GRAPH = "question.onnx"
INT8_QUESTION_GRAPH = "question.int8.onnx"
INT8_STATIC_QUESTION_GRAPH = "question.int8-static.onnx"
WORD_TABLE = "word_embeddings.npy"
WORD_TABLE_INPUT = "word_embeddings"


def export_dir(cache: Path, files: ModelFiles) -> Path:
    """Where the exports of a model live: keyed by its id, its config and the export format."""
    config_file = files.location / "config.json"
    config = config_file.read_bytes() if config_file.is_file() else b""
    key = hashlib.sha256(f"{files.model_id}\0{_EXPORT_FORMAT}\0".encode() + config).hexdigest()[:16]
    return cache / "onnx" / key


def exported(cache: Path, files: ModelFiles, name: str = FULL_GRAPH) -> Path | None:
    """An already exported graph (or table), without exporting: None when it is not there yet."""
    path = export_dir(cache, files) / name
    return path if path.is_file() else None


def export(cache: Path, files: ModelFiles, name: str = FULL_GRAPH) -> Path:
    """The named export of the model, written on first use (loads torch only then)."""
    if not files.mean_pooled:
        raise ModelError(f"{files.model_id!r} is not a mean-pooled model, so it has no ONNX path; "
                         "use QA_QUERY_RUNTIME=model and QA_PASSAGE_RUNTIME=torch")
    target = export_dir(cache, files) / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    full = target.parent / FULL_GRAPH
    try:
        if not full.is_file():
            log.info("exporting %s to ONNX (once)", files.model_id)
            _export_full(files, full)
        if name in (QUESTION_GRAPH, WORD_TABLE):
            _split_word_table(full, target.parent)
        elif name == INT8_GRAPH:
            _quantize(full, target)
        elif name == INT8_STATIC_GRAPH:
            from qa.embed.calibration import quantize_static

            quantize_static(full, target, files)
        elif name == INT8_QUESTION_GRAPH:
            _quantize(export(cache, files, QUESTION_GRAPH), target)
        elif name == INT8_STATIC_QUESTION_GRAPH:
            from qa.embed.calibration import quantize_static

            quantize_static(export(cache, files, QUESTION_GRAPH), target, files,
                            word_table=export(cache, files, WORD_TABLE))
    except ModelError:
        raise
    except Exception as exc:  # torch, onnx and onnxruntime raise many kinds
        raise ModelError(f"cannot export {files.model_id!r} to ONNX: {exc}") from None
    return target


def _export_full(files: ModelFiles, target: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(files.location), device="cpu", local_files_only=True)
    hf = cast(torch.nn.Module, model[0].auto_model).eval()

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

    write_file_atomically(target, write)
    (target.parent / "export.json").write_text(json.dumps({"torch": torch.__version__,
                                                           "format": _EXPORT_FORMAT}))


def _split_word_table(full: Path, folder: Path) -> None:
    """Write ``question.onnx`` (the graph without its word lookup) and ``word_embeddings.npy``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(full))
    graph = model.graph
    lookup = _word_lookup(graph)
    table = next(i for i in graph.initializer if i.name == lookup.input[0])
    array = numpy_helper.to_array(table)
    graph.node.remove(lookup)
    graph.initializer.remove(table)
    for node in graph.node:  # the lookup's consumers now read the new input
        for i, name in enumerate(node.input):
            if name == lookup.output[0]:
                node.input[i] = WORD_TABLE_INPUT
    graph.input.append(helper.make_tensor_value_info(
        WORD_TABLE_INPUT, TensorProto.FLOAT, ["batch", "tokens", int(array.shape[1])]))
    onnx.checker.check_model(model)
    write_file_atomically(folder / WORD_TABLE, lambda tmp: _save_npy(tmp, array))
    write_file_atomically(folder / QUESTION_GRAPH, lambda tmp: onnx.save_model(model, str(tmp)))


def _save_npy(path: Path, array: Any) -> None:
    import numpy as np

    with open(path, "wb") as fh:
        np.save(fh, np.ascontiguousarray(array, dtype=np.float32))


def _word_lookup(graph: Any) -> Any:
    """The Gather node that reads token ids from the largest initializer (the word table)."""
    sizes = {i.name: (list(i.dims) or [0])[0] for i in graph.initializer}
    candidates = [n for n in graph.node if n.op_type == "Gather" and n.input[0] in sizes
                  and n.input[1] == "input_ids"]
    if not candidates:
        raise ModelError("the exported graph has no word-embedding lookup on input_ids")
    return max(candidates, key=lambda n: sizes[n.input[0]])


def _quantize(full: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix products' weights, per output channel.

    Per-tensor scales lose more (cosine 0.986 against fp32 instead of 0.996 on the
    seed questions). The word-embedding table stays fp32: a lookup, not a product.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    write_file_atomically(target, lambda tmp: quantize_dynamic(
        full, tmp, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8, per_channel=True))
