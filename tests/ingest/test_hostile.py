"""Hostile files (tests/ingest/hostile/, see its README): each is reported with its reason, and
the build finishes with the other files. Huge files are generated here, not committed. Readers
run for real in worker processes: a reader that runs past its time or memory is stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from qa.embed.hashed import NAME as HASHED
from qa.ingest.formats import ReadOptions, pdf_streams
from qa.ingest.isolation import Done, Limits, Pool
from qa.ingest.sources import read_corpus
from tests.ingest.hostile.make_hostile import long_pdf
from tests.ingest.make_files import make_scanned_pdf

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = Path(__file__).resolve().parent / "hostile"
#: file → the reason it is skipped for
EXPECTED = {
    "truncated-pdf.pdf": "corrupt",
    "truncated-docx.docx": "corrupt",
    "truncated-odt.odt": "corrupt",
    "encrypted.pdf": "encrypted",
    "bad-central-directory.docx": "corrupt",
    "garbage-inside.docx": "corrupt",
}
GOOD = "Återvinningscentralen har öppet alla vardagar mellan sju och nitton."

needs_tools = pytest.mark.skipif(not (shutil.which("gs") and shutil.which("qpdf")),
                                 reason="needs ghostscript and qpdf (make system)")


def _hostile_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in [*EXPECTED, "flate-trailing-bytes.pdf"]:
        shutil.copy(HOSTILE / name, folder / name)
    (folder / "bra.txt").write_text(GOOD, encoding="utf-8")
    return folder


def test_every_hostile_file_is_reported_with_its_reason_and_the_rest_is_indexed(tmp_path):
    folder = _hostile_folder(tmp_path / "samling")
    with (folder / "jättestor.pdf").open("wb") as f:  # sparse: 101 MiB on no disk space
        f.truncate(101 * 2**20)
    (folder / "jättelång.txt").write_text((GOOD + "\n\n") * 20_000, encoding="utf-8")
    corpus = read_corpus(folder, ReadOptions(max_chars=1_000_000))
    skipped = {s.path: s for s in corpus.skipped}
    assert {name: s.reason for name, s in skipped.items()} == {
        **EXPECTED, "jättestor.pdf": "too large", "jättelång.txt": "too large"}
    assert all(s.detail for s in corpus.skipped)
    assert "password" in skipped["encrypted.pdf"].detail
    # the PDF that hung the decompression-bomb guard for ever is read, text and all
    by_id = {d.id: d for d in corpus.documents}
    assert set(by_id) == {"bra", "flate-trailing-bytes"}
    assert by_id["flate-trailing-bytes"].text == "Kommunens budget antas av fullmäktige i juni."


def _sizes(payloads: list[bytes], room: int) -> list[int]:
    """``_inflated_size`` of each payload, run in a worker with a deadline: a guard that loops
    for ever fails this test instead of hanging it."""
    outcomes = Pool(Limits(seconds=60, workers=1)).run(
        [(pdf_streams._inflated_size, (data, 0, len(data), room)) for data in payloads])
    assert all(isinstance(o, Done) for o in outcomes), outcomes
    return [o.value for o in outcomes]


def test_the_bomb_guard_ends_on_bytes_after_a_streams_end():
    cases = []
    for mib in (1, 2, 3):
        for tail in (b"\n", b"\r\n", b" trailing junk \x00\xff"):
            cases.append((mib * 2**20, zlib.compress(b"a" * mib * 2**20) + tail))
    sizes = _sizes([data for _, data in cases], 200 * 2**20)
    assert sizes == [size for size, _ in cases]


def test_the_bomb_guard_ends_on_truncated_concatenated_and_undecodable_streams():
    whole = zlib.compress(b"kommun " * 400_000)  # 2.8 MB inflated
    sizes = _sizes([
        whole[: len(whole) // 2],  # the input runs out mid-stream
        whole + zlib.compress(b"second stream"),  # a second stream after the first's end
        b"\x78\x9c" + b"\xff" * 5000,  # a zlib header, then nothing zlib can decode
        zlib.compress(b"\x00" * 50 * 2**20),  # a bomb: counting stops just past the room
    ], 10 * 2**20)
    assert 0 < sizes[0] < 400_000 * 7
    assert sizes[1] == 400_000 * 7
    assert sizes[2] == 0
    assert 10 * 2**20 < sizes[3] <= 11 * 2**20


def test_the_guard_reads_the_pdf_that_hung_it():
    outcomes = Pool(Limits(seconds=60, workers=1)).run(
        [(pdf_streams.check_streams, (HOSTILE / "flate-trailing-bytes.pdf", 200 * 2**20))])
    assert outcomes == [Done(None)]


@needs_tools
def test_a_reader_past_its_time_is_stopped_and_the_other_files_are_read(tmp_path):
    folder = tmp_path / "samling"
    folder.mkdir()
    long_pdf(folder / "lång.pdf", 3000)  # about 5 s of text extraction on a quiet machine
    (folder / "bra.txt").write_text(GOOD, encoding="utf-8")
    corpus = read_corpus(folder, ReadOptions(max_seconds_per_file=1.0, convert_workers=2))
    assert [d.id for d in corpus.documents] == ["bra"]
    (skipped,) = corpus.skipped
    assert skipped.path == "lång.pdf" and skipped.reason == "timed out"
    assert "QA_MAX_SECONDS_PER_FILE" in skipped.detail


def _ocr_ready() -> bool:
    from qa.ingest.formats import ocr

    return ocr.available("swe")


@pytest.mark.slow
@pytest.mark.skipif(not _ocr_ready(), reason="needs tesseract-ocr-swe (make system)")
def test_pages_read_by_ocr_get_their_own_time(tmp_path):
    """Two seconds per file would never do for two pages of OCR (Tesseract takes seconds
    for each); each scanned page brings its own time."""
    pages = [[GOOD, f"Biblioteket har öppet på lördagar, vecka {n}."] for n in (1, 2)]
    path = make_scanned_pdf(tmp_path / "skannad.pdf", pages)
    corpus = read_corpus(path, ReadOptions(max_seconds_per_file=2, ocr_seconds_per_page=120))
    assert corpus.skipped == []
    (doc,) = corpus.documents
    assert doc.metadata["ocr_pages"] == [1, 2] and "Biblioteket" in doc.text


@pytest.mark.skipif(not _ocr_ready(), reason="needs tesseract-ocr-swe (make system)")
def test_a_reader_past_the_memory_ceiling_is_stopped(tmp_path):
    """A scanned page 100 inches square: rendered for OCR at 300 dpi it takes 900 MB."""
    from PIL import Image
    from reportlab.pdfgen.canvas import Canvas

    image = tmp_path / "prick.png"
    Image.new("L", (8, 8), 255).save(image)
    canvas = Canvas(str(tmp_path / "affisch.pdf"), pagesize=(7200, 7200))
    canvas.drawImage(str(image), 0, 0, 7200, 7200)
    canvas.showPage()
    canvas.save()
    (tmp_path / "bra.txt").write_text(GOOD, encoding="utf-8")
    corpus = read_corpus(tmp_path, ReadOptions(max_convert_memory_mb=300))
    assert [d.id for d in corpus.documents] == ["bra"]
    listed = {s.path: s for s in corpus.skipped}
    assert listed["affisch.pdf"].reason == "out of memory"
    assert "QA_MAX_CONVERT_MEMORY_MB" in listed["affisch.pdf"].detail


@pytest.mark.slow
@needs_tools
def test_qa_build_lists_the_new_reasons_and_indexes_the_rest(tmp_path):
    folder = _hostile_folder(tmp_path / "samling")
    long_pdf(folder / "lång.pdf", 3000)  # about 5 s of text extraction on a quiet machine
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "build", "--source", str(folder), "--index",
         str(tmp_path / "index"), "--no-progress"], capture_output=True, text=True, timeout=600,
        cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", "QA_MAX_SECONDS_PER_FILE": "1",
                       # the skip reasons are under test, not the vectors: no model to load
                       "QA_MODEL": HASHED})
    assert proc.returncode == 0, proc.stderr
    assert "indexed 2 documents" in proc.stdout
    assert f"skipped {len(EXPECTED) + 1} file(s):" in proc.stdout
    assert "  lång.pdf: timed out (still running after 1 s" in proc.stdout, proc.stdout
    for name, reason in EXPECTED.items():
        assert f"  {name}: {reason} (" in proc.stdout
    assert "Traceback" not in proc.stderr
