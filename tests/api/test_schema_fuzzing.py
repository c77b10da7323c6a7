"""The OpenAPI document against the running service: a Schemathesis run with all its checks.

Schemathesis generates requests from ``/openapi.json`` (every phase: the schema's examples,
boundary and malformed values of every constraint, random valid and invalid data, and
sequences of add, read, replace and delete) and checks every answer: no 5xx, only documented
statuses, content types, headers and bodies; valid requests accepted, invalid ones refused;
a 405 for undocumented methods; writes refused without the token. Its configuration and the
three exceptions it needs, each with its reason, are in ``tests/api/schemathesis/``.

The service is the real one over a socket, on a copy of the seed index (the run adds, replaces
and deletes documents) with an admin token. The run is bounded by its configuration (examples
per operation, steps per sequence) and a fixed seed, so it sends the same requests each time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import serve

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "tests" / "api" / "schemathesis" / "schemathesis.toml"
ADMIN = "fuzz-admin-token"

pytestmark = pytest.mark.slow


def test_schemathesis_finds_nothing(seeds_index_dir, settings, questions, tmp_path) -> None:
    pytest.importorskip("schemathesis")
    from api.app import create_app
    from qa.search.live import LiveEngine

    index = tmp_path / "index"
    shutil.copytree(seeds_index_dir, index)
    live = LiveEngine(index, questions, settings.model_copy(update={"admin_token": ADMIN}))
    st = Path(sys.executable).with_name("st")
    with serve(create_app(live, access_log=False)) as url:
        run = subprocess.run(
            [str(st), "--no-color", "--config-file", str(CONFIG), "run", f"{url}/openapi.json"],
            cwd=ROOT, capture_output=True, text=True, timeout=900,
            env={**os.environ, "QA_ADMIN_TOKEN": ADMIN, "SCHEMATHESIS_TELEMETRY": "false",
                 "HYPOTHESIS_STORAGE_DIRECTORY": str(tmp_path / "hypothesis")})
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20_000:]
    assert "No issues found" in report, report[-5000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in report, report[-5000:]
    print(report[report.find("SUMMARY"):])  # what ran, for the log (pytest -s)
