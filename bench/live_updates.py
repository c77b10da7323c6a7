"""Searching while the collection changes: 8 clients ask while 20 uploads and deletes go through
the write API of a running ``qa serve``.

A copy of the seeds index is served by ``qa serve`` (a child process, with an admin token).
After a short warm-up, phase 1, for the baseline: 8 client threads ask new questions for
``SECONDS`` seconds. Phase 2:
the same clients ask while a writer uploads 15 PDF files (``tests/ingest/make_files.py``) and
deletes 5 of them again, one request at a time. Each search answer names the generation that
answered and each write's answer the generation that holds it, so every answer is checked
against the documents its generation held. Reported: failed requests, answers inconsistent
with their generation (both must be 0), search p50/p95 and queries per second in both phases,
and the time from sending a write to its answer (the change served).

    python -m bench.live_updates [--quick]
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    SCRATCH,
    bench_parser,
    ensure_seeds_index,
    free_port,
    print_rows,
    qa_command,
    ratio,
    row,
    start_process,
    stop_process,
    summary,
    wait_for_search,
    warmup_questions,
    write_result,
)

CLIENTS = 8
WRITES = 20
SECONDS = 20.0
TOKEN = "bench-admin"


class Clients:
    """``CLIENTS`` threads asking new questions until stopped; what they saw."""

    def __init__(self, base: str, questions: list[str]) -> None:
        self.base, self.questions = base, questions
        self.latencies: list[float] = []
        self.answers: list[tuple[int, list[str]]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._next = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(CLIENTS)]
        self.seconds = 0.0

    def _question(self) -> str:
        with self._lock:
            self._next += 1
            return self.questions[self._next % len(self.questions)] + f" ({self._next})"

    def _run(self) -> None:
        with httpx.Client(timeout=60) as http:
            while not self._stop.is_set():
                t = time.perf_counter()
                try:
                    res = http.post(f"{self.base}/api/search",
                                    json={"question": self._question(), "k": 5})
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    continue
                if res.status_code != 200:
                    self.failures.append(str(res.status_code))
                    continue
                self.latencies.append((time.perf_counter() - t) * 1000)
                body = res.json()
                self.answers.append((body["generation"], [h["document_id"] for h in body["results"]]))

    def __enter__(self) -> Clients:
        self._t0 = time.perf_counter()
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
        self.seconds = time.perf_counter() - self._t0


def _pdf(folder: Path, n: int) -> Path:
    from tests.ingest.make_files import make_pdf

    return make_pdf(folder / f"taxa-{n}.pdf", [[("h1", f"Taxa för tjänst {n}"), (
        "p", f"För tjänst nummer {n} tar kommunen ut en avgift på {100 + n} kronor per "
             "tillfälle. Avgiften betalas mot faktura.")]])


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    seconds = 5.0 if args.quick else SECONDS
    writes = 8 if args.quick else WRITES
    index_dir = SCRATCH / "live-updates-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    shutil.copytree(ensure_seeds_index(), index_dir, symlinks=True)
    port = free_port()
    proc = start_process(qa_command("serve", "--index", str(index_dir), "--port", str(port),
                                    "--no-access-log"), "live_updates",
                         env={"QA_ADMIN_TOKEN": TOKEN})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_search(port, proc)
        first = httpx.get(f"{base}/health").json()
        seeds = {d["id"] for d in httpx.get(f"{base}/api/documents").json()["documents"]}
        held: dict[int, set[str]] = {first["generation"]: set(seeds)}
        questions = warmup_questions(5000)
        with Clients(base, questions[::-1]):  # warm-up: the first answers pay for lazy set-up
            time.sleep(3.0)
        with Clients(base, questions) as baseline:
            time.sleep(seconds)
        write_ms: list[float] = []
        current = set(seeds)
        with tempfile.TemporaryDirectory() as tmp, Clients(base, questions) as during, \
                httpx.Client(timeout=300, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            for op in range(writes):
                t = time.perf_counter()
                if op % 4 == 3:
                    res = http.delete(f"{base}/api/documents/taxa-{op - 1}")
                    current -= {f"taxa-{op - 1}"}
                else:
                    path = _pdf(Path(tmp), op)
                    res = http.post(f"{base}/api/documents", files={
                        "files": (path.name, path.read_bytes(), "application/pdf")})
                    current |= {f"taxa-{op}"}
                write_ms.append((time.perf_counter() - t) * 1000)
                res.raise_for_status()
                held[res.json()["generation"]] = set(current)
    finally:
        stop_process(proc)

    def inconsistent(clients: Clients) -> int:
        return sum(1 for g, docs in clients.answers if g not in held or not set(docs) <= held[g])

    base_lat, during_lat = summary(baseline.latencies), summary(during.latencies)
    base_qps = len(baseline.latencies) / baseline.seconds
    during_qps = len(during.latencies) / during.seconds
    rows = [
        row("failed requests while writing", len(during.failures) + len(baseline.failures), "",
            f"{len(during.latencies)} searches during {writes} writes"),
        row("answers inconsistent with their generation", inconsistent(during) + inconsistent(baseline),
            "", f"{len({g for g, _ in during.answers})} generations answered"),
        row("search p50 / p95, no writes", f"{base_lat.get('p50')} / {base_lat.get('p95')}", "ms",
            f"{CLIENTS} clients, new questions"),
        row("search p50 / p95, while writing", f"{during_lat.get('p50')} / {during_lat.get('p95')}",
            "ms", ""),
        row("queries per second, no writes / while writing", f"{base_qps:.0f} / {during_qps:.0f}",
            "q/s", f"ratio {ratio(during_qps, base_qps)}"),
        row("write to answer (change served), median", statistics.median(write_ms), "ms",
            "one PDF upload (convert, embed, publish, swap) or one delete"),
    ]
    print_rows("Searching while documents change", rows)
    write_result("live_updates", {"clients": CLIENTS, "writes": writes, "seconds": seconds,
                                  "baseline": base_lat, "during": during_lat,
                                  "write_ms": summary(write_ms), "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
