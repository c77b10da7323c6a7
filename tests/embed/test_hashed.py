"""The hashed n-gram encoder: deterministic, normalised, similar texts near, named in the index.

It stands in for the model wherever the model's vectors are not under test, so it must behave
like an encoder (``TextEncoder``, ``PassageEncoder``, ``QuestionEncoder``) and an index built with
it must only be served by a service configured with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.embed.hashed import DIM, NAME, HashedNgrams, count_tokens
from qa.errors import IndexLoadError
from qa.index.build import build_index
from qa.index.manifest import read_manifest
from qa.index.snapshot import Snapshot
from qa.ingest.documents import make_document

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Kommunfullmäktige beslutar om budgeten varje år i november.",
         "Regionen ansvarar för hälso- och sjukvård och kollektivtrafik.",
         "Grundskolan är obligatorisk för alla barn i Sverige.", "", "!!!"]


def test_vectors_are_normalised_float32_and_the_same_in_every_process():
    vectors = HashedNgrams().embed(TEXTS)
    assert vectors.shape == (len(TEXTS), DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    assert HashedNgrams().embed([]).shape == (0, DIM)
    # Python's own hash() is salted per process; these vectors must not be.
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from qa.embed.hashed import HashedNgrams; "
         "sys.stdout.buffer.write(HashedNgrams().embed(sys.argv[1:]).tobytes())", *TEXTS],
        cwd=ROOT, capture_output=True, check=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert np.array_equal(np.frombuffer(child.stdout, dtype=np.float32).reshape(vectors.shape),
                          vectors)


def test_texts_sharing_words_are_nearer_than_texts_that_do_not():
    budget, *others = HashedNgrams().embed([
        "Vem beslutar om budgeten?", TEXTS[0], TEXTS[1], TEXTS[2]])
    near, far1, far2 = (float(budget @ v) for v in others)
    assert near > 0.4 and near > 3 * max(far1, far2), (near, far1, far2)
    same = HashedNgrams().embed(["BUDGETEN, beslutar!", "budgeten beslutar"])
    assert float(same[0] @ same[1]) > 0.999, "case, punctuation and spacing do not count"


def test_token_counts_grow_with_the_text_like_a_subword_tokenizer():
    assert count_tokens("") == 2  # the special tokens
    assert count_tokens("hej") == 3 and count_tokens("hej.") == 4
    assert count_tokens("verksamhetsutveckling") == 2 + 5  # a long word is several pieces
    assert count_tokens(TEXTS[0] * 2) > count_tokens(TEXTS[0])


def test_an_index_names_the_encoder_and_is_served_only_by_it(hashed_settings, hashed_embedder,
                                                             hashed_questions, tmp_path):
    index_dir = tmp_path / "idx"
    docs = [make_document(f"d{i}", text) for i, text in enumerate(TEXTS[:3])]
    build_index(docs, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    manifest = read_manifest(index_dir)
    assert (manifest.model, manifest.dim, manifest.passage_path) == (NAME, DIM, "hashed-ngrams")
    with Snapshot.open(index_dir, hashed_settings.index, model_id=hashed_questions.model_id,
                       dim=hashed_questions.dim) as snapshot:
        _, rows = snapshot.vectors.search(hashed_questions.embed("Är grundskolan obligatorisk?"), 1)
        assert snapshot.passages[rows[0]].document_id == "d2"
    # A service with the real model (its name, its dimension) refuses it, and says why.
    with pytest.raises(IndexLoadError, match=f"built with model '{NAME}'.*QA_MODEL={NAME}"):
        Snapshot.open(index_dir, hashed_settings.index, model_id="intfloat/multilingual-e5-small",
                      dim=384)


def test_qa_build_and_ask_work_without_the_model(tmp_path):
    """``QA_MODEL=hashed-ngrams``: the commands as a user runs them, on a cache with no model."""
    source = tmp_path / "docs"
    source.mkdir()
    for i, text in enumerate(TEXTS[:3]):
        (source / f"d{i}.txt").write_text(f"Rubrik {i}\n\n{text}\n", encoding="utf-8")
    env = {**os.environ, "QA_MODEL": NAME, "QA_CACHE_DIR": str(tmp_path / "empty-cache"),
           "QA_INDEX_DIR": str(tmp_path / "idx")}

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "qa.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    model = qa("model")
    assert model.returncode == 0 and "no model to prepare" in model.stdout, model.stderr
    built = qa("build", "--source", str(source), "--no-progress")
    assert built.returncode == 0 and "indexed 3 documents" in built.stdout, built.stderr
    asked = qa("ask", "Vem ansvarar för kollektivtrafik?", "-k", "1")
    assert asked.returncode == 0 and "d1" in asked.stdout, asked.stdout + asked.stderr
    assert not (tmp_path / "empty-cache").exists(), "nothing of a model was prepared"
