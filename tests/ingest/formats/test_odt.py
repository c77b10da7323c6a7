"""ODT: text:h headings with their outline level, nested lists, tables, title from meta."""

from __future__ import annotations

from qa.ingest.formats import convert
from tests.ingest.formats.checks import blocks_of, skip_of
from tests.ingest.formats.test_docx import BLOCKS, EXPECTED
from tests.ingest.make_files import make_odt


def test_structure_and_title_round_trip(tmp_path):
    converted = convert(make_odt(tmp_path / "bygglov.odt", BLOCKS, title="Bygglovstaxa"))
    assert converted.format == "odt" and converted.title == "Bygglovstaxa"
    assert blocks_of(converted) == EXPECTED


def test_nested_lists_spaces_sections_and_notes(tmp_path):
    from odf import text
    from odf.opendocument import OpenDocumentText

    doc = OpenDocumentText()
    section = text.Section(name="Avsnitt1")
    doc.text.addElement(section)
    section.addElement(text.H(outlinelevel=2, text="Skolskjuts"))
    paragraph = text.P(text="Eleven har rätt till")
    paragraph.addElement(text.S(c=3))
    span = text.Span(text="skolskjuts")
    paragraph.addElement(span)
    note = text.Note(noteclass="footnote")
    body = text.NoteBody()
    body.addElement(text.P(text="Enligt skollagen."))
    note.addElement(text.NoteCitation(text="1"))
    note.addElement(body)
    paragraph.addElement(note)
    paragraph.addText(" om vägen är lång.")
    section.addElement(paragraph)
    outer = text.List()
    item = text.ListItem()
    item.addElement(text.P(text="Förskoleklass"))
    inner = text.List()
    inner_item = text.ListItem()
    inner_item.addElement(text.P(text="minst två kilometer"))
    inner.addElement(inner_item)
    item.addElement(inner)
    outer.addElement(item)
    section.addElement(outer)
    path = tmp_path / "skolskjuts.odt"
    doc.save(str(path))
    assert blocks_of(convert(path)) == [
        ("heading", 2, "Skolskjuts"),
        ("paragraph", 0, "Eleven har rätt till skolskjuts om vägen är lång."),
        ("list_item", 1, "Förskoleklass"),
        ("list_item", 2, "minst två kilometer"),
    ]


def test_a_file_that_is_not_a_zip_is_corrupt(tmp_path):
    path = tmp_path / "inte.odt"
    path.write_bytes(b"\x00\x01 inte en OpenDocument-fil")
    assert skip_of(path).reason == "corrupt"
