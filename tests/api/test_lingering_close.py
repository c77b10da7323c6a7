"""Early refusals reach a client that writes its whole body before it reads (lingering close).

Python's ``http.client`` (under ``urllib``) and browsers uploading a form send the whole request
body before they read the answer. The server refuses some requests before reading their body
(413 over a declared ``Content-Length``, 401/403 from the write routes' token check); if it
closed the socket with the body still arriving, the kernel would reset the connection and the
client would see "connection reset" instead of the answer. Real app, real uvicorn with the
options of ``qa serve`` (``api.server.server_options``), real sockets; the hashed encoder.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from api.server import server_options
from tests.live import serve

ADMIN = "linger-admin-3f9a"
# Large enough that the kernel's socket buffers cannot take it all: the server has to read.
BODY = b"x" * (8 * 2**20)
PATIENCE = 60  # how long a client waits for the server before the test fails, not a bound


@pytest.fixture(scope="module")
def limits(hashed_settings):
    return hashed_settings.limits.model_copy(update={"max_request_mb": 1.0, "max_body_kb": 64.0})


def _app(hashed_engine, hashed_settings, limits, admin: str | None):
    from api.app import create_app
    from qa.search.engine import SearchEngine

    settings = hashed_settings.model_copy(update={"limits": limits, "server": hashed_settings.server
                                                  .model_copy(update={"admin_token": admin,
                                                                      "access_log": False})})
    engine = SearchEngine(hashed_engine.index, hashed_engine.questions, settings.search)
    return create_app(engine, settings)


@pytest.fixture(scope="module")
def server(hashed_engine, hashed_settings, limits) -> Iterator[str]:
    with serve(_app(hashed_engine, hashed_settings, limits, ADMIN),
               **server_options(limits)) as url:
        yield url


@pytest.fixture(scope="module")
def server_without_writes(hashed_engine, hashed_settings, limits) -> Iterator[str]:
    with serve(_app(hashed_engine, hashed_settings, limits, None),
               **server_options(limits)) as url:
        yield url


def _whole_body_first(url: str, path: str, body: bytes, headers: dict[str, str]
                      ) -> tuple[int, dict, str]:
    """``http.client`` as urllib uses it: the request with its whole body, then the answer."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=PATIENCE)
    try:
        conn.request("POST", path, body=body, headers=headers)  # sends every byte first
        res = conn.getresponse()
        return res.status, json.loads(res.read()), res.getheader("connection") or ""
    finally:
        conn.close()


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "lingerboundary7"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"stor.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_an_upload_over_the_limit_gets_its_413_and_message(server) -> None:
    body, kind = _multipart(BODY)
    status, answer, connection = _whole_body_first(
        server, "/api/documents", body,
        {"Content-Type": kind, "Authorization": f"Bearer {ADMIN}"})
    assert status == 413 and "QA_MAX_REQUEST_MB" in answer["detail"], answer
    assert connection == "close"


def test_a_search_body_over_the_limit_gets_its_413_and_message(server) -> None:
    status, answer, _ = _whole_body_first(server, "/api/search", BODY,
                                          {"Content-Type": "application/json"})
    assert status == 413 and "QA_MAX_BODY_KB" in answer["detail"], answer


def test_an_upload_with_a_wrong_token_gets_its_401(server) -> None:
    body, kind = _multipart(BODY[: 900 * 1024])  # within the limit: refused for the token only
    status, answer, connection = _whole_body_first(
        server, "/api/documents", body, {"Content-Type": kind, "Authorization": "Bearer fel"})
    assert status == 401 and answer["detail"] == "wrong admin token", answer
    assert connection == "close"  # the rest of the body is not read as a next request


def test_an_upload_to_a_service_without_writes_gets_its_403(server_without_writes) -> None:
    body, kind = _multipart(BODY[: 900 * 1024])
    status, answer, _ = _whole_body_first(server_without_writes, "/api/documents", body,
                                          {"Content-Type": kind, "Authorization": "Bearer x"})
    assert status == 403 and "QA_ADMIN_TOKEN" in answer["detail"], answer


def test_a_lingering_connection_is_closed_after_its_bound(hashed_engine, hashed_settings,
                                                          limits) -> None:
    """A client that keeps sending after its refusal is cut off once the discarded bytes pass
    ``QA_LINGER_MB``: the lingering is bounded, and the answer was sent before."""
    small = limits.model_copy(update={"linger_mb": 1.0})
    with serve(_app(hashed_engine, hashed_settings, small, ADMIN), **server_options(small)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=PATIENCE) as sock:
            sock.sendall(b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n")
            sent, cut_off = 0, False
            try:
                while sent < 64 * 2**20:  # far past the bound; the server stops reading first
                    sock.sendall(b"x" * 65536)
                    sent += 65536
            except OSError:  # reset or broken pipe: the server closed, as it should
                cut_off = True
            assert cut_off, "the server kept reading a refused body past QA_LINGER_MB"
