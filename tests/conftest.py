"""Shared fixtures: the real model, a real index of seeds/, the real app and a live server.

Expensive objects are session-scoped: the model loads once and the seeds index
is built once per test run (about 20 s on two cores).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory):
    from qa.settings import Settings

    return Settings(index_dir=tmp_path_factory.mktemp("index") / "seeds", source=SEEDS)


@pytest.fixture(scope="session")
def embedder(settings):
    from qa.embed.model import Embedder

    return Embedder(settings)


@pytest.fixture(scope="session")
def seed_documents():
    from qa.ingest.documents import load_documents

    return load_documents(SEEDS)


@pytest.fixture(scope="session")
def seeds_index_dir(settings, embedder, seed_documents) -> Path:
    from qa.index.build import build_index

    build_index(seed_documents, embedder, settings, settings.index_dir, progress=False)
    return settings.index_dir


@pytest.fixture(scope="session")
def engine(settings, embedder, seeds_index_dir):
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    snapshot = Snapshot.open(seeds_index_dir, settings, model_id=embedder.model_id, dim=embedder.dim)
    return SearchEngine(snapshot, embedder, settings)


@pytest.fixture(scope="session")
def app(engine):
    from api.app import create_app

    return create_app(engine)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The real app served by uvicorn on 127.0.0.1, for browser and HTTP-level tests."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
