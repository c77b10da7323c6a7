"""A ``TextAssembler`` that stops a reader as soon as the text passes ``max_chars``.

Readers add block after block; checking the length as it grows means a huge document is
skipped after reading a little past the limit instead of after building the whole string.
"""

from __future__ import annotations

from qa.ingest.converted import BlockKind, Skip, TextAssembler


class BoundedAssembler(TextAssembler):
    """``TextAssembler`` whose ``add`` raises ``Skip("too large")`` past ``max_chars``."""

    def __init__(self, max_chars: int) -> None:
        super().__init__()
        self.max_chars = max_chars

    def add(self, kind: BlockKind, text: str, level: int = 0, *, keep_lines: bool = False) -> None:
        if len(text) > self.max_chars:  # one block alone is too long: do not normalise it first
            raise Skip("too large", f"more than {self.max_chars:,} characters of text")
        super().add(kind, text, level, keep_lines=keep_lines)
        if self.length > self.max_chars:
            raise Skip("too large", f"more than {self.max_chars:,} characters of text")
