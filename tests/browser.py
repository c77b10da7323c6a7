"""Debian's Chromium driven by Playwright: the one place browser tests take it from.

``require_browser()`` at the top of a browser test module skips the module when Chromium or
Playwright is missing, and fails it in CI (``CI`` set), where ``make test`` installs both.
The ``browser`` fixture (import ``chromium_browser`` into the module) is one browser per module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_browser() -> None:
    """Skip the calling test module (fail it in CI) unless Chromium and Playwright are here."""
    why = None
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            why = "playwright is not installed (pip install -e '.[test]')"
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {why}", pytrace=False)
        pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module", name="browser")
def chromium_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
