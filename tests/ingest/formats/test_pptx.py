"""PPTX: LibreOffice's PPTX (slides as sections and pages, bullets, tables, speaker notes),
reading order and groups, bad files."""

from __future__ import annotations

from pathlib import Path

from qa.ingest.formats import convert
from tests.ingest.formats.checks import blocks_of, skip_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_libreoffice_slides_with_titles_bullets_tables_and_notes():
    converted = convert(FIXTURES / "budget_bildspel.pptx")
    assert converted.format == "pptx" and converted.title == "Budget för äldreomsorgen"
    assert converted.metadata["slides"] == 3
    assert blocks_of(converted) == [
        ("heading", 1, "Bild 1: Budget 2025 för äldreomsorgen"),
        ("paragraph", 0, "Kommunstyrelsen, 3 mars 2025"),
        ("heading", 1, "Bild 2: Särskilt boende"),
        ("list_item", 1, "Fler platser på särskilt boende i Norrby"),
        ("list_item", 2, "Trettio nya lägenheter öppnar under hösten"),
        ("list_item", 1, "Kön har minskat med en femtedel"),
        ("heading", 2, "Anteckningar"),
        ("paragraph", 0, "Säg att väntetiden nu är i snitt 45 dagar."),
        ("heading", 1, "Bild 3: Avgifter för hemtjänst"),
        ("table_row", 0, "Insats | Avgift per månad"),
        ("table_row", 0, "Trygghetslarm | 250 kr"),
        ("table_row", 0, "Matdistribution | 1 100 kr"),
        ("heading", 2, "Anteckningar"),
        ("paragraph", 0, "Taket för avgifterna följer maxtaxan."),
    ]


def test_each_slide_is_a_page():
    converted = convert(FIXTURES / "budget_bildspel.pptx")
    assert [page.number for page in converted.pages] == [1, 2, 3]
    second = converted.pages[1]
    assert converted.text[second.start:second.end].startswith("Bild 2: Särskilt boende")
    assert converted.text[second.start:second.end].endswith("i snitt 45 dagar.")


def test_reading_order_groups_and_untitled_slides(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank: no title placeholder
    lower = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1))
    lower.text_frame.text = "Sist på bilden: kontakta kundcenter."
    group = slide.shapes.add_group_shape()
    right = group.shapes.add_textbox(Inches(5), Inches(2), Inches(3), Inches(1))
    right.text_frame.text = "Höger kolumn om återvinning."
    left = group.shapes.add_textbox(Inches(1), Inches(2), Inches(3), Inches(1))
    left.text_frame.text = "Vänster kolumn om sophämtning."
    upper = slide.shapes.add_textbox(Inches(1), Inches(0.5), Inches(6), Inches(1))
    upper.text_frame.text = "Överst: avfallstaxa 2025"
    path = tmp_path / "avfall.pptx"
    prs.save(str(path))
    converted = convert(path)
    assert converted.title is None  # no title in the properties, none on a slide
    assert blocks_of(converted) == [
        ("heading", 1, "Bild 1"),
        ("paragraph", 0, "Överst: avfallstaxa 2025"),
        ("paragraph", 0, "Vänster kolumn om sophämtning."),
        ("paragraph", 0, "Höger kolumn om återvinning."),
        ("paragraph", 0, "Sist på bilden: kontakta kundcenter."),
    ]


def test_bad_presentations_are_corrupt(tmp_path):
    data = (FIXTURES / "budget_bildspel.pptx").read_bytes()
    cut = tmp_path / "avklippt.pptx"
    cut.write_bytes(data[: len(data) // 2])
    assert skip_of(cut).reason == "corrupt"
    other = tmp_path / "kalkyl.pptx"
    other.write_bytes((FIXTURES / "budget.xlsx").read_bytes())  # a zip, but no presentation
    skip = skip_of(other)
    assert skip.reason == "corrupt" and skip.detail.startswith("not a readable PPTX file")
