"""Publishing an adopted model: its serving exports, then a new generation embedded with it.

The adapted model is written into the index directory (``models/<name>/``, beside the
generations, so that every generation built with it finds it), and prepared exactly as
``qa model`` prepares the base: ONNX graphs for the build's passage runtime and for every
question path ``auto`` may take (``qa.embed.build_encoder.prepare``). The collection is then
re-embedded into a new generation by the ordinary build (``qa.index.build.stage``), under the
build lock, and its manifest records the adaptation (model, pairs, training, the check that
adopted it) before the generation is published. The model's id in the manifest is its
directory, which is what the service loads its question encoder from.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any

from qa.embed.build_encoder import BuildEncoder, prepare
from qa.index import generations
from qa.index.build import stage
from qa.index.manifest import Manifest
from qa.settings import EmbedSettings, IndexSettings

log = logging.getLogger(__name__)

MODELS = "models"


def model_name(index_dir: Path, record: dict[str, Any]) -> str:
    """A name for an adapted model that no other adaptation of the collection shares."""
    digest = hashlib.sha256(repr(sorted(record.items())).encode()).hexdigest()[:12]
    return f"adapted-{digest}"


def install_model(trained: Path, index_dir: Path, name: str) -> Path:
    """Move the trained model directory into the index directory's ``models/``."""
    target = index_dir / MODELS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(trained), target)
    return target


def publish_adapted(model_dir: Path, embed: EmbedSettings, index: IndexSettings, index_dir: Path,
                    record: dict[str, Any], log_line: Any = None) -> Manifest:
    """Export the adapted model's runtimes, re-embed the collection with it into a new
    generation recording ``record`` as its ``adaptation``, and publish that generation."""
    settings = embed.model_copy(update={"model": str(model_dir.resolve()),
                                        "query_prompt": None, "passage_prompt": None})
    files = prepare(settings)
    encoder = BuildEncoder(settings, files)
    encoder.load(sentences=index.sentence_vectors)
    say = log_line or (lambda _m: None)
    with generations.build_lock(index_dir, index.build_lock_timeout):
        staged = stage([], encoder, index, index_dir, add=True, log=say)
        manifest = staged.manifest.model_copy(update={"adaptation": record})
        manifest.write(staged.path)
        published = generations.publish(index_dir, staged.path)
    log.info("published adapted generation %d of %s", published.number, index_dir)
    return manifest
