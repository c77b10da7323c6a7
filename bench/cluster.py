"""Ray on one machine: build throughput with 1 and 2 encoder actors, Ray's overhead, serving replicas.

Side by side in one run, on this machine:

* ``qa build`` of a synthetic corpus (``bench.synth``: one passage per document, 2-5 sentences
  each) from scratch, as a child process: locally (one process, the runtimes' threads on every
  core), then with ``QA_CLUSTER=local`` and 1 and 2 encoder actors of one CPU each
  (``QA_CLUSTER_WORKERS``). The build time is the one ``qa build`` prints (model load excluded
  locally; on the cluster it includes starting the actors, which load the model there, once
  for the passages and once for the sentences). One actor uses one core: its passages per
  second are the per-core figure of the scaling note in the README.
* Ray's overhead, in this process on a local Ray instance of 2 CPUs: starting a pool of 2
  encoder actors (actor start and model load, measured as the time to embed 2 short texts),
  and the cost of one batch through Ray Data with a no-op model (32 texts in, 32 zero vectors
  out, one actor), from the time of 200 batches minus that of one.
* Serving throughput over the seeds index, 8 concurrent keep-alive clients sending questions
  that are all new (a unique suffix each, so every one is embedded) for a fixed time: ``qa
  serve`` (one process), ``qa serve --workers 2``, and ``qa serve --replicas 1`` and ``2`` on a
  local Ray instance (Serve's HTTP proxy in front of the replicas).

    python -m bench.cluster [--quick]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    ROOT,
    SCRATCH,
    HttpConnection,
    _machine_ticks,
    bench_parser,
    ensure_seeds_index,
    free_port,
    print_rows,
    qa_command,
    ratio,
    row,
    search_request,
    seed_questions,
    start_process,
    summary,
    wait_for_quiet,
    wait_for_search,
    write_result,
)
from bench.synth import write_corpus

ONE_CPU = {"QA_CLUSTER_WORKER_CPUS": "1"}
BUILDS: dict[str, dict[str, str]] = {
    "local (1 process)": {},
    "Ray, 1 encoder actor": {"QA_CLUSTER": "local", "QA_CLUSTER_WORKERS": "1", **ONE_CPU},
    "Ray, 2 encoder actors": {"QA_CLUSTER": "local", "QA_CLUSTER_WORKERS": "2", **ONE_CPU},
}
SERVERS: dict[str, list[str]] = {
    "qa serve (1 process)": [],
    "qa serve --workers 2": ["--workers", "2"],
    "qa serve --replicas 1 (Ray Serve)": ["--replicas", "1", "--cluster", "local"],
    "qa serve --replicas 2 (Ray Serve)": ["--replicas", "2", "--cluster", "local"],
}
CLIENTS = 8
_SUMMARY = re.compile(r"^indexed .*?(\d+) passages \((\d+) embedded.*? in ([\d.]+) s", re.M)
_TEXTS = re.compile(r"embedding (\d+) passages and (\d+) sentences")


# ---------------------------------------------------------------- other processes' load

def _own_ticks(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime + stime) of a process, without its children's; None if gone."""
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(rest[1]), int(rest[11]) + int(rest[12])


class TreeLoad:
    """Share of the cores used by processes outside this one's tree during a ``with`` block.

    ``OtherLoad`` counts a server's worker processes and Ray's (grandchildren, never reaped
    by this process) as other load; here every descendant is sampled every half second and
    counted as ours, whether it is a ``qa build`` child, a worker process, a Ray daemon or an
    actor. A descendant that ends between two samples loses at most half a second of ticks.
    """

    def __init__(self) -> None:
        self.share = float("nan")
        self._base: dict[int, int] = {}  # pid -> its ticks when first seen (0 if born since)
        self._last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def _sample(self, born: int) -> None:
        """Ticks of every process in this one's tree; ``born``: base of those not seen yet."""
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (found := _own_ticks(int(entry.name))) is not None:
                stats[int(entry.name)] = found
        ours, more = set(), {os.getpid()}
        while more:
            ours |= more
            more = {pid for pid, (parent, _) in stats.items() if parent in ours} - ours
        for pid in ours & stats.keys():
            ticks = stats[pid][1]
            self._base.setdefault(pid, ticks if born < 0 else born)
            self._last[pid] = ticks

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(0.5):
            self._sample(born=0)

    def __enter__(self) -> TreeLoad:
        self._total0, self._idle0 = _machine_ticks()
        self._sample(born=-1)  # the processes already there count from now on
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(born=0)
        total, idle = _machine_ticks()
        busy = (total - self._total0) - (idle - self._idle0)
        ours = sum(self._last[pid] - base for pid, base in self._base.items())
        self.share = round(max(busy - ours, 0) / max(total - self._total0, 1), 3)


# ---------------------------------------------------------------- builds

def _build(source: Path, index_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """``qa build`` from scratch in a child process; the time it reports, and its wall time."""
    shutil.rmtree(index_dir, ignore_errors=True)
    t0 = time.perf_counter()
    out = subprocess.run(qa_command("build", "--source", str(source), "--index", str(index_dir),
                                    "--no-progress"),
                         cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"qa build failed:\n{out.stderr[-3000:]}")
    done, texts = _SUMMARY.search(out.stdout), _TEXTS.search(out.stderr)
    if done is None or texts is None:
        raise RuntimeError(f"unexpected qa build output:\n{out.stdout}\n{out.stderr[-2000:]}")
    passages, seconds = int(done.group(1)), float(done.group(3))
    shutil.rmtree(index_dir, ignore_errors=True)
    return {"passages": passages, "texts": int(texts.group(1)) + int(texts.group(2)),
            "build_s": seconds, "wall_s": round(wall, 2),
            "passages_per_s": round(passages / seconds, 2)}


def _builds(source: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, env in BUILDS.items():
        print(f"qa build, {label} …", flush=True)
        with TreeLoad() as load:
            results[label] = _build(source, SCRATCH / "cluster-build", env)
        results[label]["others_cpu_share"] = load.share
    return results


# ---------------------------------------------------------------- Ray's overhead

class _NoModel:
    """A Ray Data callable class that embeds nothing: zero vectors, at once."""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"row": batch["row"], "vector": np.zeros((len(batch["row"]), 384), np.float32)}


def _batch_arrivals(ray: Any, texts: list[str], batch: int) -> list[float]:
    """When each batch of ``texts`` came back from a 1-actor Ray Data pool of ``_NoModel``."""
    items = [{"row": i, "text": t} for i, t in enumerate(texts)]
    dataset = ray.data.from_items(items, override_num_blocks=max(1, len(items) // batch))
    dataset = dataset.map_batches(_NoModel, batch_size=batch, batch_format="numpy", num_cpus=1,
                                  compute=ray.data.ActorPoolStrategy(size=1))
    return [time.perf_counter() for _ in dataset.iter_batches(batch_size=None, batch_format="numpy")]


def _overhead(batches: int) -> dict[str, Any]:
    """Pool start of the real encoder; time between batches through Ray with no model at all."""
    from qa.cluster import connected
    from qa.embed.cluster import ClusterEncoder
    from qa.settings import Settings

    settings = Settings(cluster_workers=2, cluster_worker_cpus=1).embed
    text = "Regionfullmäktige är regionens högsta beslutande organ och väljs av invånarna."
    with connected("local", num_cpus=2) as ray:
        encoder = ClusterEncoder(settings, ray)
        t0 = time.perf_counter()
        encoder.embed_passages([text] * (2 * settings.batch_size))  # one batch for each actor
        pool_start = time.perf_counter() - t0
        arrivals = _batch_arrivals(ray, [text] * (settings.batch_size * batches), settings.batch_size)
    gaps = np.diff(arrivals[1:]) * 1000  # the first batch carries the pool's start
    return {"pool_start_s": round(pool_start, 2), "batch_size": settings.batch_size,
            "batches": len(arrivals), "per_batch_ms": summary(gaps.tolist())}


# ---------------------------------------------------------------- serving

async def _load(port: int, duration: float, prefix: str) -> dict[str, Any]:
    """``CLIENTS`` keep-alive clients sending new questions back to back for ``duration`` s."""
    questions = seed_questions()
    latencies: list[float] = []
    errors = 0
    sent = 0
    conns = [await HttpConnection.open(port) for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    deadline = t0 + duration

    async def client(conn: HttpConnection) -> None:
        nonlocal errors, sent
        while time.perf_counter() < deadline:
            i = sent
            sent += 1
            body = search_request(f"{questions[i % len(questions)]} ({prefix} {i})")
            t = time.perf_counter()
            status, _ = await conn.post("/api/search", body)
            latencies.append((time.perf_counter() - t) * 1000)
            errors += status != 200

    await asyncio.gather(*(client(c) for c in conns))
    elapsed = time.perf_counter() - t0
    for c in conns:
        await c.close()
    return {"requests": len(latencies), "errors": errors, "duration_s": round(elapsed, 2),
            "qps": round(len(latencies) / elapsed, 2), "latency_ms": summary(latencies)}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait: a server on Ray removes its replicas and stops Ray before it exits."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serving(index: Path, duration: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for n, (label, args) in enumerate(SERVERS.items()):
        port = free_port()
        print(f"{label}: starting …", flush=True)
        proc = start_process(qa_command("serve", "--index", str(index), "--port", str(port),
                                        "--no-access-log", *args), f"cluster-serve-{n}", ONE_CPU)
        try:
            start = wait_for_search(port, proc, timeout=300)
            asyncio.run(_load(port, 2.0, f"uppvärmning {n}"))  # every process and replica warm
            with TreeLoad() as load:
                results[label] = asyncio.run(_load(port, duration, f"variant {n}"))
            results[label]["start_s"] = round(start, 1)
            results[label]["others_cpu_share"] = load.share
        finally:
            _stop(proc)
    return results


# ---------------------------------------------------------------- run

def run(quick: bool = False) -> dict[str, Any]:
    n_docs = 200 if quick else 2000
    source = write_corpus(SCRATCH / f"synth-{n_docs}.jsonl", n_docs)
    index = ensure_seeds_index()
    busy = wait_for_quiet(10 if quick else 90)
    builds = _builds(source)
    print("Ray's overhead …", flush=True)
    overhead = _overhead(50 if quick else 200)
    serving = _serving(index, 5.0 if quick else 20.0)

    local, one, two = (builds[k] for k in BUILDS)
    per_core = one["passages_per_s"]
    rows = [row(f"build {n_docs} passages: {label}", f"{b['passages_per_s']}", "passages/s",
                f"{b['texts']} texts in {b['build_s']} s (wall {b['wall_s']} s)")
            for label, b in builds.items()]
    rows += [
        row("build: 2 actors ÷ 1 actor", ratio(two["passages_per_s"], per_core), "×",
            "on 2 cores; 1 actor = 1 core: the per-core figure"),
        row("build: 2 actors ÷ local", ratio(two["passages_per_s"], local["passages_per_s"]), "×",
            "both on both cores; the actors' time includes their start and model load"),
        row("Ray: start 2 encoder actors (model loaded) + 1 batch each", overhead["pool_start_s"], "s",
            "paid once per embedding kind (passages, sentences) per build"),
        row(f"Ray: overhead per batch of {overhead['batch_size']} texts", overhead["per_batch_ms"]["p50"],
            "ms", f"median time between batches, no-op model, 1 actor, {overhead['batches']} batches "
            f"(p95 {overhead['per_batch_ms']['p95']} ms)"),
    ]
    single = serving["qa serve (1 process)"]["qps"]
    for label, s in serving.items():
        rows.append(row(f"serve, {CLIENTS} clients, new questions: {label}", s["qps"], "queries/s",
                        f"p50 {s['latency_ms'].get('p50')} ms, {s['errors']} errors, "
                        f"{ratio(s['qps'], single)}× one process; ready in {s['start_s']} s"))
    others = max([b["others_cpu_share"] for b in builds.values()]
                 + [s["others_cpu_share"] for s in serving.values()])
    result = {"synthetic_docs": n_docs, "builds": builds, "overhead": overhead, "serving": serving,
              "per_core_passages_per_s": per_core, "machine_busy_before": busy,
              "others_cpu_share": others, "summary": rows}
    print_rows("Ray: builds, overhead, serving", rows)
    write_result("cluster", result, quick)
    return result


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    run(args.quick)


if __name__ == "__main__":
    main()
