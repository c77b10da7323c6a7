"""``POST /api/search``: a question in, ranked and cited passages out."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request, Response

from api.auth import require_reader
from api.deps import EngineDep, SettingsDep
from api.json_body import JSONBodyRoute
from api.metrics import observe_search
from api.schemas import SearchRequest, SearchResponse, error_responses
from qa.search.engine import clean_question
from qa.search.results import result_json

router = APIRouter(tags=["search"], dependencies=[Depends(require_reader)],
                   route_class=JSONBodyRoute)


@router.post("/api/search", response_model=SearchResponse, responses=error_responses(401, 422))
async def search(req: SearchRequest, engine: EngineDep, settings: SettingsDep,
                 request: Request) -> Response:
    """Search; a blank or too long question is a 422 (``QuestionError``, see ``api.errors``),
    and so is any body that is not a valid request (``api.json_body``).

    ``history`` (earlier questions, each checked like the question) lets a follow-up be read
    with the question it follows (``qa.search.conversation``); without it nothing changes.

    ``filters`` restrict the search to matching passages inside ranking; a bad filter is a 422
    from the schema (``SearchFilters``), one that matches nothing is an empty answer.

    Async: the request awaits its question's vector from the embedding thread
    instead of holding a worker thread while it waits.
    """
    most = settings.limits.max_question_chars
    question = clean_question(req.question, most)
    history = None if req.history is None else [
        clean_question(q, most, f"history[{i}]") for i, q in enumerate(req.history)]
    filters = None if req.filters is None else req.filters.to_filters()
    result = await engine.search_async(question, req.k, req.mode, filters, history=history)
    observe_search(request, result.timings)
    # Encoded by hand: the schema above documents the body, and skipping a second
    # validation pass keeps the service's cost small next to the embedding's.
    body = json.dumps(result_json(result), ensure_ascii=False)
    return Response(body, media_type="application/json")
