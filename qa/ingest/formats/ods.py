"""OpenDocument spreadsheets (ODS): every sheet a section, its rows table rows (see ``sheets``).

The sheets' XML (``content.xml``) is streamed with lxml's ``iterparse``, one row at a time,
each row dropped once read. odfpy, which reads ODT here, and pandas' ODS reader (built on
odfpy) first build the whole document in memory as Python objects: a sheet of a million
cells costs them minutes and gigabytes before a bound could be checked, so a streaming
parse is the only way the cell bounds of ``sheets`` hold for ODS. LibreOffice pads every row
and sheet with repeated empty cells and rows (``number-columns-repeated="16379"``,
``number-rows-repeated="1048553"``); those are counted, never materialised.

A cell's text is what the spreadsheet shows (its ``text:p``, which for a formula is the
value the producing program cached), except dates, times and truth values, which are taken
from their typed value so that they read the same whatever the producer's locale (ISO dates).
Annotations (comments) are not text of a cell. Title and creation date come from
``meta.xml``.

The zip archive is checked (``zipped.check_zip``) before anything is unzipped.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted, Skip
from qa.ingest.formats.sheets import Workbook
from qa.ingest.formats.zipped import check_zip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CELLS = (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell")
MAX_COLUMNS = 16_384  # the most columns LibreOffice and Excel have


def read(path: Path, options: ReadOptions) -> Converted:
    """An ODS file (see the module docstring)."""
    check_zip(path, options.max_unzipped_bytes, "ODS")
    from lxml import etree

    out = Workbook(options.max_chars)
    with zipfile.ZipFile(path) as archive:
        if "content.xml" not in archive.namelist():
            raise Skip("corrupt", "not an ODS file (no content.xml)")
        with archive.open("content.xml") as content:
            _sheets(etree.iterparse(content, events=("start", "end"),
                                    tag=(f"{_TABLE}table", f"{_TABLE}table-row"),
                                    resolve_entities=False, no_network=True), out)
        title, created = _metadata(archive, etree)
    return out.assembler.result("ods", title=title, date=created, warnings=out.warnings,
                                metadata={"sheets": out.sheets})


def _sheets(events, out: Workbook) -> None:
    """Feed the rows of every sheet to ``out``; stop at the workbook's bound (the sheet
    where it is reached says so in its warning; later sheets are not parsed at all)."""
    reading = False
    for event, element in events:
        if element.tag == f"{_TABLE}table":
            if element.getparent().tag != f"{_OFFICE}spreadsheet":
                continue  # a table inside a cell: its rows count as the cell's rows
            if event == "start":
                if out.exhausted:
                    out.warnings.append("sheets after the first "
                                        f"{out.max_workbook_cells:,} cells were not read")
                    return
                out.start(element.get(f"{_TABLE}name") or "")
                reading = True
            else:
                if reading:
                    out.end()
                reading = False
                _drop(element)
        elif event == "end":
            if reading and not _row(element, out):
                out.end()
                reading = False
            _drop(element)


def _row(row, out: Workbook) -> bool:
    """Add one ``table:table-row`` (repeated as it says); False when a bound is reached."""
    values: list[str] = []
    pending = 0  # empty cells not yet materialised (they only count when a value follows)
    elements = 0
    for cell in row:
        if cell.tag not in _CELLS:
            continue
        elements += 1
        repeat = _count(cell.get(f"{_TABLE}number-columns-repeated"))
        text = _cell_text(cell)
        if not text:
            pending += repeat
            continue
        if pending:
            values.extend([""] * min(pending, MAX_COLUMNS - len(values)))
            pending = 0
        values.extend([text] * max(min(repeat, MAX_COLUMNS - len(values)), 0))
        if len(values) >= MAX_COLUMNS:
            break
    rows = _count(row.get(f"{_TABLE}number-rows-repeated")) if values else 1
    return all(out.row(values, visited=max(len(values), elements)) for _ in range(rows))


def _count(value: str | None) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def _cell_text(cell) -> str:
    kind = cell.get(f"{_OFFICE}value-type")
    if kind == "date":
        value = cell.get(f"{_OFFICE}date-value") or ""
        return value[:10] if value.endswith("T00:00:00") or len(value) == 10 else value.replace("T", " ")[:16]
    if kind == "boolean":
        return {"true": "SANT", "false": "FALSKT"}.get(cell.get(f"{_OFFICE}boolean-value") or "", "")
    parts = [_paragraph_text(p) for p in cell if p.tag in (f"{_TEXT}p", f"{_TEXT}h")]
    text = " ".join(" ".join(part.split()) for part in parts if part.strip())
    if not text and kind in ("float", "percentage", "currency"):
        text = cell.get(f"{_OFFICE}value") or ""
    return text


def _paragraph_text(element) -> str:
    """The text of a ``text:p``: spans and links read through, ``text:s`` as spaces,
    annotations left out."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{_TEXT}s":
            parts.append(" " * _count(child.get(f"{_TEXT}c")))
        elif child.tag in (f"{_TEXT}tab", f"{_TEXT}line-break"):
            parts.append(" ")
        elif child.tag != f"{_OFFICE}annotation":
            parts.append(_paragraph_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _drop(element) -> None:
    """Free a row (and the rows before it) once read, so memory stays flat."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _metadata(archive: zipfile.ZipFile, etree) -> tuple[str | None, str | None]:
    if "meta.xml" not in archive.namelist():
        return None, None
    root = etree.fromstring(archive.read("meta.xml"), etree.XMLParser(resolve_entities=False,
                                                                       no_network=True))
    title = " ".join("".join(root.findtext(f".//{_DC}title") or "").split()) or None
    created = root.findtext(f".//{_META}creation-date") or root.findtext(f".//{_DC}date") or ""
    return title, (created[:10] if len(created) >= 10 and created[4] == "-" else None)
