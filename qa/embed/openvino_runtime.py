"""The exported model run by OpenVINO: fp32, or bfloat16 where the CPU computes it natively.

Builds embed every passage and every sentence through it. It runs the same ONNX
export as ``qa.embed.onnx_runtime`` and gives the model's own vectors at fp32
(tested). On a CPU with AVX-512 BF16 (or AMX) it can run the matrix products in
bfloat16 with float32 accumulation: vectors stay next to fp32 and, unlike
dynamic int8, do not depend on their batch (tested). By default sentences take
bf16 and passages fp32, which keeps every evaluation figure of the fp32 model;
bf16 passages flipped one near-tie per test set (README). Questions take this
path only when asked for (``QA_QUERY_PRECISION=bf16``): more questions per
second for more memory, and one near-tie per test set moves (README).
"""

from __future__ import annotations

import atexit
import os
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from qa.embed.onnx_export import WORD_TABLE_INPUT
from qa.embed.tokenizer import TextTokenizer
from qa.embed.word_table import WordTable

OvPrecision = Literal["fp32", "bf16"]


def available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def cpu_has_bf16() -> bool:
    """True when the CPU plugin reports native bfloat16 (AVX-512 BF16 or AMX)."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


_LIVE: weakref.WeakSet[OpenVinoEncoder] = weakref.WeakSet()


@atexit.register
def _release_all() -> None:
    """Free compiled models before the interpreter tears down (OpenVINO threads outliving it abort)."""
    for encoder in list(_LIVE):
        encoder.close()


class OpenVinoEncoder:
    """Compiled once per process (from a compile cache beside the export after the first time).

    One synchronous request of all cores: as fast as two single-core streams fed
    asynchronously (within noise) for less memory, and no Python callbacks on
    OpenVINO's threads.
    """

    def __init__(self, path: Path, tokenizer: TextTokenizer, dim: int, precision: OvPrecision,
                 threads: int = 0, word_table: Path | None = None, *,
                 max_batch_tokens: int = 0) -> None:
        """``max_batch_tokens``: run a batch whose padded tokens (texts × width) exceed it in
        slices of fewer texts, each at the batch's width, so that the working set is bounded by
        it rather than by batch size × the longest text (0: no bound). The vectors are the same
        bit for bit: only the batch dimension changes, never the width (tested)."""
        import openvino as ov

        core = ov.Core()
        core.set_property({"CACHE_DIR": str(path.parent / "openvino")})
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": threads or (os.cpu_count() or 1),
        }
        self.compiled: Any = core.compile_model(str(path), "CPU", config)
        self.request: Any = self.compiled.create_infer_request()
        self.tokenizer = tokenizer
        self.dim = dim
        self.name = f"openvino-{precision}"
        self.precision = precision
        self.max_batch_tokens = max_batch_tokens
        # The question graph takes its word rows as an input (see qa.embed.onnx_export).
        self._table = WordTable(word_table) if word_table is not None else None
        _LIVE.add(self)

    def close(self) -> None:
        self.request = self.compiled = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One batch as given."""
        inputs = self.tokenizer.batch(texts)
        if self._table is not None:
            inputs[WORD_TABLE_INPUT] = self._table.lookup(inputs["input_ids"])
        rows, width = inputs["input_ids"].shape
        step = max(1, self.max_batch_tokens // max(width, 1)) if self.max_batch_tokens else rows
        if step >= rows:
            return self._infer(inputs)
        return np.concatenate([self._infer({k: v[i:i + step] for k, v in inputs.items()})
                               for i in range(0, rows, step)])

    def _infer(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        self.request.infer(inputs)
        return np.array(self.request.get_output_tensor(0).data, dtype=np.float32)
