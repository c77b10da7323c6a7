"""``/tillganglighet``: the Swedish default accessibility statement, or the configured one."""

from __future__ import annotations

import httpx

from api.app import create_app
from qa.settings import Settings
from tests.live import serve


def test_the_default_statement_names_the_complaint_route_and_the_page_links_it(hashed_live_server):
    r = httpx.get(f"{hashed_live_server}/tillganglighet")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<html lang="sv">' in r.text and "<h1>Tillgänglighetsredogörelse</h1>" in r.text
    assert 'href="https://www.digg.se/tdosanmalan"' in r.text
    assert "Rapportera brister" in r.text and "WCAG 2.1" in r.text
    page = httpx.get(f"{hashed_live_server}/").text
    assert 'href="/tillganglighet"' in page


def test_a_configured_statement_replaces_it_and_its_html_is_shown_as_text(hashed_engine, tmp_path):
    own = tmp_path / "redogorelse.md"
    own.write_text("# Tillgänglighet för Exempelby\n\nKontakta oss på "
                   "[tillganglighet@exempelby.se](mailto:tillganglighet@exempelby.se).\n\n"
                   "<script>alert(1)</script>\n", encoding="utf-8")
    settings = Settings(accessibility_statement=own)
    with serve(create_app(hashed_engine, settings)) as base:
        text = httpx.get(f"{base}/tillganglighet").text
        assert "<title>Tillgänglighet för Exempelby – Fråga dokumenten</title>" in text
        assert 'href="mailto:tillganglighet@exempelby.se"' in text
        assert "<script>" not in text and "&lt;script&gt;" in text
        own.write_text("# Ny version\n", encoding="utf-8")
        assert "<h1>Ny version</h1>" in httpx.get(f"{base}/tillganglighet").text
        own.unlink()  # unreadable: the default, and an error in the log
        assert "tdosanmalan" in httpx.get(f"{base}/tillganglighet").text
