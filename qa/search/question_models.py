"""Which question encoder serves an index: the model its manifest names, loaded once per model.

An index embedded with a model that ``qa adapt`` adapted to it names that model in its
manifest (``Manifest.model_for``); its questions must be embedded by the same model. The
service's configured model is loaded once and shared by every index built with it; an adapted
model is loaded the first time an index needs it and shared likewise, so serving an adapted
collection costs what serving the base costs, and collections on the same model keep sharing
one encoder (and its cache of question vectors).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from qa.embed.question_encoder import QuestionEncoder, open_question_encoder
from qa.index import generations
from qa.index.manifest import load_manifest, read_manifest
from qa.settings import EmbedSettings

logger = logging.getLogger(__name__)


def with_model(embed: EmbedSettings, model: str) -> EmbedSettings:
    """``embed`` with ``model`` as its model (``embed`` itself when it already is)."""
    return embed if model == embed.model else embed.model_copy(update={"model": model})


def embed_settings_for(index_dir: Path, embed: EmbedSettings) -> EmbedSettings:
    """``embed`` with the model the published generation of ``index_dir`` was embedded with
    (its adapted model, where it has one); ``embed`` itself otherwise."""
    return with_model(embed, read_manifest(index_dir).model_for(embed.model))


class QuestionEncoders:
    """The question encoders of one service, one per model; thread-safe."""

    def __init__(self, embed: EmbedSettings, base: QuestionEncoder | None = None) -> None:
        """``embed``: the service's settings; ``base``: its model's encoder if already loaded."""
        self.embed = embed
        self._loaded: dict[str, QuestionEncoder] = {}
        if base is not None:
            self._loaded[embed.model] = base
        self._lock = threading.Lock()

    def for_model(self, model: str) -> QuestionEncoder:
        """The encoder of ``model`` (the configured one, or an adapted model's directory)."""
        with self._lock:
            found = self._loaded.get(model)
            if found is None:
                found = open_question_encoder(with_model(self.embed, model))
                if model != self.embed.model:
                    logger.info("loaded the question encoder of %s", model)
                self._loaded[model] = found
            return found

    def for_generation(self, generation: generations.Generation) -> QuestionEncoder:
        """The encoder for the questions of ``generation`` (by its manifest)."""
        return self.for_model(load_manifest(generation.path).model_for(self.embed.model))

    def for_index(self, index_dir: Path) -> QuestionEncoder:
        """The encoder for the questions of ``index_dir``'s published generation."""
        return self.for_model(read_manifest(index_dir).model_for(self.embed.model))

    @property
    def base(self) -> QuestionEncoder:
        """The configured model's encoder (loaded on first use)."""
        return self.for_model(self.embed.model)
