"""``qa adapt`` from the command line: refusals are clean errors, and a run that does not adopt
changes nothing the service reads but records why."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("003_c2aea3d9b67761fb", "004_61a7695175b3d7f3")


def qa(*args: str, env: dict[str, str] | None = None, timeout: float = 900
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256 (what a refused adaptation must not touch)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def test_adapting_a_hashed_index_is_a_clean_error(hashed_adapt_index):
    proc = qa("adapt", "--index", str(hashed_adapt_index), "--dry-run",
              env={"QA_MODEL": "hashed-ngrams"})
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: adapting needs a real model: QA_MODEL=hashed-ngrams has nothing to train"]


def test_an_unknown_pair_kind_is_a_clean_error(hashed_adapt_index):
    proc = qa("adapt", "--index", str(hashed_adapt_index), "--kinds", "heading,riddle",
              env={"QA_MODEL": "hashed-ngrams"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "--kinds: unknown kind riddle" in proc.stderr


@pytest.mark.model
def test_a_refused_adaptation_changes_nothing_and_says_why(settings, embedder, tmp_path):
    from qa.index.build import build_index
    from qa.ingest.sources import load_documents

    # Two short seeds and their 46 questions (both halves): what is tested is the decision and
    # what it leaves behind, so the collection is kept small (the check embeds it again).
    source = tmp_path / "source"
    source.mkdir()
    for doc in DOCS:
        shutil.copy(ROOT / "seeds" / f"{doc}.txt", source)
    index = tmp_path / "index"
    build_index(load_documents(source), embedder, settings.index, index, progress=False)
    before = digest(index)
    # Heading pairs only and no mined negatives: the cheapest run that goes through every step.
    questions = tmp_path / "questions.jsonl"
    lines = (ROOT / "qa/eval/testsets/seeds_sv.jsonl").read_text(encoding="utf-8").splitlines()
    questions.write_text("\n".join(x for x in lines if json.loads(x)["document_id"] in DOCS) + "\n",
                         encoding="utf-8")
    # A few seconds of training (a step or two at the learning rate of a real run) cannot move
    # the questions' MRR@10 by an interval that lies above 0: the base must stay.
    proc = qa("adapt", "--index", str(index), "--minutes", "0.05", "--kinds", "heading",
              "--negatives", "none",
              "--questions", str(questions),
              "--report", str(tmp_path / "report.json"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not adopted: labelled questions (tune)" in proc.stdout, proc.stdout
    after = digest(index)
    recorded = after.pop("adaptations.jsonl")
    assert recorded and after == before  # every file of the index as it was
    (line,) = (index / "adaptations.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["check"]["adopt"] is False
    assert entry["published_generation"] is None and entry["model"] is None
    deciding = [c for c in entry["check"]["checks"] if c["decisive"]]
    assert [c["name"] for c in deciding] == ["labelled questions (tune)"]
    assert deciding[0]["mrr@10"]["difference"]["low"] <= 0
    assert entry["pairs"]["heading"] > 0 and entry["pairs"]["cloze"] == 0
    assert entry["trained_kinds"] == ["heading"] and entry["training"]["steps"] >= 1
    assert json.loads((tmp_path / "report.json").read_text())["check"] == entry["check"]
