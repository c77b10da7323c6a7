"""Fixtures of the embedding tests: the seed passages and the model's own vectors of them.

The reference vectors (sentence-transformers on torch) are what every fast runtime is held to.
They are computed once per run and shared by the test files that compare against them, as the
seeds index is (``tests/conftest.py``): under pytest-xdist the first worker that needs them
computes them under a file lock, the others read the same file.
"""

from __future__ import annotations

import numpy as np
import pytest

from qa.ingest.passages import split_document

# Beside the seed passages: a very short text, a question and a text past the model's window.
EXTRA_TEXTS = ["Kort.", "Hur många länsstyrelser finns det?", "ord " * 600]


@pytest.fixture(scope="session")
def seed_passages(embedder, seed_documents) -> list[str]:
    """The seeds' passages as the build cuts them, then ``EXTRA_TEXTS``."""
    texts = [p.text for d in seed_documents for p in split_document(d, embedder.count_tokens)]
    return [*texts, *EXTRA_TEXTS]


@pytest.fixture(scope="session")
def passage_reference(request: pytest.FixtureRequest, embedder, seed_passages,
                      tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> np.ndarray:
    """sentence-transformers' vectors of ``seed_passages`` with the passage prompt, row by row."""
    from filelock import FileLock

    def compute() -> np.ndarray:
        st_model = request.getfixturevalue("st_model")
        return st_model.embed([embedder.passage_prompt + t for t in seed_passages])

    if worker_id == "master":
        return compute()
    shared = tmp_path_factory.getbasetemp().parent / "seed-passage-reference.npy"
    with FileLock(f"{shared}.lock"):
        if not shared.exists():
            vectors = compute()
            np.save(shared.with_suffix(".tmp.npy"), vectors)
            shared.with_suffix(".tmp.npy").replace(shared)
    return np.load(shared)
