"""Saved e-mail (.eml): subject, date, senders, the plain or HTML body, attachments read or
listed as not read; messages as Python's email package writes them, and as a mail client
sends them (quoted-printable Latin-1, encoded words, an HTML-only body)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from qa.ingest.formats import ReadOptions, convert
from tests.ingest.formats.checks import blocks_of, skip_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"

BODY = """Hej!

Barn- och utbildningsnämnden har beslutat att eleverna i Norrby
får skolskjuts från och med höstterminen.

- Avståndet ska vara minst två kilometer
- Ansökan görs i e-tjänsten

> Tidigare fråga: gäller det även fritids?

Med vänliga hälsningar
Åsa Öberg
"""


def make_message(path: Path, attachments: bool = True) -> Path:
    message = EmailMessage()
    message["Subject"] = "Beslut om skolskjuts för höstterminen"
    message["From"] = "Åsa Öberg <asa.oberg@exempel.se>"
    message["To"] = "Förvaltningen <forvaltning@exempel.se>, bjorn@exempel.se"
    message["Cc"] = "Nämndsekreterare <nämnd@exempel.se>"
    # late in the evening in Sweden, already the next day in UTC: the mail's own day counts
    message["Date"] = format_datetime(datetime(2024, 8, 12, 23, 30, tzinfo=timezone(timedelta(hours=2))))
    message.set_content(BODY)
    message.add_alternative("<html><body><p>Hej! (HTML-delen)</p></body></html>", subtype="html")
    if attachments:
        message.add_attachment((FIXTURES / "bygglov.rtf").read_bytes(), maintype="application",
                               subtype="rtf", filename="bygglov.rtf")
        message.add_attachment(b"\x89PNG\r\n\x1a\n" + bytes(64), maintype="image", subtype="png",
                               filename="karta.png")
    path.write_bytes(bytes(message))
    return path


def test_a_message_with_its_senders_body_and_attachments(tmp_path):
    converted = convert(make_message(tmp_path / "brev.eml"))
    assert converted.format == "eml"
    assert converted.title == "Beslut om skolskjuts för höstterminen"
    assert converted.date == "2024-08-12"
    assert converted.metadata == {
        "from": "Åsa Öberg <asa.oberg@exempel.se>",
        "to": ["Förvaltningen <forvaltning@exempel.se>", "bjorn@exempel.se"],
        "cc": ["Nämndsekreterare <nämnd@exempel.se>"],
        "attachments": ["bygglov.rtf", "karta.png"],
    }
    blocks = blocks_of(converted)
    assert blocks[:9] == [
        ("heading", 1, "Beslut om skolskjuts för höstterminen"),
        ("paragraph", 0, "Från: Åsa Öberg <asa.oberg@exempel.se>. Till: Förvaltningen "
         "<forvaltning@exempel.se>, bjorn@exempel.se. Kopia: Nämndsekreterare <nämnd@exempel.se>. "
         "Datum: 2024-08-12"),
        ("paragraph", 0, "Hej!"),
        ("paragraph", 0, "Barn- och utbildningsnämnden har beslutat att eleverna i Norrby får "
         "skolskjuts från och med höstterminen."),
        ("list_item", 1, "Avståndet ska vara minst två kilometer"),
        ("list_item", 1, "Ansökan görs i e-tjänsten"),
        ("paragraph", 0, "Tidigare fråga: gäller det även fritids?"),
        ("paragraph", 0, "Med vänliga hälsningar Åsa Öberg"),
        ("heading", 2, "Bilagor"),
    ]
    assert blocks[9:12] == [
        ("list_item", 1, "bygglov.rtf (application/rtf)"),
        ("list_item", 1, "karta.png (image/png, inte läst: formatet läses inte)"),
        ("heading", 2, "Bilaga: bygglov.rtf"),
    ]
    # the attachment's own headings, two levels down, and its table
    assert ("heading", 3, "Riktlinjer för bygglov") in blocks
    assert ("heading", 4, "Avgifter och zoner") in blocks
    assert ("table_row", 0, "Altan | 3 000 kr") in blocks
    assert "HTML-delen" not in converted.text  # the plain part is the body
    assert converted.warnings == ["attachment 'karta.png' not read (unsupported type: image/png)"]


def test_an_attachment_over_the_limits_is_listed_not_read(tmp_path):
    converted = convert(make_message(tmp_path / "brev.eml"), ReadOptions(max_chars=900))
    assert "bygglov.rtf (application/rtf, inte läst: too large)" in converted.text
    assert any("bygglov.rtf" in w and "too large" in w for w in converted.warnings)


def test_a_mail_client_message_quoted_printable_latin1_and_html_only(tmp_path):
    raw = (
        b"Return-Path: <kundcenter@exempel.se>\r\n"
        b"From: =?iso-8859-1?q?Kundcenter_V=E4xj=F6?= <kundcenter@exempel.se>\r\n"
        b"To: medborgare@exempel.se\r\n"
        b"Subject: =?iso-8859-1?q?Sv=E5r_fr=E5ga_om_f=F6rskoleplats?=\r\n"
        b"Date: Mon, 3 Feb 2025 08:15:00 +0100\r\n"
        b"Message-ID: <1234@exempel.se>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"<html><body><h2>Svar p=E5 din fr=E5ga</h2><p>Du f=E5r besked om f=F6rskoleplats inom fyra "
        b"m=E5nader efter ans=F6kan.</p><p>V=E4nliga h=E4lsningar, Kundcenter</p></body></html>\r\n")
    path = tmp_path / "svar.eml"
    path.write_bytes(raw)
    converted = convert(path)
    assert converted.title == "Svår fråga om förskoleplats" and converted.date == "2025-02-03"
    assert converted.metadata == {"from": "Kundcenter Växjö <kundcenter@exempel.se>",
                                  "to": ["medborgare@exempel.se"]}
    blocks = blocks_of(converted)
    assert ("heading", 3, "Svar på din fråga") in blocks  # the HTML's h2, one level down
    assert ("paragraph", 0, "Du får besked om förskoleplats inom fyra månader efter ansökan.") in blocks
    assert "<p>" not in converted.text and "=E5" not in converted.text


def test_a_message_saved_by_the_mutt_mail_client():
    # fixtures/make_fixtures.py: mutt splits the ISO-8859-1 encoded words of the subject inside
    # a phrase, sends the body as 8-bit UTF-8 and the LibreOffice spreadsheet in base64
    converted = convert(FIXTURES / "medborgarkontoret.eml")
    assert converted.title == "Nya öppettider på medborgarkontoret"
    assert converted.metadata == {"from": "Åke Ärlig <ake.arlig@exempel.se>",
                                  "to": ["Medborgarkontoret <medborgarkontoret@exempel.se>"],
                                  "cc": ["registrator@exempel.se"], "attachments": ["budget.ods"]}
    sent = next(line for line in (FIXTURES / "medborgarkontoret.eml").read_text("latin-1").splitlines()
                if line.startswith("Date: "))
    assert converted.date == parsedate_to_datetime(sent[6:]).date().isoformat()
    assert converted.warnings == []
    blocks = blocks_of(converted)
    assert blocks[2:7] == [
        ("paragraph", 0, "Hej!"),
        ("paragraph", 0, "Kommunstyrelsen har beslutat om nya öppettider för medborgarkontoret: "
         "måndag till torsdag 8–17, fredag 8–15."),
        ("list_item", 1, "Telefontiden är oförändrad"),
        ("list_item", 1, "Besök utan bokning går bra"),
        ("paragraph", 0, "Med vänlig hälsning Åke Ärlig"),
    ]
    assert blocks[7:11] == [
        ("heading", 2, "Bilagor"),
        ("list_item", 1, "budget.ods (application/vnd.oasis.opendocument.spreadsheet)"),
        ("heading", 2, "Bilaga: budget.ods"),
        ("heading", 3, "Budget"),  # the sheet, two levels down
    ]
    assert ("table_row", 0, "Summa | 430000 | 448500 | 18500") in blocks


def test_broken_headers_cost_only_what_they_say(tmp_path):
    path = tmp_path / "trasig.eml"
    path.write_bytes(b"From: <<<inte en adress\r\nTo: ;;;\r\nDate: inte ett datum\r\n"
                     b"Subject: =?utf-8?b?inte-base64!?=\r\n\r\nTexten finns kvar.\r\n")
    converted = convert(path)
    assert converted.date is None
    assert blocks_of(converted)[-1] == ("paragraph", 0, "Texten finns kvar.")


def test_not_an_email_is_corrupt(tmp_path):
    path = tmp_path / "inte.eml"
    path.write_bytes(b"Bara lite text utan rubriker.\nEn rad till.\n")
    skip = skip_of(path)
    assert skip.reason == "corrupt" and "not an e-mail" in skip.detail
