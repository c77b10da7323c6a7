"""Word documents (DOCX): body paragraphs and tables in document order, with their structure.

python-docx (MIT) reads the document. Headings come from the paragraph's style (the built-in
"Heading N", a Swedish "Rubrik N", "Title"/"Rubrik" as level 1, or a style based on one of
them) or from an outline level set on the paragraph or its style. List items are paragraphs
with numbering (``w:numPr``; level = ``ilvl`` + 1) or in a List style. Each table row is one
block, its cells joined by ``" | "``. Content controls (``w:sdt``) are read through; headers,
footers, comments and the tracked deletions are not text of the document. Title and
creation date come from the core properties.

The zip archive is checked (``zipped.check_zip``) before python-docx opens it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.zipped import check_zip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_HEADING_NAME = re.compile(r"^(?:heading|rubrik|überschrift|titre)\s*(\d)$", re.IGNORECASE)
_TITLE_NAMES = {"title", "rubrik", "titel"}
_LIST_NAME = re.compile(r"^(?:list|lista|liststycke|punktlista|numrerad lista)", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read(path: Path, options: ReadOptions) -> Converted:
    """A DOCX file (see the module docstring)."""
    check_zip(path, options.max_unzipped_bytes, "DOCX")
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    document = docx.Document(str(path))
    assembler = BoundedAssembler(options.max_chars)
    _body(document.element.body, document, assembler)
    title = date = None
    package = document.part.package
    try:
        package.part_related_by(RT.CORE_PROPERTIES)  # else python-docx invents "Word Document"
    except KeyError:
        pass
    else:
        core = document.core_properties
        title = " ".join((core.title or "").split()) or None
        date = core.created.date().isoformat() if core.created else None
    return assembler.result("docx", title=title, date=date)


def _body(container, document, assembler: BoundedAssembler) -> None:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in container.iterchildren():
        if child.tag == f"{_W}p":
            _paragraph(Paragraph(child, document.part), assembler)
        elif child.tag == f"{_W}tbl":
            _table(Table(child, document.part), assembler)
        elif child.tag == f"{_W}sdt":
            for content in child.iterchildren(f"{_W}sdtContent"):
                _body(content, document, assembler)


def _paragraph(paragraph, assembler: BoundedAssembler) -> None:
    text = paragraph.text
    if not text.strip():
        return
    style = _style_of(paragraph)
    level = _heading_level(paragraph, style)
    if level:
        assembler.add("heading", text, level)
        return
    list_level = _list_level(paragraph, style)
    if list_level:
        assembler.add("list_item", text, list_level)
    else:
        assembler.add("paragraph", text)


def _style_of(paragraph):
    try:
        return paragraph.style
    except (KeyError, ValueError):  # a style reference the document does not define
        return None


def _styles(style):
    """The style and the styles it is based on, nearest first."""
    seen = 0
    while style is not None and seen < 10:
        yield style
        style = style.base_style
        seen += 1


def _heading_level(paragraph, style) -> int:
    for candidate in _styles(style):
        name = (candidate.name or "").strip()
        style_id = (candidate.style_id or "").strip()
        for value in (name, style_id, re.sub(r"(\D)(\d)$", r"\1 \2", style_id)):
            match = _HEADING_NAME.match(value)
            if match and 1 <= int(match.group(1)) <= 9:
                return min(int(match.group(1)), 6)
            if value.lower() in _TITLE_NAMES:
                return 1
    outline = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    for candidate in _styles(style):
        if outline:
            break
        outline = candidate.element.xpath("./w:pPr/w:outlineLvl/@w:val")
    if outline and outline[0].isdigit() and int(outline[0]) < 9:  # 9 is "body text"
        return min(int(outline[0]) + 1, 6)
    return 0


def _list_level(paragraph, style) -> int:
    num_pr = paragraph._p.xpath("./w:pPr/w:numPr")
    for candidate in _styles(style):
        if num_pr:
            break
        num_pr = candidate.element.xpath("./w:pPr/w:numPr")
    if num_pr:
        num_id = num_pr[0].xpath("./w:numId/@w:val")
        if num_id and num_id[0] == "0":  # numbering switched off
            return 0
        ilvl = num_pr[0].xpath("./w:ilvl/@w:val")
        return min(int(ilvl[0]) + 1, 9) if ilvl and ilvl[0].isdigit() else 1
    if any(_LIST_NAME.match(candidate.name or "") for candidate in _styles(style)):
        return 1
    return 0


def _table(table, assembler: BoundedAssembler) -> None:
    from docx.table import _Cell

    for tr in table._tbl.tr_lst:
        cells = [" ".join(_Cell(tc, table).text.split()) for tc in tr.tc_lst]
        assembler.add("table_row", " | ".join(cell for cell in cells if cell))
