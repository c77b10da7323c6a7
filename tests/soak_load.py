"""The soak's load: clients asking new questions of a served ``qa serve``, and its memory.

``tests/test_soak.py`` runs it for a minute in ``make test``; ``bench/soak.py`` (the
10-minute benchmark) runs the same load and reports it. It lives with the tests so that the
test suite imports nothing from ``bench/``.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx
from prometheus_client.process_collector import ProcessCollector


def resident_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (read by prometheus-client's process
    collector, from ``/proc``); nan if unknown."""
    for family in ProcessCollector(pid=lambda: pid, registry=None).collect():
        for sample in family.samples:
            if sample.name == "process_resident_memory_bytes":
                return round(sample.value / 2**20, 1)
    return float("nan")


CLIENTS = 8
STEMS = ("Vad säger dokumenten om", "Hur arbetar myndigheterna med", "Vem ansvarar för",
         "Vilka mål finns för", "Hur beslutas", "Vad kostar", "När infördes", "Varför behövs")
TOPICS = ("tillitsbaserad styrning", "digitalisering", "länsstyrelsernas samverkan", "budgeten",
          "regionens sjukvård", "kollektivtrafiken", "skolans uppdrag", "beslutsstöd",
          "medborgarnas förtroende", "offentlig förvaltning", "IT-säkerhet", "upphandling")


@dataclass
class SoakResult:
    """What the clients saw and what the server's memory did."""

    seconds: float = 0.0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    searches: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, ms)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, MiB)

    def rss_at(self, start: float, end: float) -> float:
        """Median resident memory (MiB) sampled between ``start`` and ``end`` seconds in."""
        values = [mb for t, mb in self.rss if start <= t <= end and mb == mb]
        return statistics.median(values) if values else float("nan")

    @property
    def memory_growth(self) -> float:
        """Relative growth of resident memory from the first 5 s to the last 5 s."""
        return self.rss_at(self.seconds - 5, self.seconds) / self.rss_at(0, 5) - 1

    def latencies(self, start: float, end: float) -> list[float]:
        """Search latencies (ms) of searches sent between ``start`` and ``end`` seconds in."""
        return [ms for t, ms in self.searches if start <= t < end]


def question(n: int) -> str:
    """The ``n``-th question: distinct for every ``n``."""
    rng = random.Random(n)
    return f"{rng.choice(STEMS)} {rng.choice(TOPICS)} enligt fråga {n}?"


def soak(base: str, pid: int, seconds: float, clients: int = CLIENTS, *, first: int = 0,
         headers: dict[str, str] | None = None) -> SoakResult:
    """Run the load against ``base`` for ``seconds``; ``pid`` is the server's (for its memory).

    Questions are numbered from ``first`` on, so that two phases never repeat one.
    """
    result = SoakResult()
    stop = threading.Event()
    lock = threading.Lock()
    counter = [first]
    t0 = time.perf_counter()
    listed = httpx.get(f"{base}/api/documents", headers=headers)
    documents = [d["id"] for d in listed.json()["documents"]]
    result.requests = 1  # that one

    def client(number: int) -> None:
        others = ["/api/documents", "/health", "/metrics", f"/api/documents/{documents[0]}"]
        done = 0
        with httpx.Client(base_url=base, timeout=60, headers=headers) as http:
            while not stop.is_set():
                with lock:
                    counter[0] += 1
                    n = counter[0]
                started = time.perf_counter()
                try:
                    if done % 10 == 9:
                        res = http.get(others[(done // 10 + number) % len(others)])
                    else:
                        res = http.post("/api/search", json={"question": question(n), "k": 5})
                        if res.status_code == 200:
                            result.searches.append((started - t0,
                                                    (time.perf_counter() - started) * 1000))
                    if res.status_code != 200:
                        result.errors.append(f"{res.request.method} {res.request.url.path}: "
                                             f"{res.status_code}")
                except httpx.HTTPError as exc:
                    result.errors.append(type(exc).__name__)
                done += 1
                with lock:
                    result.requests += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    while (now := time.perf_counter() - t0) < seconds:
        result.rss.append((now, resident_mib(pid)))
        time.sleep(min(1.0, max(0.0, seconds - now)))
    stop.set()
    for t in threads:
        t.join(timeout=120)
    result.seconds = time.perf_counter() - t0
    result.rss.append((result.seconds, resident_mib(pid)))
    return result
