"""Uploads as an attacker sends them: hostile file names, too many PDF pages, zip bombs, and
what interrupted uploads leave behind. Real HTTP, real files, real builds (with the hashed n-gram
encoder, ``qa.embed.hashed``: what is indexed is under test, not the model's vectors)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest

from qa.index import incoming
from qa.ingest.documents import make_document
from tests.ingest.make_files import make_pdf
from tests.live import serve

ADMIN = "upload-admin-7c1e"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
TEXT = "Återvinningscentralen har öppet alla vardagar mellan sju och nitton.".encode()


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, hashed_settings, hashed_embedder) -> Path:
    from qa.index.build import build_index

    folder = tmp_path_factory.mktemp("uploads") / "index"
    build_index([make_document("bas", "Bas\n\nKommunen har en återvinningscentral.")],
                hashed_embedder, hashed_settings.index, folder, progress=False)
    return folder


@pytest.fixture(scope="module")
def server(index_dir, hashed_settings, hashed_questions):
    from api.app import create_app
    from qa.search.live import LiveEngine

    engine = LiveEngine(index_dir, hashed_questions, hashed_settings.model_copy(update={
        "admin_token": ADMIN, "max_pdf_pages": 2, "max_unzipped_mb": 1, "access_log": False}))
    with serve(create_app(engine)) as url:
        yield url


def upload(base: str, *files: tuple[str, bytes]) -> dict[str, dict]:
    res = httpx.post(f"{base}/api/documents", headers=AUTH, timeout=300,
                     files=[("files", (name, data, "application/octet-stream"))
                            for name, data in files])
    assert res.status_code == 200, res.text
    return {d["file"]: d for d in res.json()["documents"]}


def test_file_names_are_never_paths(server, index_dir, tmp_path) -> None:
    outside = index_dir.parent
    before = {p for p in outside.rglob("*") if ".incoming" not in p.parts}
    got = upload(server, ("../../utanför.txt", TEXT), ("..\\..\\bakvänd.txt", TEXT + b" 2"),
                 ("/etc/absolut.txt", TEXT + b" 3"), ("mapp/under/djup.txt", TEXT + b" 4"))
    assert {d["id"]: d["status"] for d in got.values()} == {
        "utanför": "added", "bakvänd": "added", "absolut": "added", "djup": "added"}
    after = {p for p in outside.rglob("*") if ".incoming" not in p.parts}
    created = {p.name for p in after - before}
    assert not created & {"utanför.txt", "bakvänd.txt", "absolut.txt", "djup.txt"}, created
    assert not Path("/etc/absolut.txt").exists()
    assert list((index_dir / incoming.INCOMING).iterdir()) == [], "the upload's folder is gone"
    # The name the client gave is what the document shows, and what its original is called.
    doc = httpx.get(f"{server}/api/documents/djup").json()
    assert doc["original"]["filename"] == "djup.txt" and doc["metadata"]["source"] == "djup.txt"


def test_too_many_pdf_pages_and_zip_bombs_are_skipped_unread(server, tmp_path) -> None:
    pages = make_pdf(tmp_path / "lång.pdf", [[("p", f"Sida {n} om avfall och återvinning.")]
                                             for n in range(1, 4)])
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b" " * (3 * 2**20) + b"</w:document>")
    got = upload(server, ("lång.pdf", pages.read_bytes()), ("bomb.docx", bomb.getvalue()))
    assert got["lång.pdf"]["status"] == "skipped"
    assert got["lång.pdf"]["reason"] == "too large: 3 pages, the limit is 2 (QA_MAX_PDF_PAGES)"
    assert got["bomb.docx"]["status"] == "skipped"
    assert got["bomb.docx"]["reason"].startswith("too large"), got["bomb.docx"]


def test_the_next_write_removes_interrupted_uploads_but_not_one_in_progress(server, index_dir
                                                                            ) -> None:
    root = index_dir / incoming.INCOMING
    interrupted = root / "0123456789abcdef"  # what a server killed while saving leaves
    interrupted.mkdir(parents=True)
    (interrupted / "0001.pdf").write_bytes(b"%PDF-1.7 halv")
    with incoming.upload_folder(index_dir) as in_progress:
        (in_progress / "0001.txt").write_bytes(TEXT)
        assert upload(server, ("nästa.txt", TEXT + b" igen"))["nästa.txt"]["status"] == "added"
        assert not interrupted.exists()
        assert (in_progress / "0001.txt").read_bytes() == TEXT
    assert list(root.iterdir()) == []
