"""HTML fidelity: the reader's text against the page as Chromium shows it, on real Swedish pages.

The collection is the one the tests read (``tests/real_docs.py``, ``make real-docs``): pages of
LibreOffice's Swedish help and LifeLines' Swedish manuals (DocBook books of one HTML page).
For each page that is indexed, side by side in one run:

- **browser**: Chromium's ``innerText`` of the page's main content (``main``, ``[role=main]``,
  LibreOffice's ``#DisplayArea``, else the body), through Playwright, as a reader sees it;
- **reader**: ``qa.ingest.formats.convert`` (our walk over lxml's tree, ``html.py``);
- **trafilatura**: ``trafilatura.extract`` with tables, the main-content finder the reader
  used before (its XML output was the old reader's input; its text output is shown here).

Words (letters and digits, lower-cased, counted with repetition) the browser shows that a
text lacks are *missing*, words a text has that the browser does not show are *added*; both as
shares of the browser's words, summed over the collection and per page. *Inline names*: of the
menu items, menu paths, keys and buttons visible in the browser, the share whose words all
appear in the text. Reading time per page (median) for both readers.

    python -m bench.html_fidelity [--quick]
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import bench_parser, print_rows, results_dir, row, write_result
from qa.ingest.converted import Skip
from qa.ingest.formats import convert
from qa.ingest.formats.html import decode_page
from tests.browser import CHROMIUM, CHROMIUM_ARGS
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


def _trafilatura(path: Path) -> str:
    import trafilatura

    page, _ = decode_page(path.read_bytes())
    return trafilatura.extract(page, include_tables=True, include_comments=False,
                               deduplicate=False) or ""


def _timed(fn: Any, path: Path) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(path)
    return out, time.perf_counter() - t0


def _names_found(names: list[str], text: str) -> tuple[int, int]:
    have = words(text)
    wanted = [n for n in names if words(n)]
    return sum(all(have[w] > 0 for w in words(n)) for n in wanted), len(wanted)


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    require_real_docs()
    from playwright.sync_api import sync_playwright

    files = [HELP / n for n in HELP_PAGES] + [LIFELINES / n for n in BOOKS]
    if args.quick:
        files = files[:8] + files[-1:]
    pages: list[dict[str, Any]] = []
    totals = {"reader": Counter(), "trafilatura": Counter()}
    times: dict[str, list[float]] = {"reader": [], "trafilatura": []}
    skipped = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        for path in files:
            name = str(path.relative_to(HELP if path.is_relative_to(HELP) else LIFELINES))
            try:
                converted, seconds = _timed(convert, path)
            except Skip as skip:
                skipped.append({"page": name, "reason": skip.reason, "detail": skip.detail})
                continue
            times["reader"].append(seconds)
            old, seconds = _timed(_trafilatura, path)
            times["trafilatura"].append(seconds)
            shown, names = browser_text(page, path)
            entry: dict[str, Any] = {"page": name}
            for label, text in (("reader", converted.text), ("trafilatura", old)):
                diff = word_diff(text, shown)
                found, wanted = _names_found(names, text)
                diff.update(names_found=found, names=wanted)
                entry[label] = diff
                totals[label].update({k: diff[k] for k in ("browser_words", "missing", "added",
                                                          "names_found", "names")})
            pages.append(entry)
        browser.close()

    summary = {}
    for label, t in totals.items():
        summary[label] = {
            "missing_share": t["missing"] / max(t["browser_words"], 1),
            "added_share": t["added"] / max(t["browser_words"], 1),
            "inline_names_found": t["names_found"] / max(t["names"], 1),
            "median_ms_per_page": 1000 * statistics.median(times[label]) if times[label] else None,
            **dict(t),
        }
    rows = []
    for label in ("reader", "trafilatura"):
        s = summary[label]
        rows += [row(f"{label}: words missing (of the browser's)", 100 * s["missing_share"], "%"),
                 row(f"{label}: words added", 100 * s["added_share"], "%"),
                 row(f"{label}: menu/key names found", 100 * s["inline_names_found"], "%",
                     f"of {s['names']}"),
                 row(f"{label}: median time per page", s["median_ms_per_page"], "ms")]
    print_rows(f"HTML fidelity on {len(pages)} real pages ({len(skipped)} skipped)", rows)
    worst = sorted(pages, key=lambda e: -e["reader"]["missing_share"])[:10]
    data = {"pages": len(pages), "skipped": skipped, "summary": summary, "rows": rows,
            "worst_missing": [{"page": e["page"], **e["reader"]} for e in worst],
            "per_page": pages}
    write_result("html_fidelity", data, args.quick)
    _write_markdown(results_dir(args.quick) / "html_fidelity.md", data)


def _write_markdown(path: Path, data: dict[str, Any]) -> None:
    s = data["summary"]
    lines = [
        "# HTML fidelity: reader against Chromium's innerText",
        "",
        f"{data['pages']} real Swedish pages (tests/real_docs.py: LibreOffice's help, LifeLines' "
        f"books); {len(data['skipped'])} skipped by the reader "
        f"({', '.join(sorted({x['reason'] for x in data['skipped']}))}). "
        "Shares are of the browser's words, summed over the pages. Run: "
        "`python -m bench.html_fidelity`.",
        "",
        "| | reader (lxml walk) | trafilatura |",
        "|---|---:|---:|",
        f"| words missing | {100 * s['reader']['missing_share']:.1f} % | "
        f"{100 * s['trafilatura']['missing_share']:.1f} % |",
        f"| words added | {100 * s['reader']['added_share']:.1f} % | "
        f"{100 * s['trafilatura']['added_share']:.1f} % |",
        f"| menu/key names found | {100 * s['reader']['inline_names_found']:.1f} % | "
        f"{100 * s['trafilatura']['inline_names_found']:.1f} % |",
        f"| median time per page | {s['reader']['median_ms_per_page']:.1f} ms | "
        f"{s['trafilatura']['median_ms_per_page']:.1f} ms |",
        "",
        "Pages where the reader misses most (share of the browser's words; the words):",
        "",
    ]
    for e in data["worst_missing"]:
        lines.append(f"- {e['page']}: {100 * e['missing_share']:.1f} % missing "
                     f"({', '.join(e['top_missing'])}); {100 * e['added_share']:.1f} % added "
                     f"({', '.join(e['top_added'])})")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"→ {path}")


if __name__ == "__main__":
    main()
