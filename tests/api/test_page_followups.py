"""The chat page in a conversation: follow-ups carry the earlier questions, in Chromium.

The page sends the conversation's earlier questions with each new one, says discreetly when
an answer read a question together with the one before ("Tolkad tillsammans med din förra
fråga"), lets it be asked alone, and "Ny konversation" forgets them. axe-core audits the page
in that state (WCAG 2.1 A and AA) at 1280 and 390 px through ``tests/axe.py``.
"""

from __future__ import annotations

import pytest

from tests import axe
from tests.api.test_page import DESKTOP, MOBILE, WAIT_MS, Session, no_horizontal_scroll, shot
from tests.browser import chromium_browser, require_browser  # noqa: F401 - the browser fixture

require_browser()

from playwright.sync_api import expect  # noqa: E402 - only once the browser is there

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST = "Vem är ordförande för regionstyrelsen i Region Kronoberg?"
PARTY = "Vilket parti tillhör han?"
OTHER = "Hur många länsstyrelser finns det i Sverige?"
NOTE = "Tolkad tillsammans med din förra fråga"


class AuditedSession(Session):
    """A ``Session`` whose context lets axe-core in past the page's CSP (``bypass_csp``)."""

    def __init__(self, browser, base: str, viewport: dict):
        super().__init__(browser, base, viewport)
        self.context.close()
        self.context = browser.new_context(viewport=viewport, locale="sv-SE", bypass_csp=True)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("request", self._on_request)

    def violations(self) -> list[str]:
        return [f"{v['id']}: {', '.join(v['nodes'])}" for v in axe.violations(self.page)]


@pytest.fixture(params=[DESKTOP, MOBILE], ids=["desktop", "mobile"])
def view(request, browser, live_server):
    s = AuditedSession(browser, live_server, request.param)
    s.name = request.node.callspec.id
    yield s
    s.close()
    assert not s.page_errors, f"JavaScript errors on the page: {s.page_errors}"


def test_a_follow_up_is_read_with_the_earlier_question_and_can_be_asked_alone(view):
    page = view.open()
    first = view.ask(FIRST)
    assert view.searches[-1] == {"question": FIRST, "k": 5}
    expect(first.locator(".read-with")).to_have_count(0)

    follow = view.ask(PARTY)
    assert view.searches[-1] == {"question": PARTY, "k": 5, "history": [FIRST]}
    note = follow.locator(".read-with")
    expect(note).to_contain_text(f"{NOTE}: ”{FIRST}”")
    expect(follow.locator(".card").first).to_contain_text("Mikael Johansson (M)")
    assert no_horizontal_scroll(page) <= page.viewport_size["width"]
    shot(page, f"{view.name}-follow-up.png")
    assert view.violations() == []

    # Asked alone: a new turn without history, and no note on it.
    note.get_by_role("button", name="Ställ frågan för sig").click()
    alone = view.wait_answer(2)
    assert view.searches[-1] == {"question": PARTY, "k": 5}
    expect(alone.locator(".question-text")).to_contain_text(PARTY)
    expect(alone.locator(".read-with")).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()

    # A self-contained question about something else: sent with history, read alone.
    other = view.ask(OTHER)
    assert view.searches[-1] == {"question": OTHER, "k": 5, "history": [FIRST, PARTY, PARTY]}
    expect(other.locator(".read-with")).to_have_count(0)

    # The note survives a reload (the answer is kept), and "Ny konversation" forgets it all.
    page.reload()
    expect(page.locator(".turn").nth(1).locator(".read-with")).to_contain_text(NOTE)
    page.get_by_role("button", name="Ny konversation").click()
    expect(page.locator(".turn")).to_have_count(0)
    view.ask(PARTY)
    assert view.searches[-1] == {"question": PARTY, "k": 5}


def test_the_page_passes_axe_before_any_question(view):
    view.open()
    assert view.violations() == []
    expect(view.page.locator("#question")).to_be_visible(timeout=WAIT_MS)
