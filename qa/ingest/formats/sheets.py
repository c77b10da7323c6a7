"""Spreadsheets (XLSX, ODS) as text: every sheet a section, its rows table rows.

The readers of the two formats stream their cells in; this module turns them into blocks the
same way for both. A sheet is a heading (its name, level 1) followed by one ``table_row``
block per row, the cells joined by ``" | "`` as DOCX and ODT tables are: a separator that no
sentence splitter takes for the end of a sentence, so a row stays one unit in passages and
highlights. Rows without any value are left out, and so are columns without any value in the
whole sheet (a spreadsheet's layout columns); an empty cell inside a row with values stays an
empty place between two separators, so every value keeps its column.

Bounds: a sheet is read up to ``MAX_SHEET_CELLS`` cells and a workbook up to
``MAX_WORKBOOK_CELLS`` (cells counted as the reader visits them, empty ones included; rows
and cells a file only declares, such as LibreOffice's repeated empty padding, cost nothing),
so the time and memory a sheet of a million cells costs stay those of the bound. What is left
unread is said in a warning that the build lists (``Converted.warnings``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from qa.ingest.converted import Skip
from qa.ingest.formats.bounded import BoundedAssembler

MAX_SHEET_CELLS = 200_000
MAX_WORKBOOK_CELLS = 500_000
SEPARATOR = " | "


class Workbook:
    """Collects the sheets of one workbook into an assembler, within the cell bounds.

    ``start(name)`` begins a sheet; ``row(values)`` adds one row (``None`` or ``""`` for an
    empty cell) and returns False once a bound is reached, after which the reader stops
    reading that sheet (and, at the workbook's bound, the workbook); ``end()`` writes it.
    """

    def __init__(self, max_chars: int, max_sheet_cells: int | None = None,
                 max_workbook_cells: int | None = None) -> None:
        self.assembler = BoundedAssembler(max_chars)
        self.warnings: list[str] = []
        self.max_sheet_cells = max_sheet_cells or MAX_SHEET_CELLS
        self.max_workbook_cells = max_workbook_cells or MAX_WORKBOOK_CELLS
        self.cells = 0  # visited in the whole workbook
        self.sheets = 0  # sheets with at least one value
        self._name = ""
        self._rows: list[list[str]] = []
        self._sheet_cells = 0
        self._chars = 0
        self._stopped = ""

    @property
    def exhausted(self) -> bool:
        """The workbook's bound is reached: read no further sheet."""
        return self.cells >= self.max_workbook_cells

    def start(self, name: str) -> None:
        self._name = " ".join(name.split()) or f"Blad {self.sheets + 1}"
        self._rows = []
        self._sheet_cells = 0
        self._chars = 0
        self._stopped = ""

    def row(self, values, visited: int | None = None) -> bool:
        """Add a row of cell values (strings, or None); False when no more may be read.
        ``visited`` is the work the row cost the reader in cells, when not ``len(values)``."""
        cells = ["" if value is None else " ".join(str(value).split()) for value in values]
        cost = len(cells) if visited is None else visited  # a row the file lacks costs nothing
        self._sheet_cells += cost
        self.cells += cost
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            self._rows.append(cells)
            self._chars += sum(len(cell) + len(SEPARATOR) for cell in cells)
            if self.assembler.length + self._chars > self.assembler.max_chars:  # stop now
                raise Skip("too large", f"more than {self.assembler.max_chars:,} characters of text")
        if self.cells >= self.max_workbook_cells:
            self._stopped = f"the reader stops at {self.max_workbook_cells:,} cells a workbook"
            return False
        if self._sheet_cells >= self.max_sheet_cells:
            self._stopped = f"the reader stops at {self.max_sheet_cells:,} cells a sheet"
            return False
        return True

    def end(self) -> None:
        """Write the sheet begun last: its name as a heading, then its rows."""
        rows = self._rows
        self._rows = []
        if self._stopped:
            self.warnings.append(f"sheet {self._name!r}: only the first {len(rows):,} rows with "
                                 f"values were read ({self._stopped})")
        if not rows:
            return
        width = max(len(row) for row in rows)
        used = [c for c in range(width) if any(c < len(row) and row[c] for row in rows)]
        self.sheets += 1
        self.assembler.add("heading", self._name, 1)
        for row in rows:
            cells = [row[c] if c < len(row) else "" for c in used]
            while not cells[-1]:  # the row has a value, so this stops
                cells.pop()
            self.assembler.add("table_row", SEPARATOR.join(cells))

    def skipped(self, names: list[str]) -> None:
        """Say that the sheets ``names`` were not read (the workbook's bound was reached)."""
        if names:
            self.warnings.append(f"{len(names)} sheet(s) not read ({', '.join(map(repr, names))}): "
                                 f"the reader stops at {self.max_workbook_cells:,} cells a workbook")


def cell_text(value) -> str:
    """A cell's value as a reader sees it: numbers without a needless ``.0`` and with a
    decimal comma, dates as ISO dates (with the time when it is not midnight), truth values
    as a Swedish spreadsheet shows them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "SANT" if value else "FALSKT"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}".replace(".", ",")
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes" if not value.second else "seconds")
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
