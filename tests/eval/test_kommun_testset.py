"""Consistency checks for the municipal test set qa/eval/testsets/kommun_sv.jsonl and its corpus.

The corpus is the eight committed files in qa/eval/testsets/kommun/ (PDF, DOCX, ODT, HTML,
Markdown). Evidence is checked against the text the service converts from them (``read_corpus``,
the same text the index stores and ``qa eval`` resolves spans in); no model and no index, so
the test is fast.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from qa.ingest.documents import Document
from qa.ingest.sources import read_corpus
from tests.eval import testset_checks as checks
from tests.eval.make_kommun_corpus import write_corpus
from tests.ingest import make_files

ROOT = Path(__file__).resolve().parents[2]
TESTSET = ROOT / "qa" / "eval" / "testsets" / "kommun_sv.jsonl"
CORPUS = ROOT / "qa" / "eval" / "testsets" / "kommun"

FORMATS = {
    "parkeringspolicy": "pdf",
    "avfall_och_atervinning": "html",
    "forskola_och_fritids": "docx",
    "bygglov": "odt",
    "fardtjanst": "md",
    "biblioteket": "html",
    "budget_2026": "pdf",
    "skolskjuts": "docx",
}
ANSWERABLE_KINDS = {"who", "what", "when", "where", "how_many", "cost", "why", "how", "list",
                    "synonym", "two_sentence"}
NO_ANSWER_KINDS = {"unanswerable", "off_topic"}
KINDS = ANSWERABLE_KINDS | NO_ANSWER_KINDS
# What the generators put around the content: the web pages' cookie banner, "Relaterade
# länkar" box and footer, the PDFs' running header and "Sida N av M" footer. The service drops
# it; evidence never holds it. (The menu and related-link labels are left out: short phrases
# such as "Parkeringstillstånd för rörelsehindrade" are also the content of a document.)
FURNITURE = (make_files.HEADER_TEXT, make_files.COOKIE_TEXT, make_files.FOOTER_TEXT,
             make_files.RELATED_TEXT)
PAGE_FOOTER = re.compile(r"Sida \d+ av \d+")


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    corpus = read_corpus(CORPUS)
    assert not corpus.skipped, corpus.skipped
    assert not corpus.warnings, corpus.warnings
    return {doc.id: doc for doc in corpus.documents}


@pytest.fixture(scope="module")
def texts(documents: dict[str, Document]) -> dict[str, str]:
    return {doc_id: doc.text for doc_id, doc in documents.items()}


@pytest.fixture(scope="module")
def raw_lines() -> list[str]:
    return checks.read_lines(TESTSET)


@pytest.fixture(scope="module")
def items(raw_lines: list[str]) -> list[dict]:
    return checks.parse(raw_lines)


def _span(it: dict, texts: dict[str, str]) -> tuple[int, int]:
    start = texts[it["document_id"]].index(it["evidence"])
    return start, start + len(it["evidence"])


def test_corpus_is_eight_documents_in_their_formats(documents: dict[str, Document]) -> None:
    assert {doc_id: doc.format for doc_id, doc in documents.items()} == FORMATS
    for doc in documents.values():
        assert 2_500 <= len(doc.text) <= 6_000, f"{doc.id}: {len(doc.text)} characters"
    assert [p.number for p in documents["parkeringspolicy"].pages] == [1, 2, 3, 4]
    assert [p.number for p in documents["budget_2026"].pages] == [1, 2, 3]


def test_web_pages_carry_furniture_the_text_does_not(texts: dict[str, str]) -> None:
    for doc_id in ("avfall_och_atervinning", "biblioteket"):
        page = (CORPUS / f"{doc_id}.html").read_text(encoding="utf-8")
        for chrome in (make_files.COOKIE_TEXT, make_files.FOOTER_TEXT, make_files.RELATED_TEXT):
            assert chrome in page, f"{doc_id}.html lacks {chrome!r}"
            assert chrome not in texts[doc_id], f"{doc_id}: {chrome!r} reached the text"


def test_committed_corpus_is_what_the_script_writes(tmp_path: Path, texts: dict[str, str]) -> None:
    """The files are committed so that no evaluation depends on regenerating them; this keeps
    the script honest about what they hold (the converted text, not the bytes: the files carry
    creation dates)."""
    write_corpus(tmp_path)
    regenerated = read_corpus(tmp_path)
    assert {doc.id: doc.text for doc in regenerated.documents} == texts


def test_every_line_parses(raw_lines: list[str]) -> None:
    checks.check_lines(raw_lines)


def test_fields_and_ids(items: list[dict]) -> None:
    checks.check_fields(items, r"k\d{3}")
    assert [it["id"] for it in items] == [f"k{n:03d}" for n in range(1, len(items) + 1)]


def test_ids_and_questions_unique(items: list[dict]) -> None:
    checks.check_unique(items)


def test_kinds_and_splits_valid(items: list[dict]) -> None:
    checks.check_kinds_and_splits(items, KINDS)


def test_questions_without_answer_have_no_target(items: list[dict]) -> None:
    checks.check_targets(items, NO_ANSWER_KINDS)


def test_counts(items: list[dict]) -> None:
    kinds = Counter(it["kind"] for it in items)
    assert sum(kinds[k] for k in ANSWERABLE_KINDS) >= 75
    assert kinds["unanswerable"] >= 18
    assert kinds["off_topic"] >= 12
    for kind in ANSWERABLE_KINDS:
        assert kinds[kind] >= 6, f"kind {kind} only {kinds[kind]} times"


def test_every_document_covered(items: list[dict]) -> None:
    per_document = Counter(it["document_id"] for it in checks.with_evidence(items))
    assert set(per_document) == set(FORMATS)
    for doc_id, n in per_document.items():
        assert n >= 8, f"{doc_id}: only {n} questions"


def test_evidence_occurs_exactly_once(items: list[dict], texts: dict[str, str]) -> None:
    checks.check_evidence_once(items, texts)


def test_evidence_is_content_not_furniture_or_a_heading(items: list[dict],
                                                         documents: dict[str, Document],
                                                         texts: dict[str, str]) -> None:
    for it in checks.with_evidence(items):
        for chrome in FURNITURE:
            assert chrome not in it["evidence"], f"{it['id']}: evidence contains {chrome!r}"
        assert not PAGE_FOOTER.search(it["evidence"]), f"{it['id']}: evidence holds a page footer"
        start, end = _span(it, texts)
        kinds = {b.kind for b in documents[it["document_id"]].blocks if b.start < end and start < b.end}
        assert kinds - {"heading"}, f"{it['id']}: evidence is a heading"


def test_questions_do_not_copy_evidence(items: list[dict]) -> None:
    checks.check_no_copied_run(items)


def test_splits_alternate_within_document_and_kind(items: list[dict]) -> None:
    checks.check_alternating_splits(items)


def test_splits_cover_every_document_and_kind(items: list[dict]) -> None:
    for split in checks.SPLITS:
        part = [it for it in items if it["split"] == split]
        assert {it["document_id"] for it in checks.with_evidence(part)} == set(FORMATS), split
        assert {it["kind"] for it in part} == KINDS, split
    sizes = Counter(it["split"] for it in items)
    assert abs(sizes["tune"] - sizes["heldout"]) <= 2, sizes


def test_set_exercises_the_structures_of_real_documents(items: list[dict],
                                                        documents: dict[str, Document],
                                                        texts: dict[str, str]) -> None:
    """What the set is for: answers past page 1 of a PDF, in table rows, and in a lead-in line
    with the list below it."""
    later_pages = table_rows = lists = 0
    for it in checks.with_evidence(items):
        doc = documents[it["document_id"]]
        start, end = _span(it, texts)
        if doc.pages and max(p.number for p in doc.pages if p.start <= start) > 1:
            later_pages += 1
        inside = [b for b in doc.blocks if b.start < end and start < b.end]
        if any(b.kind == "table_row" for b in inside) or " | " in it["evidence"]:
            table_rows += 1
        if sum(b.kind == "list_item" for b in inside) >= 3 and inside[0].kind != "list_item":
            lists += 1
    assert later_pages >= 10, later_pages
    assert table_rows >= 6, table_rows
    assert lists >= 5, lists
