"""The offline run: build, serve, answer and load the page inside a network namespace that has
only loopback, so that anything reaching for the network fails instead of succeeding quietly.

The run itself is ``tests/offline_run.py`` (one child process under ``unshare --net``: root, or
an unprivileged user namespace); this test checks its report: only ``lo`` existed, the index
was built, the service answered over HTTP, and Chromium loaded the chat page, asked a question
and got cited passages, with every request it made going to the service on 127.0.0.1 and
none failing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]


def _namespace_command() -> list[str]:
    """How to start a child in a new network namespace here, or skip (fail in CI) if we cannot."""
    why = None
    unshare = shutil.which("unshare")
    if unshare is None:
        why = "unshare (util-linux) is not installed"
    elif not Path("/usr/bin/chromium").exists():
        why = "/usr/bin/chromium is missing: install Debian's chromium"
    else:
        for command in ([unshare, "--net"], [unshare, "--map-root-user", "--net"]):
            if subprocess.run([*command, "true"], capture_output=True).returncode == 0:
                return command
        why = "no network namespace can be made here (needs root or user namespaces)"
    if os.environ.get("CI"):
        pytest.fail(f"the offline run cannot run in CI: {why}", pytrace=False)
    pytest.skip(why)


def test_build_serve_answer_and_page_with_only_loopback(tmp_path):
    command = _namespace_command()
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    proc = subprocess.run([*command, sys.executable, str(ROOT / "tests" / "offline_run.py"),
                           str(ROOT / "seeds"), str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])

    assert report["interfaces"] == ["lo"], "the run had no network but loopback"
    assert report["build"]["status"] == 0, report["build"]
    assert "indexed 5 documents" in report["build"]["stdout"]
    assert "health" in report, report.get("serve")
    assert report["health"]["documents"] == 5
    results = report["search"]["results"]
    assert results and all(r["text"] and r["end"] > r["start"] for r in results)

    browser = report["browser"]
    assert browser["answer"], "the page showed a cited passage"
    assert browser["failed"] == [] and browser["errors"] == [], browser
    origin = urlsplit(browser["requests"][0])
    assert origin.hostname == "127.0.0.1"
    elsewhere = [u for u in browser["requests"] if urlsplit(u)[:2] != origin[:2]
                 and not u.startswith("data:")]
    assert elsewhere == [], "every request stayed with the service"
    assert any(u.endswith("/api/search") for u in browser["requests"])
