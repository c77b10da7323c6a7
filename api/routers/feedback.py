"""``POST /api/feedback``: a reader's "did the answer help?" on a logged question."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import require_reader
from api.deps import LiveDep
from api.json_body import JSONBodyRoute
from api.schemas import FeedbackRequest, FeedbackResponse, error_responses
from qa.errors import UnknownAnswerError

router = APIRouter(tags=["feedback"], dependencies=[Depends(require_reader)],
                   route_class=JSONBodyRoute)


@router.post("/api/feedback", response_model=FeedbackResponse,
             responses=error_responses(401, 422, 429))
async def feedback(req: FeedbackRequest, live: LiveDep, request: Request) -> FeedbackResponse:
    """Record whether the answer ``answer_id`` (from ``/api/search``) helped, in the log of the
    collection that answered it.

    With the question log off (``QA_QUESTION_LOG``) nothing is recorded and the answer says so
    (``recorded: false``). An answer id the log does not hold (unknown, or deleted by the
    retention) is a 422; more than ``QA_FEEDBACK_PER_MINUTE`` from one connection a 429.
    """
    log = request.app.state.question_logs.of(live.index_dir)
    if log is None:
        return FeedbackResponse(recorded=False, detail="the question log is off "
                                "(QA_QUESTION_LOG): nothing was recorded")
    client = request.client
    request.app.state.feedback_allowance.take((client.host, client.port) if client else None)
    if not await run_in_threadpool(log.feedback, req.answer_id, req.helpful):
        raise UnknownAnswerError(f"no logged answer {req.answer_id!r} (unknown, or older than "
                                 "the log keeps)")
    return FeedbackResponse(recorded=True, detail="recorded")
