"""Excel workbooks (XLSX, XLSM): every sheet a section, its rows table rows (see ``sheets``).

openpyxl (MIT) reads the workbook in its read-only mode, which streams each sheet's XML
row by row instead of building every cell in memory, and with ``data_only``: a formula cell
gives the value the producing program computed and cached when it saved the file (a file
written by a library that computes nothing has no cached value, and the cell reads empty).
The dimensions a sheet declares are ignored (``reset_dimensions``), so a sheet that claims a
million rows it does not hold costs nothing; the cells read are bounded by ``sheets``.
Title and creation date come from the document properties.

The zip archive is checked (``zipped.check_zip``) before openpyxl opens it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted
from qa.ingest.formats.sheets import Workbook, cell_text
from qa.ingest.formats.zipped import check_zip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions


def read(path: Path, options: ReadOptions) -> Converted:
    """An XLSX file (see the module docstring)."""
    check_zip(path, options.max_unzipped_bytes, "XLSX")
    import openpyxl

    book = openpyxl.load_workbook(str(path), read_only=True, data_only=True, keep_links=False)
    try:
        out = Workbook(options.max_chars)
        names = list(book.sheetnames)
        for number, name in enumerate(names):
            if out.exhausted:
                out.skipped(names[number:])
                break
            sheet = book[name]
            if not hasattr(sheet, "iter_rows"):  # a chart sheet has no cells
                continue
            sheet.reset_dimensions()
            out.start(name)
            for values in sheet.iter_rows(values_only=True):
                if not out.row([cell_text(value) for value in values]):
                    break
            out.end()
        properties = book.properties
        title = " ".join((properties.title or "").split()) or None
        created = (properties.created.date().isoformat()
                   if properties.created and _states_created(path) else None)
    finally:
        book.close()
    return out.assembler.result("xlsx", title=title, date=created, warnings=out.warnings,
                                metadata={"sheets": out.sheets})


def _states_created(path: Path) -> bool:
    """Whether the file's core properties state a creation time (openpyxl puts the time of
    reading in its place when they do not, which is no date of the document)."""
    from openpyxl.xml.constants import ARC_CORE

    with zipfile.ZipFile(path) as archive:
        if ARC_CORE not in archive.namelist():
            return False
        return b"created" in archive.read(ARC_CORE)
