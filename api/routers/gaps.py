"""``GET /api/gaps``: the content-gap report of the served collection, for its admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import require_admin
from api.deps import EngineDep, LiveDep
from api.schemas import GapReportOut, error_responses
from qa.errors import QuestionLogError
from qa.questionlog.gaps import collection_report, report_csv
from qa.questionlog.log import QuestionLog

router = APIRouter(tags=["question log"], dependencies=[Depends(require_admin)])


_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QuestionLogError(f"'{name}': {value!r} is not a day (YYYY-MM-DD)") from None


@router.get("/api/gaps", response_model=GapReportOut, responses={
    **error_responses(401, 403, 422),
    200: {"content": {"application/json": {}, "text/csv": {}},
          "description": "The report as JSON, or with format=csv one row per question."}})
async def gaps(request: Request, engine: EngineDep, live: LiveDep,
               date_from: Annotated[str | None, Query(
                   alias="from", pattern=_DAY, json_schema_extra={"format": "date"},
                   description="First day (YYYY-MM-DD, UTC), inclusive.")] = None,
               date_to: Annotated[str | None, Query(
                   alias="to", pattern=_DAY, json_schema_extra={"format": "date"},
                   description="Last day (YYYY-MM-DD, UTC), inclusive; not before 'from' "
                   "(a 422).")] = None,
               format_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
               ) -> Response:
    """The logged questions the collection did not answer well, grouped into topics, largest
    first (``qa.questionlog.gaps``); admin token only. ``format=csv`` exports one row per
    question. Reads the question log whether or not it is being written now."""
    since, until = _day(date_from, "from"), _day(date_to, "to")
    if since and until and since > until:
        raise QuestionLogError("'from' is after 'to'")
    log: QuestionLog = request.app.state.question_logs.reader(live.index_dir)
    report = await run_in_threadpool(collection_report, log, engine, since, until)
    if format_ == "csv":
        return Response(report_csv(report), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{log.collection}-gaps.csv"'})
    return JSONResponse(report.to_json())
