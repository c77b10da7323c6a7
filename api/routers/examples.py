"""``GET /api/examples``: questions the served index answers well, for the page."""

from __future__ import annotations

import weakref

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import require_reader
from api.deps import EngineDep, SettingsDep
from api.schemas import Examples, error_responses
from qa.search.engine import SearchEngine
from qa.search.examples import example_questions

router = APIRouter(tags=["page"], dependencies=[Depends(require_reader)])


@router.get("/api/examples", response_model=Examples, responses=error_responses(401))
async def examples(request: Request, engine: EngineDep, settings: SettingsDep) -> Examples:
    """Example questions for the page's empty state, each one the served index answers well.

    Checked once per served generation (a few searches), then kept.
    """
    state = request.app.state
    kept: weakref.WeakKeyDictionary[SearchEngine, list[str]] | None = getattr(
        state, "examples", None)
    if kept is None:  # one entry per engine served (per collection), gone with the engine
        kept = state.examples = weakref.WeakKeyDictionary()
    found = kept.get(engine)
    if found is None:
        found = kept[engine] = await run_in_threadpool(
            example_questions, engine, settings.server.examples_file)
    return Examples(questions=found)
