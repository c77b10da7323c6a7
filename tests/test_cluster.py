"""Beyond one process: a build on a two-node Ray cluster, Ray Serve replicas, worker processes.

The Ray cluster is started inside the test on 127.0.0.1 with Ray's own utilities (two nodes of
one CPU each, small object stores, no dashboard) and always shut down after: Ray's daemons
outlive a killed parent. ``qa build --cluster`` and ``qa serve --replicas`` run as a user runs
them, as child processes joining that cluster. The build must equal the local build of the
session (``seeds_index_dir``): same passages and ids, vectors with cosine ≥ 0.9999, the same
evaluation figures. Without Ray installed these tests are skipped, except in CI, where they
fail (as the browser tests do without Chromium); ``--workers`` and the missing-Ray message
need no Ray.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
NODE = {"num_cpus": 1, "object_store_memory": 100 * 2**20, "node_ip_address": "127.0.0.1"}
# The environment of the test cluster and of every process joining it:
# - Ray replaces 127.0.0.1 by the machine's address in every address it is given, unless told
#   it runs without multi-machine clusters (this variable, named for the systems where that is
#   the default): then every node, and every process joining them, is on 127.0.0.1 only.
# - Ray starts its workers (the encoder actors, the replicas) at nice 15, below everything else
#   on the machine: right for a cluster's own machines, but beside the rest of the suite on two
#   cores they got a few percent of a core, and Serve's proxy missed its start-up deadline.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_worker_niceness": "0"}
QUESTION = "Hur många länsstyrelser finns det?"
ANSWER_DOC = "003_c2aea3d9b67761fb"
CLUSTER_DOCS = (ANSWER_DOC, "004_61a7695175b3d7f3")


def _ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        why = "Ray is not installed (pip install '.[cluster]')"
        if os.environ.get("CI"):
            pytest.fail(f"the cluster tests cannot run in CI: {why}", pytrace=False)
        pytest.skip(why)
    return ray


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """Two Ray nodes (head + worker) on 127.0.0.1, one CPU each; shut down whatever happens."""
    ray = _ray()
    from ray.cluster_utils import Cluster

    with pytest.MonkeyPatch.context() as patch:
        for name, value in RAY_ENV.items():
            patch.setenv(name, value)
        cluster = Cluster()
        try:
            cluster.add_node(**NODE, include_dashboard=False)
            cluster.add_node(**NODE)
            cluster.wait_for_nodes()
            assert cluster.address.startswith("127.0.0.1:")
            yield cluster
        finally:
            ray.shutdown()
            cluster.shutdown()


def _env(settings) -> dict[str, str]:
    return {**os.environ, **RAY_ENV, "PYTHONPATH": str(ROOT),
            "QA_CACHE_DIR": str(settings.embed.cache_dir)}


def _qa(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa.cli", *args]


@pytest.fixture(scope="module")
def cluster_source(tmp_path_factory) -> Path:
    """Two of the seeds (the two shortest, one of them ``ANSWER_DOC``), with their ids: what is
    tested is that a cluster builds what a local build does, not how long a build takes."""
    folder = tmp_path_factory.mktemp("cluster-source")
    for doc in CLUSTER_DOCS:
        shutil.copy(SEEDS / f"{doc}.txt", folder)
    return folder


@pytest.fixture(scope="module")
def cluster_index(ray_cluster, cluster_source, settings, tmp_path_factory) -> tuple[Path, str]:
    """``cluster_source`` indexed by ``qa build --cluster ADDRESS`` on the two-node cluster; its
    log."""
    index = tmp_path_factory.mktemp("cluster") / "index"
    out = subprocess.run(
        _qa("build", "--source", str(cluster_source), "--index", str(index), "--cluster",
            ray_cluster.address, "--no-progress"),
        capture_output=True, text=True, timeout=600, env=_env(settings), cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return index, out.stderr


@pytest.fixture(scope="module")
def local_engine(cluster_source, settings, embedder, questions, tmp_path_factory):
    """``cluster_source`` indexed here, with the same settings: the build the cluster must equal."""
    from qa.index.build import build_index
    from qa.ingest.sources import load_documents

    index = tmp_path_factory.mktemp("local") / "index"
    build_index(load_documents(cluster_source), embedder, settings.index, index, progress=False)
    return _open(index, settings, questions)


def _open(index: Path, settings, questions):
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    snapshot = Snapshot.open(index, settings.index, model_id=questions.model_id, dim=questions.dim)
    return SearchEngine(snapshot, questions, settings.search)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_a_cluster_build_equals_the_local_build(cluster_index, local_engine, settings, questions):
    index, log = cluster_index
    assert "embedding on 2 encoder actors of 1 CPU(s)" in log, "one actor per node's CPU"
    built = _open(index, settings, questions)
    local, there = local_engine.index, built.index
    assert len(local.passages) > 10
    assert [(p.id, p.document_id, p.start, p.end, p.text) for p in there.passages] == \
        [(p.id, p.document_id, p.start, p.end, p.text) for p in local.passages]
    assert there.manifest.build_key == local.manifest.build_key
    assert (there.manifest.passage_path, there.manifest.sentence_path) == \
        (local.manifest.passage_path, local.manifest.sentence_path)
    assert _cosines(there.embeddings, local.embeddings).min() >= 0.9999
    assert local.sentences is not None and there.sentences is not None
    assert np.array_equal(there.sentences.spans, local.sentences.spans)
    assert np.array_equal(there.sentences.offsets, local.sentences.offsets)
    assert _cosines(np.asarray(there.sentences.vectors), np.asarray(local.sentences.vectors)).min() >= 0.9999


def test_a_cluster_build_gives_the_local_evaluation_figures(cluster_index, local_engine, settings,
                                                            questions):
    from qa.eval.runner import evaluate
    from qa.eval.testset import BUNDLED_TESTSET, load_testset, resolve

    texts = local_engine.document_texts()
    items = [it for it in load_testset(BUNDLED_TESTSET) if it.document_id in (None, *texts)]
    queries = resolve(items, texts)
    assert sum(1 for q in queries if q.targets) >= 40
    local = evaluate(local_engine, queries, k=10, progress=False)
    there = evaluate(_open(cluster_index[0], settings, questions), queries, k=10, progress=False)
    for mode in local.modes:
        assert there.metrics[mode] == pytest.approx(local.metrics[mode], abs=1e-9), mode


def _get(url: str, body: dict[str, Any] | None = None, timeout: float = 30) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _wait_healthy(url: str, proc: subprocess.Popen[str], log: Path, limit: float = 240) -> dict[str, Any]:
    """The server's /health once it answers 200; fails with ``log``'s tail if it exits first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the server exited with {proc.returncode}:\n{tail}")
        try:
            status, health = _get(f"{url}/health", timeout=5)
            if status == 200:
                return health
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {limit:.0f} s")


def _answers(url: str, n: int) -> None:
    for _ in range(n):
        status, answer = _get(f"{url}/api/search", {"question": QUESTION, "k": 3})
        assert status == 200
        assert answer["results"][0]["document_id"] == ANSWER_DOC


def _stop(proc: subprocess.Popen[str]) -> int:
    """SIGTERM, as a service manager stops a server; the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def _publish_another(index: Path, embedder, settings) -> int:
    """Add a document to ``index`` (a new generation, as another ``qa build --add`` would)."""
    from qa.index.build import build_index
    from qa.ingest.documents import make_document

    doc = make_document("tillagt", "Kommunstyrelsen leder och samordnar kommunens förvaltning. "
                        "Den har uppsikt över nämndernas verksamhet.", "Tillagt dokument")
    return build_index([doc], embedder, settings.index, index, add=True, progress=False).generation


def _all_serve(url: str, generation: int, limit: float = 120, in_a_row: int = 20) -> None:
    """Wait until ``in_a_row`` answers on fresh connections all come from ``generation``.

    Fresh connections are spread over the processes (or replicas), so a run of answers
    that all name the new generation means every one of them serves it.
    """
    deadline = time.monotonic() + limit
    seen = 0
    while seen < in_a_row:
        assert time.monotonic() < deadline, f"not every process serves generation {generation}"
        _, health = _get(f"{url}/health", timeout=10)
        seen = seen + 1 if health["generation"] == generation else 0
        time.sleep(0.05)


_SERVE_STATUS = """
import json, sys, ray
from ray import serve
ray.init(address=sys.argv[1], logging_level="WARNING")
app = serve.status().applications["svensk-qa"]
replicas = app.deployments["QAReplica"].replica_states
print(json.dumps({"app": str(app.status), "replicas": {str(k): v for k, v in replicas.items()}}))
"""


def test_two_serve_replicas_answer_over_http(ray_cluster, cluster_index, settings, embedder,
                                             tmp_path):
    index = shutil.copytree(cluster_index[0], tmp_path / "index")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        _qa("serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port),
            "--replicas", "2", "--cluster", ray_cluster.address),
        stdout=log, stderr=subprocess.STDOUT, text=True, env=_env(settings), cwd=ROOT)
    try:
        health = _wait_healthy(url, proc, tmp_path / "serve.log")
        assert health["passages"] > 0 and health["documents"] == len(CLUSTER_DOCS)
        _answers(url, 6)
        # What Serve itself says runs on the cluster, asked by another driver.
        out = subprocess.run([sys.executable, "-c", _SERVE_STATUS, ray_cluster.address],
                             capture_output=True, text=True, timeout=120, env=_env(settings), cwd=ROOT)
        assert out.returncode == 0, out.stderr[-2000:]
        status = json.loads(out.stdout.strip().splitlines()[-1])
        assert status["app"].endswith("RUNNING")
        assert {k.rsplit(".", 1)[-1]: v for k, v in status["replicas"].items()} == {"RUNNING": 2}
        _all_serve(url, _publish_another(index, embedder, settings))
    finally:
        code = _stop(proc)
        log.seek(0)
        output = log.read()
    assert code == 0, output[-3000:]
    assert "replicas stopped" in output


def test_replicas_on_a_taken_port_fail_in_one_line(ray_cluster, cluster_index, settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            _qa("serve", "--index", str(cluster_index[0]), "--host", "127.0.0.1", "--port",
                str(port), "--replicas", "1", "--cluster", ray_cluster.address),
            capture_output=True, text=True, timeout=300, env=_env(settings), cwd=ROOT)
    assert out.returncode == 1
    errors = [x for x in out.stderr.splitlines() if x.startswith("error:")]
    assert errors == [f"error: Serve did not start: Failed to bind to address '127.0.0.1:{port}'."
                      ], out.stderr[-2000:]
    assert "replicas stopped" in out.stderr


def test_two_worker_processes_answer_over_http(seeds_index_dir, settings, embedder, tmp_path):
    index = shutil.copytree(seeds_index_dir, tmp_path / "index")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "workers.log").open("w+")
    proc = subprocess.Popen(
        _qa("serve", "--index", str(index), "--host", "127.0.0.1", "--port", str(port),
            "--workers", "2"),
        stdout=log, stderr=subprocess.STDOUT, text=True, env=_env(settings), cwd=ROOT)
    try:
        _wait_healthy(url, proc, tmp_path / "workers.log")
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        workers = [c for c in children
                   if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 2, "two server processes share the port"
        _answers(url, 6)
        _all_serve(url, _publish_another(index, embedder, settings))
    finally:
        status = _stop(proc)
        log.seek(0)
        output = log.read()
    assert status == 0, output[-3000:]
    assert output.count("Started server process") == 2


def test_without_ray_the_cluster_options_fail_in_one_line(seeds_index_dir, settings, tmp_path):
    """A ``ray`` that cannot be imported (as where the extra is not installed)."""
    hide = "import sys; sys.modules['ray'] = None; from qa.cli import main; sys.argv[0] = 'qa'; main()"
    for args in (["build", "--source", str(SEEDS), "--index", str(tmp_path / "i"), "--cluster", "local"],
                 ["serve", "--index", str(seeds_index_dir), "--replicas", "2"]):
        out = subprocess.run([sys.executable, "-c", hide, *args], capture_output=True, text=True,
                             timeout=300, env=_env(settings), cwd=ROOT)
        assert out.returncode == 1
        lines = [x for x in out.stderr.splitlines() if x.startswith("error:")]
        assert lines == ["error: Ray is not installed: pip install '.[cluster]' for --cluster and "
                         "--replicas"], out.stderr[-2000:]
        assert "Traceback" not in out.stderr
