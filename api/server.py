"""How the app is served: uvicorn, with deadlines for slow clients.

uvicorn closes a keep-alive connection left idle after a response (``timeout_keep_alive``,
here ``QA_KEEP_ALIVE_TIMEOUT``) but sets no deadline on a request head: a connection that
opens and sends nothing, or sends its headers a byte at a time, is held for ever, and enough of
them exhaust the process's sockets. The protocol here adds one: a connection must send a
complete request head within ``QA_HEADER_TIMEOUT`` of its opening or of the end of its
previous response, else it is closed (after a 408 when part of a head had come); a head that
grows past ``MAX_HEAD_BYTES`` is refused with 431. Bodies have their deadline in
``api.limits``, concurrency its bound in ``api.admission``.

Lingering close: a request refused before its body was read (413 over the body limit, 401/403
from a dependency) is answered while the client may still be sending that body. Closing the
socket then, with unread bytes in it, makes the kernel send a reset, and a client that writes
its whole body before it reads (Python's ``http.client``/``urllib``, a browser's form upload)
sees "connection reset" instead of the answer. So, like nginx's ``lingering_close``, when the
server closes a connection whose request body has not arrived whole, it first sends its answer
and a FIN (``write_eof``), then reads and discards what still comes for at most
``QA_LINGER_SECONDS`` (and at most ``LINGER_PAUSE`` s without a byte, and ``QA_LINGER_MB`` in
all) before it closes; the client meanwhile finishes writing, reads the answer and closes.

The deadline and the lingering close are a subclass of uvicorn's own protocol (the one
``http="auto"`` picks: httptools when installed, else h11), overriding only the asyncio
protocol callbacks (``connection_made``, ``data_received``, ``connection_lost``) and uvicorn's
``on_response_complete``, which both of its HTTP/1.1 implementations have; uvicorn does
everything else. uvicorn closes a connection by calling ``close()`` on the transport it was
given (from its request cycle, which the protocol cannot reach), so the protocol hands uvicorn
a thin transport (``_LingeringTransport``) whose ``close()`` lingers when it should.
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
# A lingering connection is closed once the client has sent nothing for this long.
LINGER_PAUSE = 5.0


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
_NAME = re.compile(r"HeadDeadline(H11Protocol|HttpToolsProtocol)_(\d+)ms_linger(\d+)ms_(\d+)B")


def deadline_protocol(header_timeout: float, base: type[asyncio.Protocol] | None = None,
                      linger_seconds: float = 30.0, linger_bytes: int = 256 * 2**20
                      ) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol (``base``; default: the one it would pick) with a deadline
    of ``header_timeout`` seconds on each request head and a size limit on it, and a lingering
    close of at most ``linger_seconds`` and ``linger_bytes`` (0 s: none; see the module).

    The class is named after its base and bounds and can be found by that name in this
    module (see ``__getattr__``), so a uvicorn configuration holding it can be pickled into
    the worker processes of ``qa serve --workers``.
    """
    parent: Any = base or _base_protocol()
    name = (f"HeadDeadline{parent.__name__}_{round(header_timeout * 1000)}ms"
            f"_linger{round(linger_seconds * 1000)}ms_{linger_bytes}B")
    if name not in _MADE:
        _MADE[name] = _make(parent, header_timeout, name, linger_seconds, linger_bytes)
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
    return deadline_protocol(int(found[2]) / 1000, base, int(found[3]) / 1000, int(found[4]))


class _LingeringTransport:
    """The transport uvicorn is given: the socket's own, except that ``close()`` asks the
    protocol first (``_close_requested``), which lingers when the request body is still coming.

    Every method uvicorn and asyncio's flow control call is forwarded by hand (no
    ``__getattr__``): ``write`` is on every response's path.
    """

    __slots__ = ("_closing", "_protocol", "_transport")

    def __init__(self, transport: Any, protocol: Any) -> None:
        self._transport, self._protocol, self._closing = transport, protocol, False

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def writelines(self, data: Any) -> None:
        self._transport.writelines(data)

    def is_closing(self) -> bool:
        return self._closing or self._transport.is_closing()

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._protocol._close_requested()

    def close_now(self) -> None:
        self._closing = True
        self._transport.close()

    def abort(self) -> None:
        self._closing = True
        self._transport.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        if not self._closing:  # a lingering connection reads until it closes
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return bool(self._transport.is_reading())

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return int(self._transport.get_write_buffer_size())

    def can_write_eof(self) -> bool:
        return bool(self._transport.can_write_eof())

    def write_eof(self) -> None:
        self._transport.write_eof()

    def set_protocol(self, protocol: Any) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> Any:
        return self._transport.get_protocol()


def _make(parent: Any, header_timeout: float, name: str, linger_seconds: float,
          linger_bytes: int) -> type[asyncio.Protocol]:
    timed_out = _response("408 Request Timeout", f"the request head did not arrive within "
                          f"{header_timeout:g} s (QA_HEADER_TIMEOUT)")
    too_big = _response("431 Request Header Fields Too Large",
                        f"the request head is larger than {MAX_HEAD_BYTES // 1024} KiB")

    class HeadDeadline(parent):  # type: ignore[misc, valid-type]
        _head_timer: asyncio.TimerHandle | None = None
        _head_bytes = 0
        _socket: Any = None  # the socket's own transport
        _linger_timer: asyncio.TimerHandle | None = None
        _linger_until = 0.0
        _lingered = 0  # bytes discarded while lingering; -1: not lingering

        def connection_made(self, transport: Any) -> None:
            self._socket = transport
            self._lingered = -1
            super().connection_made(_LingeringTransport(transport, self))
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._lingered >= 0:
                self._discard(len(data))
                return
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
            self._stop_lingering()
            super().connection_lost(exc)

        def _body_incomplete(self) -> bool:
            """The current request's body has not arrived whole (its client may be sending)."""
            cycle = self.cycle
            return cycle is not None and bool(getattr(cycle, "more_body", False))

        def _close_requested(self) -> None:
            """uvicorn (or this class) closes the connection: at once, or after lingering when
            the request body is still coming and the answer can be followed by a FIN."""
            socket = self._socket
            if (linger_seconds <= 0 or not self._body_incomplete() or socket.is_closing()
                    or not socket.can_write_eof()):
                socket.close()
                return
            self._disarm()
            self._lingered = 0
            socket.write_eof()  # after the answer still buffered: the client reads it, then EOF
            socket.resume_reading()
            self._linger_until = self.loop.time() + linger_seconds
            self._linger_timer = self.loop.call_later(min(LINGER_PAUSE, linger_seconds),
                                                      self._linger_check)

        def _discard(self, size: int) -> None:
            self._lingered += size
            if self._lingered > linger_bytes:
                self._end_lingering()
                return
            if self._linger_timer is not None:  # a pause counts from the last byte
                self._linger_timer.cancel()
            wait = min(LINGER_PAUSE, self._linger_until - self.loop.time())
            self._linger_timer = self.loop.call_later(max(0.0, wait), self._linger_check)

        def _linger_check(self) -> None:
            self._linger_timer = None
            self._end_lingering()

        def _end_lingering(self) -> None:
            self._stop_lingering()
            self._socket.close()

        def _stop_lingering(self) -> None:
            if self._linger_timer is not None:
                self._linger_timer.cancel()
                self._linger_timer = None

        def eof_received(self) -> bool | None:
            if self._lingered >= 0:  # the client is done: close (the FIN was sent already)
                self._end_lingering()
                return None
            return super().eof_received()  # type: ignore[no-any-return]

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
            self.transport.close_now()

    HeadDeadline.__name__ = HeadDeadline.__qualname__ = name
    return HeadDeadline


def server_options(settings: LimitsSettings) -> dict[str, Any]:
    """uvicorn options (``uvicorn.run`` or ``uvicorn.Config``) for the deadlines and the
    lingering close in ``settings``."""
    return {"http": deadline_protocol(settings.header_timeout, None, settings.linger_seconds,
                                      int(settings.linger_mb * 2**20)),
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
