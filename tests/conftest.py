"""Shared fixtures: the real model, a real index of seeds/, the real app and a live server.

Expensive objects are session-scoped: the model loads once and the seeds index
is built once per test run (about 20 s on two cores).

Tests that need files on disk rather than the model's vectors take the ``hashed_*``
fixtures: the same settings with ``QA_MODEL=hashed-ngrams`` (``qa.embed.hashed``), a
deterministic encoder computed in milliseconds. The tiers are marked here, by the fixtures a
test uses (``pytest_collection_modifyitems``): ``model`` (the real model, directly or through
the seeds index, engine, app or server), ``browser`` and ``cluster``; a test that loads the
model by other means (a ``qa`` subprocess) is marked ``model`` by hand. ``make check`` runs
``-m "not model and not browser and not cluster and not slow"``; ``make test`` runs all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import serve

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

# A test that uses one of these fixtures (directly or through another fixture) loads the model.
MODEL_FIXTURES = frozenset({"embedder", "questions", "st_model", "seeds_index_dir", "engine", "app",
                            "client", "live_server"})
TIER_FIXTURES = {"model": MODEL_FIXTURES, "browser": frozenset({"browser"}),
                 "cluster": frozenset({"ray_cluster"})}


# Seconds each test file took in a whole run (``--file-seconds-out`` writes them again). Only the
# order of files depends on them: longest first, so that under ``-n N --dist loadfile
# --no-loadscope-reorder`` (``make test``) no long file starts last while the other workers idle.
FILE_SECONDS = Path(__file__).with_name("file_seconds.json")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--file-seconds-out", metavar="PATH", default=None,
                     help="write each test file's seconds in this run (for tests/file_seconds.json)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the tiers of the fixtures it uses (see the module docstring), and put
    the files that took longest in the last recorded run first (a stable sort: within a file,
    the tests keep their order)."""
    import json

    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in TIER_FIXTURES.items():
            if used & fixtures:
                item.add_marker(marker)
    seconds = json.loads(FILE_SECONDS.read_text(encoding="utf-8")) if FILE_SECONDS.is_file() else {}
    items.sort(key=lambda item: -seconds.get(item.nodeid.split("::", 1)[0], 0.0))


_file_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up each file's seconds (set-up, call and tear-down; under xdist, in the controller)."""
    file = report.nodeid.split("::", 1)[0]
    _file_seconds[file] = _file_seconds.get(file, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    import json

    out = session.config.getoption("--file-seconds-out")
    if out and not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
        ranked = sorted(_file_seconds.items(), key=lambda kv: -kv[1])
        Path(out).write_text(json.dumps({f: round(t, 1) for f, t in ranked if t >= 1.0}, indent=1)
                             + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory):
    from qa.settings import Settings

    # The seeds' example questions, so that the page offers the same four every run.
    # 'testserver' is the Host that Starlette's TestClient sends (api.hosts). Questions at fp32,
    # the reference: QA_QUERY_PRECISION=auto depends on the CPU, and a test's ranks must not;
    # the faster paths are held to fp32 in tests/embed/test_quantised_questions.py.
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "seeds", source=SEEDS,
                    query_precision="fp32",
                    examples_file=ROOT / "examples" / "seeds_sv.txt",
                    allowed_hosts=["localhost", "127.0.0.1", "::1", "testserver"])


@pytest.fixture(scope="session")
def hashed_settings(settings, tmp_path_factory: pytest.TempPathFactory):
    """``settings`` with ``QA_MODEL=hashed-ngrams``: builds, questions and API writes without the
    model (``qa.embed.hashed``); its own seeds index directory."""
    from qa.embed.hashed import NAME

    return settings.model_copy(update={"model": NAME,
                                       "index_dir": tmp_path_factory.mktemp("hashed") / "seeds"})


@pytest.fixture(scope="session")
def hashed_embedder(hashed_settings):
    """The build encoder of ``hashed_settings``: hashed character n-grams, no model."""
    from qa.embed.build_encoder import open_build_encoder

    return open_build_encoder(hashed_settings.embed)


@pytest.fixture(scope="session")
def hashed_questions(hashed_settings):
    """The question encoder of ``hashed_settings``: hashed character n-grams, no model."""
    from qa.embed.question_encoder import open_question_encoder

    return open_question_encoder(hashed_settings.embed)


@pytest.fixture(scope="session")
def embedder(settings):
    """The build-time encoder (passages, sentences, token counts)."""
    from qa.embed.build_encoder import BuildEncoder

    return BuildEncoder(settings.embed)


@pytest.fixture(scope="session")
def questions(settings):
    """The serving question encoder (ONNX Runtime, no torch)."""
    from qa.embed.question_encoder import open_question_encoder

    return open_question_encoder(settings.embed)


@pytest.fixture(scope="session")
def st_model(embedder):
    """sentence-transformers on torch: the model itself, which every fast path must match."""
    from qa.embed.sentence_transformers_model import SentenceTransformerEncoder

    return SentenceTransformerEncoder(embedder.files)


@pytest.fixture(scope="session")
def seed_documents():
    from qa.ingest.sources import load_documents

    return load_documents(SEEDS)


@pytest.fixture(scope="session")
def seeds_index_dir(settings, embedder, seed_documents, tmp_path_factory, worker_id) -> Path:
    """The seeds indexed with the real model, once per run. Under pytest-xdist (``make test``)
    the first worker builds it into the run's shared temporary folder, under a file lock, and
    every worker copies it to its own ``settings.index.index_dir``: the same index, built once,
    and no worker's writes reach another's."""
    import shutil

    from filelock import FileLock

    from qa.index.build import build_index

    target = settings.index.index_dir
    if worker_id == "master":
        build_index(seed_documents, embedder, settings.index, target, progress=False)
        return target
    shared = tmp_path_factory.getbasetemp().parent / "seeds-index"
    with FileLock(f"{shared}.lock"):
        if not (shared / ".complete").exists():
            shutil.rmtree(shared, ignore_errors=True)
            build_index(seed_documents, embedder, settings.index, shared, progress=False)
            (shared / ".complete").touch()
    shutil.copytree(shared, target, symlinks=True, ignore=shutil.ignore_patterns(".complete"))
    return target


@pytest.fixture(scope="session")
def engine(settings, questions, seeds_index_dir):
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    snapshot = Snapshot.open(seeds_index_dir, settings.index, model_id=questions.model_id, dim=questions.dim)
    return SearchEngine(snapshot, questions, settings.search)


@pytest.fixture(scope="session")
def app(engine, settings):
    from api.app import create_app

    return create_app(engine, settings)


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The real app served by uvicorn on 127.0.0.1, for browser and HTTP-level tests."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def hashed_seeds_index_dir(hashed_settings, hashed_embedder, seed_documents) -> Path:
    """The seeds indexed with the hashed n-gram encoder (well under a second)."""
    from qa.index.build import build_index

    build_index(seed_documents, hashed_embedder, hashed_settings.index, hashed_settings.index.index_dir,
                progress=False)
    return hashed_settings.index.index_dir


@pytest.fixture(scope="session")
def hashed_engine(hashed_settings, hashed_questions, hashed_seeds_index_dir):
    """The engine over ``hashed_seeds_index_dir``: the real engine, the hashed encoder."""
    from qa.search.engine import SearchEngine

    return SearchEngine.open(hashed_settings, str(hashed_seeds_index_dir),
                             questions=hashed_questions)


@pytest.fixture(scope="session")
def hashed_live_server(hashed_engine) -> Iterator[str]:
    """The real app over ``hashed_engine``, served by uvicorn on 127.0.0.1: for tests of the HTTP
    contract that are not about what the model ranks."""
    from api.app import create_app

    with serve(create_app(hashed_engine)) as url:
        yield url
