"""Prometheus metrics: ``GET /metrics`` in the text exposition format, from prometheus-client.

What is measured:

- ``qa_http_requests_total{method, route, status}`` and the latency histogram
  ``qa_http_request_duration_seconds{method, route, status}`` (request to last byte), by the
  route's template (``/api/documents/{doc_id:path}``), never the raw path, so an id cannot grow
  the number of series; a request no route matches counts as ``route="unmatched"``;
- ``qa_http_requests_in_progress``;
- ``qa_question_embedding_seconds``: how long a question's vector took (queueing for the
  embedding thread included), per search;
- ``qa_index_generation``, ``qa_index_documents``, ``qa_index_passages``: the generation served
  when the metrics are read, and its size;
- the process's own (``process_resident_memory_bytes``, CPU seconds, open files) and Python's.

A service of collections labels the request series and the index gauges with ``collection``
(the name of a served collection the request was about; empty for requests about none, such as
``/api/collections`` or an unknown name, so a made-up name cannot grow the series either). Its
``/metrics`` spans every collection, so it is the operator's: it needs the service's own
``QA_READ_TOKEN`` or ``QA_ADMIN_TOKEN`` (``api.auth.require_operator``), never a collection's
token, which would otherwise learn the other collections' names, sizes and traffic.

Each app has its own registry (tests make many apps in one process); nothing is global.
prometheus-client (Apache-2.0) is the reference client of the Prometheus project: its exposition
format, histogram buckets and process collector are what every scraper expects.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import require_operator, require_reader
from api.deps import SERVED, Served
from api.schemas import error_responses

if TYPE_CHECKING:
    from qa.search.collections import Collections
    from qa.search.live import LiveEngine

# Seconds. Questions take milliseconds to tens of milliseconds; writes seconds to minutes.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_EMBED_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
UNMATCHED = "unmatched"


class _IndexCollector(Collector):
    """The served generation's number and size, read when the metrics are collected: of the
    one index, or of each collection (labelled ``collection``)."""

    def __init__(self, source: LiveEngine | Collections, *, by_collection: bool) -> None:
        self.source = source
        self.by_collection = by_collection

    def _served(self) -> list[tuple[list[str], LiveEngine]]:
        if self.by_collection:
            return [([c.name], c.live) for c in self.source.all()]  # type: ignore[union-attr]
        return [([], self.source)]  # type: ignore[list-item]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        labels = ["collection"] if self.by_collection else []
        generation = GaugeMetricFamily("qa_index_generation", "The index generation served.",
                                       labels=labels)
        documents = GaugeMetricFamily("qa_index_documents", "Documents in the generation served.",
                                      labels=labels)
        passages = GaugeMetricFamily("qa_index_passages", "Passages in the generation served.",
                                     labels=labels)
        for values, live in self._served():
            engine = live.current()
            generation.add_metric(values, engine.index.generation)
            documents.add_metric(values, engine.manifest.documents)
            passages.add_metric(values, engine.manifest.passages)
        yield from (generation, documents, passages)


class Metrics:
    """The registry of one app and its metrics."""

    def __init__(self, source: LiveEngine | Collections) -> None:
        from qa.search.live import LiveEngine

        self.registry = CollectorRegistry()
        self.by_collection = not isinstance(source, LiveEngine)
        labels = ("method", "route", "status", *(("collection",) if self.by_collection else ()))
        self.requests = Counter("qa_http_requests", "HTTP requests answered.",
                                labels, registry=self.registry)
        self.latency = Histogram("qa_http_request_duration_seconds",
                                 "Time from a request's arrival to its last byte.",
                                 labels, buckets=_REQUEST_BUCKETS,
                                 registry=self.registry)
        self.in_progress = Gauge("qa_http_requests_in_progress", "HTTP requests being answered.",
                                 registry=self.registry)
        self.embedding = Histogram("qa_question_embedding_seconds",
                                   "Time to a question's vector, waiting for the embedding "
                                   "thread included.", buckets=_EMBED_BUCKETS,
                                   registry=self.registry)
        self.registry.register(_IndexCollector(source, by_collection=self.by_collection))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _route_of(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class MeasureRequests:
    """ASGI middleware: counts each HTTP request and times it by method, route and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, noting_status)
        finally:
            self.metrics.in_progress.dec()
            labels = [scope["method"], _route_of(scope), str(status)]
            if self.metrics.by_collection:
                served: Served | None = scope.get(SERVED)
                labels.append((served.collection or "") if served is not None else "")
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - start)


def observe_search(request: Request, timings: dict[str, float]) -> None:
    """Record a search's embedding time (``SearchResult.timings``), if the app has metrics."""
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    if metrics is not None and "embed_ms" in timings:
        metrics.embedding.observe(timings["embed_ms"] / 1000)


router = APIRouter(tags=["service"], dependencies=[Depends(require_reader)])
# The same route for a service of collections: the operator's (see the module docstring).
operator_router = APIRouter(tags=["service"], dependencies=[Depends(require_operator)])
_EXAMPLE = ("# HELP qa_index_generation The index generation served.\n"
            "# TYPE qa_index_generation gauge\nqa_index_generation 7.0\n")


def metrics(request: Request) -> Response:
    """Request counts and latency by route and status, embedding time, the index generation
    served with its documents and passages, and the process's memory and CPU (Prometheus)."""
    found: Metrics = request.app.state.metrics
    return Response(found.exposition(), media_type=CONTENT_TYPE_LATEST)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CONTENT_TYPE_LATEST: {"example": _EXAMPLE}},
          "description": "The metrics in Prometheus' text format."}}
router.add_api_route("/metrics", metrics, methods=["GET"], response_class=Response,
                     responses={**_RESPONSES, **error_responses(401)})
operator_router.add_api_route(
    "/metrics", metrics, methods=["GET"], response_class=Response,
    responses={**_RESPONSES, **error_responses(401, 403)},
    description="Like the metrics of one index, every series of a collection labelled "
    "`collection`; only for the operator: the service's QA_READ_TOKEN or QA_ADMIN_TOKEN.")


def add_metrics(app: Any, source: LiveEngine | Collections) -> None:
    """Measure every request of ``app`` and serve ``GET /metrics`` (of ``source``: the one
    index, or every collection)."""
    app.state.metrics = metrics = Metrics(source)
    app.include_router(router if not metrics.by_collection else operator_router)
    app.add_middleware(MeasureRequests, metrics=app.state.metrics)
