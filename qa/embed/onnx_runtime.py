"""The exported model run by ONNX Runtime: the model's own vectors at fp32, without torch.

Questions go through ``question.onnx``, their words looked up in the table file
(``qa.embed.word_table``, see ``qa.embed.onnx_export``); passages can go through the full graph. The int8
copy quantises activations with one scale per call, so a text's vector would move
with its neighbours and their padding; ``per_text`` embeds each text alone, which
makes its vector depend on the text only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.embed.onnx_export import WORD_TABLE_INPUT
from qa.embed.tokenizer import TextTokenizer
from qa.embed.word_table import WordTable


class OnnxRuntimeEncoder:
    """One ONNX Runtime session over an exported graph; implements ``TextEncoder``."""

    def __init__(self, graph: Path, tokenizer: TextTokenizer, dim: int, *, threads: int = 0,
                 per_text: bool = False, word_table: Path | None = None, name: str = "",
                 spin: bool = True) -> None:
        """``spin=False``: the session's threads sleep as soon as they have no work instead of
        spinning a while for more, which costs less CPU where calls are short and far apart
        and keeps a thread from spinning on a core another thread needs."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.dim = dim
        self.per_text = per_text
        self.name = name
        self._table = WordTable(word_table) if word_table is not None else None

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        inputs = self.tokenizer.batch(texts)
        if self._table is not None:
            inputs[WORD_TABLE_INPUT] = self._table.lookup(inputs["input_ids"])
        return self.session.run(["embedding"], inputs)[0]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.per_text and len(texts) > 1:
            vectors = np.concatenate([self._run([t]) for t in texts])
        else:
            vectors = self._run(texts)
        return np.ascontiguousarray(vectors, dtype=np.float32)
