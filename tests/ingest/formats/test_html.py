"""Web pages: the main content with its structure; navigation, banners and footers gone."""

from __future__ import annotations

import socket

import pytest

from qa.ingest.converted import Skip
from qa.ingest.formats import convert
from tests.ingest.formats.checks import blocks_of
from tests.ingest.make_files import (
    COOKIE_TEXT,
    FOOTER_TEXT,
    NAV_LINKS,
    RELATED_LINKS,
    RELATED_TEXT,
    make_html,
)

BLOCKS = [
    ("p", "Det kostar 20 kronor i timmen att parkera på Stortorget under vardagar mellan "
          "klockan nio och arton, och avgiften gäller även lördagar före jul."),
    ("h2", "Avgifter och zoner"),
    ("p", "Zon A är den innersta delen av centrum där avgiften är högst och tiden kortast."),
    ("li", "Boende får ett boendekort för 500 kronor i månaden."),
    ("li", "Rörelsehindrade med tillstånd parkerar gratis."),
    ("h3", "Betalning"),
    ("row", "Zon | Pris per timme"),
    ("row", "A | 20 kr"),
    ("p", "Betala med app, sms eller i automaten vid torget."),
]


def test_main_content_with_structure_and_no_chrome(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a format reader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    converted = convert(make_html(tmp_path / "parkering.html", "Parkering i centrum", BLOCKS))
    assert converted.format == "html" and converted.title == "Parkering i centrum"
    assert blocks_of(converted) == [
        ("heading", 1, "Parkering i centrum"),
        ("paragraph", 0, BLOCKS[0][1]),
        ("heading", 2, "Avgifter och zoner"),
        ("paragraph", 0, BLOCKS[2][1]),
        ("list_item", 1, "Boende får ett boendekort för 500 kronor i månaden."),
        ("list_item", 1, "Rörelsehindrade med tillstånd parkerar gratis."),
        ("heading", 3, "Betalning"),
        ("table_row", 0, "Zon | Pris per timme"),
        ("table_row", 0, "A | 20 kr"),
        ("paragraph", 0, "Betala med app, sms eller i automaten vid torget."),
    ]
    for chrome in (COOKIE_TEXT, FOOTER_TEXT, RELATED_TEXT, *RELATED_LINKS, *NAV_LINKS, "Godkänn"):
        assert chrome not in converted.text
    assert "<" not in converted.text


def test_the_declared_charset_is_honoured(tmp_path):
    page = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
            "<title>Bygglov för altan</title></head><body><article><h1>Bygglov för altan</h1>"
            "<p>Du behöver söka bygglov om altanen är högre än 1,8 meter över marken. Handläggningen "
            "tar ungefär fyra veckor och avgiften beräknas enligt kommunens taxa för plan- och "
            "bygglovsärenden.</p><p>Kontakta byggnadsnämnden för rådgivning om förhandsbesked.</p>"
            "</article></body></html>")
    path = tmp_path / "bygglov.html"
    path.write_bytes(page.encode("latin-1"))
    converted = convert(path)
    assert converted.metadata["encoding"] == "cp1252"
    assert "högre än 1,8 meter över marken" in converted.text
    assert "rådgivning om förhandsbesked" in converted.text


def test_an_undeclared_latin1_page_is_detected(tmp_path):
    page = "<html><body><p>Förskolan på Åsgatan öppnar klockan sex.</p></body></html>"
    path = tmp_path / "forskola.htm"
    path.write_bytes(page.encode("latin-1"))
    assert "Förskolan på Åsgatan öppnar klockan sex." in convert(path).text


def test_a_small_page_falls_back_to_its_visible_body(tmp_path):
    page = ("<!DOCTYPE html><html><head><title>Öppettider</title><script>var spår = 1;</script>"
            '<style>p { color: red }</style></head><body><div class="cookie-banner">Vi använder kakor'
            "</div><nav><a href='/'>Meny</a></nav><h1>Öppettider</h1>Vi har öppet <b>måndag</b> till "
            "fredag.<ul><li>Lördag: stängt<ul><li>utom i december</li></ul></li></ul>"
            "<footer>Kontakt: växeln</footer></body></html>")
    path = tmp_path / "oppet.html"
    path.write_text(page, encoding="utf-8")
    converted = convert(path)
    assert converted.metadata["extracted"] == "whole page"
    assert converted.title == "Öppettider"
    assert blocks_of(converted) == [
        ("heading", 1, "Öppettider"),
        ("paragraph", 0, "Vi har öppet måndag till fredag."),
        ("list_item", 1, "Lördag: stängt"),
        ("list_item", 2, "utom i december"),
    ]


def test_a_page_without_text_is_empty(tmp_path):
    path = tmp_path / "tom.html"
    path.write_text("<html><head><title>Tom</title></head><body><img src='a.png'></body></html>")
    with pytest.raises(Skip) as caught:
        convert(path)
    assert caught.value.reason == "empty"
