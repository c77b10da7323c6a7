"""OpenDocument text (ODT), as Swedish public bodies write it: structure as blocks.

odfpy (Apache-2.0, also offered under GPL/LGPL; used here under Apache-2.0) reads the
document. ``text:h`` is a heading of its ``text:outline-level``, ``text:p`` a paragraph, each
item of a ``text:list`` a list item at its nesting depth, each table row one block (cells
joined by ``" | "``). Sections are read through; a table of contents (it repeats the
headings), footnotes and annotations are not text of the body. Title and creation date come
from the document's metadata.

The zip archive is checked (``zipped.check_zip``) before odfpy opens it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.zipped import check_zip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_SKIPPED = {(_TEXT, "table-of-content"), (_TEXT, "illustration-index"), (_TEXT, "alphabetical-index"),
            (_TEXT, "bibliography"), (_TEXT, "sequence-decls"), (_TEXT, "tracked-changes"),
            (_OFFICE, "forms"), (_OFFICE, "annotation"), (_TEXT, "note")}
_INLINE_SKIPPED = {(_TEXT, "note"), (_OFFICE, "annotation"), (_OFFICE, "annotation-end"),
                   (_DRAW, "frame"), (_TEXT, "tracked-changes")}


def read(path: Path, options: ReadOptions) -> Converted:
    """An ODT file (see the module docstring)."""
    check_zip(path, options.max_unzipped_bytes, "ODT")
    from odf.opendocument import load

    document = load(str(path))
    assembler = BoundedAssembler(options.max_chars)
    _blocks(document.text, assembler, depth=0)
    title, date = _metadata(document)
    return assembler.result("odt", title=title, date=date)


def _blocks(element, assembler: BoundedAssembler, depth: int) -> None:
    for child in element.childNodes:
        qname = getattr(child, "qname", None)
        if qname is None or qname in _SKIPPED:
            continue
        if qname == (_TEXT, "h"):
            level = child.attributes.get((_TEXT, "outline-level"), "1")
            assembler.add("heading", inline_text(child), min(max(int(level), 1), 6) if level.isdigit() else 1)
        elif qname == (_TEXT, "p"):
            assembler.add("paragraph", inline_text(child))
        elif qname == (_TEXT, "list"):
            _list(child, assembler, depth + 1)
        elif qname == (_TABLE, "table"):
            for row in _rows(child):
                cells = [" ".join(_cell_text(cell).split()) for cell in row.childNodes
                         if getattr(cell, "qname", None) == (_TABLE, "table-cell")]
                assembler.add("table_row", " | ".join(cell for cell in cells if cell))
        else:  # sections, text boxes' frames at block level, soft page breaks, ...
            _blocks(child, assembler, depth)


def _list(element, assembler: BoundedAssembler, depth: int) -> None:
    for item in element.childNodes:
        if getattr(item, "qname", None) not in ((_TEXT, "list-item"), (_TEXT, "list-header")):
            continue
        for child in item.childNodes:
            qname = getattr(child, "qname", None)
            if qname in ((_TEXT, "p"), (_TEXT, "h")):
                assembler.add("list_item", inline_text(child), depth)
            elif qname == (_TEXT, "list"):
                _list(child, assembler, depth + 1)


def _rows(table):
    for child in table.childNodes:
        qname = getattr(child, "qname", None)
        if qname == (_TABLE, "table-row"):
            yield child
        elif qname in ((_TABLE, "table-header-rows"), (_TABLE, "table-rows"), (_TABLE, "table-row-group")):
            yield from _rows(child)


def _cell_text(cell) -> str:
    parts = []
    for child in cell.childNodes:
        qname = getattr(child, "qname", None)
        if qname in ((_TEXT, "p"), (_TEXT, "h")):
            parts.append(inline_text(child))
        elif qname in ((_TEXT, "list"), (_TEXT, "list-item")):
            parts.append(_cell_text(child))
    return " ".join(parts)


def inline_text(element) -> str:
    """The text of a paragraph or heading: spans and links read through, ``text:s`` as its
    spaces, tabs and line breaks as such; footnotes, annotations and frames left out."""
    parts: list[str] = []
    for child in element.childNodes:
        if child.nodeType == child.TEXT_NODE:
            parts.append(child.data)
            continue
        qname = getattr(child, "qname", None)
        if qname in _INLINE_SKIPPED:
            continue
        if qname == (_TEXT, "s"):
            count = child.attributes.get((_TEXT, "c"), "1")
            parts.append(" " * (int(count) if count.isdigit() else 1))
        elif qname == (_TEXT, "tab"):
            parts.append("\t")
        elif qname == (_TEXT, "line-break"):
            parts.append("\n")
        else:
            parts.append(inline_text(child))
    return "".join(parts)


def _metadata(document) -> tuple[str | None, str | None]:
    from odf import dc, meta

    def first(kind) -> str:
        found = document.meta.getElementsByType(kind)
        return " ".join(str(found[0]).split()) if found else ""

    title = first(dc.Title) or None
    created = first(meta.CreationDate) or first(dc.Date)
    return title, (created[:10] if len(created) >= 10 and created[4] == "-" else None)
