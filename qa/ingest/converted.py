"""What a format reader hands on: the document's plain text with its structure and pages.

Every reader (``qa.ingest.formats``) turns a file into one ``Converted``: plain text made of
blocks (a heading, a paragraph, a list item, a table row, a preformatted block), each block one
stretch of the text, blocks separated by a blank line. Markup never reaches the text, so a
passage shows what a reader reads, and every offset (blocks, pages, later passages and
highlights) indexes exactly the text that the passage store keeps.

A file that cannot be read is a ``Skip`` with its reason, never an exception of the library
that read it: the build lists it and goes on with the other files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "table_row", "preformatted"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("heading", "paragraph", "list_item", "table_row",
                                      "preformatted")

SkipReason = Literal[
    "unsupported type", "empty", "no text layer", "corrupt", "encrypted", "too large", "binary",
    "duplicate id", "invalid id", "unreadable", "timed out", "crashed", "out of memory",
]


class Skip(Exception):
    """A file that is not indexed, and why: ``reason`` is one of ``SkipReason``, ``detail``
    says more for the user (``"page 1-3 have no text layer; install tesseract-ocr-swe"``)."""

    def __init__(self, reason: SkipReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: SkipReason = reason
        self.detail = detail


@dataclass(frozen=True)
class Block:
    """``text[start:end]`` is one block; ``level`` is a heading's level (1-6) or a list item's
    nesting depth (1 = top level), else 0."""

    kind: BlockKind
    start: int
    end: int
    level: int = 0


@dataclass(frozen=True)
class PageSpan:
    """Page ``number`` (1-based, as printed by a PDF viewer) holds ``text[start:end]``."""

    number: int
    start: int
    end: int


@dataclass
class Converted:
    """One file read into plain text with structure; see the module docstring."""

    text: str
    format: str  # "pdf", "docx", "odt", "html", "md", "txt"
    blocks: list[Block] = field(default_factory=list)
    pages: list[PageSpan] = field(default_factory=list)
    title: str | None = None
    date: str | None = None  # ISO date (YYYY-MM-DD) when the file states one
    metadata: dict[str, Any] = field(default_factory=dict)  # e.g. encoding, ocr_pages, author
    warnings: list[str] = field(default_factory=list)  # indexed, but the user should know


class TextAssembler:
    """Builds a ``Converted`` text block by block, keeping every offset exact.

    ``add`` normalises a block's whitespace (runs of spaces and tabs become one space, line
    breaks become spaces unless ``keep_lines``; no blank line stays inside a block), drops
    control characters, and separates blocks by one blank line. Empty blocks are ignored.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []
        self.pages: list[PageSpan] = []
        self._page: tuple[int, int] | None = None  # (number, start)

    @property
    def length(self) -> int:
        return self._length

    def add(self, kind: BlockKind, text: str, level: int = 0, *, keep_lines: bool = False) -> None:
        body = _normalise(text, keep_lines=keep_lines)
        if not body:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(body)
        self._length += len(body)
        self.blocks.append(Block(kind, start, self._length, level))

    def start_page(self, number: int) -> None:
        """Blocks added from now on lie on page ``number`` (until the next ``start_page``)."""
        self.end_page()
        self._page = (number, self._length + (2 if self._parts else 0))

    def end_page(self) -> None:
        if self._page is not None:
            number, start = self._page
            if self._length > start:  # a page without text has no span
                self.pages.append(PageSpan(number, start, self._length))
            self._page = None

    def text(self) -> str:
        return "".join(self._parts)

    def result(self, fmt: str, **fields: Any) -> Converted:
        """The converted document; ``fields`` are ``Converted``'s optional fields."""
        self.end_page()
        return Converted(text=self.text(), format=fmt, blocks=list(self.blocks),
                         pages=list(self.pages), **fields)


_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# C0/C1 controls (tab and newline aside), soft hyphen, zero-width characters, byte-order mark.
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200d\u2060\ufeff]")


def _normalise(text: str, *, keep_lines: bool) -> str:
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return ("\n" if keep_lines else " ").join(line for line in lines if line)
