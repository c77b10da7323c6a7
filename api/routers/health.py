"""``GET /health``: is the service up, what does it serve, and its limits."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep, SettingsDep
from api.schemas import Health
from qa.search.modes import MODES

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health)
def health(engine: EngineDep, settings: SettingsDep) -> Health:
    """Whether the service is up, what it serves and its limits; never needs a token."""
    info = engine.health()
    limits = settings.limits
    return Health(
        status="ok",
        documents=info.documents,
        passages=info.passages,
        model=info.model,
        query_path=info.query_path,
        query_path_chosen_by=info.query_path_chosen_by,
        passage_path=info.passage_path,
        sentence_path=info.sentence_path,
        vector_index=info.vector_index,
        built_at=info.built_at,
        generation=info.generation,
        max_question_chars=limits.max_question_chars,
        max_request_mb=limits.max_request_mb,
        modes=list(MODES),
        default_mode=engine.settings.default_mode,
    )
