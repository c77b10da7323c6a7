"""Real Swedish documents from Debian (``make real-docs``): the collection the tests and
``bench/html_fidelity.py`` read, and how a browser's text of a page is compared with ours.

``make real-docs`` unpacks ``libreoffice-help-sv`` (LibreOffice's Swedish help, one HTML page
per topic) and ``lifelines-doc-sv`` (LifeLines' Swedish manuals, DocBook books of one HTML page
each) under ``var/real-docs/root``. ``require_real_docs()`` skips the calling module when they
are missing, and fails it in CI (``CI`` set), where ``make test`` fetches them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REAL_DOCS = ROOT / "var" / "real-docs" / "root"
HELP = REAL_DOCS / "usr/share/libreoffice/help/sv/text"
LIFELINES = REAL_DOCS / "usr/share/doc/lifelines-doc-sv"

# Writer's how-to pages A-F, the pages on inserting images, LibreOffice's own pages of
# contents (navigation), and pages chosen for their markup: menu paths in spans, system
# variants (Ctrl on Linux, Command on a Mac), many tables, a page of videos without text.
HELP_PAGES = (
    *(f"swriter/guide/{name}.html" for name in (
        "anchor_object", "arrange_chapters", "auto_numbering", "auto_off", "auto_spellcheck",
        "autocorr_except", "autotext", "background", "border_character", "border_object",
        "border_page", "borders", "calculate", "calculate_clipboard", "calculate_intable",
        "calculate_intext", "calculate_intext2", "calculate_multitable", "captions",
        "captions_numbers", "change_header", "chapter_numbering", "conditional_text",
        "conditional_text2", "delete_from_dict", "dragdroptext", "even_odd_sdw", "field_convert",
        "fields", "fields_date", "insert_graphic", "insert_graphic_dialog",
        "insert_graphic_fromchart", "insert_graphic_fromdraw", "insert_graphic_gallery",
        "insert_graphic_scan", "main")),
    "shared/guide/autohide.html",
    "shared/guide/main.html",
    "shared/01/01010000.html",
    "shared/01/05030800.html",
    "shared/optionen/01040400.html",
    "sbasic/guide/basic_examples.html",
    "scalc/01/04060106.html",
    "shared/06/youtubevideos.html",
)
NAVIGATION_PAGES = ("swriter/guide/main.html", "shared/guide/main.html",
                    "sbasic/guide/basic_examples.html")
EMPTY_PAGES = ("shared/06/youtubevideos.html",)
BOOKS = ("ll-userguide.sv.html", "ll-reportmanual.sv.html")


def require_real_docs() -> None:
    """Skip the calling test module (fail it in CI) unless ``make real-docs`` has run."""
    if HELP.is_dir() and LIFELINES.is_dir():
        return
    why = f"{REAL_DOCS} is missing: run make real-docs (Debian's Swedish help and manuals)"
    if os.environ.get("CI"):
        pytest.fail(f"real-document tests cannot run in CI: {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def copy_collection(folder: Path, books: tuple[str, ...] = BOOKS[:1]) -> Path:
    """The help pages (under ``help/``, their paths kept) and ``books`` (under ``books/``)
    copied into ``folder``, as a user's folder of documents."""
    for name in HELP_PAGES:
        target = folder / "help" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(HELP / name, target)
    (folder / "books").mkdir(parents=True, exist_ok=True)
    for name in books:
        shutil.copy(LIFELINES / name, folder / "books" / name)
    return folder


# The main content as the page marks it (LibreOffice's help: its display area), else the body.
MAIN_CONTENT = "main, [role=main], #DisplayArea"
BROWSER_TEXT_JS = f"""() => {{
  const main = document.querySelector({MAIN_CONTENT!r}) || document.body;
  return main ? main.innerText : "";
}}"""
# The names a reader must find in the text: menu paths, menu items, keys, buttons.
INLINE_NAMES_JS = """() => Array.from(document.querySelectorAll(
    '.menuitem, .keycode, .menuchoice, .guimenu, .guimenuitem, .guibutton, .keycap, kbd'))
  .filter(e => e.offsetParent !== null || e.getClientRects().length > 0)
  .map(e => e.innerText)"""


def browser_text(page: Any, path: Path) -> tuple[str, list[str]]:
    """Chromium's ``innerText`` of a file's main content, and the visible menu and key names in
    it (the help pages' scripts and styles are in another package: not there, as when a
    reader has only this one)."""
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page.evaluate(BROWSER_TEXT_JS), page.evaluate(INLINE_NAMES_JS)


_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> Counter[str]:
    """The text's words (letters and digits, lower-cased), counted."""
    return Counter(w.lower() for w in _WORD.findall(text))


def word_diff(ours: str, browser: str) -> dict[str, Any]:
    """Words the browser shows that our text lacks (``missing``) and words our text has that
    the browser does not show (``added``), counted with repetition, as shares of the
    browser's words."""
    a, b = words(ours), words(browser)
    missing, added = b - a, a - b
    total = max(sum(b.values()), 1)
    return {"browser_words": sum(b.values()), "our_words": sum(a.values()),
            "missing": sum(missing.values()), "added": sum(added.values()),
            "missing_share": sum(missing.values()) / total, "added_share": sum(added.values()) / total,
            "top_missing": [w for w, _ in missing.most_common(8)],
            "top_added": [w for w, _ in added.most_common(8)]}
