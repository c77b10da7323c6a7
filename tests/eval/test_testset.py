"""Consistency checks for the Swedish retrieval test set qa/eval/testsets/seeds_sv.jsonl.

Plain standard library: the set must stay valid whatever happens to the service code.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.eval import testset_checks as checks

ROOT = Path(__file__).resolve().parents[2]
TESTSET = ROOT / "qa" / "eval" / "testsets" / "seeds_sv.jsonl"
SEEDS = ROOT / "seeds"

KINDS = {
    "who",
    "what",
    "when",
    "how_many",
    "why",
    "how",
    "list",
    "synonym",
    "two_sentence",
    "where",
    "cost",
    "unanswerable",
    "off_topic",
}
# Kinds with no answer in the corpus: document_id and evidence are null.
# `unanswerable` is on the corpus' topics; `off_topic` is a resident's question about something else.
NO_ANSWER_KINDS = {"unanswerable", "off_topic"}
SPLITS = set(checks.SPLITS)
MAX_SHARED_RUN = checks.MAX_SHARED_RUN
# Site chrome the service filters out: evidence must never come from it.
FURNITURE = (
    "Fler nyheter",
    "Relaterade nyheter",
    "Region Örebro läns webbplats för regional utveckling",
    "Växel:",
    "Hade du nytta av innehållet på denna sida?",
    "Senast uppdaterad:",
    "Kontakter",
)


def _read_doc(path: Path) -> str:
    # Same decoding as the service (no newline translation), so offsets agree.
    return path.read_bytes().decode("utf-8-sig")


@pytest.fixture(scope="module")
def docs() -> dict[str, str]:
    return {p.stem: _read_doc(p) for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="module")
def raw_lines() -> list[str]:
    return TESTSET.read_bytes().decode("utf-8").split("\n")


@pytest.fixture(scope="module")
def items(raw_lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in raw_lines if line.strip()]


def _answerable(items: list[dict]) -> list[dict]:
    return [it for it in items if it["kind"] not in NO_ANSWER_KINDS]


def test_every_line_parses(raw_lines: list[str]) -> None:
    checks.check_lines(raw_lines)


def test_required_fields_and_types(items: list[dict]) -> None:
    checks.check_fields(items, r"s\d{3}")


def test_ids_and_questions_unique(items: list[dict]) -> None:
    checks.check_unique(items)


def test_kinds_and_splits_valid(items: list[dict]) -> None:
    checks.check_kinds_and_splits(items, KINDS)


def test_unanswerable_have_no_document(items: list[dict]) -> None:
    checks.check_targets(items, NO_ANSWER_KINDS)


def test_counts(items: list[dict]) -> None:
    answerable = _answerable(items)
    assert len(items) >= 234
    assert len(answerable) >= 194
    assert len(items) - len(answerable) >= 40
    kinds = Counter(it["kind"] for it in items)
    for kind in KINDS:
        assert kinds[kind] >= 3, f"kind {kind} only {kinds[kind]} times"


def test_document_ids_exist(items: list[dict], docs: dict[str, str]) -> None:
    for it in _answerable(items):
        assert it["document_id"] in docs, f"{it['id']}: unknown document {it['document_id']}"


def test_evidence_occurs_exactly_once(items: list[dict], docs: dict[str, str]) -> None:
    checks.check_evidence_once(items, docs)


def test_evidence_not_from_site_furniture(items: list[dict], docs: dict[str, str]) -> None:
    for it in _answerable(items):
        text = docs[it["document_id"]]
        ev = it["evidence"]
        for chrome in FURNITURE:
            assert chrome not in ev, f"{it['id']}: evidence contains {chrome!r}"
        tail = text.find("Relaterade nyheter")
        if tail >= 0:
            assert text.index(ev) < tail, f"{it['id']}: evidence in the related-news teasers"


def test_all_documents_covered(items: list[dict], docs: dict[str, str]) -> None:
    covered = {it["document_id"] for it in _answerable(items)}
    assert covered == set(docs), f"not covered: {sorted(set(docs) - covered)}"


def test_splits_cover_every_document_and_kind(items: list[dict], docs: dict[str, str]) -> None:
    for split in SPLITS:
        part = [it for it in items if it["split"] == split]
        assert part, f"split {split} is empty"
        assert {it["document_id"] for it in _answerable(part)} == set(docs), split
        assert {it["kind"] for it in part} == KINDS, split
    sizes = Counter(it["split"] for it in items)
    assert abs(sizes["tune"] - sizes["heldout"]) <= 2, sizes


def test_splits_balanced_per_document_and_kind(items: list[dict]) -> None:
    # The halves are comparable only if no document or kind leans to one side.
    for field in ("document_id", "kind"):
        counts = Counter((it[field], it["split"]) for it in items)
        for value in {it[field] for it in items}:
            tune, heldout = counts[(value, "tune")], counts[(value, "heldout")]
            assert abs(tune - heldout) <= 1, f"{field}={value}: tune {tune}, heldout {heldout}"


def test_questions_do_not_copy_evidence(items: list[dict]) -> None:
    checks.check_no_copied_run(items, MAX_SHARED_RUN)