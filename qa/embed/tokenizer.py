"""The model's own tokenizer, run by the ``tokenizers`` library alone (no transformers, no torch).

sentence-transformers tokenizes through transformers' fast tokenizer, which wraps
this same ``tokenizer.json``; reading it directly gives the same token ids
(tested) without importing transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.errors import ModelError


class TextTokenizer:
    """Token ids and attention masks, truncated to the model's window and padded per batch."""

    def __init__(self, model_dir: Path, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # the Rust library raises its own exception types
            raise ModelError(f"{model_dir}: cannot read tokenizer.json ({exc})") from None
        config = _config(model_dir / "tokenizer_config.json")
        # transformers' split_special_tokens: "<s>" typed in a text is text, not the special token.
        self._tokenizer.encode_special_tokens = bool(config.get("split_special_tokens", False))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        pad = config.get("pad_token", "<pad>")
        pad_id = self._tokenizer.token_to_id(pad if isinstance(pad, str) else "<pad>")
        self.pad_id = int(pad_id if pad_id is not None else 0)
        self.max_tokens = max_tokens

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text with special tokens, not truncated."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def batch(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """``input_ids`` and ``attention_mask`` (int64), truncated and padded to the longest text."""
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = [e.ids[: self.max_tokens] for e in encodings]
        for row, e in zip(ids, encodings, strict=True):
            if len(e.ids) > self.max_tokens:  # keep the closing special token, as truncation does
                row[-1] = e.ids[-1]
        width = max((len(r) for r in ids), default=0)
        input_ids = np.full((len(ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, r in enumerate(ids):
            input_ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}


def _config(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
