"""``GET /api/collections`` and ``GET /health`` of a service of collections.

The list holds only the collections the request may read: the open ones, and those whose read
or admin token the request sends. Names are not secrets (they are in every URL of a
collection), but a collection's size and dates are its readers' business, so a collection
that needs a token the request does not carry is left out, not shown as locked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.auth import bearer, matches
from api.deps import collections_of
from api.schemas import CollectionList, CollectionOut, ServiceHealth
from qa.search.modes import MODES
from qa.settings import Settings

router = APIRouter(tags=["collections"])


@router.get("/api/collections", response_model=CollectionList)
async def collections(request: Request) -> CollectionList:
    """The collections this request may read (its bearer token, or none), with their size,
    model and served generation; whether its token may write to each."""
    found = collections_of(request)
    assert found is not None  # mounted only on an app of collections
    token = bearer(request)
    out = []
    for collection in found.all():
        access = collection.access
        if access.read_token and not matches(token, access.read_token, access.admin_token):
            continue
        info = collection.live.current().health()
        out.append(CollectionOut(
            name=collection.name, documents=info.documents, passages=info.passages,
            model=info.model, generation=info.generation, built_at=info.built_at,
            protected=access.read_token is not None,
            writable=matches(token, access.admin_token)))
    return CollectionList(collections=out)


@router.get("/health", response_model=ServiceHealth, tags=["service"])
async def health(request: Request) -> ServiceHealth:
    """Whether the service is up, and its limits; never needs a token. Says nothing about the
    collections (how many, which): that is ``GET /api/collections``, per token."""
    settings: Settings = request.app.state.settings
    found = collections_of(request)
    assert found is not None
    return ServiceHealth(
        status="ok", collections=True, model=found.questions.model_id,
        query_path=found.questions.runtime,
        max_question_chars=settings.limits.max_question_chars,
        max_request_mb=settings.limits.max_request_mb, modes=list(MODES),
        default_mode=settings.search.default_mode)
