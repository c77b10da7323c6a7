"""``GET /metrics`` over real HTTP: what Prometheus scrapes matches what was asked and served."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    res = httpx.get(f"{base}/metrics", timeout=30)
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(res.text) for s in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_and_status_and_describe_the_index(live_server):
    base = live_server
    before = scrape(base)
    for _ in range(3):
        assert httpx.post(f"{base}/api/search", json={"question": "Vad är tillitsbaserad styrning?"},
                          timeout=60).status_code == 200
    assert httpx.post(f"{base}/api/search", json={"question": " "}).status_code == 422
    assert httpx.get(f"{base}/api/documents/finns/inte").status_code == 404
    assert httpx.get(f"{base}/finns-inte-alls").status_code == 404
    after = scrape(base)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    search = {"method": "POST", "route": "/api/search"}
    assert grew("qa_http_requests_total", **search, status="200") == 3
    assert grew("qa_http_request_duration_seconds_count", **search, status="200") == 3
    assert grew("qa_http_request_duration_seconds_bucket", **search, status="200", le="+Inf") == 3
    assert grew("qa_http_request_duration_seconds_sum", **search, status="200") > 0
    assert grew("qa_http_requests_total", **search, status="422") == 1
    # By the route's template, never the raw path: ids do not make new series.
    assert grew("qa_http_requests_total", method="GET", route="/api/documents/{doc_id:path}",
                status="404") == 1
    assert grew("qa_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert not any("finns" in str(labels) for _, labels in after)
    assert grew("qa_http_requests_total", method="GET", route="/metrics", status="200") == 1
    assert grew("qa_question_embedding_seconds_count") == 3

    health = httpx.get(f"{base}/health").json()
    assert value(after, "qa_index_generation") == health["generation"]
    assert value(after, "qa_index_documents") == health["documents"]
    assert value(after, "qa_index_passages") == health["passages"]
    assert value(after, "process_resident_memory_bytes") > 0
    assert value(after, "qa_http_requests_in_progress") == 1  # the scrape itself
