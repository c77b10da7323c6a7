"""Evaluation questions and what counts as a right answer.

Labels are character spans, not passage ids, so a test set survives any change
of segmentation: a retrieved passage is relevant when its ``[start, end)``
overlaps the evidence span in the document text *as the index stores it*.
Benchmarks with whole-document labels use a target without a span.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError
from qa.ingest.jsonl import jsonl_records
from qa.ingest.passages import Passage

BUNDLED_TESTSET = Path(__file__).resolve().parent / "testsets" / "seeds_sv.jsonl"


@dataclass(frozen=True)
class Target:
    """Where an answer is: a span of a document, or (``start is None``) the whole document."""

    document_id: str
    start: int | None = None
    end: int | None = None
    grade: int = 1  # graded relevance (BEIR qrels); the seed set and SweFAQ are binary

    def matches(self, document_id: str, start: int, end: int) -> bool:
        """True when a retrieved span ``[start, end)`` of ``document_id`` holds (part of) the answer."""
        if document_id != self.document_id:
            return False
        if self.start is None or self.end is None:
            return True
        return overlaps(start, end, self.start, self.end)


@dataclass(frozen=True)
class EvalQuery:
    """One question with its targets; no targets means the corpus cannot answer it."""

    id: str
    question: str
    targets: tuple[Target, ...] = ()
    split: str | None = None
    kind: str | None = None
    expected: str | None = None  # the evidence or answer, shown in the report's list of misses

    @property
    def answerable(self) -> bool:
        return bool(self.targets)

    def target_of(self, passage: Passage) -> int | None:
        """Index of the first target this passage hits, or None when it is not relevant."""
        for i, t in enumerate(self.targets):
            if t.matches(passage.document_id, passage.start, passage.end):
                return i
        return None


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Half-open spans share at least one character."""
    return a_start < b_end and b_start < a_end


def evidence_span(text: str, evidence: str, where: str = "") -> tuple[int, int]:
    """The ``[start, end)`` of a verbatim quote that must occur exactly once in ``text``."""
    count = text.count(evidence)
    if count != 1:
        found = "does not occur" if count == 0 else f"occurs {count} times"
        raise QAError(f"{where}: the evidence {found} in the document text; "
                      "it must be quoted verbatim and be unique")
    start = text.index(evidence)
    return start, start + len(evidence)


@dataclass(frozen=True)
class TestItem:
    """A raw line of a span-labelled test set (see ``qa/eval/testsets/README.md``)."""

    __test__ = False  # not a pytest class despite the name

    id: str
    question: str
    document_id: str | None
    evidence: str | None
    kind: str
    split: str


def load_testset(path: Path) -> list[TestItem]:
    """Read a span-labelled JSONL test set, checking every line's shape."""
    if not path.is_file():
        raise QAError(f"{path}: no such test set file")
    items: list[TestItem] = []
    for where, rec in jsonl_records(path):
        try:
            item = TestItem(str(rec["id"]), str(rec["question"]), rec.get("document_id"),
                            rec.get("evidence"), str(rec.get("kind", "")), str(rec.get("split", "")))
        except KeyError as exc:
            raise QAError(f"{where}: not a test set line (missing {exc})") from None
        if (item.document_id is None) != (item.evidence is None):
            raise QAError(f"{where}: document_id and evidence must both be set or both be null")
        items.append(item)
    if not items:
        raise QAError(f"{path}: the test set is empty")
    return items


def resolve(items: Iterable[TestItem], texts: Mapping[str, str]) -> list[EvalQuery]:
    """Turn test items into queries with spans in ``texts`` (the index's document texts)."""
    queries: list[EvalQuery] = []
    for it in items:
        targets: tuple[Target, ...] = ()
        if it.document_id is not None and it.evidence is not None:
            if it.document_id not in texts:
                raise QAError(f"question {it.id}: document {it.document_id!r} is not in the index; "
                              "evaluate against an index of the corpus the test set was written for")
            start, end = evidence_span(texts[it.document_id], it.evidence, f"question {it.id}")
            targets = (Target(it.document_id, start, end),)
        queries.append(EvalQuery(it.id, it.question, targets, it.split or None, it.kind or None,
                                 it.evidence))
    return queries
