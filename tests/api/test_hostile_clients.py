"""Hostile, slow and expensive clients against the real app served by uvicorn as ``qa serve``
serves it (``api.server.server_options``): raw sockets that stall or trickle, bodies over the
limits, questions of the longest allowed length, more requests than the service takes.

The deadlines are set to one second here so that the tests wait little; what is asserted is
what the server does (closes, answers 408/413/503, still answers others), never how fast.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from api.server import server_options
from tests.live import serve

QUESTION = "Vad är tillitsbaserad styrning?"
SEARCH = json.dumps({"question": QUESTION, "k": 3}).encode()
# Generous: how long a test waits for the server to act before it fails, not a bound it asserts.
PATIENCE = 30


def _settings(settings, **update):
    return settings.model_copy(update={"header_timeout": 1.0, "body_timeout": 1.0,
                                       "keep_alive_timeout": 1, **update})


@pytest.fixture(scope="module")
def server(engine, settings) -> Iterator[str]:
    from api.app import create_app
    from qa.search.engine import SearchEngine

    strict = _settings(settings)
    app = create_app(SearchEngine(engine.index, engine.questions, strict.search), strict,
                     access_log=False)
    with serve(app, **server_options(strict.limits)) as url:
        yield url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=PATIENCE)
    return sock


def _head(path: str, length: int | None = None, method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails after PATIENCE s)."""
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


def _search_ok(url: str) -> None:
    res = httpx.post(f"{url}/api/search", content=SEARCH, timeout=PATIENCE,
                     headers={"content-type": "application/json"})
    assert res.status_code == 200 and res.json()["results"], res.text


def test_stalled_connections_are_closed_and_other_clients_still_answered(server) -> None:
    silent = _connect(server)  # opens and sends nothing
    half_head = _connect(server)
    half_head.sendall(b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    half_body = _connect(server)
    half_body.sendall(_head("/api/search", len(SEARCH)) + SEARCH[: len(SEARCH) // 2])
    idle = _connect(server)  # one request, then idle on a keep-alive connection
    idle.sendall(_head("/health", method="GET"))
    stalled = [silent, half_head, half_body, idle]
    try:
        for _ in range(3):
            _search_ok(server)  # answered while the stalled connections are open
        assert _until_closed(silent) == b""
        assert _until_closed(half_head).startswith(b"HTTP/1.1 408 ")
        answer = _until_closed(half_body)
        assert answer.startswith(b"HTTP/1.1 408 ") and b"QA_BODY_TIMEOUT" in answer
        answer = _until_closed(idle)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.count(b"HTTP/1.1") == 1
    finally:
        for sock in stalled:
            sock.close()
    _search_ok(server)


def _trickle(sock: socket.socket, data: bytes, pause: float = 0.2) -> bytes:
    """Send ``data`` a byte every ``pause`` s until done or the server gives up; its answer."""
    try:
        for i in range(len(data)):
            sock.sendall(data[i : i + 1])
            time.sleep(pause)
    except OSError:  # the server closed the connection while we were still sending
        pass
    try:
        return _until_closed(sock)
    except ConnectionResetError:
        return b"reset"


def test_a_head_or_body_sent_a_byte_at_a_time_is_cut_off(server) -> None:
    """Bytes keep coming, so no per-read timeout fires: the deadline is on the whole head, and
    on the whole body of a search."""
    head = _head("/api/search", len(SEARCH))
    with _connect(server) as slow_head, _connect(server) as slow_body:
        slow_body.sendall(head)
        answers: dict[str, bytes] = {}
        threads = [threading.Thread(target=lambda: answers.__setitem__("head", _trickle(slow_head, head))),
                   threading.Thread(target=lambda: answers.__setitem__("body", _trickle(slow_body, SEARCH)))]
        for t in threads:
            t.start()
        _search_ok(server)
        for t in threads:
            t.join(timeout=PATIENCE * 2)
    assert answers["head"].startswith(b"HTTP/1.1 408 ") or answers["head"] == b"reset", answers
    assert answers["body"].startswith(b"HTTP/1.1 408 "), answers


@pytest.mark.parametrize(("method", "path", "length", "setting"), [
    ("POST", "/api/search", 10 * 2**30, b"QA_MAX_BODY_KB"),
    ("POST", "/api/search", 100 * 2**20, b"QA_MAX_BODY_KB"),
    ("GET", "/health", 10 * 2**30, b"QA_MAX_BODY_KB"),
    ("POST", "/api/documents", 10 * 2**30, b"QA_MAX_REQUEST_MB"),
])
def test_a_body_over_the_limit_is_refused_before_it_is_sent(server, method, path, length,
                                                            setting) -> None:
    with _connect(server) as sock:
        sock.sendall(_head(path, length, method))  # the head only: the body never comes
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 ") and setting in answer, answer[:300]


def test_a_chunked_body_over_the_limit_is_cut_off_as_it_arrives(server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"question": "'
        for _ in range(40):
            yield b"a" * 64 * 1024

    res = httpx.post(f"{server}/api/search", content=chunks(), timeout=PATIENCE,
                     headers={"content-type": "application/json"})
    assert res.status_code == 413 and "QA_MAX_BODY_KB" in res.json()["detail"]
    _search_ok(server)


@pytest.mark.parametrize("question", ["?", "a", "\u00ad", "\u200b\u200c\u2060", "😀", "a ?!", "…"])
def test_a_question_without_content_is_no_match(client, question) -> None:
    res = client.post("/api/search", json={"question": question})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["no_good_match"] is True and body["results"] == []


def test_a_long_question_is_searched_up_to_the_token_cap(engine) -> None:
    words = ["Hur", "arbetar", "kommunerna", "med", "tillitsbaserad", "styrning", "och",
             "ledning", "av", "verksamheten", "i", "praktiken?"]
    question = " ".join(words[i % len(words)] for i in range(400))[:1000]
    cap = engine.questions.max_tokens
    assert engine.questions.tokens(question) > cap
    result = engine.search(question, 5)
    searched = result.question
    assert question.startswith(searched) and question[len(searched)] == " ", "cut at a word"
    assert engine.questions.tokens(searched) <= cap < engine.questions.tokens(
        question[: question.index(" ", len(searched) + 1)])
    assert result.hits and result.hits[0].highlights
    assert engine.questions.bounded(QUESTION) == QUESTION
    one_word = "x" * 1000
    assert engine.questions.tokens(engine.questions.bounded(one_word)) <= cap


def test_clients_sending_the_longest_questions_do_not_starve_a_normal_one(server, settings) -> None:
    """Four clients send distinct questions of the longest allowed length (k=50) without pause;
    a normal client's questions are still answered, and so are theirs."""
    longest = settings.limits.max_question_chars
    stop = threading.Event()
    failures: list[str] = []
    answered = [0]

    def expensive(n: int) -> None:
        with httpx.Client(timeout=PATIENCE) as http:
            i = 0
            while not stop.is_set():
                text = f"Fråga {n}-{i}: " + " ".join(
                    f"styrning{n}{i}{j} av kommunens verksamhet" for j in range(60))
                i += 1
                res = http.post(f"{server}/api/search",
                                json={"question": text[:longest], "k": 50})
                if res.status_code != 200:
                    failures.append(f"{res.status_code}: {res.text[:200]}")
                else:
                    answered[0] += 1

    threads = [threading.Thread(target=expensive, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        with httpx.Client(timeout=PATIENCE) as http:
            for i in range(10):
                res = http.post(f"{server}/api/search",
                                json={"question": f"{QUESTION} ({i})", "k": 5})
                assert res.status_code == 200 and res.json()["results"], res.text
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=PATIENCE)
    assert failures == [] and answered[0] > 0


def test_more_requests_than_the_service_takes_are_answered_503_with_retry_after(
        engine, settings) -> None:
    from api.app import create_app
    from qa.search.engine import SearchEngine

    busy = _settings(settings, max_active_requests=2, body_timeout=PATIENCE)
    app = create_app(SearchEngine(engine.index, engine.questions, busy.search), busy,
                     access_log=False)
    with serve(app, **server_options(busy.limits)) as url:
        holding = [_connect(url) for _ in range(2)]
        try:
            for sock in holding:  # two searches under way, waiting for the rest of their bodies
                sock.sendall(_head("/api/search", len(SEARCH)) + SEARCH[:5])
            deadline = time.monotonic() + PATIENCE
            res = httpx.get(f"{url}/health", timeout=PATIENCE)
            while res.status_code == 200 and time.monotonic() < deadline:  # until both are in
                time.sleep(0.05)
                res = httpx.get(f"{url}/health", timeout=PATIENCE)
            assert res.status_code == 503, res.text
            assert res.headers["retry-after"] == "1"
            assert "QA_MAX_ACTIVE_REQUESTS" in res.json()["detail"]
        finally:
            for sock in holding:
                sock.close()
        deadline = time.monotonic() + PATIENCE
        while (res := httpx.get(f"{url}/health", timeout=PATIENCE)).status_code == 503:
            assert time.monotonic() < deadline, "the service stayed busy after its clients left"
            time.sleep(0.05)
        assert res.status_code == 200
