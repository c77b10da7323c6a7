"""The HTML reader against the page as Chromium shows it (``innerText`` of the main content),
on the real Swedish pages of ``tests/real_docs.py``: every visible menu, key and button name is
in the reader's text, and little of the browser's text is missing or added.

The thresholds are loose (``bench/html_fidelity.py`` measures the figures): what is missing is
mostly the "related topics" links that end LibreOffice's help pages, which the reader drops on
purpose; the reader used before (trafilatura's XML) missed 14 % of the words and a quarter of
the menu names.
"""

from __future__ import annotations

from collections import Counter

from qa.ingest.converted import Skip
from qa.ingest.formats import convert
from tests.browser import chromium_browser, require_browser  # noqa: F401 - the browser fixture
from tests.real_docs import (
    BOOKS,
    HELP,
    HELP_PAGES,
    LIFELINES,
    browser_text,
    require_real_docs,
    word_diff,
    words,
)

require_real_docs()
require_browser()

MAX_MISSING = 0.05  # of the browser's words, over the collection (measured: 2 %)
MAX_ADDED = 0.02  # (measured: 0.1 %: LibreOffice's Ctrl where the browser, without the help's
#                   script, shows neither Ctrl nor the Mac's Command)


def test_the_reader_keeps_what_the_browser_shows(browser) -> None:
    page = browser.new_page()
    totals: Counter[str] = Counter()
    lost_names = []
    for path in [HELP / n for n in HELP_PAGES] + [LIFELINES / n for n in BOOKS]:
        try:
            text = convert(path).text
        except Skip:
            continue
        shown, names = browser_text(page, path)
        have = words(text)
        lost_names += [(path.name, n) for n in names if any(have[w] == 0 for w in words(n))]
        diff = word_diff(text, shown)
        totals.update({k: diff[k] for k in ("browser_words", "missing", "added")})
    page.close()
    assert not lost_names, lost_names[:20]
    assert totals["browser_words"] > 20_000
    assert totals["missing"] <= MAX_MISSING * totals["browser_words"], totals
    assert totals["added"] <= MAX_ADDED * totals["browser_words"], totals
