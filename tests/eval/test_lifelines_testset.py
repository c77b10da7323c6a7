"""Consistency checks for qa/eval/testsets/lifelines_sv.jsonl, the question set over the Swedish
manuals of Debian's ``lifelines-doc-sv`` (a second real collection, not written for this service).

The shape of the set is checked always; its evidence is checked against the converted text of
the manuals when the package is unpacked where ``make real-docs`` puts it (``var/real-docs``;
otherwise those tests skip, and fail in CI). No model and no index.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from qa.eval.testset import load_testset
from qa.ingest.documents import Document
from qa.ingest.sources import read_corpus
from tests.eval import make_lifelines_corpus as corpus
from tests.eval import testset_checks as checks
from tests.eval.test_libreoffice_testset import ANSWERABLE_KINDS, KINDS, NO_ANSWER_KINDS

TESTSET = corpus.ROOT / "qa" / "eval" / "testsets" / "lifelines_sv.jsonl"


@pytest.fixture(scope="module")
def raw_lines() -> list[str]:
    return checks.read_lines(TESTSET)


@pytest.fixture(scope="module")
def items(raw_lines: list[str]) -> list[dict]:
    return checks.parse(raw_lines)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Document]:
    if not corpus.folder().is_dir():
        why = f"{corpus.folder()} is missing: run make real-docs (lifelines-doc-sv)"
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("lifelines")
    corpus.write_corpus(folder)
    found = read_corpus(folder)
    assert not found.skipped, found.skipped
    return {doc.id: doc for doc in found.documents}


def test_every_line_parses(raw_lines: list[str]) -> None:
    checks.check_lines(raw_lines)
    assert len(load_testset(TESTSET)) == len(raw_lines) - 1


def test_fields_and_ids(items: list[dict]) -> None:
    checks.check_fields(items, r"ll\d{3}")
    assert [it["id"] for it in items] == [f"ll{n:03d}" for n in range(1, len(items) + 1)]


def test_ids_and_questions_unique(items: list[dict]) -> None:
    checks.check_unique(items)


def test_kinds_and_splits_valid(items: list[dict]) -> None:
    checks.check_kinds_and_splits(items, KINDS)


def test_questions_without_answer_have_no_target(items: list[dict]) -> None:
    checks.check_targets(items, NO_ANSWER_KINDS)


def test_counts(items: list[dict]) -> None:
    kinds = Counter(it["kind"] for it in items)
    assert sum(kinds[k] for k in ANSWERABLE_KINDS) >= 50
    assert kinds["unanswerable"] >= 20
    assert {it["document_id"] for it in checks.with_evidence(items)} == {
        name.removesuffix(".html") for name in corpus.spec()["files"]}


def test_questions_do_not_copy_evidence(items: list[dict]) -> None:
    checks.check_no_copied_run(items)


def test_splits_alternate_within_kind(items: list[dict]) -> None:
    """Fixed when the questions were written, before any run: within each kind, in id order,
    ``tune`` then ``heldout``."""
    seen: Counter[str] = Counter()
    for it in items:
        assert it["split"] == checks.SPLITS[seen[it["kind"]] % 2], it["id"]
        seen[it["kind"]] += 1


def test_evidence_occurs_exactly_once(items: list[dict], documents: dict[str, Document]) -> None:
    checks.check_evidence_once(items, {doc_id: doc.text for doc_id, doc in documents.items()})
