"""DOCX: headings from styles and outline levels, lists from numbering, tables as rows."""

from __future__ import annotations

import shutil

from qa.ingest.formats import ReadOptions, convert
from tests.ingest.formats.checks import blocks_of, skip_of
from tests.ingest.make_files import make_docx, make_zip_bomb_docx

BLOCKS = [
    ("h1", "Riktlinjer för bygglov"),
    ("p", "Den här riktlinjen gäller för hela kommunen och beslutades av byggnadsnämnden."),
    ("h2", "Avgifter och zoner"),
    ("li", "Bygglov för en- och tvåbostadshus kostar 12 000 kronor."),
    ("li", "Marklov kostar 4 000 kronor."),
    ("row", "Ärende | Avgift"),
    ("row", "Altan | 3 000 kr"),
    ("h3", "Överklagande"),
    ("p", "Beslut kan överklagas inom tre veckor."),
]
EXPECTED = [
    ("heading", 1, "Riktlinjer för bygglov"),
    ("paragraph", 0, BLOCKS[1][1]),
    ("heading", 2, "Avgifter och zoner"),
    ("list_item", 1, BLOCKS[3][1]),
    ("list_item", 1, BLOCKS[4][1]),
    ("table_row", 0, "Ärende | Avgift"),
    ("table_row", 0, "Altan | 3 000 kr"),
    ("heading", 3, "Överklagande"),
    ("paragraph", 0, BLOCKS[8][1]),
]


def test_structure_and_properties_round_trip(tmp_path):
    converted = convert(make_docx(tmp_path / "bygglov.docx", BLOCKS, title="Bygglovstaxa"))
    assert converted.format == "docx" and converted.title == "Bygglovstaxa"
    assert converted.date and len(converted.date) == 10
    assert blocks_of(converted) == EXPECTED


def test_swedish_styles_outline_levels_and_numbering(tmp_path):
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    doc = Document()
    doc.styles.add_style("Rubrik 2", WD_STYLE_TYPE.PARAGRAPH)
    doc.add_paragraph("Handläggning", style="Title")
    doc.add_paragraph("Ansökan och avgifter", style="Rubrik 2")
    outlined = doc.add_paragraph("Särskilda skäl")
    outlined._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="2"/>'))
    doc.add_paragraph("Första punkten", style="List Number")
    nested = doc.add_paragraph("Underpunkt på nivå två")
    nested._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr>'))
    doc.add_paragraph("Vanlig text efter listan.")
    path = tmp_path / "stilar.docx"
    doc.save(str(path))
    assert blocks_of(convert(path)) == [
        ("heading", 1, "Handläggning"),
        ("heading", 2, "Ansökan och avgifter"),
        ("heading", 3, "Särskilda skäl"),
        ("list_item", 1, "Första punkten"),
        ("list_item", 2, "Underpunkt på nivå två"),
        ("paragraph", 0, "Vanlig text efter listan."),
    ]


def test_a_zip_bomb_is_refused_before_unzipping(tmp_path):
    bomb = make_zip_bomb_docx(tmp_path / "bomb.docx", inflated_bytes=20 * 2**20)
    assert bomb.stat().st_size < 2**20
    skip = skip_of(bomb, ReadOptions(max_unzipped_bytes=10 * 2**20))
    assert skip.reason == "too large" and "zip bomb" in skip.detail


def test_the_default_limit_refuses_the_default_bomb(tmp_path):
    skip = skip_of(make_zip_bomb_docx(tmp_path / "bomb.docx"))
    assert skip.reason == "too large" and "zip bomb" in skip.detail


def test_a_file_that_is_not_a_zip_is_corrupt(tmp_path):
    path = tmp_path / "inte.docx"
    path.write_text("Det här är ingen Word-fil.", encoding="utf-8")
    skip = skip_of(path)
    assert skip.reason == "corrupt" and "zip" in skip.detail


def test_the_same_guard_covers_odt(tmp_path):
    bomb = make_zip_bomb_docx(tmp_path / "bomb.docx", inflated_bytes=20 * 2**20)
    odt = shutil.copy(bomb, tmp_path / "bomb.odt")
    skip = skip_of(odt, ReadOptions(max_unzipped_bytes=10 * 2**20))
    assert skip.reason == "too large"
