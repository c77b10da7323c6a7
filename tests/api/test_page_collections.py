"""Browser tests of the page of a service of collections, at 1280 and 390 px: the picker at
``/``, a page bound to one collection at ``/c/NAME``, its access key, and an unknown name;
each state audited by axe-core for WCAG 2.1 A/AA (``tests.axe``).

The collections are those of ``tests/api/test_collections.py`` (``region`` and ``kommun``
behind their tokens, ``oppen`` open), served by the real app over a socket; the encoder is the
hashed n-gram one: the page is under test, not the ranking.
"""

from __future__ import annotations

import re

import pytest

from tests.api.test_collections import collections, folder, server  # noqa: F401 - fixtures
from tests.api.test_page import ARTIFACTS, DESKTOP, MOBILE, WAIT_MS, expect, no_horizontal_scroll
from tests.axe import violations
from tests.browser import chromium_browser  # noqa: F401 - the browser fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"desktop": DESKTOP, "mobile": MOBILE}


@pytest.fixture(params=list(VIEWPORTS))
def page(request, browser, server):  # noqa: F811 - the server fixture imported above
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="sv-SE",
                                  bypass_csp=True)  # to inject axe-core
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.base = server
    p.view = request.param
    yield p
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def audited(p, state: str) -> None:
    """No axe violation in the page as it is now, and nothing wider than the screen."""
    found = violations(p)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(ARTIFACTS / f"collections-{state}-{p.view}.png"))
    assert found == [], (state, p.view, found)
    assert no_horizontal_scroll(p) <= p.viewport_size["width"], state


def test_the_picker_lists_the_open_collections_and_a_key_opens_more(page):
    page.goto(page.base + "/")
    listed = page.locator("#collection-list")
    expect(listed).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Välj samling")).to_be_visible()
    expect(listed.get_by_role("link")).to_have_count(1)
    expect(listed.get_by_role("link", name=re.compile("oppen"))).to_have_attribute("href", "/c/oppen")
    expect(page.locator("#question")).to_be_hidden()
    audited(page, "picker")

    page.get_by_role("button", name="Jag har en åtkomstnyckel").click()
    expect(page.locator("#access-dialog")).to_be_visible()
    page.locator("#access-key").fill("fel-nyckel")
    page.locator("#access-form").get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#access-error")).to_have_text(re.compile("Nyckeln öppnar ingen samling"))
    audited(page, "picker-key-wrong")
    page.locator("#access-key").fill("las-region")
    page.locator("#access-form").get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#access-dialog")).to_be_hidden()
    expect(listed.get_by_role("link")).to_have_count(2)
    expect(listed.get_by_role("link", name=re.compile("region"))).to_contain_text("kräver nyckel")
    audited(page, "picker-with-key")

    # The key given in the picker opens the collection chosen there.
    listed.get_by_role("link", name=re.compile("region")).click()
    page.wait_for_url(re.compile(r"/c/region$"))
    expect(page.locator("#document-list")).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    expect(page.locator(".brand-sub")).to_have_text("Samling: region")
    expect(page.locator("#access-dialog")).to_be_hidden()


def test_a_page_bound_to_a_collection_asks_only_it(page):
    page.goto(page.base + "/c/oppen")
    expect(page.locator("#document-list")).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    expect(page.locator(".brand-sub")).to_have_text("Samling: oppen")
    expect(page.get_by_role("link", name="Alla samlingar")).to_have_attribute("href", "/")
    audited(page, "bound")
    with page.expect_response(lambda r: r.url.endswith("/api/collections/oppen/search")) as answer:
        page.locator("#question").fill("När har biblioteket öppet på tisdagar?")
        page.locator("#question").press("Enter")
    assert answer.value.status == 200
    turn = page.locator(".turn").first
    expect(turn.locator(".answer")).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    expect(turn.locator(".card").first).to_contain_text("Biblioteket")
    audited(page, "bound-answer")


def test_a_protected_collection_asks_for_its_key(page):
    page.goto(page.base + "/c/kommun")
    expect(page.locator("#access-dialog")).to_be_visible(timeout=WAIT_MS)
    audited(page, "bound-key")
    page.locator("#access-key").fill("las-region")  # another collection's key
    page.locator("#access-form").get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#access-error")).to_have_text(re.compile("Fel åtkomstnyckel"))
    page.locator("#access-key").fill("las-kommun")
    page.locator("#access-form").get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#access-dialog")).to_be_hidden()
    expect(page.locator("#corpus-intro")).to_contain_text("2 dokument", timeout=WAIT_MS)


def test_an_unknown_collection_says_so(page):
    page.goto(page.base + "/c/saknas")
    expect(page.locator("#corpus-intro")).to_have_text(
        re.compile("Det finns ingen samling med det namnet"), timeout=WAIT_MS)
    audited(page, "unknown")
