"""Which runtime and precision embed passages and sentences in a build: pure decisions.

Every fp32 engine gives the model's own vectors (tested); bf16 and int8 do not,
so the precision is part of the index's build key. ``auto`` keeps passages at
fp32 and puts sentences in bfloat16 where the CPU computes it natively (the
evaluation figures of fp32, README). A choice the machine cannot honour is a
clear ``ModelError``, never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qa.errors import ModelError
from qa.settings import EmbedSettings

Fp32Runtime = Literal["openvino", "onnx", "torch"]
VectorPrecision = Literal["fp32", "bf16", "int8", "int8-static"]
VectorKind = Literal["passage", "sentence", "context"]  # context: a sentence read in context
_RUNTIME_NAMES = {"openvino": "openvino", "onnx": "onnxruntime", "torch": "sentence-transformers"}


@dataclass(frozen=True)
class Machine:
    """What decides the build's embedding paths besides the settings."""

    exportable: bool  # a mean-pooled model, so it has an ONNX export
    has_openvino: bool
    cpu_bf16: bool  # the CPU computes bfloat16 natively


def fp32_runtime(settings: EmbedSettings, machine: Machine) -> Fp32Runtime:
    """Which runtime computes fp32 build vectors: all give the same vectors, at different speeds."""
    runtime = settings.passage_runtime
    if runtime == "auto":
        if not machine.exportable:
            return "torch"
        return "openvino" if machine.has_openvino else "onnx"
    if runtime != "torch" and not machine.exportable:
        raise ModelError(f"{settings.model!r} is not a mean-pooled model, so it has no {runtime} "
                         "path; use QA_PASSAGE_RUNTIME=torch")
    if runtime == "openvino" and not machine.has_openvino:
        raise ModelError("QA_PASSAGE_RUNTIME=openvino: the openvino package is not installed")
    return runtime


def vector_precision(settings: EmbedSettings, kind: VectorKind, machine: Machine) -> VectorPrecision:
    """The precision of passage, sentence or sentence-in-context vectors; an explicit one that
    cannot be had is an error.

    'auto' keeps passages at fp32 and puts sentences in bfloat16 where the CPU
    has it: measured, that keeps every evaluation figure of the fp32 model,
    whereas bf16 passages flipped one near-tie per test set in dense mode (README).
    """
    requested = {"passage": settings.passage_precision, "sentence": settings.sentence_precision,
                 "context": settings.context_precision}[kind]
    if kind == "context" and requested == "auto":  # sentences in context follow the sentences
        return vector_precision(settings, "sentence", machine)
    bf16_ok = machine.exportable and machine.has_openvino and machine.cpu_bf16
    if requested == "auto":
        return "bf16" if kind == "sentence" and bf16_ok else "fp32"
    if requested == "bf16" and not bf16_ok:
        raise ModelError(f"QA_{kind.upper()}_PRECISION=bf16 needs the openvino package, a "
                         "mean-pooled model and a CPU with native bfloat16; use auto or fp32")
    if requested in ("int8", "int8-static") and not machine.exportable:
        raise ModelError(f"QA_{kind.upper()}_PRECISION={requested}: {settings.model!r} is not a "
                         "mean-pooled model, so it has no ONNX path")
    return requested


def runtime_name(precision: VectorPrecision, fp32: Fp32Runtime) -> str:
    """bf16 always runs on OpenVINO, int8 on ONNX Runtime, fp32 on the configured runtime."""
    if precision == "bf16":
        return "openvino-bf16"
    if precision in ("int8", "int8-static"):
        return f"onnxruntime-{precision}"
    return f"{_RUNTIME_NAMES[fp32]}-fp32"

