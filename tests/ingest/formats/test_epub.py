"""EPUB: LibreOffice's EPUB (headings from its table of contents), spine order, EPUB 2 NCX,
the nav document left out, title and date from the package, bad and encrypted books."""

from __future__ import annotations

import zipfile
from pathlib import Path

from qa.ingest.formats import ReadOptions, convert
from tests.ingest.formats.checks import blocks_of, skip_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OPF_NS = "http://www.idpf.org/2007/opf"


def test_libreoffice_epub_chapters_in_spine_order_with_headings_from_its_toc():
    converted = convert(FIXTURES / "bygglov.epub")
    assert converted.format == "epub"
    assert converted.title == "Bygglovstaxa för Exempelkommunen"  # dc:title, not the first heading
    assert converted.metadata["chapters"] == 2
    blocks = blocks_of(converted)
    # LibreOffice writes every heading as a styled <p>; its table of contents names the first
    # heading of each chapter, which becomes a heading again.
    assert blocks[0] == ("heading", 1, "Riktlinjer för bygglov")
    assert ("heading", 1, "Tillsyn och påföljder") in blocks
    assert ("table_row", 0, "Ärende | Avgift") in blocks and ("table_row", 0, "Altan | 3 000 kr") in blocks
    texts = [text for _, _, text in blocks]
    assert texts.index("Beslut kan överklagas inom tre veckor.") < texts.index("Tillsyn och påföljder")
    assert texts[-1] == "Byggnadsnämnden får ta ut en byggsanktionsavgift när någon bygger utan lov."


def _chapter(title: str, body: str) -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title}</title></head><body>{body}</body></html>")


def make_epub(path: Path, files: dict[str, str], opf: str, container: bool = True,
              extra: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        if container:
            archive.writestr("META-INF/container.xml",
                             '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
                             'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/'
                             'content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
                             "</container>", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        for name, text in files.items():
            archive.writestr(f"OEBPS/{name}", text, compress_type=zipfile.ZIP_DEFLATED)
        for name, text in (extra or {}).items():
            archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return path


BOOK_FILES = {
    "text/kap%201.xhtml": "",  # replaced below: a file name with a space, URL-encoded in the OPF
    "text/kap 1.xhtml": _chapter("Boken", "<h1>Kapitel 1. Järnvägen</h1><p>Järnvägen kom till "
                                 "orten år 1874 och förändrade handeln.</p><h2>Stationen</h2>"
                                 "<p>Stationshuset "
                                 "ritades av Adolf W. Edelsvärd.</p>"),
    "text/kap2.xhtml": _chapter("Boken", "<h1>Kapitel 2. Skolan</h1><ul><li>Folkskolan öppnade 1850."
                                "</li><li>Läroverket kom 1905.</li></ul><table><tr><th>År</th><th>Elever"
                                "</th></tr><tr><td>1905</td><td>212</td></tr></table>"),
    "nav.xhtml": _chapter("Innehåll", '<nav epub:type="toc" xmlns:epub="http://www.idpf.org/2007/ops">'
                          '<ol><li><a href="text/kap%201.xhtml">Kapitel 1. Järnvägen</a></li>'
                          '<li><a href="text/kap2.xhtml">Kapitel 2. Skolan</a></li></ol></nav>'),
    "omslag.svg": '<svg xmlns="http://www.w3.org/2000/svg"><text>Omslag</text></svg>',
}
del BOOK_FILES["text/kap%201.xhtml"]
BOOK_OPF = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="{OPF_NS}" version="3.0" unique-identifier="id">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:identifier id="id">urn:uuid:1</dc:identifier><dc:title>Ortens historia</dc:title>
  <dc:language>sv</dc:language><dc:date>2021-09-30</dc:date>
 </metadata>
 <manifest>
  <item id="k2" href="text/kap2.xhtml" media-type="application/xhtml+xml"/>
  <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
  <item id="omslag" href="omslag.svg" media-type="image/svg+xml"/>
  <item id="k1" href="text/kap%201.xhtml" media-type="application/xhtml+xml"/>
 </manifest>
 <spine><itemref idref="omslag"/><itemref idref="nav"/><itemref idref="k1"/><itemref idref="k2"/></spine>
</package>"""


def test_spine_order_real_headings_lists_tables_and_the_package_metadata(tmp_path):
    converted = convert(make_epub(tmp_path / "historia.epub", BOOK_FILES, BOOK_OPF))
    assert converted.title == "Ortens historia" and converted.date == "2021-09-30"
    assert blocks_of(converted) == [
        ("heading", 1, "Kapitel 1. Järnvägen"),
        ("paragraph", 0, "Järnvägen kom till orten år 1874 och förändrade handeln."),
        ("heading", 2, "Stationen"),
        ("paragraph", 0, "Stationshuset ritades av Adolf W. Edelsvärd."),
        ("heading", 1, "Kapitel 2. Skolan"),
        ("list_item", 1, "Folkskolan öppnade 1850."),
        ("list_item", 1, "Läroverket kom 1905."),
        ("table_row", 0, "År | Elever"),
        ("table_row", 0, "1905 | 212"),
    ]


def test_an_epub2_ncx_gives_nested_headings_to_styled_paragraphs(tmp_path):
    files = {
        "a.html": _chapter("x", '<p class="rubrik">Del ett</p><p>Om hamnen och fisket i '
                           'skärgården under 1800-talet.</p><p class="underrubrik">Sillperioden</p>'
                           "<p>Sillen kom tillbaka till kusten 1877.</p>"),
        "toc.ncx": '<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
                   'version="2005-1"><navMap><navPoint id="p1"><navLabel><text>Del ett</text>'
                   '</navLabel><content src="a.html"/><navPoint id="p2"><navLabel><text>Sillperioden'
                   '</text></navLabel><content src="a.html#sill"/></navPoint></navPoint></navMap></ncx>',
    }
    opf = f"""<?xml version="1.0"?><package xmlns="{OPF_NS}" version="2.0"><metadata
      xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Skärgården</dc:title></metadata>
      <manifest><item id="a" href="a.html" media-type="application/xhtml+xml"/>
      <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/></manifest>
      <spine toc="ncx"><itemref idref="a"/></spine></package>"""
    converted = convert(make_epub(tmp_path / "skargard.epub", files, opf))
    assert [block for block in blocks_of(converted) if block[0] == "heading"] == [
        ("heading", 1, "Del ett"), ("heading", 2, "Sillperioden")]


def test_text_past_max_chars_is_too_large_across_chapters(tmp_path):
    path = make_epub(tmp_path / "historia.epub", BOOK_FILES, BOOK_OPF)
    assert convert(path, ReadOptions(max_chars=400)).text
    assert skip_of(path, ReadOptions(max_chars=150)).reason == "too large"


def test_bad_books(tmp_path):
    not_zip = tmp_path / "inte.epub"
    not_zip.write_bytes(b"<html>en webbsida</html>")
    assert skip_of(not_zip).reason == "corrupt"
    no_container = make_epub(tmp_path / "utan.epub", BOOK_FILES, BOOK_OPF, container=False)
    skip = skip_of(no_container)
    assert skip.reason == "corrupt" and "container.xml" in skip.detail
    data = (FIXTURES / "bygglov.epub").read_bytes()
    cut = tmp_path / "avklippt.epub"
    cut.write_bytes(data[: len(data) // 2])
    assert skip_of(cut).reason == "corrupt"


def test_a_drm_protected_book_is_encrypted(tmp_path):
    encryption = {"META-INF/encryption.xml": (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:CipherData>'
        '<enc:CipherReference URI="OEBPS/text/kap2.xhtml"/></enc:CipherData></enc:EncryptedData>'
        "</encryption>")}
    path = make_epub(tmp_path / "drm.epub", BOOK_FILES, BOOK_OPF, extra=encryption)
    assert skip_of(path).reason == "encrypted"
    fonts_only = {"META-INF/encryption.xml": encryption["META-INF/encryption.xml"].replace(
        "OEBPS/text/kap2.xhtml", "OEBPS/fonts/typsnitt.otf")}
    path = make_epub(tmp_path / "typsnitt.epub", BOOK_FILES, BOOK_OPF, extra=fonts_only)
    assert "Läroverket kom 1905." in convert(path).text  # obfuscated fonts do not stop reading
