"""The new formats end to end: a folder of EPUB, PPTX, XLSX, ODS, RTF and .eml files read as a
corpus (model-free), then built with ``qa build`` and asked with ``qa ask`` (real model)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.ingest.sources import read_corpus
from tests.ingest.formats.test_eml import make_message

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = {"bok.epub": "bygglov.epub", "riktlinje.rtf": "bygglov.rtf", "bildspel.pptx": "budget_bildspel.pptx",
         "budget.xlsx": "budget.xlsx", "kalkyl/budget.ods": "budget.ods"}


def _folder(where: Path) -> Path:
    for name, fixture in FILES.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / fixture, where / name)
    make_message(where / "brev.eml")
    return where


def test_a_folder_of_the_new_formats_is_read_as_a_corpus(tmp_path):
    corpus = read_corpus(_folder(tmp_path / "samling"))
    assert corpus.skipped == []
    assert corpus.formats() == {"epub": 1, "rtf": 1, "pptx": 1, "xlsx": 1, "ods": 1, "eml": 1}
    docs = {doc.id: doc for doc in corpus.documents}
    assert docs["bildspel"].title == "Budget för äldreomsorgen" and len(docs["bildspel"].pages) == 3
    assert docs["brev"].date == "2024-08-12" and docs["brev"].metadata["source"] == "brev.eml"
    assert docs["kalkyl/budget"].original.media_type == "application/vnd.oasis.opendocument.spreadsheet"
    assert "riktlinje" in docs and "bok" in docs and "budget" in docs
    sections = [section.title for section in docs["bildspel"].sections]
    assert "Bild 2: Särskilt boende" in sections
    assert corpus.warnings == ["brev.eml: attachment 'karta.png' not read (unsupported type: image/png)"]


def _qa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1",
                                                      "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
@pytest.mark.model  # `qa build` and `qa ask` with the real model
def test_qa_build_and_ask_over_the_new_formats(tmp_path):
    source = _folder(tmp_path / "samling")
    index = tmp_path / "index"
    built = _qa("build", "--source", str(source), "--index", str(index), "--no-progress")
    assert built.returncode == 0, built.stderr
    assert "indexed 6 documents" in built.stdout
    asked = _qa("ask", "Hur lång är väntetiden till särskilt boende?", "--index", str(index),
                "-k", "3", "--json")
    assert asked.returncode == 0, asked.stderr
    top = json.loads(asked.stdout)["results"][0]
    assert top["document_id"] == "bildspel" and "45 dagar" in top["text"]  # the speaker's notes
    assert top["page"] == 2  # the slide
    only_ods = _qa("ask", "Vad är maxtaxan för förskola?", "--index", str(index), "-k", "1",
                   "--format", "ods", "--json")
    assert only_ods.returncode == 0, only_ods.stderr
    hit = json.loads(only_ods.stdout)["results"][0]
    assert hit["document_id"] == "kalkyl/budget" and "1688" in hit["text"]
