"""``/docs``, ``/redoc`` and the chat page in headless Chromium with nothing but the service.

Every request to another address is refused (and recorded), as on a machine without network;
the pages must still render, under the service's Content-Security-Policy, without a single
violation of it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import chromium_browser, require_browser  # noqa: F401 - the browser fixture

require_browser()

from playwright.sync_api import expect  # noqa: E402 - only once the browser is there

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 30_000


@pytest.fixture
def offline_page(browser, live_server):
    """A page that may reach the service only; what else it asked for, and any CSP report."""
    own = urlsplit(live_server).netloc
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    violations: list[str] = []

    def route(r) -> None:
        url = r.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == own:
            r.continue_()
        else:
            outside.append(url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    page.outside, page.violations = outside, violations  # type: ignore[attr-defined]
    yield page
    context.close()


# ReDoc's sidebar shows Redocly's logo from their CDN, unconditionally; the policy refusing it
# is what keeps the page from reaching out (the image is decoration: "API docs by Redocly").
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _clean(page) -> None:
    assert page.outside == [], page.outside
    violations = [v for v in page.violations if REDOC_LOGO not in v]
    assert violations == [], violations


def test_swagger_ui_renders_offline(offline_page, live_server) -> None:
    page = offline_page
    page.goto(live_server + "/docs")
    expect(page.locator(".opblock-summary-path", has_text="/api/search").first).to_be_visible(
        timeout=WAIT_MS)
    page.locator(".opblock-summary-path", has_text="/api/search").first.click()
    expect(page.get_by_text("Vad är tillitsbaserad styrning?").first).to_be_visible(timeout=WAIT_MS)
    _clean(page)


def test_redoc_renders_offline(offline_page, live_server) -> None:
    page = offline_page
    page.goto(live_server + "/redoc")
    expect(page.locator("h1", has_text="Svensk QA")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_text("/api/search").first).to_be_attached(timeout=WAIT_MS)
    search = page.get_by_placeholder("Search...")
    search.fill("search")  # runs ReDoc's search worker (a blob: script)
    expect(page.locator("[role=search] li, [data-role='search:result']").first).to_be_attached(
        timeout=WAIT_MS)
    _clean(page)


def test_the_chat_page_keeps_to_its_policy(offline_page, live_server) -> None:
    page = offline_page
    page.goto(live_server + "/")
    box = page.locator("textarea").first
    expect(box).to_be_visible(timeout=WAIT_MS)
    box.fill("Vad är tillitsbaserad styrning?")
    box.press("Enter")
    expect(page.locator("mark").first).to_be_visible(timeout=WAIT_MS)
    _clean(page)
