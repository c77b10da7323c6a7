"""convert(): limits checked before reading, sniffing of lying suffixes, every failure a Skip."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qa.ingest.formats import SUFFIXES, ReadOptions, convert, media_type
from tests.ingest.formats.checks import skip_of
from tests.ingest.make_files import make_docx, make_html, make_markdown, make_pdf, make_text

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_package_loads_no_format_library():
    code = ("import sys, qa.ingest.formats; "
            "heavy = {'pypdfium2', 'docx', 'odf', 'trafilatura', 'markdown_it', 'charset_normalizer', "
            "'pytesseract', 'lxml', 'yaml', 'reportlab', 'PIL'}; "
            "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_a_file_over_the_size_limit_is_skipped_unread(tmp_path):
    huge = tmp_path / "arkiv.txt"
    with huge.open("wb") as out:  # 200 MB, sparse: nothing is written, nothing need be read
        out.truncate(200 * 2**20)
    skip = skip_of(huge)
    assert skip.reason == "too large"
    assert "200.0 MiB" in skip.detail and "100.0 MiB" in skip.detail


def test_empty_and_unsupported_files(tmp_path):
    empty = tmp_path / "tom.md"
    empty.write_bytes(b"")
    assert skip_of(empty).reason == "empty"
    blank = make_text(tmp_path / "blank.txt", " \n\n\t\n", "utf-8")
    assert skip_of(blank).reason == "empty"
    other = tmp_path / "kalkyl.xyz"
    other.write_bytes(b"1;2;3\n")
    skip = skip_of(other)
    assert (skip.reason, skip.detail) == ("unsupported type", ".xyz")
    assert skip_of(tmp_path / "saknas.txt").reason == "unreadable"


def test_an_html_page_saved_as_txt_is_read_as_html(tmp_path):
    page = make_html(tmp_path / "sida.html", "Parkering i centrum",
                     [("p", "Det kostar 20 kronor i timmen att parkera på Stortorget."),
                      ("h2", "Avgifter och zoner"),
                      ("p", "Zon A är den innersta delen av centrum där avgiften är högst.")])
    renamed = tmp_path / "sida.txt"
    page.rename(renamed)
    converted = convert(renamed)
    assert converted.format == "html"
    assert converted.title == "Parkering i centrum"
    assert "<" not in converted.text and "DOCTYPE" not in converted.text
    assert "Zon A är den innersta delen" in converted.text


@pytest.mark.parametrize("name", ["bild.txt", "bild.md", "bild.html"])
def test_a_binary_file_with_a_text_suffix_is_skipped_as_binary(tmp_path, name):
    noise = bytes((i * 7919 + 13) % 256 for i in range(20_000))
    path = tmp_path / name
    path.write_bytes(noise)
    assert skip_of(path).reason == "binary"


def test_a_pdf_renamed_to_txt_is_binary(tmp_path):
    pdf = make_pdf(tmp_path / "beslut.pdf", [[("p", "Beslut om bygglov.")]])
    renamed = tmp_path / "beslut.txt"
    pdf.rename(renamed)
    skip = skip_of(renamed)
    assert skip.reason == "binary" and "PDF" in skip.detail


def test_stray_nul_bytes_are_dropped_and_reported(tmp_path):
    path = tmp_path / "logg.txt"
    path.write_bytes("Första raden om äldreomsorg.\x00\nAndra raden\x00 om skolan.\n".encode())
    converted = convert(path)
    assert converted.text == "Första raden om äldreomsorg.\nAndra raden om skolan.\n"
    assert converted.warnings == ["2 NUL bytes removed"]
    mostly_nul = tmp_path / "dump.txt"
    mostly_nul.write_bytes(b"abc\x00\x00\x00\x00\x01\x02\x03" * 1000)
    assert skip_of(mostly_nul).reason == "binary"


def test_a_library_error_is_a_corrupt_skip_with_a_short_reason(tmp_path, caplog):
    path = make_docx(tmp_path / "trasig.docx", [("p", "Hej")])
    broken = tmp_path / "trasig2.docx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(item, body[: len(body) // 2] if item.filename == "word/document.xml" else body)
    with caplog.at_level("DEBUG", logger="qa.ingest.formats"):
        skip = skip_of(broken)
    assert skip.reason == "corrupt"
    assert skip.detail.startswith("not a readable DOCX file (") and len(skip.detail) < 250
    assert any(record.exc_info for record in caplog.records)  # the traceback is in the debug log


def test_text_past_max_chars_is_too_large(tmp_path):
    blocks = [("p", f"Stycke {n} om förskolans öppettider och avgifter.") for n in range(200)]
    path = make_markdown(tmp_path / "lang.md", blocks)
    assert convert(path, ReadOptions(max_chars=20_000)).text
    skip = skip_of(path, ReadOptions(max_chars=2_000))
    assert skip.reason == "too large" and "2,000 characters" in skip.detail
    text = make_text(tmp_path / "lang.txt", "å" * 5_000, "utf-8")
    assert skip_of(text, ReadOptions(max_chars=1_000)).reason == "too large"


def test_media_types():
    assert media_type("pdf") == "application/pdf"
    assert media_type(Path("kommun/rapport.PDF")) == "application/pdf"
    assert media_type(".docx") == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert media_type("odt") == "application/vnd.oasis.opendocument.text"
    assert media_type("sida.htm") == "text/html"
    assert media_type("md") == "text/markdown"
    assert media_type("txt") == "text/plain"
    assert media_type("arkiv.zip") == "application/octet-stream"
    assert all(media_type(fmt) != "application/octet-stream" for fmt in SUFFIXES.values())
