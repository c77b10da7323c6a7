"""Serving an app for real: uvicorn on 127.0.0.1 in a thread, for HTTP and browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, **options: Any) -> Iterator[str]:
    """The app served on a free port of 127.0.0.1; yields its base URL, stops it after.

    ``options`` go to ``uvicorn.Config`` (``api.server.server_options`` for the deadlines of
    ``qa serve``).
    """
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           **{"server_header": False, **options}))  # as `qa serve`
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_until_healthy(base: str, proc: Any, output: Callable[[], str] | None = None,
                       limit: float = 180) -> None:
    """Poll ``base``/health until it answers 200; fail (with the server's ``output``) if the
    process ``proc`` exits first or ``limit`` seconds pass."""
    import httpx

    deadline = time.monotonic() + limit
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: "
                                 f"{output() if output else ''}")
        assert time.monotonic() < deadline, f"{base} did not come up within {limit:.0f} s"
        time.sleep(0.3)
