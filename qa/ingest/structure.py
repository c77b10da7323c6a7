"""What each line of a document is: text, heading, dateline or site furniture.

Web pages saved as text carry navigation, contact boxes and teasers for other
articles. Those lines must never become (or dominate) a passage, so they are
recognised here once, and the passage builder only ever sees content lines.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from qa.ingest.converted import Block
from qa.ingest.dates import WEEKDAYS, WRITTEN_DATE, find_date, find_year, parse_written

Role = Literal["text", "heading", "dateline", "furniture"]

# Whole lines that are site chrome, never content (compared lower-cased, stripped).
_FURNITURE_LINES = re.compile(
    r"""^(?:
        fler\ nyheter | relaterade\ nyheter | relaterat | nyheter | sök | meny | stäng
      | dela(?:\ sidan)? | skriv\ ut | till\ toppen | tillbaka | hoppa\ till\ (?:huvud)?innehåll(?:et)?
      | kontakt(?:er|a\ oss)? | växel | växel:.* | telefon(?:nummer)?:.* | tel\.?:.* | e-?post:.*
      | hade\ du\ nytta\ av\ innehållet\ på\ denna\ sida\?? | var\ sidan\ till\ hjälp\??
      | senast\ (?:uppdaterad|ändrad|granskad)\b.* | sidan\ uppdaterades\b.*
      | läs\ mer(?:\ om\b.*)? | cookies?\b.* | följ\ oss\b.* | dela\ på\ \w+
      | .{0,60}\bwebbplats\ för\b.{0,60}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# A heading after which the rest of a page is teasers or contact details.
_TAIL_TRIGGERS = re.compile(
    r"""^(?:relaterade\ nyheter | relaterat | kontakter | kontakt
        | hade\ du\ nytta\ av\ innehållet\ på\ denna\ sida\??)$""",
    re.IGNORECASE | re.VERBOSE,
)
_TAIL_MAX_CHARS = 3000
_REPEATED = re.compile(r"^(?P<p>.{3,60}?)\s+(?P=p)$")  # "Region Örebro län Region Örebro län"
_DATELINE = re.compile(rf"^(?:{WRITTEN_DATE.pattern})$", re.IGNORECASE)
# A weekday dateline glued to the end of the previous paragraph: "…i länet.fredag 16 november 2012"
_GLUED_DATELINE = re.compile(
    rf"(?<=[.!?…])(?P<date>(?:{'|'.join(WEEKDAYS)})\s+\d{{1,2}}\s+\w+\s+(?:19|20)\d\d)\s*$",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"^(?:[-–•*·]|\d{1,2}[.)])\s")
_HEADING_MAX_CHARS = 160
_HEADING_MAX_WORDS = 20
_SHORT_HEADING_WORDS = 12


@dataclass(frozen=True)
class Line:
    """One non-blank line: ``text`` is exactly ``document[start:end]``."""

    start: int
    end: int
    text: str
    role: Role
    paragraph_start: bool

    @property
    def label(self) -> str:
        """The line as a heading or title: markdown markers and trailing colons removed."""
        return self.text.lstrip("#").strip().rstrip(":").strip()


@dataclass(frozen=True)
class Section:
    """A stretch of a document under one heading or dateline."""

    start: int
    end: int
    title: str | None
    date: str | None


@dataclass
class Layout:
    """The analysed shape of a document."""

    lines: list[Line]
    title: str | None
    date: str | None
    sections: list[Section] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    _starts: list[int] | None = field(default=None, repr=False)

    def blocks(self) -> list[Block]:
        """The lines as blocks, for showing plain text with its structure: a heading line is a
        heading, a line that starts with a list marker a list item, any other a paragraph."""
        return [Block("heading", ln.start, ln.end, 2) if ln.role == "heading"
                else Block("list_item", ln.start, ln.end, 1) if _LIST_ITEM.match(ln.text)
                else Block("paragraph", ln.start, ln.end) for ln in self.lines]

    def section_at(self, offset: int) -> Section | None:
        """The innermost section holding ``offset`` (sections are sorted by start, outer first)."""
        if self._starts is None:
            self._starts = [section.start for section in self.sections]
        i = bisect.bisect_right(self._starts, offset)
        while i > 0:  # the nearest section starting before offset is the innermost, if it holds it
            i -= 1
            section = self.sections[i]
            if offset < section.end:
                return section
        return None


def _raw_lines(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, paragraph_start) of each stripped non-blank line, datelines unglued."""
    pos = 0
    blank_before = True
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if not stripped:
            blank_before = True
            pos += len(raw)
            continue
        start = pos + (len(body) - len(body.lstrip()))
        end = start + len(stripped)
        glued = _GLUED_DATELINE.search(stripped)
        if glued and glued.start() > 0:
            cut = start + glued.start()
            yield start, cut, blank_before
            yield cut, end, True
        else:
            yield start, end, blank_before
        blank_before = False
        pos += len(raw)


def _is_heading_shape(text: str, max_words: int = _HEADING_MAX_WORDS) -> bool:
    words = text.split()
    return (
        len(text) <= _HEADING_MAX_CHARS
        and len(words) <= max_words
        and not _LIST_ITEM.match(text)
        and not text.endswith((".", "!", ",", ";", "…", "”", '"'))
    )


def _is_heading(text: str) -> bool:
    """Short, or a question, or set in capitals: how headings look in saved pages."""
    if text.startswith("#"):
        return True
    if text.endswith("?") or (text.isupper() and len(text) > 3):
        return _is_heading_shape(text)
    return _is_heading_shape(text, max_words=_SHORT_HEADING_WORDS)


def _classify(text: str, spans: list[tuple[int, int, bool]]) -> list[Line]:
    lines: list[Line] = []
    tail_from: int | None = None
    for i, (start, end, para) in enumerate(spans):
        body = text[start:end]
        lower = body.lower()
        if tail_from is None and _TAIL_TRIGGERS.match(lower) and len(text) - end <= _TAIL_MAX_CHARS:
            tail_from = i
        role: Role
        if tail_from is not None or _FURNITURE_LINES.match(lower) or _REPEATED.match(body):
            role = "furniture"
        elif _DATELINE.match(body):
            role = "dateline"
        else:
            role = "text"
        lines.append(Line(start, end, body, role, para))
    # A heading is a short line that introduces longer text after it.
    for i, line in enumerate(lines):
        if line.role != "text" or not _is_heading(line.text):
            continue
        nxt = next((n for n in lines[i + 1 :] if n.role != "furniture"), None)
        if line.text.startswith("#") or (
            nxt is not None
            and nxt.role == "text"
            and len(nxt.text) > max(len(line.text) * 1.3, 40)
            and not nxt.text.endswith("?")
            and (nxt.paragraph_start or len(line.text.split()) <= 8)
        ):
            lines[i] = Line(line.start, line.end, line.text, "heading", line.paragraph_start)
    return lines


def _title_of(lines: list[Line]) -> str | None:
    content = [ln for ln in lines if ln.role in ("text", "heading")]
    if not content:
        return None
    first = content[0]
    if first.role == "heading" or (
        _is_heading_shape(first.text) and not first.text.rstrip().endswith((":", "?"))
    ):
        return first.label
    sentence = re.split(r"(?<=[.!?…])\s", first.text, maxsplit=1)[0]
    return sentence if len(sentence) <= 90 else sentence[:87].rstrip() + "…"


def _date_of(lines: list[Line], title: str | None) -> tuple[str | None, dict[str, str]]:
    meta: dict[str, str] = {}
    for line in lines:
        if line.role == "furniture" and line.text.lower().startswith(("senast", "sidan uppdaterades")):
            updated = find_date(line.text)
            if updated:
                meta["updated"] = updated
    for line in lines:
        if line.role == "dateline":
            m = WRITTEN_DATE.search(line.text)
            if m:
                return parse_written(m), meta
    if title:
        stated = find_date(title) or find_year(title)
        if stated:
            return stated, meta
    return meta.get("updated"), meta


def _sections(text: str, lines: list[Line], doc_date: str | None) -> list[Section]:
    """Dated posts, and headings inside them, as nested sections."""
    sections: list[Section] = []
    content = [ln for ln in lines if ln.role != "furniture"]
    if not content:
        return sections
    end_of_content = content[-1].end
    datelines = [ln for ln in content if ln.role == "dateline"]
    posts: list[Section] = []
    if len(datelines) >= 2:
        for i, dl in enumerate(datelines):
            stop = datelines[i + 1].start if i + 1 < len(datelines) else end_of_content
            m = WRITTEN_DATE.search(dl.text)
            posts.append(Section(dl.start, stop, dl.text, parse_written(m) if m else None))
        sections.extend(posts)
    headings = [ln for ln in content if ln.role == "heading"]
    for i, h in enumerate(headings):
        post = next((p for p in posts if p.start <= h.start < p.end), None)
        limit = post.end if post else end_of_content
        nxt = headings[i + 1].start if i + 1 < len(headings) else limit
        date = post.date if post else doc_date
        sections.append(Section(h.start, min(nxt, limit), h.label, date))
    sections.sort(key=lambda s: (s.start, -s.end))
    return sections


# Formats whose text may still carry site or page furniture after conversion.
_FURNITURE_FORMATS = ("html", "pdf")


def _block_lines(text: str, blocks: Sequence[Block], fmt: str) -> list[Line]:
    """Lines of a converted document: the reader's blocks say what is a heading.

    No heading is guessed and no tail is cut: a document with explicit structure is taken
    at its word. Datelines are still recognised, furniture only where conversion leaves some.
    """
    lines: list[Line] = []
    for block in blocks:
        pos = block.start
        for n, body in enumerate(text[block.start:block.end].split("\n")):
            start, end = pos, pos + len(body)
            pos = end + 1
            if not body.strip():
                continue
            role: Role = "text"
            if block.kind == "heading":
                role = "heading"
            elif fmt in _FURNITURE_FORMATS and (_FURNITURE_LINES.match(body.lower())
                                                or _REPEATED.match(body)):
                role = "furniture"
            elif _DATELINE.match(body):
                role = "dateline"
            lines.append(Line(start, end, body, role, n == 0))
    return lines


def analyse(text: str, blocks: Sequence[Block] | None = None, fmt: str = "txt") -> Layout:
    """Classify every line and derive title, date and sections.

    Plain text is analysed line by line; a converted document's ``blocks`` decide instead.
    """
    lines = _block_lines(text, blocks, fmt) if blocks else _classify(text, list(_raw_lines(text)))
    title = _title_of(lines)
    date, meta = _date_of(lines, title)
    return Layout(lines, title, date, _sections(text, lines, date), meta)
