"""Schemathesis hooks: the one rule of periods that JSON Schema cannot state.

``filters.date_from`` must not be after ``filters.date_to`` in a search body, nor ``from``
after ``to`` in ``GET /api/gaps`` (the schema says so in words; such a period is a 422).
Generated cases that break it are dropped rather than sent as valid ones (``filter_case``: it
applies to every phase, the coverage phase included).
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    query = getattr(case, "query", None)
    if isinstance(query, dict):
        first, last = query.get("from"), query.get("to")
        if isinstance(first, str) and isinstance(last, str) and first > last:
            return False
    body = getattr(case, "body", None)
    filters = body.get("filters") if isinstance(body, dict) else None
    if not isinstance(filters, dict):
        return True
    first, last = filters.get("date_from"), filters.get("date_to")
    return not (isinstance(first, str) and isinstance(last, str) and first > last)
