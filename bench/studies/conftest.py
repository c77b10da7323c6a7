"""The studies' tests use the product tests' fixtures (the real model and the seeds index)."""

from tests.conftest import (  # noqa: F401 - pytest finds fixtures by name
    embedder,
    engine,
    questions,
    seed_documents,
    seeds_index_dir,
    settings,
)
