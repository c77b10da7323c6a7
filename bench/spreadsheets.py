"""Spreadsheet readers on large sheets: time and peak memory of XLSX and ODS, and odfpy's cost.

Writes one sheet of ``ROWS`` rows × 10 columns (a million cells by default) as XLSX (openpyxl's
write-only mode, which writes no ``<dimension>``: the case where openpyxl scans the sheet once
more on opening) and as the same XLSX with a ``<dimension>`` (as Excel and LibreOffice write
it), and as an ODS written directly (``content.xml`` as LibreOffice lays it out). Then times,
each in a fresh process so that its peak memory is its own:

- ``qa.ingest.formats.convert`` on each file (the readers stop at ``sheets.MAX_SHEET_CELLS``
  and say so in a warning);
- odfpy's ``load`` of an ODS a tenth as large: what reading ODS through odfpy (or pandas'
  ODS reader, built on it) would cost before any bound could be checked.

    python -m bench.spreadsheets [--quick]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from bench.common import ROOT, bench_parser, print_rows, row, write_result

ROWS = 100_000
COLUMNS = 10

_CHILD = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
if sys.argv[1] == "odfpy":
    from odf.opendocument import load
    load(sys.argv[2])
    out = {}
else:
    from qa.ingest.formats import convert
    c = convert(Path(sys.argv[2]))
    out = {"chars": len(c.text), "rows": sum(b.kind == "table_row" for b in c.blocks), "warnings": c.warnings}
out["seconds"] = time.perf_counter() - t0
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent that forked us
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
out["peak_rss_mb"] = int(hwm.split()[1]) / 1024
print(json.dumps(out))
"""


def _values(row: int) -> list[object]:
    return [f"Rad {row} text", row, row * 1.5, "Göteborg", row % 7, "x", row * 2, "Malmö stad",
            row + 1, "slut"][:COLUMNS]


def write_xlsx(path: Path, rows: int, dimension: bool) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("Data")
    for r in range(rows):
        sheet.append(_values(r))
    wb.save(str(path))
    if dimension:  # put a <dimension> where Excel and LibreOffice write it
        tmp = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item)
                if item.filename.startswith("xl/worksheets/sheet"):
                    data = data.replace(b"<sheetPr>", f'<dimension ref="A1:J{rows}"/><sheetPr>'.encode(), 1)
                    if b"<dimension" not in data:
                        data = data.replace(b"<sheetData>", f'<dimension ref="A1:J{rows}"/><sheetData>'
                                            .encode(), 1)
                dst.writestr(item, data)
        tmp.replace(path)
    return path


def write_ods(path: Path, rows: int) -> Path:
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml",
                         '<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                         'opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
                         'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                         '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
                         '"text/xml"/></manifest:manifest>')
        with archive.open("content.xml", "w") as out:
            out.write(f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}>'
                      '<office:body><office:spreadsheet><table:table table:name="Data">'.encode())
            for r in range(rows):
                cells = []
                for value in _values(r):
                    if isinstance(value, str):
                        cells.append('<table:table-cell office:value-type="string"><text:p>'
                                     f"{escape(value)}</text:p></table:table-cell>")
                    else:
                        cells.append(f'<table:table-cell office:value-type="float" office:value="{value}">'
                                     f"<text:p>{value}</text:p></table:table-cell>")
                cells.append('<table:table-cell table:number-columns-repeated="16374"/>')
                out.write(f"<table:table-row>{''.join(cells)}</table:table-row>".encode())
            out.write(b'<table:table-row table:number-rows-repeated="948576"><table:table-cell '
                      b'table:number-columns-repeated="16384"/></table:table-row></table:table>'
                      b"</office:spreadsheet></office:body></office:document-content>")
    return path


def measure(kind: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path)], capture_output=True,
                          text=True, cwd=ROOT, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    return json.loads(proc.stdout)


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    rows_n = 10_000 if args.quick else ROWS
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sheets-") as scratch:
        work = Path(scratch)
        t0 = time.perf_counter()
        files = {
            "xlsx, no <dimension>": write_xlsx(work / "plain.xlsx", rows_n, dimension=False),
            "xlsx, with <dimension>": write_xlsx(work / "dimension.xlsx", rows_n, dimension=True),
            "ods": write_ods(work / "big.ods", rows_n),
        }
        small_ods = write_ods(work / "small.ods", rows_n // 10)
        print(f"files written in {time.perf_counter() - t0:.1f} s")
        for name, path in files.items():
            results[name] = measure("convert", path)
        results["ods, a tenth: our reader"] = measure("convert", small_ods)
        results["ods, a tenth: odfpy load only"] = measure("odfpy", small_ods)
    cells = rows_n * COLUMNS
    rows = []
    for name, r in results.items():
        note = f"{r['rows']:,} rows read" if "rows" in r else "document in memory, nothing read yet"
        if r.get("warnings"):
            note += " (bound reached, warned)"
        rows.append(row(f"{name}: seconds", r["seconds"], "s", note))
        rows.append(row(f"{name}: peak memory", r["peak_rss_mb"], "MiB"))
    print_rows(f"Spreadsheet readers, one sheet of {cells:,} cells", rows)
    write_result("spreadsheets", {"cells": cells, "results": results, "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
