"""RTF: LibreOffice's RTF (styles, lists, tables, \\uN escapes), Word-style code-page escapes."""

from __future__ import annotations

from pathlib import Path

from qa.ingest.formats import convert
from tests.ingest.formats.checks import blocks_of, skip_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"

REPORT = [  # fixtures/make_fixtures.py: REPORT_BLOCKS, as every reader of it should see them
    ("heading", 1, "Riktlinjer för bygglov"),
    ("paragraph", 0, "Den här riktlinjen gäller för hela kommunen och beslutades av byggnadsnämnden."),
    ("heading", 2, "Avgifter och zoner"),
    ("list_item", 1, "Bygglov för en- och tvåbostadshus kostar 12 000 kronor."),
    ("list_item", 1, "Marklov kostar 4 000 kronor."),
    ("table_row", 0, "Ärende | Avgift"),
    ("table_row", 0, "Altan | 3 000 kr"),
    ("heading", 3, "Överklagande"),
    ("paragraph", 0, "Beslut kan överklagas inom tre veckor."),
    ("heading", 1, "Tillsyn och påföljder"),
    ("paragraph", 0, "Byggnadsnämnden får ta ut en byggsanktionsavgift när någon bygger utan lov."),
]


def test_libreoffice_rtf_keeps_headings_lists_and_tables():
    converted = convert(FIXTURES / "bygglov.rtf")
    assert converted.format == "rtf"
    assert converted.title == "Bygglovstaxa för Exempelkommunen"
    assert converted.date == "2024-05-03"
    assert blocks_of(converted) == REPORT
    assert converted.warnings == []
    assert "\ufffd" not in converted.text and "\uf0b7" not in converted.text  # no bullet glyph


def test_code_page_and_unicode_escapes_as_word_and_wordpad_write_them(tmp_path):
    path = tmp_path / "taxa.rtf"
    path.write_bytes(
        rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Arial;}}"
        rb"{\stylesheet{\s0 Normal;}{\s1\outlinelevel0 heading 1;}{\s2 Rubrik 2;}}"
        rb"{\info{\title Taxa f\'f6r sm\'e5 barn}{\creatim\yr2023\mo11\dy7\hr10\min4}}"
        rb"\pard\plain\s1\outlinelevel0 Avgifter f\'f6r f\'f6rskola\par"
        rb"\pard\plain\s0 Sm\'e5 barn \'e4r v\'e4lkomna. \'c5\'c4\'d6 i versaler.\par"
        rb"\pard\plain\s2 {\uc1\u8222?Citat\u8221?} och \uc0\u229\u228\u246  utan ers\u228ttning\par"
        rb"\pard\plain\s0 Rad ett\line rad tv\'e5.\par}")
    converted = convert(path)
    assert converted.title == "Taxa för små barn" and converted.date == "2023-11-07"
    assert blocks_of(converted) == [
        ("heading", 1, "Avgifter för förskola"),
        ("paragraph", 0, "Små barn är välkomna. ÅÄÖ i versaler."),
        ("heading", 2, "„Citat” och åäö utan ersättning"),
        ("paragraph", 0, "Rad ett"),
        ("paragraph", 0, "rad två."),
    ]


def test_a_picture_is_no_text(tmp_path):
    picture = "".join(f"{n % 256:02x}" for n in range(4000))
    path = tmp_path / "logga.rtf"
    path.write_text(r"{\rtf1\ansi {\pict\pngblip\picw100\pich100 " + picture + r"}"
                    r"\par Kommunens logga ovan.\par}", encoding="ascii")
    assert blocks_of(convert(path)) == [("paragraph", 0, "Kommunens logga ovan.")]


def test_a_file_cut_off_is_read_up_to_the_cut_with_a_warning(tmp_path):
    data = (FIXTURES / "bygglov.rtf").read_bytes()
    cut = tmp_path / "avklippt.rtf"
    cut.write_bytes(data[: data.index(b"Marklov")])
    converted = convert(cut)
    assert [text for _, _, text in blocks_of(converted)][:3] == [
        "Riktlinjer för bygglov", REPORT[1][2], "Avgifter och zoner"]
    assert converted.warnings and "cut off" in converted.warnings[0]


def test_not_rtf_is_corrupt(tmp_path):
    path = tmp_path / "brev.rtf"
    path.write_bytes(b"PK\x03\x04 this is a zip, not RTF")
    skip = skip_of(path)
    assert skip.reason == "corrupt" and "{\\rtf" in skip.detail
