"""Rich Text Format (RTF): paragraphs, headings, list items and table rows.

striprtf (BSD-3-Clause) turns the RTF into text: it decodes ``\\'e5`` escapes in the
document's code page (``\\ansicpg``, or a font's ``\\fcharset``), ``\\uN`` Unicode escapes
with their fallback characters skipped (``\\ucN``), and leaves out the destinations that are
no text (font and style tables, headers and footers, pictures, fields' instructions). It
returns plain text only, so before it runs the control words that carry structure are
replaced by private-use characters that it passes through as text (an ``\\uN`` escape in a
group of its own), and read back from its output:

- ``\\par`` ends a paragraph (striprtf's line break);
- ``\\sN`` is a paragraph's style: a style named "heading N", "Rubrik N" or "Title"/"Rubrik"
  in the document's style sheet makes the paragraph a heading of that level; so does an
  ``\\outlinelevelN`` (Word writes both);
- ``{\\listtext …}`` (the bullet or number a list item shows) with ``\\ilvlN`` makes a list
  item at depth N + 1, the bullet itself left out;
- ``\\intbl`` (a paragraph inside a table), ``\\cell`` and ``\\row`` make each table row one
  block, its cells joined by ``" | "``.

Title and creation date come from the ``\\info`` group.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted, Skip
from qa.ingest.formats.bounded import BoundedAssembler

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

# Private-use code points that stand for the structure in striprtf's output.
_CELL, _ROW, _IN_TABLE, _LIST = "\ue000", "\ue001", "\ue002", "\ue003"
_HEADING = 0xE010  # + level (1-9)
_LIST_LEVEL = 0xE020  # + level (0-8)
_MARKS = re.compile("[\ue000-\ue0ff]")

_CONTROL = re.compile(r"\\(cell|nestcell|row|nestrow|intbl|listtext|ilvl|outlinelevel|s)(-?\d*) ?(?![a-z])")
_STYLE = re.compile(r"\{[^{}]*?\\s(\d+)\b[^{}]*?\s([^\\{};][^{};]*);\s*\}")
_HEADING_STYLE = re.compile(r"^(?:heading|rubrik|überschrift|titre)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "rubrik", "titel"}
# Hex-encoded binary data (\\pict, \\objdata); a run this long is never prose.
_HEX_DATA = re.compile(r"(?:[0-9a-fA-F]{2}[\r\n]*){256,}")
_CREATED = re.compile(r"\{\\creatim\\yr(\d{4})\\mo(\d{1,2})\\dy(\d{1,2})")


def read(path: Path, options: ReadOptions) -> Converted:
    """An RTF file (see the module docstring)."""
    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise Skip("corrupt", "not an RTF file (it does not begin with {\\rtf)")
    if len(data) > options.max_chars * 20:  # markup included: the text is far shorter
        raise Skip("too large", f"more than {options.max_chars:,} characters of text")
    from striprtf.striprtf import rtf_to_text

    source = data.decode("latin-1")  # RTF is 7-bit; 8-bit bytes are decoded by striprtf's rules
    source = _HEX_DATA.sub("", source)  # pictures' and objects' data: no text, much time
    headings = _heading_styles(source)
    text = rtf_to_text(_mark(source, headings), errors="replace")
    assembler = BoundedAssembler(options.max_chars)
    _blocks(text, assembler)
    title = _info(source, "title", rtf_to_text)
    warnings = []
    if _open_groups(source) > 0:
        warnings.append("the file ends before its groups close (cut off?): the text up to the "
                        "cut is indexed")
    return assembler.result("rtf", title=title, date=_created(source), warnings=warnings)


def _open_groups(source: str) -> int:
    """Groups opened and not closed by the end of the file (escaped braces aside)."""
    plain = source.replace("\\\\", "").replace("\\{", "").replace("\\}", "")
    return plain.count("{") - plain.count("}")


def _heading_styles(source: str) -> dict[int, int]:
    """Style number → heading level, from the style sheet's style names."""
    start = source.find("{\\stylesheet")
    if start < 0:
        return {}
    levels = {}
    for match in _STYLE.finditer(source, start, _group_end(source, start)):
        name = match.group(2).strip()
        heading = _HEADING_STYLE.match(name)
        if heading and 1 <= int(heading.group(1)) <= 9:
            levels[int(match.group(1))] = min(int(heading.group(1)), 6)
        elif name.lower() in _TITLE_STYLES:
            levels[int(match.group(1))] = 1
    return levels


def _group_end(source: str, start: int) -> int:
    depth = 0
    for index in range(start, len(source)):
        char = source[index]
        if char == "\\":
            continue
        if char == "{" and source[index - 1] != "\\":
            depth += 1
        elif char == "}" and source[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(source)


def _mark(source: str, headings: dict[int, int]) -> str:
    """The RTF with its structural control words replaced by marks striprtf passes on."""

    def mark(char: str) -> str:
        return f"{{\\uc1\\u{ord(char)}?}}"

    def replace(match: re.Match) -> str:
        word, arg = match.group(1), match.group(2)
        number = int(arg) if arg.lstrip("-").isdigit() else 0
        if word in ("cell", "nestcell"):
            return mark(_CELL)
        if word in ("row", "nestrow"):
            return mark(_ROW)
        if word == "intbl":
            return mark(_IN_TABLE)
        if word == "listtext":
            return match.group(0) + mark(_LIST)
        if word == "ilvl":
            return mark(chr(_LIST_LEVEL + min(max(number, 0), 8)))
        if word == "outlinelevel":
            return mark(chr(_HEADING + min(number + 1, 6))) if 0 <= number < 9 else ""
        if word == "s" and arg:
            level = headings.get(number)
            return match.group(0) + (mark(chr(_HEADING + level)) if level else "")
        return match.group(0)

    return _CONTROL.sub(replace, source)


def _blocks(text: str, assembler: BoundedAssembler) -> None:
    """Paragraphs and table rows from striprtf's output with its marks."""
    cells: list[str] = []  # the cells of the row being read
    parts: list[str] = []  # the paragraphs of the cell being read
    for part in re.split(f"(\n|{_CELL}|{_ROW})", text):
        if part == "\n":
            continue
        if part == _CELL:
            cells.append(" ".join(_plain(p) for p in parts))
            parts = []
        elif part == _ROW:
            if any(_plain(p) for p in parts):
                cells.append(" ".join(_plain(p) for p in parts))
            assembler.add("table_row", " | ".join(cell for cell in cells if cell.strip()))
            cells, parts = [], []
        elif cells or _IN_TABLE in part:
            parts.append(part)
        else:
            _paragraph(part, assembler)
    if cells or parts:  # a table without its last \row
        cells.append(" ".join(_plain(p) for p in parts))
        assembler.add("table_row", " | ".join(cell for cell in cells if cell.strip()))


def _paragraph(part: str, assembler: BoundedAssembler) -> None:
    heading = max((ord(c) - _HEADING for c in part if _HEADING < ord(c) <= _HEADING + 9), default=0)
    if heading:
        assembler.add("heading", _plain(part), heading)
    elif _LIST in part:
        levels = [ord(c) - _LIST_LEVEL for c in part if _LIST_LEVEL <= ord(c) < _LIST_LEVEL + 9]
        body = part.split(_LIST, 1)[1]
        body = body.split("\t", 1)[1] if "\t" in body else body  # the bullet or number shown
        assembler.add("list_item", _plain(body), (levels[-1] if levels else 0) + 1)
    else:
        assembler.add("paragraph", _plain(part))


def _plain(text: str) -> str:
    return " ".join(_MARKS.sub("", text).split())


def _info(source: str, name: str, rtf_to_text) -> str | None:
    group = r"\{\\" + name + r"\s+((?:[^{}\\]|\\[^a-z]|\\[a-z]+-?\d* ?)*)\}"
    match = re.search(group, source[:200_000])
    if not match:
        return None
    return " ".join(rtf_to_text("{\\rtf1 " + match.group(1) + "}", errors="replace").split()) or None


def _created(source: str) -> str | None:
    match = _CREATED.search(source[:200_000])
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"
