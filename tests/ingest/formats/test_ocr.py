"""Scanned PDFs: pages without a text layer are read by Tesseract's Swedish model."""

from __future__ import annotations

import pytest

from qa.ingest.formats import ReadOptions, convert, ocr
from tests.ingest.make_files import make_scanned_pdf

pytestmark = pytest.mark.slow

PAGES = [
    ["Kommunstyrelsen beslutade att höja avgiften för sophämtning med fem procent från och med "
     "årsskiftet.", "Beslutet gäller även fritidshus på öarna i skärgården."],
    ["Överklagandet ska skickas till förvaltningsrätten i Göteborg inom tre veckor."],
]
KEY_WORDS = [["Kommunstyrelsen", "beslutade", "höja", "avgiften", "sophämtning", "årsskiftet",
              "fritidshus", "öarna", "skärgården"],
             ["Överklagandet", "förvaltningsrätten", "Göteborg", "veckor"]]


@pytest.fixture(scope="module")
def swedish_ocr() -> None:
    if not ocr.available("swe"):
        pytest.skip("tesseract-ocr-swe not installed")


def test_scanned_pages_are_recognised_in_swedish(tmp_path, swedish_ocr):
    converted = convert(make_scanned_pdf(tmp_path / "skannad.pdf", PAGES), ReadOptions(ocr_dpi=300))
    assert converted.metadata["ocr_pages"] == [1, 2]
    assert [page.number for page in converted.pages] == [1, 2]
    for page, words in zip(converted.pages, KEY_WORDS, strict=True):
        on_page = converted.text[page.start:page.end]
        found = [word for word in words if word in on_page]
        assert len(found) >= len(words) - 1, (words, on_page)  # a character error or so allowed
    # The running header and the "Sida N av M" footer of the scanned pages are dropped.
    assert "Sida" not in converted.text
    assert all(block.kind == "paragraph" for block in converted.blocks)


def test_ocr_off_leaves_the_pages_unread(tmp_path, swedish_ocr):
    path = make_scanned_pdf(tmp_path / "skannad.pdf", PAGES[:1])
    with pytest.raises(Exception, match="no text layer"):
        convert(path, ReadOptions(ocr="off"))


def test_a_missing_language_model_is_not_available():
    assert not ocr.available("xyz-not-a-language")
    assert ocr.install_hint("swe") == "install tesseract-ocr and tesseract-ocr-swe"
