"""A document: its exact text, title, date, structure, pages and metadata, its original file,
and what makes a valid id."""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from qa.errors import CorpusError
from qa.ingest.converted import Block, PageSpan
from qa.ingest.structure import Layout, Section, analyse

_SEGMENT = re.compile(r"[\w.\-]+")
_MAX_ID = 200


def is_valid_id(doc_id: str) -> bool:
    """1-200 characters: '/'-separated segments of letters, digits, '.', '_' or '-'.

    Segments are folder names (``kommun/bygglov/taxa``), so ids stay safe in URLs, file names
    and citations; ``.`` and ``..`` segments are refused.
    """
    if not 0 < len(doc_id) <= _MAX_ID:
        return False
    return all(_SEGMENT.fullmatch(part) and part not in (".", "..") for part in doc_id.split("/"))


@dataclass(frozen=True)
class Original:
    """The file a document was read from, kept so that it can be downloaded as it was.

    ``source`` is where the build reads it from (not stored); ``sha256`` names the stored copy.
    """

    filename: str  # as found, relative to the folder read
    media_type: str
    size: int
    sha256: str
    source: Path | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"filename": self.filename, "media_type": self.media_type, "size": self.size,
                "sha256": self.sha256}


@dataclass
class Document:
    """A source document; ``text`` is kept exactly as read so offsets stay exact."""

    id: str
    text: str
    title: str
    date: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    layout: Layout | None = field(default=None, repr=False, compare=False)
    format: str = "txt"
    blocks: list[Block] = field(default_factory=list)  # empty: plain text, structure analysed
    pages: list[PageSpan] = field(default_factory=list)
    original: Original | None = None

    @property
    def fingerprint(self) -> str:
        """Content hash: an unchanged document need not be embedded again."""
        content: list[Any] = [self.id, self.title, self.text]
        if self.blocks or self.pages:  # plain text keeps the hash it always had
            content += [[tuple(b.__dict__.values()) for b in self.blocks],
                        [tuple(p.__dict__.values()) for p in self.pages]]
        payload = json.dumps(content, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def outline(self) -> list[Block]:
        """The document's blocks: a reader's, or for plain text those its lines show."""
        if self.blocks:
            return list(self.blocks)
        layout = self.layout or analyse(self.text)
        return layout.blocks()

    def pages_of(self, start: int, end: int) -> tuple[int, int] | None:
        """First and last page that ``text[start:end]`` lies on; None without pages."""
        if not self.pages:
            return None
        starts = self._page_starts
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        last = max(bisect.bisect_left(starts, end) - 1, first)
        return self.pages[first].number, self.pages[last].number

    @cached_property
    def _page_starts(self) -> list[int]:
        return [p.start for p in self.pages]


def make_document(
    doc_id: str, text: str, title: str | None = None, date: str | None = None, *,
    format: str = "txt", blocks: list[Block] | None = None, pages: list[PageSpan] | None = None,
    original: Original | None = None, metadata: Mapping[str, Any] | None = None,
) -> Document:
    """Build a document, deriving title, date and sections from its text where not given.

    ``blocks`` (from a format reader) say what each stretch of the text is; without them the
    text's lines are analysed (see ``structure``).
    """
    if not is_valid_id(doc_id):
        raise CorpusError(
            f"invalid document id {doc_id!r}: use 1-200 letters, digits, '.', '_', '-' "
            "and '/' between folder names"
        )
    layout = analyse(text, blocks or None, format)
    meta = {**layout.metadata, **(metadata or {})}
    return Document(
        id=doc_id,
        text=text,
        title=(title or layout.title or doc_id).strip(),
        date=date or layout.date,
        metadata=meta,
        sections=layout.sections,
        layout=layout,
        format=format,
        blocks=list(blocks or []),
        pages=list(pages or []),
        original=original,
    )
