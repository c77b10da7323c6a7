"""What ``make serve`` would run (``make -n``): only the default index is built from seeds/,
an index the user names is never rebuilt from them, and the ``QA_*`` variables are honoured."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if shutil.which("make") is None:  # pragma: no cover - make runs these tests
    pytest.skip("make is not installed", allow_module_level=True)


def plan(*args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    proc = subprocess.run(["make", "-n", "--no-print-directory", "serve", *args], cwd=ROOT,
                          capture_output=True, text=True, env={**clean, **env}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_default_index_is_built_from_the_seeds(tmp_path) -> None:
    seeds_index = tmp_path / "index"  # not built yet: make plans the build
    out = plan(f"SEEDS_INDEX={seeds_index}")
    assert f"qa.cli build --source seeds --index {seeds_index}" in out
    assert "QA_EXAMPLES_FILE=examples/seeds_sv.txt" in out
    assert f"serve --index {seeds_index}" in out and "--host 127.0.0.1 --port 8000" in out


def test_a_named_index_is_never_built_from_the_seeds() -> None:
    for out in (plan("INDEX=var/mine"), plan(QA_INDEX_DIR="var/mine")):
        assert "--source seeds" not in out
        assert "serve --index var/mine" in out
        assert "QA_EXAMPLES_FILE" not in out


def test_a_named_index_is_updated_from_its_own_source() -> None:
    out = plan("INDEX=var/mine", "SOURCE=dokument")
    assert "build --source dokument --index var/mine" in out and "--source seeds" not in out


def test_qa_variables_are_honoured() -> None:
    out = plan(QA_HOST="0.0.0.0", QA_PORT="9123", QA_EXAMPLES_FILE="mina.txt")
    assert "--host 0.0.0.0 --port 9123" in out and "QA_EXAMPLES_FILE=mina.txt" in out
