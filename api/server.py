"""How the app is served: uvicorn, with deadlines for slow clients.

uvicorn closes a keep-alive connection left idle after a response (``timeout_keep_alive``,
here ``QA_KEEP_ALIVE_TIMEOUT``) but sets no deadline on a request head: a connection that
opens and sends nothing, or sends its headers a byte at a time, is held for ever, and enough of
them exhaust the process's sockets. The protocol here adds one: a connection must send a
complete request head within ``QA_HEADER_TIMEOUT`` of its opening or of the end of its
previous response, else it is closed (after a 408 when part of a head had come); a head that
grows past ``MAX_HEAD_BYTES`` is refused with 431. Bodies have their deadline in
``api.limits``, concurrency its bound in ``api.admission``.

The deadline is a subclass of uvicorn's own protocol (the one ``http="auto"`` picks: httptools
when installed, else h11), overriding only the asyncio protocol callbacks (``connection_made``,
``data_received``, ``connection_lost``) and uvicorn's ``on_response_complete``, which both of its
HTTP/1.1 implementations have; uvicorn does everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from qa.ingest import isolation
from qa.settings import LimitsSettings

MAX_HEAD_BYTES = 64 * 1024


def _response(status: str, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


def _base_protocol() -> type[asyncio.Protocol]:
    try:
        import httptools  # noqa: F401
    except ImportError:
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return HttpToolsProtocol


_MADE: dict[str, type[asyncio.Protocol]] = {}
_NAME = re.compile(r"HeadDeadline(H11Protocol|HttpToolsProtocol)_(\d+)ms")


def deadline_protocol(header_timeout: float, base: type[asyncio.Protocol] | None = None
                      ) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol (``base``; default: the one it would pick) with a deadline
    of ``header_timeout`` seconds on each request head and a size limit on it.

    The class is named after its base and deadline and can be found by that name in this
    module (see ``__getattr__``), so a uvicorn configuration holding it can be pickled into
    the worker processes of ``qa serve --workers``.
    """
    parent: Any = base or _base_protocol()
    name = f"HeadDeadline{parent.__name__}_{round(header_timeout * 1000)}ms"
    if name not in _MADE:
        _MADE[name] = _make(parent, header_timeout, name)
    return _MADE[name]


def __getattr__(name: str) -> type[asyncio.Protocol]:
    """The protocol class a worker process unpickles by name (``deadline_protocol``)."""
    found = _NAME.fullmatch(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    base: type[asyncio.Protocol]
    if found[1] == "H11Protocol":
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    else:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    return deadline_protocol(int(found[2]) / 1000, base)


def _make(parent: Any, header_timeout: float, name: str) -> type[asyncio.Protocol]:
    timed_out = _response("408 Request Timeout", f"the request head did not arrive within "
                          f"{header_timeout:g} s (QA_HEADER_TIMEOUT)")
    too_big = _response("431 Request Header Fields Too Large",
                        f"the request head is larger than {MAX_HEAD_BYTES // 1024} KiB")

    class HeadDeadline(parent):  # type: ignore[misc, valid-type]
        _head_timer: asyncio.TimerHandle | None = None
        _head_bytes = 0

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._between_requests():
                if self._head_bytes > MAX_HEAD_BYTES:
                    self._refuse(too_big)
                    return
                self._head_bytes += len(data)
            super().data_received(data)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            """No request head is complete since the last response (or the opening)."""
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(header_timeout, self._expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _expired(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing() and self._between_requests():
                self._refuse(timed_out if self._head_bytes else None)

        def _refuse(self, response: bytes | None) -> None:
            if self.transport.is_closing():
                return
            if response is not None:
                self.transport.write(response)
            self.transport.close()

    HeadDeadline.__name__ = HeadDeadline.__qualname__ = name
    return HeadDeadline


def server_options(settings: LimitsSettings) -> dict[str, Any]:
    """uvicorn options (``uvicorn.run`` or ``uvicorn.Config``) for the deadlines in ``settings``."""
    return {"http": deadline_protocol(settings.header_timeout),
            "timeout_keep_alive": settings.keep_alive_timeout}


@contextlib.contextmanager
def conversions_stop_on_signals() -> Iterator[None]:
    """While the app is served: SIGTERM and SIGINT first stop every file conversion of this
    process (``isolation.stop_all``: its worker processes are killed, an upload being read is
    answered 503 at once), then do what they did before (uvicorn's graceful shutdown, which
    waits for the requests under way). Without this, a shutdown waits for the slowest
    conversion, up to its whole time budget.

    Signal handlers belong to the main thread: elsewhere (an app served from a thread, in
    tests) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handler(sig: int, frame: FrameType | None) -> None:
        isolation.stop_all(closing=True)
        before = previous[signal.Signals(sig)]
        if callable(before):
            before(sig, frame)
        elif before != signal.SIG_IGN:  # the default action: end the process
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig in signals:
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous[sig])
