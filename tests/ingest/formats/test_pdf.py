"""PDF: the text layer page by page, paragraphs joined, headers, footers and page numbers gone."""

from __future__ import annotations

from qa.ingest.formats import ReadOptions, convert
from qa.ingest.formats.lines import join_lines
from tests.ingest.formats.checks import blocks_of, skip_of
from tests.ingest.make_files import (
    HEADER_TEXT,
    make_corrupt_pdf,
    make_encrypted_pdf,
    make_pdf,
    make_scanned_pdf,
)

LONG = ("Kommunen ansvarar för att samla in hushållsavfall från alla fastigheter i kommunen. "
        "Avgiften för sophämtning bestäms av kommunfullmäktige och gäller för ett år i taget. "
        "Den som har frågor om sin avgift kan kontakta kundtjänst på vardagar mellan klockan "
        "åtta och sexton.")
PAGES = [
    [("h1", "Avfallstaxa för år 2025"), ("p", LONG), ("h2", "Avgifter och zoner"),
     ("p", "Zon ett omfattar tätorten och zon två landsbygden, där hämtningen sker mer sällan. "
           "Avgiften i zon två är därför lägre än i zon ett, men grundavgiften är densamma."),
     ("li", "Kärl om 140 liter töms varannan vecka."),
     ("li", "Kärl om 190 liter töms varje vecka, vilket kostar mer än det mindre kärlet och "
            "passar större hushåll med många boende.")],
    [("h2", "Överklagande"), ("p", "Beslutet kan överklagas hos förvaltningsrätten inom tre veckor "
                                  "från den dag då du fick del av beslutet."),
     ("p", "Skriv vilket beslut du överklagar och varför.")],
    [("h3", "Kontakt med nämnden"), ("p", "Miljönämnden sammanträder en gång i månaden utom i juli.")],
]


def test_pages_headings_paragraphs_and_lists_round_trip(tmp_path):
    converted = convert(make_pdf(tmp_path / "taxa.pdf", PAGES, title="Avfallstaxa 2025"))
    assert converted.format == "pdf" and converted.title == "Avfallstaxa 2025"
    assert converted.date and len(converted.date) == 10
    assert converted.metadata["page_count"] == 3 and converted.warnings == []
    assert blocks_of(converted) == [
        ("heading", 1, "Avfallstaxa för år 2025"),
        ("paragraph", 0, LONG),  # wrapped over several lines, joined into one block
        ("heading", 2, "Avgifter och zoner"),
        ("paragraph", 0, PAGES[0][3][1]),
        ("list_item", 1, "Kärl om 140 liter töms varannan vecka."),
        ("list_item", 1, PAGES[0][5][1]),
        ("heading", 2, "Överklagande"),
        ("paragraph", 0, PAGES[1][1][1]),
        ("paragraph", 0, "Skriv vilket beslut du överklagar och varför."),
        ("heading", 3, "Kontakt med nämnden"),
        ("paragraph", 0, "Miljönämnden sammanträder en gång i månaden utom i juli."),
    ]
    # Running header and "Sida N av 3" footers are gone.
    assert HEADER_TEXT not in converted.text and "Sida" not in converted.text
    # Each page span holds exactly that page's blocks.
    assert [page.number for page in converted.pages] == [1, 2, 3]
    for page, blocks in zip(converted.pages, PAGES, strict=True):
        on_page = converted.text[page.start:page.end]
        assert on_page.startswith(blocks[0][1]) and on_page.endswith(blocks[-1][1])
    assert converted.pages[1].start == converted.pages[0].end + 2


def test_a_page_without_text_has_no_span(tmp_path):
    pages = [[("p", "Första sidan har text om förskolan.")], [], [("p", "Tredje sidan om skolan.")]]
    converted = convert(make_pdf(tmp_path / "glest.pdf", pages))
    assert [page.number for page in converted.pages] == [1, 3]
    assert converted.warnings == []  # a blank page is not a scanned page


def test_a_pdf_that_needs_a_password_is_encrypted(tmp_path):
    skip = skip_of(make_encrypted_pdf(tmp_path / "lön.pdf", "Lönelista"))
    assert skip.reason == "encrypted"


def test_a_pdf_with_an_empty_user_password_opens(tmp_path):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "skyddad.pdf"
    canvas = Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("", ownerPassword="ägare"))
    canvas.drawString(72, 720, "Protokoll från kommunstyrelsens sammanträde i maj.")
    canvas.save()
    assert "kommunstyrelsens sammanträde" in convert(path).text


def test_a_corrupt_pdf_is_corrupt(tmp_path):
    skip = skip_of(make_corrupt_pdf(tmp_path / "trasig.pdf"))
    assert skip.reason == "corrupt" and "PDF" in skip.detail


def test_a_scanned_pdf_without_ocr_needs_ocr(tmp_path):
    path = make_scanned_pdf(tmp_path / "skannad.pdf", [["Ett beslut som skannats in."], ["Sida två."]])
    skip = skip_of(path, ReadOptions(ocr="off"))
    assert skip.reason == "no text layer"
    assert skip.detail == "2 pages need OCR: OCR is off"


def test_scanned_pages_in_a_text_pdf_are_named_in_a_warning(tmp_path):
    import pypdfium2 as pdfium

    text = make_pdf(tmp_path / "text.pdf", [[("p", "Sidan med text om bygglov.")],
                                            [("p", "Ytterligare en sida med text.")]])
    scanned = make_scanned_pdf(tmp_path / "scan.pdf", [["Skannad bilaga."]])
    merged = pdfium.PdfDocument.new()
    for source in (text, scanned):
        pdf = pdfium.PdfDocument(source)
        merged.import_pages(pdf)
        pdf.close()
    merged.save(tmp_path / "blandad.pdf")
    merged.close()
    converted = convert(tmp_path / "blandad.pdf", ReadOptions(ocr="off"))
    assert [page.number for page in converted.pages] == [1, 2]
    assert converted.warnings == ["page 3 has no text layer and was not indexed (OCR is off)"]
    assert "bygglov" in converted.text


def test_a_word_hyphenated_at_a_line_end_is_joined_only_when_safe(tmp_path):
    from reportlab.pdfgen.canvas import Canvas

    lines = ["Kommunen ska verka för en hållbar utveck-", "ling av landsbygden och ett stärkt kommun-",
             "och regionförbund med fler e-", "tjänster och EU-", "medel för 2020-", "talet."]
    path = tmp_path / "avstavning.pdf"
    canvas = Canvas(str(path))
    for number, line in enumerate(lines):
        canvas.drawString(72, 720 - 14 * number, line)
    canvas.save()
    assert convert(path).text == ("Kommunen ska verka för en hållbar utveckling av landsbygden och ett "
                                  "stärkt kommun- och regionförbund med fler e-tjänster och EU-medel "
                                  "för 2020-talet.")
    joined = join_lines(["Resan Göteborg-", "Stockholm tar tre timmar."])
    assert joined == "Resan Göteborg-Stockholm tar tre timmar."


def test_text_past_max_chars_stops_the_pdf(tmp_path):
    path = make_pdf(tmp_path / "lång.pdf", [[("p", LONG)] * 3] * 5)
    skip = skip_of(path, ReadOptions(max_chars=2_000))
    assert skip.reason == "too large"


def _pdf_with_stream(path, stream: bytes) -> None:
    """A one-page PDF whose content stream is ``stream`` (already Flate-compressed)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
               + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def test_a_pdf_decompression_bomb_is_refused_before_pdfium_inflates_it(tmp_path):
    import zlib

    bomb = zlib.compressobj(9)
    stream = b"".join(bomb.compress(b" " * 2**20) for _ in range(300)) + bomb.flush()
    _pdf_with_stream(tmp_path / "bomb.pdf", stream)  # 300 MiB of spaces in ~300 KB
    skip = skip_of(tmp_path / "bomb.pdf")
    assert skip.reason == "too large" and "decompression bomb" in skip.detail

    text = zlib.compress(b"BT /F1 12 Tf 72 720 Td (Hej) Tj ET")
    _pdf_with_stream(tmp_path / "liten.pdf", text)  # an ordinary stream passes the guard
    from qa.ingest.formats.pdf_streams import check_streams

    check_streams(tmp_path / "liten.pdf", ReadOptions().max_unzipped_bytes)
