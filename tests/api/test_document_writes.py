"""The document write API over real HTTP: upload, replace and delete while the service answers.

A small index is built for this module and served by uvicorn on 127.0.0.1; the files are real
PDF and DOCX files made in the test. No restart happens between a write and the questions
that check it. The encoder is the hashed n-gram one (``qa.embed.hashed``): the writes, the
generations they publish and what is served are under test, not the model's vectors.
"""

from __future__ import annotations

import httpx
import pytest

from qa.ingest.documents import make_document
from tests.ingest.make_files import make_docx, make_pdf
from tests.live import serve

ADMIN = "hemlig-nyckel"
READER = "las-nyckel"
AUTH = {"Authorization": f"Bearer {ADMIN}"}

BASE_DOCS = [
    make_document("kommun", "Kommunen\n\nKommunfullmäktige beslutar om budgeten varje år i "
                  "november."),
    make_document("region", "Regionen\n\nRegionen ansvarar för hälso- och sjukvård och "
                  "kollektivtrafik."),
]
Q_PDF = "Hur många timmar får man parkera gratis vid simhallen?"
Q_DOCX = "Vad kostar det att hyra kommunens festlokal en lördag?"


def _pdf(path, minutes: str = "tre timmar") -> object:
    return make_pdf(path, [[("h1", "Parkering vid simhallen"), (
        "p", f"Vid simhallen får man parkera gratis i {minutes} med parkeringsskiva. Därefter "
             "kostar det 15 kronor per timme.")]])


def _docx(path) -> object:
    return make_docx(path, [("h1", "Festlokalen Gillet"), (
        "p", "Att hyra kommunens festlokal Gillet kostar 2 500 kronor en lördag och 1 200 "
             "kronor en vardag, städning ingår.")])


def _engine(settings, questions, index_dir, **update):
    """The served index as ``qa serve`` holds it: live, swapped after each write."""
    from qa.search.live import LiveEngine

    return LiveEngine(index_dir, questions, settings.model_copy(update=update))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, hashed_settings, hashed_embedder):
    from qa.index.build import build_index

    folder = tmp_path_factory.mktemp("writes") / "index"
    build_index(BASE_DOCS, hashed_embedder, hashed_settings.index, folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def server(index_dir, hashed_settings, hashed_questions):
    from api.app import create_app

    engine = _engine(hashed_settings, hashed_questions, index_dir, admin_token=ADMIN, max_request_mb=0.5)
    with serve(create_app(engine)) as url:
        yield url


def _top(base: str, question: str) -> dict:
    res = httpx.post(f"{base}/api/search", json={"question": question, "k": 1}, timeout=60)
    assert res.status_code == 200, res.text
    return res.json()["results"][0]


def test_writes_need_the_admin_token(server, tmp_path) -> None:
    body = {"id": "x", "text": "En text."}
    missing = httpx.post(f"{server}/api/documents", json=body)
    assert missing.status_code == 401 and "Bearer" in missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = httpx.delete(f"{server}/api/documents/kommun", headers={"Authorization": "Bearer fel"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong admin token"
    assert httpx.get(f"{server}/api/documents/kommun").status_code == 200
    assert httpx.get(f"{server}/api/admin", headers=AUTH).status_code == 204
    assert httpx.get(f"{server}/api/admin", headers={"Authorization": "Bearer fel"}
                     ).status_code == 401


def test_upload_replace_and_delete_change_the_answers_without_restart(server, tmp_path) -> None:
    pdf, docx = _pdf(tmp_path / "simhallen.pdf"), _docx(tmp_path / "festlokal.docx")
    before = httpx.get(f"{server}/health").json()["documents"]
    with pdf.open("rb") as a, docx.open("rb") as b:
        res = httpx.post(f"{server}/api/documents", headers=AUTH, timeout=300, files=[
            ("files", ("simhallen.pdf", a, "application/pdf")),
            ("files", ("festlokal.docx", b, "application/octet-stream"))])
    assert res.status_code == 200, res.text
    body = res.json()
    assert sorted((d["id"], d["status"], d["file"]) for d in body["documents"]) == [
        ("festlokal", "added", "festlokal.docx"), ("simhallen", "added", "simhallen.pdf")]
    first = body["generation"]
    health = httpx.get(f"{server}/health").json()
    assert (health["generation"], health["documents"]) == (first, before + 2)
    top = _top(server, Q_PDF)
    assert (top["document_id"], top["page"]) == ("simhallen", 1) and "tre timmar" in top["text"]
    assert _top(server, Q_DOCX)["document_id"] == "festlokal"
    original = httpx.get(f"{server}/api/documents/simhallen/original")
    assert original.status_code == 200 and original.content == pdf.read_bytes()

    same = pdf.read_bytes()
    res = httpx.put(f"{server}/api/documents/simhallen", headers=AUTH, timeout=300,
                    files={"files": ("simhallen.pdf", same, "application/pdf")})
    assert [(d["id"], d["status"]) for d in res.json()["documents"]] == [("simhallen", "unchanged")]
    assert res.json()["generation"] == first

    changed = _pdf(tmp_path / "ny.pdf", minutes="fyra timmar")
    res = httpx.put(f"{server}/api/documents/simhallen", headers=AUTH, timeout=300,
                    files={"files": ("ny.pdf", changed.read_bytes(), "application/pdf")})
    assert res.status_code == 200, res.text
    assert [(d["id"], d["status"]) for d in res.json()["documents"]] == [("simhallen", "replaced")]
    assert res.json()["generation"] > first
    assert "fyra timmar" in _top(server, Q_PDF)["text"]

    res = httpx.delete(f"{server}/api/documents/simhallen", headers=AUTH, timeout=300)
    assert res.status_code == 200, res.text
    assert res.json()["documents"] == [{"id": "simhallen", "file": None, "status": "deleted",
                                        "reason": None}]
    assert _top(server, Q_PDF)["document_id"] != "simhallen"
    assert httpx.get(f"{server}/api/documents/simhallen").status_code == 404
    again = httpx.delete(f"{server}/api/documents/simhallen", headers=AUTH, timeout=300)
    assert again.status_code == 404 and "simhallen" in again.json()["detail"]


def test_json_documents_and_bad_bodies(server) -> None:
    res = httpx.post(f"{server}/api/documents", headers=AUTH, timeout=300, json={
        "id": "bibliotek/oppettider", "text": "Biblioteket har öppet till klockan 21 på torsdagar.",
        "title": "Öppettider", "metadata": {"enhet": "kultur"}})
    assert res.status_code == 200, res.text
    assert res.json()["documents"][0]["status"] == "added"
    doc = httpx.get(f"{server}/api/documents/bibliotek/oppettider").json()
    assert doc["format"] == "jsonl" and doc["metadata"]["enhet"] == "kultur"
    assert doc["original"] is None
    assert httpx.get(f"{server}/api/documents/bibliotek/oppettider/original").status_code == 404

    def post(**kwargs) -> httpx.Response:
        return httpx.post(f"{server}/api/documents", headers={**AUTH, **kwargs.pop("headers", {})},
                          timeout=60, **kwargs)

    assert post(json={"text": "utan id"}).status_code == 422
    unknown = post(json={"id": "a", "text": "x", "färg": "blå"})
    assert unknown.status_code == 422 and "färg" in unknown.json()["detail"]
    assert post(json={"id": "../a", "text": "x"}).status_code == 422
    assert post(json={"id": "a", "text": "   "}).status_code == 422
    assert post(content=b"{inte json", headers={"content-type": "application/json"}
                ).status_code == 422
    plain = post(content=b"text", headers={"content-type": "text/plain"})
    assert plain.status_code == 415 and "multipart/form-data" in plain.json()["detail"]
    assert post(files={"annat": ("a.txt", b"text")}).status_code == 422
    for body in (unknown, plain):
        assert "Traceback" not in body.text


def test_bad_files_are_listed_as_skipped(server) -> None:
    res = httpx.post(f"{server}/api/documents", headers=AUTH, timeout=300, files=[
        ("files", ("tom.txt", b"", "text/plain")),
        ("files", ("trasig.pdf", b"%PDF-1.7 inte en pdf", "application/pdf")),
        ("files", ("program.exe", b"MZ\x90\x00", "application/octet-stream")),
        ("files", ("anteckning.txt", "Snöröjningen börjar klockan fyra på morgonen.".encode(
            "cp1252"), "text/plain"))])
    assert res.status_code == 200, res.text
    got = {d["file"]: d for d in res.json()["documents"]}
    assert got["tom.txt"]["status"] == "skipped" and got["tom.txt"]["reason"].startswith("empty")
    assert got["trasig.pdf"]["status"] == "skipped" and "corrupt" in got["trasig.pdf"]["reason"]
    assert got["program.exe"]["reason"].startswith("unsupported type")
    assert got["anteckning.txt"]["status"] == "added"
    text = httpx.get(f"{server}/api/documents/anteckning").json()["text"]
    assert text == "Snöröjningen börjar klockan fyra på morgonen."
    original = httpx.get(f"{server}/api/documents/anteckning/original")
    assert original.headers["content-type"] == "text/plain; charset=windows-1252"


def test_oversized_requests_are_413(server) -> None:
    big = b"a" * (600 * 1024)
    declared = httpx.post(f"{server}/api/documents", headers=AUTH,
                          files={"files": ("stor.txt", big, "text/plain")})
    assert declared.status_code == 413 and "QA_MAX_REQUEST_MB" in declared.json()["detail"]

    def chunks():
        for _ in range(20):
            yield b"b" * (64 * 1024)

    chunked = httpx.post(f"{server}/api/documents", content=chunks(), timeout=60,
                         headers={**AUTH, "content-type": "application/json"})
    assert chunked.status_code == 413
    assert httpx.get(f"{server}/health").status_code == 200


def test_writing_is_off_without_an_admin_token(index_dir, hashed_settings, hashed_questions) -> None:
    from api.app import create_app

    engine = _engine(hashed_settings, hashed_questions, index_dir, admin_token=None)
    with serve(create_app(engine)) as url:
        res = httpx.delete(f"{url}/api/documents/kommun", headers=AUTH)
        check = httpx.get(f"{url}/api/admin", headers=AUTH)
    assert res.status_code == 403 and "QA_ADMIN_TOKEN" in res.json()["detail"]
    assert check.status_code == 403


def test_a_read_token_closes_reading(index_dir, hashed_settings, hashed_questions) -> None:
    from api.app import create_app

    engine = _engine(hashed_settings, hashed_questions, index_dir, read_token=READER, admin_token=ADMIN)
    with serve(create_app(engine)) as url:
        question = {"question": "Vem beslutar om budgeten?"}
        assert httpx.post(f"{url}/api/search", json=question, timeout=60).status_code == 401
        assert httpx.get(f"{url}/api/documents").status_code == 401
        ok = httpx.post(f"{url}/api/search", json=question, timeout=60,
                        headers={"Authorization": f"Bearer {READER}"})
        assert ok.status_code == 200
        assert httpx.get(f"{url}/api/documents", headers=AUTH).status_code == 200
        assert httpx.get(f"{url}/health").status_code == 200
        assert httpx.get(f"{url}/").status_code == 200
