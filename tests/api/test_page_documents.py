"""Browser tests of the page's documents panel, asking within chosen documents, uploads and
deletion, at 1280 and 390 px: headless Debian Chromium through Playwright.

A small collection of real files (PDF, Word, OpenDocument, a web page, Markdown and text, made
by ``tests/ingest/make_files.py``) is indexed in the test and served by the real app over a
socket, with an admin token. Uploads and deletions go through the real write API and the
server swaps in each new index generation while it runs. The encoder is the hashed n-gram one
(``qa.embed.hashed``): the page is under test, not the model's ranking. Screenshots go to
``tests/artifacts/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# test_page skips (or fails in CI) when Chromium or Playwright is missing; so does this module.
from tests.api.test_page import (
    ARTIFACTS,
    DESKTOP,
    MOBILE,
    WAIT_MS,
    Page,
    Session,
    expect,
    no_horizontal_scroll,
)
from tests.browser import chromium_browser  # noqa: F401 - the browser fixture
from tests.ingest.make_files import make_docx, make_html, make_markdown, make_odt, make_pdf
from tests.live import serve
from tests.test_real_documents import AVFALL, BIBLIOTEK, FARDTJANST, POLICY, SNO, TAXA

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN = "panelens-nyckel"
READER = "lasnyckel"
VIEWPORTS = {"desktop": DESKTOP, "mobile": MOBILE}

Q_PARKING = "Hur mycket kostar tillstånd för boendeparkering per månad?"
Q_HARBOUR = "Hur länge får en gästbåt ligga gratis vid gästbryggan?"
HARBOUR = [[("h1", "Gästhamnen i Exempelby"), (
    "p", "Vid gästbryggan i hamnen får en gästbåt ligga gratis i två dygn. Därefter kostar en "
         "plats 150 kronor per dygn, el och vatten ingår.")]]

MSG_WRONG = "Fel administratörsnyckel. Kontrollera nyckeln och försök igen."
MSG_OFF = "Att lägga till och ta bort dokument är avstängt på servern."

FORMATS = {"policy": "PDF · 3 sidor", "taxa": "Word", "bibliotek": "OpenDocument",
           "avfall": "webbsida", "fardtjanst": "Markdown", "snorojning": "text"}


# ---------- fixtures and helpers ----------


def _corpus(folder: Path) -> Path:
    make_pdf(folder / "policy.pdf", POLICY, title="Parkeringspolicy")
    make_docx(folder / "taxa.docx", TAXA, title="Bygglovstaxa 2025")
    make_odt(folder / "bibliotek.odt", BIBLIOTEK, title="Biblioteksplan")
    make_html(folder / "avfall.html", "Sophämtning och återvinning", AVFALL[1:])
    make_markdown(folder / "fardtjanst.md", FARDTJANST)
    (folder / "snorojning.txt").write_text(SNO, encoding="utf-8")
    return folder


def _engine(settings, questions, index_dir: Path, **update):
    """The served engine: a live one, which swaps in each generation a write publishes."""
    from qa.search.live import LiveEngine

    return LiveEngine(index_dir, questions, settings.model_copy(update=update))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, hashed_settings, hashed_embedder) -> Path:
    from qa.index.build import build_index
    from qa.ingest.sources import read_corpus

    folder = _corpus(tmp_path_factory.mktemp("panel-corpus"))
    corpus = read_corpus(folder)
    assert not corpus.skipped, corpus.skipped
    index_dir = tmp_path_factory.mktemp("panel-index") / "index"
    build_index(corpus.documents, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    return index_dir


@pytest.fixture(scope="module")
def server(index_dir, hashed_settings, hashed_questions):
    from api.app import create_app

    with serve(create_app(_engine(hashed_settings, hashed_questions, index_dir, admin_token=ADMIN,
                                  examples_file=None))) as url:
        yield url


@pytest.fixture
def documents(server) -> list[dict]:
    import httpx

    return httpx.get(f"{server}/api/documents", timeout=30).json()["documents"]


@pytest.fixture(params=list(VIEWPORTS))
def view(request, browser, server):
    s = Session(browser, server, VIEWPORTS[request.param])
    s.name = request.param
    yield s
    s.close()
    assert not s.page_errors, f"JavaScript errors on the page: {s.page_errors}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def open_panel(s: Session):
    """The documents panel: the column on a wide screen, the drawer (opened here) on a narrow one."""
    page = s.page
    panel = page.locator("#doc-panel")
    if s.name == "mobile" and not page.locator("#panel-dialog").is_visible():
        expect(panel).to_be_hidden()
        page.locator("#panel-open").click()
        expect(page.locator("#panel-dialog")).to_be_visible()
        assert page.evaluate("document.activeElement.id") == "doc-filter"
    expect(panel).to_be_visible()
    return panel


def unlock(s: Session, key: str) -> None:
    panel = open_panel(s)
    panel.get_by_label("Administratörsnyckel").fill(key)
    panel.get_by_role("button", name="Lås upp").click()


# ---------- tests ----------


def test_panel_lists_filters_and_opens_documents(view, documents):
    page = view.open()
    panel = open_panel(view)
    expect(panel.locator(".panel-count")).to_have_text("(6)")
    expect(panel.locator(".document-item")).to_have_count(6)
    for d in documents:
        row = panel.locator(f'.document-item[data-id="{d["id"]}"]')
        expect(row.locator(".document-title")).to_have_text(d["title"])
        expect(row.locator(".document-meta")).to_contain_text(FORMATS[d["id"]])
    assert no_horizontal_scroll(page) <= page.viewport_size["width"]
    shot(page, f"{view.name}-panel.png")

    box = panel.get_by_label("Filtrera på titel")
    box.fill("PARKERING")  # case does not matter
    expect(panel.locator(".document-title")).to_have_text(["Parkeringspolicy"])
    expect(panel.locator("#doc-filter-status")).to_have_text("Visar 1 av 6 dokument.")
    box.fill("finns inte")
    expect(panel.locator(".document-item")).to_have_count(0)
    expect(panel.locator("#document-list-note")).to_contain_text("”finns inte”")
    box.fill("")
    expect(panel.locator(".document-item")).to_have_count(6)

    # A document opens from the list: its structure and pages, no cited passage.
    opener = panel.get_by_role("button", name="Parkeringspolicy")
    opener.click()
    dialog = page.locator("#doc-dialog")
    expect(dialog.locator("#doc-title")).to_have_text("Parkeringspolicy")
    expect(dialog.locator(".doc-page")).to_have_count(3)
    expect(dialog.locator("#doc-meta")).to_contain_text("3 sidor")
    expect(dialog.locator(".passage-mark")).to_have_count(0)
    expect(dialog.locator(".doc-legend")).to_have_count(0)
    assert no_horizontal_scroll(page) <= page.viewport_size["width"]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert not view.console_errors, view.console_errors


def test_asking_within_chosen_documents(view, documents):
    page = view.open()
    taxa = next(d for d in documents if d["title"] == "Bygglovstaxa 2025")
    panel = open_panel(view)
    apply = panel.get_by_role("button", name="Fråga bara i valda dokument")
    expect(apply).to_be_disabled()
    panel.get_by_role("checkbox", name="Välj Bygglovstaxa 2025").check()
    expect(panel.locator("#selection-status")).to_have_text("1 dokument markerat.")
    apply.click()
    if view.name == "mobile":  # the drawer closes, back to the question box
        expect(page.locator("#panel-dialog")).to_be_hidden()
    expect(page.locator("#question")).to_be_focused()
    bar = page.locator("#scope-bar")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Frågar bara i Bygglovstaxa 2025")
    if view.name == "mobile":
        expect(page.locator("#panel-open")).to_have_text("Dokument (1 valt)")

    # A parking question, asked only in the building permit fees: every source is that one.
    turn = view.ask(Q_PARKING)
    assert view.searches[-1] == {"question": Q_PARKING, "k": 5,
                                 "filters": {"document_ids": [taxa["id"]]}}
    expect(turn.locator(".turn-scope")).to_have_text("Bara i Bygglovstaxa 2025")
    titles = turn.locator(".card-title")
    expect(titles.first).to_be_attached()
    assert set(titles.all_text_contents()) == {"Bygglovstaxa 2025"}
    assert no_horizontal_scroll(page) <= page.viewport_size["width"]
    shot(page, f"{view.name}-scoped-answer.png")

    # The limit survives a reload, and is cleared from the bar above the question box.
    page.reload()
    expect(page.locator("#scope-bar")).to_be_visible()
    bar.get_by_role("button", name="Fråga i alla dokument").click()
    expect(bar).to_be_hidden()
    turn = view.ask(Q_PARKING)
    # The second question of the conversation carries the first as its history.
    assert view.searches[-1] == {"question": Q_PARKING, "k": 5, "history": [Q_PARKING]}
    expect(turn.locator(".turn-scope")).to_have_count(0)
    expect(turn.locator(".card-title").first).to_have_text("Parkeringspolicy")
    panel = open_panel(view)
    expect(panel.get_by_role("checkbox", name="Välj Bygglovstaxa 2025")).not_to_be_checked()


def test_upload_ask_and_delete_with_the_admin_key(view, tmp_path):
    page = view.open()
    unlock(view, "fel-nyckel")
    panel = page.locator("#doc-panel")
    expect(panel.locator("#admin-message")).to_have_text(MSG_WRONG)
    expect(panel.locator("#admin-tools")).to_be_hidden()

    unlock(view, ADMIN)
    expect(panel.locator("#admin-tools")).to_be_visible()
    # Kept for this tab only: never in localStorage, a cookie or the address.
    assert page.evaluate("sessionStorage.getItem('svqa.adminKey')") == ADMIN
    assert page.evaluate("localStorage.length") == 0
    assert ADMIN not in page.url and not view.context.cookies()

    name = f"gasthamn-{view.name}"
    pdf = make_pdf(tmp_path / f"{name}.pdf", HARBOUR, title=f"Gästhamnen ({view.name})")
    empty = tmp_path / "tom.txt"
    empty.write_bytes(b"")
    panel.locator("#file-input").set_input_files([str(pdf), str(empty)])
    upload = panel.locator(".upload").first
    expect(upload.locator(".upload-state")).to_contain_text("Klart", timeout=120_000)
    results = upload.locator(".upload-result")
    expect(results).to_have_count(2)
    expect(upload.locator(".status-added")).to_contain_text(f"{name}.pdf")
    expect(upload.locator(".status-added .upload-status")).to_have_text("Tillagt")
    expect(upload.locator(".status-skipped")).to_contain_text("tom.txt")
    expect(upload.locator(".status-skipped .upload-status")).to_have_text(
        "Hoppades över: filen är tom eller saknar text")
    row = panel.locator(f'.document-item[data-id="{name}"]')
    expect(row).to_be_visible()
    expect(row.locator(".document-meta")).to_contain_text("PDF · 1 sida")
    expect(panel.locator(".panel-count")).to_have_text("(7)")
    assert no_horizontal_scroll(page) <= page.viewport_size["width"]
    upload.scroll_into_view_if_needed()
    shot(page, f"{view.name}-upload.png")

    if view.name == "mobile":
        page.keyboard.press("Escape")
    turn = view.ask(Q_HARBOUR)
    card = turn.locator(".card").first
    expect(card.locator(".card-title")).to_have_text(f"Gästhamnen ({view.name})")
    expect(card.locator(".card-meta")).to_contain_text("s. 1")

    # Delete it, with the confirmation; cancelling first changes nothing.
    panel = open_panel(view)
    delete = row.get_by_role("button", name=f"Ta bort Gästhamnen ({view.name})")
    delete.click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"”Gästhamnen ({view.name})” tas bort")
    expect(page.locator("#confirm-cancel")).to_be_focused()
    shot(page, f"{view.name}-delete-confirm.png")
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(delete).to_be_focused()
    expect(row).to_be_visible()
    delete.click()
    confirm.get_by_role("button", name="Ta bort").click()
    expect(panel.locator("#admin-message")).to_have_text(
        f"”Gästhamnen ({view.name})” är borttaget.", timeout=120_000)
    expect(row).to_have_count(0)
    expect(panel.locator(".panel-count")).to_have_text("(6)")

    if view.name == "mobile":
        page.keyboard.press("Escape")
    turn = view.ask(Q_HARBOUR)
    expect(turn.locator(".card-title, .notice-nomatch").first).to_be_visible()
    assert f"Gästhamnen ({view.name})" not in turn.locator(".card-title").all_text_contents()

    # "Glöm administratörsnyckeln" takes the tools away.
    panel = open_panel(view)
    panel.get_by_role("button", name="Glöm administratörsnyckeln").click()
    expect(panel.locator("#admin-tools")).to_be_hidden()
    expect(panel.locator(".document-delete")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('svqa.adminKey')") is None


def test_writing_off_and_a_read_key(browser, index_dir, hashed_settings, hashed_questions):
    from api.app import create_app

    closed = create_app(_engine(hashed_settings, hashed_questions, index_dir, admin_token=None,
                                read_token=READER))
    with serve(closed) as url:
        s = Session(browser, url, DESKTOP)
        s.name = "desktop"
        try:
            page = s.page
            page.goto(url + "/")
            access = page.locator("#access-dialog")
            expect(access).to_be_visible(timeout=WAIT_MS)
            expect(page.get_by_label("Åtkomstnyckel", exact=True)).to_be_focused()
            page.get_by_label("Åtkomstnyckel", exact=True).fill("gissning")
            access.get_by_role("button", name="Fortsätt").click()
            expect(access.locator("#access-error")).to_have_text(
                "Fel åtkomstnyckel. Kontrollera nyckeln och försök igen.")
            shot(page, "desktop-access-key.png")
            # Cancelled, it can be opened again from the panel.
            access.get_by_role("button", name="Avbryt").click()
            expect(access).to_be_hidden()
            expect(page.locator("#document-list-note")).to_contain_text(
                "Tjänsten kräver en åtkomstnyckel.")
            page.locator("#doc-panel").get_by_role("button", name="Ange åtkomstnyckel").click()
            expect(access).to_be_visible()
            page.get_by_label("Åtkomstnyckel", exact=True).fill(READER)
            access.get_by_role("button", name="Fortsätt").click()
            expect(access).to_be_hidden()
            expect(page.locator("#doc-panel .document-item")).to_have_count(6, timeout=WAIT_MS)
            assert page.evaluate("localStorage.length") == 0

            turn = s.ask(Q_PARKING)
            expect(turn.locator(".card-title").first).to_have_text("Parkeringspolicy")

            unlock(s, "vad-som-helst")
            expect(page.locator("#admin-message")).to_contain_text(MSG_OFF)
            expect(page.locator("#admin-tools")).to_be_hidden()
            assert not s.page_errors, s.page_errors
        finally:
            s.close()


def test_no_examples_hides_the_examples(view):
    """The collection has no configured questions and none of its headings is a question:
    whatever ``/api/examples`` finds is shown, and with none the block is hidden."""
    page = view.open()
    found = json.loads(page.evaluate("fetch('/api/examples').then(r => r.text())"))["questions"]
    if found:
        expect(page.locator("button.example")).to_have_text(found)
    else:
        expect(page.locator("#examples-title")).to_be_hidden()
        expect(page.locator("#examples")).to_be_hidden()
        expect(page.locator("#corpus-intro")).not_to_contain_text("exempel")
    route = "**/api/examples"
    page.route(route, lambda r: r.fulfill(status=200, content_type="application/json",
                                          body='{"questions": []}'))
    page.reload()
    expect(page.locator("#examples")).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)
    expect(page.locator("#examples-title")).to_be_hidden()
    expect(page.locator("button.example")).to_have_count(0)
    expect(page.locator("#corpus-intro")).to_contain_text("6 dokument")


def test_refused_uploads_are_said_plainly(browser, server, tmp_path):
    """413 (too large) and 401 (the key was changed on the server) as the page words them; the
    answers are the server's own (see test_document_writes), replayed here so no build runs."""
    s = Session(browser, server, DESKTOP)
    s.name = "desktop"
    try:
        page = s.open()
        unlock(s, ADMIN)
        panel = page.locator("#doc-panel")
        expect(panel.locator("#admin-tools")).to_be_visible()
        note = tmp_path / "anteckning.txt"
        note.write_text("Kort anteckning.", encoding="utf-8")
        answers = [(413, "the request body is larger than 0.5 MiB (QA_MAX_REQUEST_MB)"),
                   (401, "wrong admin token")]

        def refuse(route):
            status, detail = answers.pop(0)
            route.fulfill(status=status, content_type="application/json",
                          body=json.dumps({"detail": detail}))

        page.route("**/api/documents", lambda route: refuse(route)
                   if route.request.method == "POST" else route.continue_())
        panel.locator("#file-input").set_input_files(str(note))
        failed = panel.locator(".upload.is-failed")
        expect(failed).to_have_count(1)
        expect(failed.first).to_contain_text(
            "Uppladdningen är för stor (högst 0,5 MB åt gången). Ladda upp färre eller mindre filer.")
        expect(panel.locator("#admin-tools")).to_be_visible()

        panel.locator("#file-input").set_input_files(str(note))
        expect(failed).to_have_count(2)
        expect(failed.first).to_contain_text(MSG_WRONG)
        expect(panel.locator("#admin-message")).to_have_text(MSG_WRONG)
        expect(panel.locator("#admin-tools")).to_be_hidden()  # asks for the key again
        expect(panel.get_by_label("Administratörsnyckel")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('svqa.adminKey')") is None
        assert not s.page_errors, s.page_errors
    finally:
        s.close()
