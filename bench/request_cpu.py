"""CPU a served search costs outside the model: the app called in process, over ASGI.

Opens the engine over the seeds index, embeds 50 seed-like questions once (so the model does
not run while measuring), then sends ``N`` searches for them (k=5) straight to the ASGI app
(every middleware, FastAPI's routing and validation, the engine's ranking and highlights,
the JSON answer; no socket, no HTTP parser) and reports the process CPU time per request. With
``--profile`` it prints cProfile's view of one more ``N``, sorted by cumulative time.

CPU time, not wall time: on a shared machine it moves much less with other work.

    python -m bench.request_cpu [--quick] [--profile]
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import time
from typing import Any

from bench.common import bench_parser, ensure_seeds_index, print_rows, row, warmup_questions, write_result


def _scope(body: bytes) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/api/search", "raw_path": b"/api/search",
            "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {},
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]}


async def _one(app: Any, body: bytes) -> None:
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # never: the app does not wait for a disconnect
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(body), receive, send)
    assert sent[0]["status"] == 200, sent


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one more run")
    args = parser.parse_args()
    n = 300 if args.quick else 2000
    from api.app import create_app
    from qa.search.engine import SearchEngine
    from qa.settings import Settings

    settings = Settings()
    engine = SearchEngine.open(settings, str(ensure_seeds_index()))
    questions = [f"{q} (v{i})" for i, q in enumerate(warmup_questions(50))]
    for q in questions:
        engine.questions.embed(q)
    app = create_app(engine, settings, access_log=False)
    bodies = [json.dumps({"question": q, "k": 5}).encode() for q in questions]

    async def run(count: int) -> None:
        for i in range(count):
            await _one(app, bodies[i % len(bodies)])

    async def measure() -> float:
        async with app.router.lifespan_context(app):
            await run(200)  # warm-up
            c0 = time.process_time()
            await run(n)
            per_request = (time.process_time() - c0) / n * 1000
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
                await run(n)
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(50)
            return per_request

    per_request = asyncio.run(measure())
    rows = [row("CPU per search outside the model", round(per_request, 3), "ms",
                f"{n} searches of cached questions, in process over ASGI")]
    print_rows("A served search's CPU outside the model", rows)
    write_result("request_cpu", {"requests": n, "cpu_ms_per_request": per_request,
                                 "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
