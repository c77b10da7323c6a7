"""Static int8 quantisation of the exported graph, its activation scales calibrated once.

Dynamic int8 (``model.int8.onnx``) measures each call's activations to quantise them, so a
text's vector moves with its batch neighbours and every question is run alone. Static int8
fixes each activation's scale beforehand, from the ranges the fp32 graph shows on
calibration texts: a vector then depends on its text only, so questions batch, and no call
pays for measuring its activations.

The calibration texts are 32 paragraphs of the seed documents the project ships
(``calibration_sv.txt``, Swedish public-sector prose), each read as a passage and its first
words as a question, with the e5 prompts; each is run alone, so no padding enters a range.
They are not evaluation questions: no test set's question is among them, so the evaluation
figures of this path are not tuned on.

The configuration follows ONNX Runtime's advice for x86 CPUs with VNNI: QDQ format, weights
int8 per output channel, activations uint8 (U8S8, which VNNI computes without the
saturation that AVX2's instruction can suffer), min-max ranges, and only the matrix products
with constant weights quantised; attention's own products, the word lookup and LayerNorm stay
fp32. So do the feed-forward output products (``output.dense``), whose inputs are GELU
outputs with a few large values: one min-max scale over them leaves most values a handful of
levels, and quantising them moved question vectors several times further from fp32
(docs/design/2026-12-06-quantised-questions.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from qa.durable import write_file_atomically
from qa.embed.model_files import ModelFiles
from qa.embed.onnx_export import WORD_TABLE_INPUT
from qa.embed.tokenizer import TextTokenizer
from qa.embed.word_table import WordTable

log = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration_sv.txt"
QUESTION_WORDS = 12  # a calibration question: the first words of a paragraph's first sentence


def calibration_texts(query_prompt: str, passage_prompt: str) -> list[str]:
    """Every bundled paragraph as a passage, and its first words as a question, prompts added."""
    raw = resources.files("qa.embed").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8")
    texts = []
    for paragraph in (line.strip() for line in raw.splitlines()):
        if not paragraph:
            continue
        first = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
        texts += [passage_prompt + paragraph, query_prompt + " ".join(first.split()[:QUESTION_WORDS])]
    return texts


def feed_forward_outputs(graph: Path) -> list[str]:
    """Names of the feed-forward output products (``…/output/dense/MatMul``, not attention's)."""
    import onnx

    nodes = onnx.load(str(graph), load_external_data=False).graph.node
    return [n.name for n in nodes if n.op_type == "MatMul" and n.name.endswith("/output/dense/MatMul")
            and "/attention/" not in n.name]


def quantize_static(full: Path, target: Path, files: ModelFiles, word_table: Path | None = None
                    ) -> None:
    """Write the statically quantised copy of the fp32 graph ``full`` to ``target``.

    ``word_table``: ``full`` is the question graph, which takes its word rows as an input
    (``qa.embed.onnx_export``); the calibration reads them from this table file. The ranges
    are those of the full graph, whose lookup gives the same rows.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
    )
    from onnxruntime.quantization import quantize_static as ort_quantize_static

    tokenizer = TextTokenizer(files.location, files.max_tokens)
    table = WordTable(word_table) if word_table is not None else None
    texts = calibration_texts(files.query_prompt, files.passage_prompt)

    class Texts(CalibrationDataReader):  # type: ignore[misc]
        """One text a call, so that no padding enters the measured ranges."""

        def __init__(self) -> None:
            self._texts: Iterator[str] = iter(texts)

        def get_next(self) -> dict[str, Any] | None:
            text = next(self._texts, None)
            if text is None:
                return None
            inputs = tokenizer.batch([text])
            if table is not None:
                inputs[WORD_TABLE_INPUT] = table.lookup(inputs["input_ids"])
            return inputs

    log.info("calibrating int8 activations on %d texts (once)", len(texts))
    keep_fp32 = feed_forward_outputs(full)

    def write(tmp: Path) -> None:
        ort_quantize_static(
            full, tmp, Texts(), quant_format=QuantFormat.QDQ, op_types_to_quantize=["MatMul"],
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=keep_fp32,
            extra_options={"MatMulConstBOnly": True})

    write_file_atomically(target, write)
