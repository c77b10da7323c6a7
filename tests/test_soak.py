"""A 60-second soak: 8 clients against a real ``qa serve`` of the seeds index, configured as
deployed (access log and metrics on); no error, memory growth under 5 %.

The load is ``tests/soak_load.py``'s (the 10-minute benchmark ``bench/soak.py`` runs it
too): distinct questions, and one request in ten to another route. A warm-up with the same
load comes first, so that the memory compared is the service's steady state, not its set-up.
The server's own counters (``/metrics``) and its access log must account for every request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import free_port, wait_until_healthy
from tests.soak_load import soak

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 60.0
WARMUP = 15.0
CLIENTS = 8


def served_requests(base: str) -> int:
    text = httpx.get(f"{base}/metrics", timeout=30).text
    return int(sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                   if s.name == "qa_http_requests_total"))


def test_eight_clients_for_a_minute_no_error_and_flat_memory(seeds_index_dir, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "qa.cli", "serve", "--index",
                             str(seeds_index_dir), "--port", str(port)], cwd=ROOT,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=log, stderr=log)
    try:
        wait_until_healthy(base, proc, lambda: (tmp_path / "serve.log").read_text())
        warmup = soak(base, proc.pid, WARMUP, CLIENTS, first=10_000_000)
        assert warmup.errors == []
        before = served_requests(base)
        result = soak(base, proc.pid, SECONDS, CLIENTS)
        counted = served_requests(base) - before
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    assert result.errors == [], result.errors[:20]
    assert result.requests >= CLIENTS * 10, "the clients were answered all along"
    assert len(result.searches) >= result.requests * 0.8
    growth = result.memory_growth
    assert growth < 0.05, f"resident memory grew {100 * growth:.1f} % (samples: {result.rss})"
    # The service accounts for every request: its counters and its access log.
    assert counted == result.requests + 1  # + the first of the two scrapes
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()
             if line.startswith("{")]
    assert sum(1 for x in lines if x["path"] == "/api/search") >= len(result.searches)
