"""Writes while the service answers: 8 clients search over HTTP while 20 uploads and deletes
go through the write API. No request may fail, and every answer must come whole from one
generation: each search response names the generation that answered, and each write's answer
names the generation that holds it, so which documents each generation held is known exactly.
After each write the test waits (polling, with a deadline) until a client has an answer from
the generation it published. The encoder is the hashed n-gram one (``qa.embed.hashed``): the
generations are under test, not the model's vectors.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from qa.ingest.documents import make_document
from tests.live import serve

ADMIN = "last-nyckel"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
CLIENTS = 8
WRITES = 20
BASE = [make_document("kommun", "Kommunen\n\nKommunfullmäktige beslutar om budgeten och om "
                      "avgifterna för kommunens tjänster varje år i november.")]


def _note(n: int) -> bytes:
    return (f"Avgift för tjänst {n}\n\nFör tjänst nummer {n} tar kommunen ut en avgift på "
            f"{100 + n} kronor per tillfälle.").encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory, hashed_settings, hashed_embedder, hashed_questions):
    from api.app import create_app
    from qa.index.build import build_index
    from qa.search.live import LiveEngine

    index_dir = tmp_path_factory.mktemp("load") / "index"
    report = build_index(BASE, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    live = LiveEngine(index_dir, hashed_questions,
                      hashed_settings.model_copy(update={"admin_token": ADMIN}))
    with serve(create_app(live)) as url:
        yield url, report.generation


@pytest.mark.slow  # 8 clients through 20 writes
def test_searches_never_fail_nor_mix_generations_while_documents_change(server) -> None:
    url, first = server
    held: dict[int, set[str]] = {first: {"kommun"}}
    answers: list[tuple[int, list[str]]] = []
    failures: list[str] = []
    done = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(timeout=60) as http:
            i = 0
            while not done.is_set():
                question = f"Vad kostar tjänst nummer {(n + i) % WRITES}? ({n}-{i})"
                i += 1
                try:
                    res = http.post(f"{url}/api/search", json={"question": question, "k": 5})
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if res.status_code != 200:
                    failures.append(f"{res.status_code}: {res.text[:200]}")
                    continue
                body = res.json()
                answers.append((body["generation"], [h["document_id"] for h in body["results"]]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    current = {"kommun"}
    try:
        with httpx.Client(timeout=300, headers=AUTH) as http:
            for op in range(WRITES):
                if op % 4 == 3:  # every fourth write deletes the document added just before
                    res = http.delete(f"{url}/api/documents/tjanst-{op - 1}")
                    current = current - {f"tjanst-{op - 1}"}
                else:
                    res = http.post(f"{url}/api/documents", files={
                        "files": (f"tjanst-{op}.txt", _note(op), "text/plain")})
                    current = current | {f"tjanst-{op}"}
                assert res.status_code == 200, res.text
                assert res.json()["documents"][0]["status"] in ("added", "deleted")
                generation, since = res.json()["generation"], len(answers)
                held[generation] = set(current)
                # Searches land on this generation before the next write.
                deadline = time.monotonic() + 60
                while not any(g == generation for g, _ in answers[since:]):
                    assert not failures, failures[:3]
                    assert time.monotonic() < deadline, f"no answer from generation {generation}"
                    time.sleep(0.01)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)

    assert failures == []
    assert len(answers) > 2 * WRITES, "the clients did not search throughout"
    served = {g for g, _ in answers}
    assert served <= set(held), f"answers from generations never published: {served - set(held)}"
    mixed = [(g, docs) for g, docs in answers if not set(docs) <= held[g]]
    assert mixed == [], f"answers holding documents their generation did not: {mixed[:3]}"
    assert len(held) == WRITES + 1 and len(served) >= WRITES // 2, "too few generations seen"
