"""A living index: newer generations are served without a restart, each request sees one whole.

Real indexes, real builds (in this process and by the ``qa build`` command), the real app served
by uvicorn on 127.0.0.1 (``tests.live.serve``) with its watcher running; the encoder is the
hashed n-gram one (``qa.embed.hashed``, ``QA_MODEL=hashed-ngrams`` for ``qa build``): what is
tested is which generation is served, not the model's vectors.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from qa.embed.hashed import NAME as HASHED
from qa.index import generations
from qa.index.build import build_index, stage
from qa.index.manifest import read_manifest
from qa.ingest.documents import Document, make_document
from qa.search.live import LiveEngine
from tests.live import serve

ROOT = Path(__file__).resolve().parents[2]

KOMMUN = make_document("kommun", "Kommunen\n\nKommunfullmäktige beslutar om budgeten varje år i november.")
REGION = make_document("region", "Regionen\n\nRegionen ansvarar för hälso- och sjukvård och kollektivtrafik.")
SKOLA = make_document("skola", "Skolan\n\nGrundskolan är obligatorisk för alla barn i Sverige.")


def live_engine(index_dir: Path, questions, settings, reload_seconds: float = 0.1) -> LiveEngine:
    s = settings.model_copy(update={"index_dir": index_dir, "reload_seconds": reload_seconds,
                                    "access_log": False})
    return LiveEngine(index_dir, questions, s)


def on_disk(index_dir: Path) -> list[int]:
    return sorted(int(p.name) for p in (index_dir / "generations").iterdir())


def wait_for(check: Callable[[], Any], what: str, seconds: float = 120) -> Any:
    """Poll ``check`` until it returns something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s")
        time.sleep(0.05)
    return found


def test_refresh_swaps_in_the_new_generation_and_old_ones_go_once_unused(
        hashed_settings, hashed_embedder, hashed_questions, tmp_path):
    index_dir = tmp_path / "idx"
    build_index([KOMMUN, REGION], hashed_embedder, hashed_settings.index, index_dir, progress=False)
    live = live_engine(index_dir, hashed_questions, hashed_settings)
    first = live.current()
    assert live.refresh() is False, "nothing new: no swap"
    assert live.current() is first

    build_index([SKOLA], hashed_embedder, hashed_settings.index, index_dir, add=True, progress=False)
    assert live.refresh() is True
    second = live.current()
    assert second is not first and live.generation == second.health().generation == 2
    assert second.questions is first.questions is hashed_questions, "the model is never loaded again"
    assert second.health().built_at == read_manifest(index_dir).built_at
    assert second.health().documents == 3 and second.document("skola").text == SKOLA.text
    hits = second.search("Är grundskolan obligatorisk?", 1).hits
    assert hits[0].passage.document_id == "skola"
    # The engine a request took keeps answering from its own generation, whole.
    assert first.health().documents == 2 and first.index.document("skola") is None
    assert first.search("Är grundskolan obligatorisk?", 3).hits[0].passage.document_id != "skola"
    del second

    build_index([make_document("skola", "Skolan\n\nGymnasiet är frivilligt.")], hashed_embedder,
                hashed_settings.index, index_dir, add=True, progress=False)
    assert live.refresh() is True and live.generation == 3
    assert on_disk(index_dir) == [1, 2, 3], "generation 1 is still used by a request"
    assert first.document_text("kommun") == KOMMUN.text
    del first
    gc.collect()
    assert live.refresh() is False, "nothing new to serve, but the pending prune runs"
    assert on_disk(index_dir) == [2, 3]
    live.close()


def test_an_idle_keep_alive_connection_holds_no_generation(
        hashed_settings, hashed_embedder, hashed_questions, tmp_path):
    index_dir = tmp_path / "idx"
    build_index([KOMMUN], hashed_embedder, hashed_settings.index, index_dir, progress=False)
    live = live_engine(index_dir, hashed_questions, hashed_settings, reload_seconds=0)
    with serve(create_app(live)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/api/documents/kommun").status_code == 200  # then the connection idles
        for documents in ([KOMMUN, REGION], [KOMMUN, REGION, SKOLA]):
            build_index(documents, hashed_embedder, hashed_settings.index, index_dir, progress=False)
            assert live.refresh() is True
        gc.collect()
        assert live.prune() is True and on_disk(index_dir) == [2, 3]
        assert client.get("/health").json()["generation"] == 3
    live.close()


def _qa_build_add(source: Path, index_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QA_THREADS": "1", "HF_HUB_OFFLINE": "1", "QA_MODEL": HASHED}
    return subprocess.run([sys.executable, "-m", "qa.cli", "build", "--source", str(source),
                           "--index", str(index_dir), "--add", "--no-progress"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_qa_build_into_the_served_directory_is_served_without_restart(
        hashed_settings, hashed_embedder, hashed_questions, tmp_path):
    index_dir = tmp_path / "served"
    build_index([KOMMUN, REGION], hashed_embedder, hashed_settings.index, index_dir, progress=False)
    live = live_engine(index_dir, hashed_questions, hashed_settings)
    added = make_document("bibliotek", "Biblioteket\n\nStadsbiblioteket har öppet till klockan "
                          "nio på torsdagar och lånar ut elsparkcyklar.")
    source = tmp_path / "added.jsonl"
    source.write_text(json.dumps({"id": added.id, "title": "Biblioteket", "text": added.text},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    with serve(create_app(live)) as url, httpx.Client(base_url=url, timeout=30) as client:
        before = client.get("/health").json()
        assert (before["generation"], before["documents"]) == (1, 2)
        assert client.get("/api/documents/bibliotek").status_code == 404

        built = _qa_build_add(source, index_dir)
        assert built.returncode == 0, built.stderr
        assert "generation 2" in built.stdout

        health = wait_for(lambda: (h := client.get("/health").json())["generation"] == 2 and h,
                          "the server serves the new generation")
        assert health["documents"] == 3
        assert health["built_at"] == read_manifest(index_dir).built_at
        doc = client.get("/api/documents/bibliotek")
        assert doc.status_code == 200 and doc.json()["text"] == added.text
        found = client.post("/api/search", json={"question": "Var kan man låna elsparkcyklar?",
                                                 "k": 3}).json()
        assert found["results"][0]["document_id"] == "bibliotek"
        assert {d["id"] for d in client.get("/api/documents").json()["documents"]} == {
            "kommun", "region", "bibliotek"}
    assert not live._watcher.running, "the watcher stopped with the app"
    live.close()


def test_a_damaged_newer_generation_is_skipped_and_the_old_one_keeps_serving(
        hashed_settings, hashed_embedder, hashed_questions, tmp_path, caplog):
    index_dir = tmp_path / "idx"
    build_index([KOMMUN, REGION], hashed_embedder, hashed_settings.index, index_dir, progress=False)
    live = live_engine(index_dir, hashed_questions, hashed_settings)
    question = {"question": "Vem ansvarar för sjukvården?", "k": 2}
    with serve(create_app(live)) as url, httpx.Client(base_url=url, timeout=30) as client, \
            caplog.at_level(logging.ERROR, logger="qa.search.live"):
        # A generation published whole, whose passage store is then damaged on disk.
        with generations.build_lock(index_dir, timeout=60):
            staged = stage([KOMMUN, REGION, SKOLA], hashed_embedder, hashed_settings.index, index_dir)
            (staged.path / "passages.sqlite").write_bytes(b"this is not a database")
            generations.publish(index_dir, staged.path)
        assert live.refresh() is False
        assert live.refresh() is False
        health = client.get("/health").json()
        assert (health["generation"], health["documents"]) == (1, 2), "still the old one"
        answer = client.post("/api/search", json=question)
        assert answer.status_code == 200
        assert answer.json()["results"][0]["document_id"] == "region"
        assert client.get("/api/documents/kommun").status_code == 200
        failures = [r for r in caplog.records if "cannot serve generation 2" in r.getMessage()]
        assert len(failures) == 1, "logged once, not on every tick"
        assert "still serving generation 1" in failures[0].getMessage()

        build_index([KOMMUN, REGION, SKOLA], hashed_embedder,
                    hashed_settings.index, index_dir, progress=False)
        health = wait_for(lambda: (h := client.get("/health").json())["generation"] == 3 and h,
                          "the repaired index is served")
        assert health["documents"] == 3
        assert client.post("/api/search", json=question).status_code == 200
    live.close()


# --------------------------------------------------------------- swaps under load

TOPICS = [
    ("Biblioteket", "Stadsbiblioteket lånar ut böcker, ljudböcker och tidskrifter"),
    ("Simhallen", "Simhallen har en bassäng på tjugofem meter och en bastu"),
    ("Parkering", "Parkering i centrum kostar tjugo kronor i timmen på vardagar"),
    ("Avfall", "Hushållsavfall hämtas varannan vecka och matavfall varje vecka"),
    ("Bygglov", "Bygglov krävs för att bygga ett nytt hus eller en större tillbyggnad"),
]
BUILDS = 10
CLIENTS = 8


def marker(g: int) -> Document:
    return make_document("markor", f"Markören\n\nDetta index är generation {g} av testet.")


def topic(i: int, g: int) -> Document:
    title, text = TOPICS[i % len(TOPICS)]
    return make_document(f"amne-{i}", f"{title}\n\n{text}. Uppgiften gäller generation {g}.")


def change(g: int) -> list[Document]:
    """What build ``g`` adds or replaces: the marker always; then alternately a new document
    (odd ``g``) or the one the previous build added (even ``g``), rewritten."""
    return [marker(g), topic(g if g % 2 else g - 1, g)]


def hits_fit(hits: list[dict[str, Any]]) -> Callable[[dict[str, str]], bool]:
    """Whether a corpus holds every hit: its document, and its text inside that document's."""
    return lambda corpus: all(r["document_id"] in corpus and r["text"] in corpus[r["document_id"]]
                              for r in hits)


def consistent(corpora: dict[int, dict[str, str]], found: Callable[[dict[str, str]], bool]) -> set[int]:
    """The generations a response could have come from."""
    return {g for g, corpus in corpora.items() if found(corpus)}


@pytest.mark.slow  # 8 clients through 10 builds
def test_clients_see_one_generation_whole_while_builds_publish_and_the_server_swaps(
        hashed_settings, hashed_embedder, hashed_questions, tmp_path):
    index_dir = tmp_path / "idx"
    base = [KOMMUN, REGION, marker(1)]
    build_index(base, hashed_embedder, hashed_settings.index, index_dir, progress=False)
    published = {1: {d.id: d.text for d in base}}  # generation number -> documents
    known = threading.Lock()
    live = live_engine(index_dir, hashed_questions, hashed_settings)
    failures: list[str] = []
    seen: list[set[int]] = [set() for _ in range(CLIENTS)]
    done = [0]
    count = threading.Lock()
    stop = threading.Event()

    def check(kind: str, candidates: set[int], body: Any) -> None:
        if not candidates:
            failures.append(f"{kind}: consistent with no single generation: {body}")

    def client_loop(n: int, url: str) -> None:
        try:
            requests(n, url)
        except Exception as exc:  # a broken response or a bug here: the test must see it
            failures.append(f"client {n}: {type(exc).__name__}: {exc}")

    def requests(n: int, url: str) -> None:
        last = 0
        question = ["Vilken generation är indexet?", "Vad kostar parkering och när hämtas avfall?",
                    "Vem beslutar om budgeten?"][n % 3]
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop.is_set():
                try:
                    health = client.get("/health")
                    found = client.post("/api/search", json={"question": question, "k": 10,
                                                             "mode": ("hybrid", "lexical")[n % 2]})
                    listing = client.get("/api/documents")
                    document = client.get("/api/documents/markor")
                except httpx.HTTPError as exc:
                    failures.append(f"client {n}: {type(exc).__name__}: {exc}")
                    return
                for response in (health, found, listing, document):
                    if response.status_code != 200:
                        failures.append(f"client {n}: {response.request.url} answered "
                                        f"{response.status_code}: {response.text[:300]}")
                        return
                with known:
                    corpora = dict(published)
                h = health.json()
                if h["generation"] < last:
                    failures.append(f"client {n}: generation went back from {last} to {h['generation']}")
                last = h["generation"]
                corpus = corpora.get(h["generation"])
                if corpus is None or h["documents"] != len(corpus):
                    failures.append(f"client {n}: /health {h['generation']}, {h['documents']} "
                                    f"documents is no published generation")
                hits = found.json()["results"]
                check("search", consistent(corpora, hits_fit(hits)), hits)
                summaries = {(d["id"], d["chars"]) for d in listing.json()["documents"]}
                check("documents", consistent(corpora, lambda c, s=summaries: s == {
                    (i, len(t)) for i, t in c.items()}), summaries)
                text = document.json()["text"]
                check("document", consistent(corpora, lambda c, t=text: c["markor"] == t), text)
                seen[n].add(h["generation"])
                with count:
                    done[0] += 1

    def requests_done() -> int:
        with count:
            return done[0]

    with serve(create_app(live)) as url:
        threads = [threading.Thread(target=client_loop, args=(n, url), daemon=True)
                   for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            for g in range(2, BUILDS + 2):
                # Known before it can be served, so a client never meets an unknown generation.
                with known:
                    published[g] = {**published[g - 1], **{d.id: d.text for d in change(g)}}
                report = build_index(change(g), hashed_embedder, hashed_settings.index, index_dir, add=True,
                                     progress=False)
                assert report.generation == g
                if g % 2:  # as the write endpoints do; else the watcher finds it
                    live.refresh()
                wait_for(lambda g=g: live.generation == g, f"generation {g} is served")
                # Clients answer from this generation before the next build publishes.
                target = requests_done() + 2 * CLIENTS
                wait_for(lambda t=target: requests_done() >= t or failures, "client requests")
                assert not failures, failures[:5]
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
    assert not failures, failures[:5]
    assert all(not t.is_alive() for t in threads)
    assert set(range(2, BUILDS + 2)) <= set().union(*seen), "every generation was served"
    # The check bites: hits from generations 3 and 4 together fit no generation.
    mixed = [{"document_id": "markor", "text": marker(3).text},
             {"document_id": "amne-3", "text": topic(3, 4).text}]
    assert consistent(published, hits_fit(mixed)) == set()
    assert consistent(published, hits_fit(mixed[:1])) == {3}

    gc.collect()
    assert live.prune() is True, "once no request runs, nothing is leased"
    assert on_disk(index_dir) == [BUILDS, BUILDS + 1]
    live.close()
