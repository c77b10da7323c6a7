"""JSON request bodies read strictly (RFC 8259), every failure a 422.

FastAPI parses a JSON body with ``json.loads`` and answers 400 "There was an error parsing the
body" to whatever that raises other than a syntax error: a body that is not UTF-8, nesting deep
enough to reach Python's recursion limit, an integer of more than 4,300 digits. The OpenAPI
document lists no 400, and the README promises 422 for a malformed body. Routes made with
``JSONBodyRoute`` parse with pydantic-core's parser instead (the one pydantic itself uses for
JSON): UTF-8 only, no ``NaN``/``Infinity``, nesting bounded, and any failure is reported as a
JSON syntax error, which FastAPI answers 422 with the parser's reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic_core import from_json


class _StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_strict_json"):
            body = await self.body()
            try:
                self._strict_json = from_json(body, allow_inf_nan=False)
            except ValueError as exc:
                # The type FastAPI turns into a 422 ``json_invalid`` error; its message is ours.
                raise json.JSONDecodeError(str(exc), "", 0) from None
        return self._strict_json


class JSONBodyRoute(APIRoute):
    """An ``APIRoute`` whose JSON body is parsed strictly; give it as a router's ``route_class``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJSONRequest(request.scope, request.receive))

        return strict
