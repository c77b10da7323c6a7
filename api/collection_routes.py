"""The API of one collection: the routes of ``api/routers/*``, mounted again under
``/api/collections/{collection}/``.

Each route keeps its endpoint, schemas, responses and token check; only its path moves
(``/api/search`` becomes ``/api/collections/{collection}/search``, ``/health`` becomes
``/api/collections/{collection}/health``). The routes take what they serve from
``api.deps.get_served``, which reads the path's collection, so no route code is copied: a
route added to a router is served under every collection too. Every route of a collection
needs at least its read token (a collection's health tells its size, which is the collection's
business), and an unknown collection is a 404 before any route runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.routing import APIRoute

from api.auth import require_admin, require_reader
from api.deps import COLLECTION_PARAM, get_served
from api.schemas import error_responses
from qa.search.collections import NAME_PATTERN

PREFIX = f"/api/collections/{{{COLLECTION_PARAM}}}"


async def _named(collection: Annotated[str, Path(
        description="A collection's name (GET /api/collections lists those you may read).",
        examples=["region"], json_schema_extra={"pattern": NAME_PATTERN})]) -> None:
    """Declares the path's collection for the OpenAPI document; ``get_served`` reads it (an
    unknown or malformed name is a 404 there, not a 422 here)."""


def collection_path(path: str) -> str:
    """Where a route of the one-index API lives under a collection: ``/api/search`` ->
    ``/search``, ``/health`` -> ``/health`` (the prefix is ``PREFIX``)."""
    return path.removeprefix("/api") if path.startswith("/api/") else path


def under_collections(routers: Iterable[APIRouter]) -> APIRouter:
    """One router holding every API route of ``routers`` under ``PREFIX``."""
    out = APIRouter(prefix=PREFIX)
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            calls = [dep.dependency for dep in route.dependencies]
            guards = [] if require_admin in calls or require_reader in calls else \
                [Depends(require_reader)]
            options: dict[str, Any] = {
                "response_model": route.response_model, "status_code": route.status_code,
                "tags": route.tags, "summary": route.summary, "description": route.description,
                "response_description": route.response_description,
                "deprecated": route.deprecated, "include_in_schema": route.include_in_schema,
                "response_class": route.response_class, "openapi_extra": route.openapi_extra,
                "name": f"collection_{route.name}"}
            out.add_api_route(
                collection_path(route.path), route.endpoint, methods=sorted(route.methods or ()),
                # The collection first: an unknown one is a 404 before the token is checked.
                dependencies=[Depends(_named), Depends(get_served), *route.dependencies,
                              *guards],
                responses={**route.responses, **error_responses(401, 404)},
                route_class_override=type(route), **options)
    return out
