"""axe-core in Chromium: the automated WCAG 2.1 A/AA audit of a page state.

axe-core (MPL-2.0) comes from the npm registry, pinned: ``make axe`` (run by ``make test``)
installs it under ``var/npm``; a test run without it installs it there on first use, under a
file lock, since test processes run side by side (``QA_AXE_JS`` may name an axe.min.js
instead). The page's
Content-Security-Policy forbids inline scripts, so the audited page must come from a browser
context made with ``bypass_csp=True``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

AXE_VERSION = "4.14.1"
NPM_PREFIX = Path(__file__).resolve().parents[1] / "var" / "npm"  # the Makefile's AXE
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@functools.cache
def axe_source() -> str:
    """The text of axe.min.js, installed from the npm registry when it is not here yet."""
    given = os.environ.get("QA_AXE_JS")
    path = Path(given) if given else NPM_PREFIX / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file() and not given:
        if shutil.which("npm") is None:
            if os.environ.get("CI"):
                pytest.fail("npm is missing: the accessibility audit needs axe-core", pytrace=False)
            pytest.skip("npm is missing: cannot install axe-core for the accessibility audit")
        from filelock import FileLock

        NPM_PREFIX.mkdir(parents=True, exist_ok=True)
        with FileLock(str(NPM_PREFIX / ".install.lock")):
            if not path.is_file():
                subprocess.run(["npm", "install", "--no-save", "--no-package-lock", "--no-audit",
                                "--no-fund", "--prefix", str(NPM_PREFIX),
                                f"axe-core@{AXE_VERSION}"],
                               check=True, capture_output=True, timeout=600)
    return path.read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe finds in the page as it is now: rule id, impact and
    the elements concerned."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}}).then(r =>
            r.violations.map(v => ({id: v.id, impact: v.impact,
                                    nodes: v.nodes.map(n => n.target.join(" "))})))""", TAGS)
    return found
