"""Real Swedish documents from Debian (``make real-docs``, see ``tests/real_docs.py``): pages of
LibreOffice's Swedish help and LifeLines' Swedish manuals (DocBook books, one HTML page each),
read by the real readers, built by the real ``qa build`` and searched with the real model; the
book also printed to PDF by Chromium and re-distilled by Ghostscript, read by the PDF reader.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.ingest.converted import Converted, Skip
from qa.ingest.documents import make_document
from qa.ingest.formats import convert
from tests.real_docs import (
    BOOKS,
    EMPTY_PAGES,
    HELP,
    HELP_PAGES,
    LIFELINES,
    NAVIGATION_PAGES,
    ROOT,
    require_real_docs,
)

require_real_docs()

BOOK = LIFELINES / BOOKS[0]


def _read(path: Path) -> Converted:
    return convert(path)


@pytest.mark.parametrize("name", HELP_PAGES)
def test_every_help_page_is_read_or_skipped_with_its_reason(name: str) -> None:
    path = HELP / name
    if name in NAVIGATION_PAGES or name in EMPTY_PAGES:
        with pytest.raises(Skip) as caught:
            convert(path)
        assert caught.value.reason == ("navigation only" if name in NAVIGATION_PAGES else "empty")
        return
    converted = _read(path)
    assert converted.title and converted.text.strip()
    assert any(b.kind == "heading" and b.level == 1 for b in converted.blocks), name
    for chrome in ("LibreOffice 7.4 Hjälp", "Help content debug info", "Sök i alla moduler",
                   "Närliggande ämnen"):
        assert chrome not in converted.text, (name, chrome)


# (page, text that must appear as it does in the browser): menu paths and names, keys, buttons.
INLINE = [
    ("swriter/guide/auto_numbering.html", "Välj Verktyg - Alternativ för autokorrigering. "
     "Klicka därefter på fliken Alternativ"),
    ("swriter/guide/autotext.html", "Välj Arkiv - Exportera."),
    ("swriter/guide/captions.html", "klicka på OK."),
    ("shared/optionen/01040400.html", "(Format – Sida – Bakgrund)"),
    ("shared/guide/autohide.html", "while holding down the Ctrl key"),  # Ctrl, not the Mac's Command
    ("shared/guide/autohide.html", "press Ctrl+Shift+F10."),
    ("shared/01/01010000.html", "Choose File - New."),
]


@pytest.mark.parametrize(("name", "expected"), INLINE)
def test_menu_names_and_keys_stay_in_their_sentences(name: str, expected: str) -> None:
    assert expected in _read(HELP / name).text


def test_help_headings_are_sections_and_the_title_is_the_pages() -> None:
    converted = _read(HELP / "shared/guide/autohide.html")
    headings = [(b.level, converted.text[b.start:b.end]) for b in converted.blocks
                if b.kind == "heading"]
    assert headings == [(1, "Visa, förankra och dölja fönster"),
                        (2, "Förankra fönster och göra dem till fria fönster"),
                        (2, "Visa och dölja förankrade fönster")]
    assert converted.title == "Visa, förankra och dölja fönster"
    doc = _document("autohide", converted)
    at = converted.text.index("Med funktionen AutoHide")
    assert doc.layout.section_at(at).title == "Visa och dölja förankrade fönster"


def test_help_tables_keep_their_rows() -> None:
    converted = _read(HELP / "scalc/01/04060106.html")
    rows = [converted.text[b.start:b.end] for b in converted.blocks if b.kind == "table_row"]
    assert len(rows) >= 5 and all(" | " in row for row in rows[:3]), rows[:5]


def _document(doc_id: str, converted: Converted):
    return make_document(doc_id, converted.text, converted.title, converted.date,
                         format=converted.format, blocks=converted.blocks, pages=converted.pages)


@pytest.mark.parametrize("name", BOOKS)
def test_a_book_on_one_page_keeps_its_chapters_and_title(name: str) -> None:
    html = (LIFELINES / name).read_bytes().decode("cp1252").lower()
    converted = _read(LIFELINES / name)
    headings = [converted.text[b.start:b.end] for b in converted.blocks if b.kind == "heading"]
    # every h1-h3 of the book but its subtitle and author lines, which are title-page lines
    assert len(headings) == sum(html.count(f"<h{n}") for n in (1, 2, 3)) - 2
    assert "INTRODUKTION" in headings
    assert "Innehållsförteckning" not in converted.text  # the book's own table of contents
    assert converted.title in ("Dokumentation för LifeLines",
                               "LIFELINES PROGRAMMERINGSSYSTEM OCH RAPPORTGENERATOR")


def test_book_passages_cite_their_chapter() -> None:
    converted = _read(BOOK)
    doc = _document("lifelines", converted)
    at = converted.text.index("LifeLines är ett släktforskningsprogram som är utvecklat för "
                              "UNIX-system.")
    assert doc.layout.section_at(at).title == "INTRODUKTION"
    at = converted.text.index("OPERATIONEN LÄGG TILL")
    assert doc.layout.section_at(at + 30).title == "OPERATIONEN LÄGG TILL"


@pytest.fixture(scope="module")
def printed_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path | None]:
    """The book printed to PDF by Chromium, and its first pages re-distilled by Ghostscript."""
    if shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: make system installs it", pytrace=False)
        pytest.skip("chromium is missing (apt-get install -y chromium)")
    folder = tmp_path_factory.mktemp("printed")
    pdf = folder / "bok.pdf"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", BOOK.as_uri()],
                   capture_output=True, timeout=180, check=True)
    distilled = None
    if shutil.which("gs") is not None:
        distilled = folder / "bok-gs.pdf"
        subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite",
                        "-dFirstPage=1", "-dLastPage=4", "-o", str(distilled), str(pdf)],
                       capture_output=True, timeout=180, check=True)
    return pdf, distilled


@pytest.mark.browser  # Chromium prints the book (not through the browser fixture)
def test_the_book_printed_by_chromium_reads_with_pages_and_headings(printed_book) -> None:
    pdf, distilled = printed_book
    converted = _read(pdf)
    assert converted.format == "pdf" and not converted.warnings
    numbers = [p.number for p in converted.pages]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 20
    sentence = "LifeLines är ett släktforskningsprogram som är utvecklat för UNIX-system."
    assert sentence in " ".join(converted.text.split())
    headings = {converted.text[b.start:b.end] for b in converted.blocks if b.kind == "heading"}
    assert {"INTRODUKTION", "INSTALLATION", "HUVUDMENY"} <= headings
    html_words = set(" ".join(_read(BOOK).text.split()).split())
    pdf_words = set(" ".join(converted.text.split()).split())
    assert len(html_words & pdf_words) >= 0.9 * len(html_words)
    if distilled is None:
        if os.environ.get("CI"):
            pytest.fail("gs is missing: make system installs ghostscript", pytrace=False)
        return
    again = _read(distilled)
    assert [p.number for p in again.pages] == [1, 2, 3, 4]
    first = converted.text[:converted.pages[3].end]
    assert " ".join(again.text.split()) == " ".join(first.split())


# A small folder for a real build: how-to pages, two pages of contents (navigation), a page
# of videos without text, and the pages on cropping and inserting images.
BUILD_PAGES = ("shared/guide/autohide.html", "shared/guide/main.html", "swriter/guide/main.html",
               "shared/06/youtubevideos.html", "shared/01/05030800.html",
               "swriter/guide/insert_graphic_scan.html", "swriter/guide/insert_graphic_dialog.html",
               "swriter/guide/autotext.html", "swriter/guide/captions.html")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, settings):
    folder = tmp_path_factory.mktemp("hjalp")
    for name in BUILD_PAGES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(HELP / name, folder / name)
    index_dir = tmp_path_factory.mktemp("index") / "hjalp"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_CACHE_DIR": str(settings.embed.cache_dir)}
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "build", "--source", str(folder),
                           "--index", str(index_dir)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=1200)
    return index_dir, proc


@pytest.mark.model  # `qa build` in a subprocess embeds with the model
def test_the_build_indexes_content_and_lists_navigation_and_empty_pages(built) -> None:
    _, proc = built
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    content = [n for n in BUILD_PAGES if n not in NAVIGATION_PAGES + EMPTY_PAGES]
    assert f"indexed {len(content)} documents" in proc.stdout.splitlines()[0], proc.stdout
    listed = {line.strip().split(":")[0]: line for line in proc.stdout.splitlines()[1:]}
    for name in NAVIGATION_PAGES:
        if name in BUILD_PAGES:
            assert "navigation only" in listed[name], proc.stdout
    assert "empty" in listed["shared/06/youtubevideos.html"]


def test_questions_are_answered_by_content_pages_with_their_section(built, settings,
                                                                    questions) -> None:
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    index_dir, proc = built
    assert proc.returncode == 0, proc.stderr
    snapshot = Snapshot.open(index_dir, settings.index, model_id=questions.model_id,
                             dim=questions.dim)
    engine = SearchEngine(snapshot, questions, settings.search)
    hits = engine.search("Hur förankrar jag ett fönster?", k=3).hits
    assert hits[0].passage.document_id == "shared/guide/autohide"
    assert hits[0].cited_section == "Förankra fönster och göra dem till fria fönster"
    hits = engine.search("Hur beskär jag en bild?", k=3).hits
    assert hits[0].passage.document_id == "shared/01/05030800"
    assert not {h.passage.document_id for h in hits} & {"shared/guide/main", "swriter/guide/main"}
