"""The OpenAPI document (``/openapi.json``) as the running service answers.

FastAPI derives most of it from the routes and ``api.schemas``; this completes it with what
depends on the configuration or lives outside the routes:

* the bearer token: every write operation requires it; reads require it only when
  ``QA_READ_TOKEN`` is set (then without it they are 401), so the document names exactly the
  operations a client must authenticate for;
* the question's ``maxLength``, which is ``QA_MAX_QUESTION_CHARS``, and that of each
  earlier question in ``history``;
* the JSON documents of ``POST``/``PUT /api/documents`` (those routes read their body
  themselves, multipart or JSON, so FastAPI does not see the models);
* what every operation may answer before its route runs: 400 to a ``Host`` it does not serve
  (``api.hosts``), 408 and 413 to a slow or large body (``api.limits``), 503 when busy
  (``api.admission``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI

from api.auth import require_admin, require_operator, require_reader
from api.schemas import ANY_ROUTE, ERROR_MEANINGS, DocumentFields, DocumentIn, ErrorOut
from qa.settings import LimitsSettings, ServerSettings

BEARER = "bearer"
_BODY_MODELS = (DocumentIn, DocumentFields)


def install_openapi(app: FastAPI, routes: Iterable[Any], server: ServerSettings,
                    limits: LimitsSettings, *, collections: bool = False) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) return the completed document.

    ``routes`` are the app's API routes (FastAPI ``APIRoute``s), to see which need a token
    (``server``: whether reads need one); ``limits``: the longest question. ``collections``:
    the app serves collections, each with its own tokens, so every read may need one.
    """
    generate: Callable[[], dict[str, Any]] = app.openapi
    routes = list(routes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            # generate() caches it in openapi_schema
            _complete(generate(), routes, server, limits, collections)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(doc: dict[str, Any], routes: list[Any], server: ServerSettings,
              limits: LimitsSettings, collections: bool) -> None:
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    components["securitySchemes"] = {BEARER: {
        "type": "http", "scheme": "bearer",
        "description": "Writes: QA_ADMIN_TOKEN. Reads, when QA_READ_TOKEN is set: that token "
        "or the admin token." if not collections else "A collection's tokens, from its "
        "access.toml: writes need its admin_token; reads, when it has a read_token, that token "
        "or the admin token. /metrics: the service's QA_READ_TOKEN or QA_ADMIN_TOKEN."}}
    for model in _BODY_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    if "ErrorOut" not in schemas:
        schemas["ErrorOut"] = ErrorOut.model_json_schema()

    question = schemas.get("SearchRequest", {}).get("properties", {}).get("question")
    if question is not None:
        question["maxLength"] = limits.max_question_chars
    history = schemas.get("SearchRequest", {}).get("properties", {}).get("history")
    for option in (history or {}).get("anyOf", []):
        if option.get("type") == "array":
            option["items"]["maxLength"] = limits.max_question_chars

    for route in routes:
        needs = _token(route.dependencies)
        if needs in ("admin", "operator") or (
                needs == "reader" and (server.read_token or collections)):
            for method in route.methods:
                operation = doc["paths"].get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    operation["security"] = [{BEARER: []}]

    # What the middleware may answer on any route (api.hosts, api.limits, api.admission).
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for status in ANY_ROUTE:
                operation["responses"].setdefault(str(status), {
                    "description": ERROR_MEANINGS[status], "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ErrorOut"}}}})


def _token(dependencies: Iterable[Any]) -> str | None:
    """Which token a route's dependencies (``APIRoute.dependencies``: its router's and its own
    ``dependencies=[Depends(...)]``) check: ``admin``, ``reader`` or none. Routes declare their
    token there, never as a parameter, so that this reads FastAPI's public route attributes."""
    calls = [dep.dependency for dep in dependencies]
    if require_admin in calls:
        return "admin"
    if require_operator in calls:
        return "operator"
    return "reader" if require_reader in calls else None
