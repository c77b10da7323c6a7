"""Browser tests of the chat page at ``/``: headless Debian Chromium through Playwright.

They drive the real app (real model, real index built from ``seeds/``) through the
``live_server`` fixture in ``tests/conftest.py``. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from tests.browser import chromium_browser, require_browser  # noqa: F401 - the browser fixture

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
WAIT_MS = 20_000  # the first query also warms the model up

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402 - only once the browser is there

pytestmark = [pytest.mark.browser, pytest.mark.slow]

Q_TRUST = "Vad är tillitsbaserad styrning?"
Q_COUNTIES = "Hur många länsstyrelser finns det?"
EXAMPLES = [
    Q_TRUST,
    Q_COUNTIES,
    "Vad diskuterades på Regiondagarna i Kronoberg?",
    "Vilka rekommendationer gav granskningsrapporten i Vimmerby?",
]
MSG_EMPTY = "Skriv en fråga först."
MSG_DOWN = "Tjänsten svarar inte just nu. Försök igen om en stund."
MSG_NO_MATCH = "Jag hittade inget som tydligt besvarar frågan."


# ---------- fixtures and helpers ----------


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as res:
        return json.loads(res.read().decode("utf-8"))


@pytest.fixture(scope="module")
def api_info(live_server):
    return {
        "health": _get_json(live_server + "/health"),
        "documents": _get_json(live_server + "/api/documents")["documents"],
    }


class Session:
    """A fresh browser context (own sessionStorage) with its page and what it logged."""

    def __init__(self, browser, base: str, viewport: dict):
        self.base = base
        self.context = browser.new_context(viewport=viewport, locale="sv-SE")
        self.page: Page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.searches: list[dict] = []
        self.page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("request", self._on_request)

    def _on_request(self, request):
        if request.method == "POST" and request.url.endswith("/api/search"):
            self.searches.append(json.loads(request.post_data or "{}"))

    def open(self):
        self.page.goto(self.base + "/")
        # The document list and the example questions have come (or failed) from the API.
        expect(self.page.locator("#document-list")).to_have_attribute("aria-busy", "false",
                                                                     timeout=WAIT_MS)
        expect(self.page.locator("#examples")).to_have_attribute("aria-busy", "false",
                                                                timeout=WAIT_MS)
        return self.page

    def ask(self, question: str):
        """Type a question and press Enter; wait for its answer; return the turn locator."""
        page = self.page
        before = page.locator(".turn").count()
        page.locator("#question").fill(question)
        page.locator("#question").press("Enter")
        return self.wait_answer(before)

    def wait_answer(self, index: int):
        turn = self.page.locator(".turn").nth(index)
        expect(turn.locator(".answer")).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
        return turn

    def close(self):
        self.context.close()


@pytest.fixture
def session(browser, live_server):
    s = Session(browser, live_server, DESKTOP)
    yield s
    s.close()
    assert not s.page_errors, f"JavaScript errors on the page: {s.page_errors}"


@pytest.fixture
def mobile(browser, live_server):
    s = Session(browser, live_server, MOBILE)
    yield s
    s.close()
    assert not s.page_errors, f"JavaScript errors on the page: {s.page_errors}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def card_with(turn, text: str):
    return turn.locator(".card", has_text=text).first


def show_all(turn) -> None:
    """Press "Visa fler källor" when the answer has more cards than it shows at first."""
    more = turn.locator(".show-more")
    if more.count():
        more.click()
        expect(more).to_have_count(0)


def no_horizontal_scroll(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


# ---------- tests ----------


def test_page_loads_with_empty_state(session, api_info):
    page = session.open()
    assert page.evaluate("document.documentElement.lang") == "sv"
    titles = [d["title"] for d in api_info["documents"]]
    assert len(titles) == 5
    expect(page.locator("#doc-panel .document-title")).to_have_text(titles)
    expect(page.locator("#corpus-intro")).to_contain_text("5 dokument")
    expect(page.locator("button.example")).to_have_text(EXAMPLES)
    # The question box has a visible label; nothing asked yet.
    expect(page.get_by_label("Din fråga")).to_be_visible()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#new-conversation")).to_be_hidden()
    page.wait_for_load_state("networkidle")
    shot(page, "desktop-empty.png")
    assert not session.console_errors, session.console_errors
    assert not session.page_errors, session.page_errors
    assert not session.searches


def test_clicking_an_example_asks_it(session):
    page = session.open()
    example = EXAMPLES[2]
    page.get_by_role("button", name=example).click()
    turn = session.wait_answer(0)
    assert session.searches == [{"question": example, "k": 5}]
    expect(turn.locator(".question-text")).to_contain_text(example)
    expect(turn.locator(".card").first).to_be_visible()
    expect(page.locator("#empty-state")).to_be_hidden()
    # Focus goes back to the question box for a follow-up question.
    assert page.evaluate("document.activeElement.id") == "question"


def test_conversation_answers_reload_and_document_view(session, api_info):
    page = session.open()

    first = session.ask(Q_TRUST)
    expect(page.locator("#question")).to_have_value("")
    expect(first.locator(".card:visible")).to_have_count(3)
    expect(first.locator(".card .rank").first).to_have_text("1")
    expect(first.locator(".card .relevance").first).to_contain_text("relevans")
    # The answering sentence is highlighted in at least one card.
    expect(first.locator(".card .answer-mark").first).to_be_visible(timeout=WAIT_MS)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "desktop-answer.png")
    show_all(first)
    expect(first.locator(".card:visible")).to_have_count(5)
    card = card_with(first, "Helsingborg")
    expect(card).to_be_visible()
    expect(card.locator(".card-title")).to_have_text("Att bygga utvecklingskapacitet")

    second = session.ask(Q_COUNTIES)
    expect(card_with(second, "21 fristående myndigheter")).to_be_visible()
    assert [s["question"] for s in session.searches] == [Q_TRUST, Q_COUNTIES]
    expect(page.locator("#new-conversation")).to_be_visible()

    # The conversation survives a reload, without asking again.
    page.reload()
    turns = page.locator(".turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(0).locator(".question-text")).to_contain_text(Q_TRUST)
    expect(turns.nth(1).locator(".question-text")).to_contain_text(Q_COUNTIES)
    expect(card_with(turns.nth(1), "21 fristående myndigheter")).to_be_visible()
    first = turns.nth(0)
    show_all(first)
    card = card_with(first, "Helsingborg")
    expect(card.locator(".answer-mark").first).to_be_visible()
    assert len(session.searches) == 2

    # Open the whole document from the Helsingborg card.
    result_index = int(card.get_attribute("data-result"))
    opener = card.locator(".card-open")
    opener.click()
    dialog = page.locator("#doc-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#doc-title")).to_have_text("Att bygga utvecklingskapacitet")
    passage = dialog.locator("#doc-passage")
    expect(passage).to_be_visible(timeout=WAIT_MS)

    doc_id = next(d["id"] for d in api_info["documents"] if d["title"] == "Att bygga utvecklingskapacitet")
    document = _get_json(f"{session.base}/api/documents/{doc_id}")
    shown = page.evaluate(
        """() => {
            const c = document.querySelector('#doc-body .doc-text').cloneNode(true);
            c.querySelectorAll('.sr-only').forEach(n => n.remove());
            const marks = [...c.querySelectorAll('.passage-mark')].map(m => m.textContent);
            const blocks = [...c.children].map(n => [n.tagName, n.textContent]);
            return {full: c.textContent, passage: marks.join(' '), blocks: blocks};
        }"""
    )
    # Every character of the document is shown, in its blocks (headings, paragraphs, lists).
    assert "".join(shown["full"].split()) == "".join(document["text"].split())
    headings = [document["text"][b["start"]:b["end"]] for b in document["blocks"]
                if b["kind"] == "heading"]
    assert headings and [t for tag, t in shown["blocks"] if tag.startswith("H")] == headings
    card_text = card.locator(".passage").text_content()
    assert "".join(shown["passage"].split()) == "".join(card_text.split())
    assert "Helsingborg" in shown["passage"]
    expect(dialog.locator(".passage-mark .answer-mark").first).to_be_visible()

    # The highlighted passage is scrolled into view inside the dialog's text area.
    in_view = page.evaluate(
        """() => {
            const body = document.getElementById('doc-body').getBoundingClientRect();
            const mark = document.querySelector('#doc-body #doc-passage').getBoundingClientRect();
            return mark.top >= body.top - 1 && mark.top < body.bottom && mark.bottom > body.top;
        }"""
    )
    assert in_view, "the passage is not scrolled into view"
    below_fold = page.evaluate("""() => document.getElementById('doc-passage').offsetTop >
                                        document.getElementById('doc-body').clientHeight""")
    if below_fold:  # it had to be scrolled to
        assert page.evaluate("document.getElementById('doc-body').scrollTop") > 0
    shot(page, "desktop-document.png")

    # Escape closes the dialog and focus returns to the button that opened it.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate(
        "i => document.activeElement === document.querySelectorAll('.turn')[0]"
        '.querySelector(`[data-result="${i}"] .card-open`)',
        result_index,
    )

    # "Ny konversation" empties the conversation, also after a reload.
    page.locator("#new-conversation").click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#empty-state")).to_be_visible()
    page.reload()
    expect(page.locator("#empty-state")).to_be_visible()
    expect(page.locator(".turn")).to_have_count(0)


def test_shift_enter_inserts_newline(session):
    page = session.open()
    box = page.locator("#question")
    box.click()
    page.keyboard.type("Rad ett")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("rad två")
    expect(box).to_have_value("Rad ett\nrad två")
    page.wait_for_timeout(200)
    assert session.searches == []
    expect(page.locator(".turn")).to_have_count(0)
    page.keyboard.press("Enter")
    turn = session.wait_answer(0)
    assert session.searches == [{"question": "Rad ett\nrad två", "k": 5}]
    expect(turn.locator(".question-text")).to_contain_text("rad två")


def test_validation_messages_send_nothing(session, api_info):
    page = session.open()
    box = page.locator("#question")
    error = page.locator("#question-error")

    box.press("Enter")
    expect(error).to_have_text(MSG_EMPTY)
    expect(box).to_have_attribute("aria-invalid", "true")
    box.fill("   \n  ")
    page.get_by_role("button", name="Fråga", exact=True).click()
    expect(error).to_have_text(MSG_EMPTY)

    limit = api_info["health"]["max_question_chars"]
    box.fill("å" * (limit + 1))
    counter = page.locator("#char-counter")
    expect(counter).to_be_visible()
    expect(counter).to_contain_text(f"{limit + 1} av {limit}")
    box.press("Enter")
    expect(error).to_have_text(f"Frågan är för lång (högst {limit} tecken).")
    box.fill("å" * limit)  # exactly at the limit is allowed: the message goes away
    expect(error).to_have_text("")
    page.wait_for_timeout(200)
    assert session.searches == []
    expect(page.locator(".turn")).to_have_count(0)


def test_loading_state_is_visible(session):
    page = session.open()
    held = []
    page.route("**/api/search", lambda route: held.append(route))
    page.locator("#question").fill(Q_COUNTIES)
    page.locator("#question").press("Enter")
    answer = page.locator(".turn .answer").first
    expect(answer).to_contain_text("Söker…")
    expect(answer).to_have_attribute("aria-busy", "true")
    page.wait_for_timeout(100)
    assert held, "the request did not reach the route"
    held[0].continue_()
    expect(answer).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    expect(answer).not_to_contain_text("Söker…")
    expect(card_with(page.locator(".turn").first, "21 fristående myndigheter")).to_be_visible()


def test_server_errors_show_swedish_message_and_retry(session):
    page = session.open()
    # The connection fails.
    page.route("**/api/search", lambda route: route.abort())
    page.locator("#question").fill(Q_COUNTIES)
    page.locator("#question").press("Enter")
    turn = session.wait_answer(0)
    expect(turn.locator(".notice-error")).to_contain_text(MSG_DOWN)
    retry = turn.get_by_role("button", name="Försök igen")
    expect(retry).to_be_visible()

    # The server answers 500: the same message, the retry still there.
    page.unroute("**/api/search")
    page.route(
        "**/api/search",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"detail": "Internal error"}'
        ),
    )
    retry.click()
    turn = session.wait_answer(0)
    expect(turn.locator(".notice-error")).to_have_text(MSG_DOWN + "Försök igen")
    assert "Internal" not in turn.inner_text()

    # The service is back: retry gives the answer in the same place.
    page.unroute("**/api/search")
    turn.get_by_role("button", name="Försök igen").click()
    turn = session.wait_answer(0)
    expect(page.locator(".turn")).to_have_count(1)
    expect(card_with(turn, "21 fristående myndigheter")).to_be_visible()
    expect(turn.locator(".notice-error")).to_have_count(0)
    assert len(session.searches) == 3


def test_no_good_match_and_escaped_text(session):
    page = session.open()
    evil = '<img src=x onerror="window.__pwned=1">Skadlig <b>titel</b>'
    result = {
        "rank": 1,
        "score": 0.1,
        "relevance": 0.12,
        "passage_id": "x:0",
        "document_id": "x",
        "title": evil,
        "section": "<i>avsnitt</i>",
        "date": "2020-01-31",
        "text": "Text med <script>window.__pwned=2</script> i sig.",
        "start": 0,
        "end": 40,
        "highlights": [],
    }
    body = {
        "question": "q",
        "mode": "hybrid",
        "took_ms": 1.0,
        "no_good_match": True,
        "results": [result, {**result, "rank": 2, "passage_id": "x:1"}],
    }
    page.route(
        "**/api/search",
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(body)),
    )
    turn = session.ask("Vad kostar en biljett till månen?")
    expect(turn.locator(".notice-nomatch")).to_contain_text(MSG_NO_MATCH)
    weak = turn.locator("details.weak-results")
    expect(weak).not_to_have_attribute("open", "")
    expect(turn.locator(".card").first).to_be_hidden()
    weak.locator("summary").click()
    expect(turn.locator(".card")).to_have_count(2)
    expect(turn.locator(".card").first).to_be_visible()
    expect(turn.locator(".card").first).to_contain_text("Osäker träff")
    expect(turn.locator(".card-title").first).to_have_text(evil)
    expect(turn.locator(".card-meta").first).to_contain_text("<i>avsnitt</i>")
    expect(turn.locator(".passage").first).to_contain_text("<script>")
    assert turn.locator("img, b, i, script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_card_marks_the_highlight_by_its_offsets_in_the_text(session):
    """The API's ``text`` is the document's ``text[start:end]``: the card marks
    ``text[a - start:b - start]`` for a highlight ``[a, b)``, counting code points (an emoji
    before it is one character, as the service counts), and keeps the text's line breaks."""
    page = session.open()
    text = ("Priser 🏊\n\nEtt vuxenbad kostar   70 kronor.\nEtt årskort kostar 2 400 kronor."
            "\n\n\n- Barn badar gratis.")
    start = 1000
    a = start + text.index("Ett årskort")
    b = start + text.index("kronor.\n\n\n") + len("kronor.")
    result = {"rank": 1, "score": 0.9, "similarity": 0.9, "relevance": 0.9, "passage_id": "s#0",
              "document_id": "simhall", "title": "Simhallen", "section": "Priser", "date": None,
              "text": text, "start": start, "end": start + len(text), "page": None,
              "page_end": None, "highlights": [[a, b]]}
    body = {"question": "q", "mode": "hybrid", "took_ms": 1.0, "no_good_match": False,
            "filters": None, "generation": 1, "results": [result]}
    page.route("**/api/search", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(body)))
    turn = session.ask("Vad kostar ett årskort?")
    card = turn.locator(".card").first
    expect(card.locator(".answer-mark")).to_have_text("Ett årskort kostar 2 400 kronor.")
    shown = card.locator(".passage").inner_text()
    assert shown.split("\n") == ["Priser 🏊", "", "Ett vuxenbad kostar 70 kronor.",
                                  "Ett årskort kostar 2 400 kronor.", "", "- Barn badar gratis."]


def test_mobile_layout(mobile):
    page = mobile.open()
    assert no_horizontal_scroll(page) <= MOBILE["width"]
    shot(page, "mobile-empty.png")
    turn = mobile.ask(Q_TRUST)
    expect(turn.locator(".card .answer-mark").first).to_be_visible(timeout=WAIT_MS)
    assert no_horizontal_scroll(page) <= MOBILE["width"]
    shot(page, "mobile-answer.png")
    show_all(turn)
    card = card_with(turn, "Helsingborg")
    expect(card).to_be_visible()
    assert no_horizontal_scroll(page) <= MOBILE["width"]
    card.scroll_into_view_if_needed()
    expect(card).to_be_in_viewport()
    box = card.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= MOBILE["width"]
    card.locator(".card-open").click()
    expect(page.locator("#doc-dialog #doc-passage")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#doc-close")).to_be_in_viewport()
    expect(page.locator("#doc-dialog #doc-passage")).to_be_in_viewport()
    assert no_horizontal_scroll(page) <= MOBILE["width"]
    shot(page, "mobile-document.png")
    page.locator("#doc-close").click()
    expect(page.locator("#doc-dialog")).to_be_hidden()


def test_keyboard_only(session):
    page = session.open()
    reached = []
    styles = {}
    for _ in range(12):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
                const a = document.activeElement;
                const s = getComputedStyle(a);
                return {id: a.id, cls: a.className, text: a.textContent.trim(),
                        outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                        visible: a.matches(':focus-visible')};
            }"""
        )
        key = info["id"] or info["cls"]
        reached.append(key)
        styles.setdefault(key, info)
    assert "question" in reached, reached
    assert "example" in reached, reached
    for key in ("question", "example"):
        info = styles[key]
        assert info["visible"] and info["outline"] != "none" and info["width"] >= 2, info
    # The first example is reached before the question box, and Enter on it asks it.
    page.locator("button.example").first.focus()
    page.keyboard.press("Enter")
    turn = session.wait_answer(0)
    expect(turn.locator(".question-text")).to_contain_text(EXAMPLES[0])
    # The document opens from the keyboard too and Escape brings focus back.
    page.locator(".card-open").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#doc-dialog")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "doc-close"
    page.keyboard.press("Escape")
    expect(page.locator("#doc-dialog")).to_be_hidden()
    assert "card-open" in page.evaluate("document.activeElement.className")


# ---------- converted documents: pages, structure, the original ----------


@pytest.fixture(scope="module")
def documents_server(tmp_path_factory, settings, embedder, questions):
    """A PDF and a DOCX made in the test, indexed and served by the real app."""
    from api.app import create_app
    from qa.index.build import build_index
    from qa.index.snapshot import Snapshot
    from qa.ingest.sources import read_corpus
    from qa.search.engine import SearchEngine
    from tests.ingest.make_files import make_docx, make_pdf
    from tests.live import serve
    from tests.test_real_documents import POLICY, TAXA

    folder = tmp_path_factory.mktemp("page-corpus")
    make_pdf(folder / "policy.pdf", POLICY, title="Parkeringspolicy")
    make_docx(folder / "taxa.docx", TAXA, title="Bygglovstaxa 2025")
    index_dir = tmp_path_factory.mktemp("page-index") / "docs"
    build_index(read_corpus(folder).documents, embedder, settings.index, index_dir, progress=False)
    snapshot = Snapshot.open(index_dir, settings.index, model_id=questions.model_id, dim=questions.dim)
    with serve(create_app(SearchEngine(snapshot, questions, settings.search), settings)) as url:
        yield url


def test_converted_documents_cite_pages_and_show_their_structure(browser, documents_server):
    session = Session(browser, documents_server, DESKTOP)
    try:
        page = session.open()
        turn = session.ask("Hur mycket kostar tillstånd för boendeparkering per månad?")
        card = turn.locator(".card").first
        expect(card.locator(".card-title")).to_have_text("Parkeringspolicy")
        expect(card.locator(".card-meta")).to_contain_text("Boendeparkering")
        expect(card.locator(".card-meta")).to_contain_text("s. 3")

        card.locator(".card-open").click()
        dialog = page.locator("#doc-dialog")
        expect(dialog.locator("#doc-passage")).to_be_visible(timeout=WAIT_MS)
        expect(dialog.locator("#doc-meta")).to_contain_text("Sida: 3")
        headings = dialog.locator(".doc-heading")
        expect(headings.first).to_have_text("Parkeringspolicy för Exempelby kommun")
        expect(dialog.locator("h4.doc-heading", has_text="Boendeparkering")).to_be_visible()
        assert dialog.locator(".doc-page").all_text_contents() == ["Sida 1", "Sida 2", "Sida 3"]
        assert "#" not in dialog.locator(".doc-text").text_content()
        expect(dialog.locator(".passage-mark", has_text="600 kronor per månad")).to_be_visible()
        link = dialog.locator("a.doc-original")
        expect(link).to_contain_text("Ladda ner originalet (PDF")
        res = page.request.get(documents_server + link.get_attribute("href"))
        assert res.status == 200 and res.headers["content-type"] == "application/pdf"
        assert res.body()[:5] == b"%PDF-"
        shot(page, "desktop-document-pdf.png")
        page.keyboard.press("Escape")

        turn = session.ask("Vad kostar bygglov för ett nytt enbostadshus?")
        card = turn.locator(".card").first
        expect(card.locator(".card-meta")).to_contain_text("Avgift för bygglov")
        expect(card.locator(".card-meta")).not_to_contain_text("s. ")
        card.locator(".card-open").click()
        expect(dialog.locator("#doc-passage")).to_be_visible(timeout=WAIT_MS)
        items = dialog.locator(".doc-list .doc-li")
        assert items.all_text_contents() == ["Avgiften tas ut även om ansökan avslås.",
                                             "Startbesked ingår i avgiften."]
        expect(dialog.locator("a.doc-original")).to_contain_text("Word")
    finally:
        session.close()


def test_lead_in_and_list_marked_labels_never_rise_and_weak_cards_unmarked(session):
    session.open()
    turn = session.ask(Q_TRUST)
    show_all(turn)
    first = turn.locator(".card").first
    mark = first.locator(".answer-mark")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text("fem fingrar:")
    expect(mark).to_contain_text("Följ upp med verksamhetsdialoger")  # the list, not only its lead-in
    order = {"Hög relevans": 2, "Medel relevans": 1, "Låg relevans": 0}
    cards = turn.locator(".card")
    labels = [cards.nth(i).locator(".rel-label").inner_text() for i in range(cards.count())]
    levels = [order[label] for label in labels]
    assert levels == sorted(levels, reverse=True), labels
    for i, label in enumerate(labels):
        expected = 0 if label == "Låg relevans" else 1
        expect(cards.nth(i).locator(".answer-mark")).to_have_count(expected)
    shot(session.page, "lead-in-and-list.png")


def test_a_question_the_documents_do_not_answer_shows_folded_candidates(session):
    session.open()
    turn = session.ask("Vad kostar ett busskort?")
    expect(turn.locator(".notice-nomatch")).to_contain_text(MSG_NO_MATCH)
    weak = turn.locator("details.weak-results")
    expect(weak).to_have_count(1)
    expect(weak).not_to_have_attribute("open", "")
    expect(turn.locator(".answer-mark")).to_have_count(0)  # nothing is offered as the answer



def test_candidates_under_no_clear_answer_mark_nothing_even_with_highlights(session):
    """The service's real answer to a question, with its highlights, but flagged: the page
    folds the cards and marks nothing in them, also once it has read the documents."""
    page = session.open()

    def flagged(route) -> None:
        response = route.fetch()
        body = response.json()
        assert body["results"][0]["highlights"], "the real answer has highlights"
        body["no_good_match"] = True
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api/search", flagged)
    turn = session.ask(Q_TRUST)
    expect(turn.locator(".notice-nomatch")).to_contain_text(MSG_NO_MATCH)
    turn.locator("details.weak-results summary").click()
    expect(turn.locator(".card").first).to_contain_text("fem fingrar")
    page.wait_for_timeout(1000)  # the document texts arrive and the passages are redrawn
    expect(turn.locator(".answer-mark")).to_have_count(0)
