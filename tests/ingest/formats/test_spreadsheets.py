"""XLSX and ODS: sheets as sections and rows as table rows, cached formula values, empty rows
and columns left out, repeated cells, the cell bounds with their warnings, bad files."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from qa.ingest.formats import ReadOptions, convert, sheets
from tests.ingest.formats.checks import blocks_of, skip_of
from tests.ingest.make_files import make_zip_bomb_docx

FIXTURES = Path(__file__).resolve().parent / "fixtures"

BUDGET = [  # fixtures/make_fixtures.py: write_budget_xlsx, saved by LibreOffice
    ("heading", 1, "Budget"),
    ("table_row", 0, "Verksamhet | Budget 2024 | Budget 2025 | Förändring"),
    ("table_row", 0, "Förskola | 120000 | 126500 | 6500"),  # column B (empty) left out
    ("table_row", 0, "Äldreomsorg | 310000 | 322000 | 12000"),  # row 4 (empty) left out
    ("table_row", 0, "Summa | 430000 | 448500 | 18500"),  # formulas: LibreOffice's values
    ("heading", 1, "Taxor"),
    ("table_row", 0, "Taxa | Belopp | Gäller från"),
    ("table_row", 0, "Maxtaxa förskola | 1688 | 2025-01-01"),
    ("table_row", 0, "Bygglov altan | 3000 | 2024-07-01"),
]


@pytest.mark.parametrize("name", ["budget.xlsx", "budget.ods"])
def test_libreoffice_workbooks(name):
    converted = convert(FIXTURES / name)
    assert converted.format == name.rsplit(".", 1)[1]
    assert converted.title == "Budget 2025"
    assert converted.metadata["sheets"] == 2 and converted.warnings == []
    assert blocks_of(converted) == BUDGET


def test_xlsx_values_as_a_reader_sees_them(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet.title = "Värden"
    sheet.append(["Text", "Heltal", "Decimal", "Datum", "Tid", "Sant", "Formel"])
    sheet.append(["  Två   ord ", 42, 0.25, datetime(2025, 3, 1, 14, 30), datetime(2025, 3, 2),
                  True, "=B2*2"])
    path = tmp_path / "varden.xlsx"
    wb.save(str(path))
    # openpyxl computes nothing: the formula has no cached value and reads as an empty cell
    assert blocks_of(convert(path))[2] == (
        "table_row", 0, "Två ord | 42 | 0,25 | 2025-03-01 14:30 | 2025-03-02 | SANT")


def test_a_sheet_that_claims_a_million_rows_costs_only_its_cells(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    sheet = wb.active
    sheet["A1"] = "Enda värdet"
    sheet["XFD1048576"] = "hörnet"
    path = tmp_path / "glest.xlsx"
    wb.save(str(path))
    blocks = blocks_of(convert(path))
    assert blocks == [("heading", 1, "Sheet"), ("table_row", 0, "Enda värdet"),
                      ("table_row", 0, "| hörnet")]  # in the last column, which is kept


def _big_xlsx(path: Path, rows: int, sheets_: int = 1) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for number in range(sheets_):
        sheet = wb.create_sheet(f"Blad{number + 1}")
        for row in range(rows):
            sheet.append([f"Rad {row}", row, "Göteborg", row * 2])
    wb.save(str(path))
    return path


def test_the_cell_bounds_stop_reading_and_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_SHEET_CELLS", 400)
    monkeypatch.setattr(sheets, "MAX_WORKBOOK_CELLS", 1000)
    converted = convert(_big_xlsx(tmp_path / "stor.xlsx", rows=300, sheets_=4))
    rows = [b for b in blocks_of(converted) if b[0] == "table_row"]
    headings = [b[2] for b in blocks_of(converted) if b[0] == "heading"]
    assert headings == ["Blad1", "Blad2", "Blad3"] and len(rows) == 100 + 100 + 50
    assert rows[0] == ("table_row", 0, "Rad 0 | 0 | Göteborg | 0")
    assert "sheet 'Blad1': only the first 100 rows" in converted.warnings[0]
    assert "400 cells a sheet" in converted.warnings[0]
    assert "1,000 cells a workbook" in converted.warnings[2]
    assert converted.warnings[3] == ("1 sheet(s) not read ('Blad4'): the reader stops at 1,000 "
                                     "cells a workbook")


def _ods(path: Path, rows) -> Path:
    """An ODS written with odfpy; ``rows`` are (cells, rows repeated), a cell (text, repeated)."""
    from odf import office, text
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Taxor 2025")
    for cells, repeat in rows:
        row = TableRow(numberrowsrepeated=repeat) if repeat > 1 else TableRow()
        for value, count in cells:
            cell = TableCell(numbercolumnsrepeated=count) if count > 1 else TableCell()
            if value:
                cell.setAttrNS("urn:oasis:names:tc:opendocument:xmlns:office:1.0", "value-type", "string")
                annotation = office.Annotation()
                annotation.addElement(text.P(text="En kommentar som inte är cellens text"))
                cell.addElement(annotation)
                cell.addElement(text.P(text=value))
            row.addElement(cell)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def test_ods_repeated_cells_and_rows_and_comments(tmp_path):
    path = _ods(tmp_path / "taxor.ods", [
        ([("Avgift", 1), ("", 2), ("Kronor", 1), ("", 16380)], 1),
        ([("Samma", 2), ("", 1), ("1 688", 1)], 3),
        ([("", 16384)], 1_048_000),
        ([("Sista raden", 1)], 1),
    ])
    assert blocks_of(convert(path)) == [
        ("heading", 1, "Taxor 2025"),
        ("table_row", 0, "Avgift | | Kronor"),  # column C is empty throughout: left out
        ("table_row", 0, "Samma | Samma | 1 688"),
        ("table_row", 0, "Samma | Samma | 1 688"),
        ("table_row", 0, "Samma | Samma | 1 688"),
        ("table_row", 0, "Sista raden"),
    ]


def test_ods_cell_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_SHEET_CELLS", 30)
    path = _ods(tmp_path / "upprepad.ods", [([("Rad", 1), ("värde", 2)], 1000)])
    converted = convert(path)
    assert len([b for b in converted.blocks if b.kind == "table_row"]) == 10
    assert "only the first 10 rows" in converted.warnings[0]


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_bad_workbooks(tmp_path, suffix):
    data = (FIXTURES / f"budget{suffix}").read_bytes()
    cut = tmp_path / f"avklippt{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    assert skip_of(cut).reason == "corrupt"
    text = tmp_path / f"text{suffix}"
    text.write_text("Verksamhet;Budget\nSkola;12\n", encoding="utf-8")
    assert skip_of(text).reason == "corrupt"
    bomb = shutil.copy(make_zip_bomb_docx(tmp_path / "bomb.docx", inflated_bytes=20 * 2**20),
                       tmp_path / f"bomb{suffix}")
    skip = skip_of(bomb, ReadOptions(max_unzipped_bytes=10 * 2**20))
    assert skip.reason == "too large" and "zip bomb" in skip.detail
    assert skip_of(FIXTURES / f"budget{suffix}", ReadOptions(max_chars=100)).reason == "too large"
