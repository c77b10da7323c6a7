"""The offline run, executed inside a network namespace that has only loopback.

``tests/test_offline.py`` starts this script under ``unshare --net``; it brings the loopback
interface up, then does what a user does on a machine without network: ``qa build``, ``qa
serve``, a question over HTTP, and the chat page in headless Chromium asking a question. It
prints one JSON report on stdout (the test asserts on it); every request the browser made is
in it, so that the test can tell that none left the machine.

    python tests/offline_run.py SOURCE WORKDIR
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Vad är tillitsbaserad styrning?"
PAGES = ["/"]  # pages loaded in the browser, each with every request it makes


def loopback_up() -> None:
    """``ip link set lo up``, without needing iproute2: SIOCGIFFLAGS / SIOCSIFFLAGS."""
    get_flags, set_flags, up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sh", fcntl.ioctl(s, get_flags, struct.pack("16sh", b"lo", 0)))[1]
        fcntl.ioctl(s, set_flags, struct.pack("16sh", b"lo", flags | up))


def interfaces() -> list[str]:
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    return sorted(line.split(":")[0].strip() for line in lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qa(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa.cli", *args]


def main(source: Path, workdir: Path) -> dict:
    loopback_up()
    report: dict = {"interfaces": interfaces()}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    index = workdir / "index"
    build = subprocess.run(qa("build", "--source", str(source), "--index", str(index)), cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=600)
    report["build"] = {"status": build.returncode, "stdout": build.stdout[-2000:],
                       "stderr": build.stderr[-2000:]}
    if build.returncode:
        return report
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "serve.log").open("w")
    server = subprocess.Popen(qa("serve", "--index", str(index), "--port", str(port)), cwd=ROOT,
                              env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as res:
                    report["health"] = json.loads(res.read())
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    report["serve"] = (workdir / "serve.log").read_text()[-4000:]
                    return report
                time.sleep(0.3)
        request = urllib.request.Request(
            f"{base}/api/search", data=json.dumps({"question": QUESTION, "k": 3}).encode(),
            headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as res:
            report["search"] = json.loads(res.read())
        report["browser"] = browse(base)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    return report


def browse(base: str) -> dict:
    """Load each page with Chromium, ask the question on the chat page; what it requested."""
    from playwright.sync_api import expect, sync_playwright

    sys.path.insert(0, str(ROOT))  # run as a script: the checkout is not on the path
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    seen: dict = {"requests": [], "failed": [], "errors": [], "answer": None, "screenshot": None}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="sv-SE")
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url}: {r.failure}"))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            for path in PAGES:
                page.goto(base + path, wait_until="networkidle")
            page.goto(base + "/")
            expect(page.locator("#document-list")).to_have_attribute("aria-busy", "false",
                                                                     timeout=30_000)
            page.locator("#question").fill(QUESTION)
            page.locator("#question").press("Enter")
            turn = page.locator(".turn").first
            expect(turn.locator(".answer")).to_have_attribute("aria-busy", "false", timeout=30_000)
            seen["answer"] = turn.locator(".card").first.inner_text()
            page.wait_for_load_state("networkidle")
            shot = ROOT / "tests" / "artifacts" / "offline-page.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            seen["screenshot"] = str(shot)
        finally:
            browser.close()
    return seen


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2])), ensure_ascii=False))
