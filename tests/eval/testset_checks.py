"""Checks shared by the consistency tests of the span-labelled test sets in qa/eval/testsets/.

Each test set (``seeds_sv.jsonl`` over ``seeds/``, ``kommun_sv.jsonl`` over
``qa/eval/testsets/kommun/``) has the line format ``qa/eval/testsets/README.md`` describes, and
the same rules hold for every one of them: it parses, its fields have their types, ids and
questions are unique, an evidence quote occurs exactly once in its document's text, and no
question copies a run of words from its evidence. The rules live here once; each set's test
module supplies its own documents, kinds and counts.

Plain functions over parsed lines, failing with an ``AssertionError`` that names the question:
the sets must stay checkable whatever happens to the service code, so nothing here imports it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "question": str,
    "document_id": (str, type(None)),
    "evidence": (str, type(None)),
    "kind": str,
    "split": str,
}
SPLITS = ("tune", "heldout")
MAX_SHARED_RUN = 4  # a question may share at most 4 consecutive words with its evidence


def read_lines(path: Path) -> list[str]:
    """The file's lines as written (UTF-8, split on ``\\n``; the last is empty when the file
    ends with a newline)."""
    return path.read_bytes().decode("utf-8").split("\n")


def parse(raw_lines: Iterable[str]) -> list[dict]:
    """The JSON object of every non-blank line."""
    return [json.loads(line) for line in raw_lines if line.strip()]


def words(text: str) -> list[str]:
    """Lower-cased words with punctuation stripped."""
    return re.findall(r"\w+", text.lower())


def longest_shared_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive items that ``a`` and ``b`` share."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def with_evidence(items: Iterable[dict]) -> list[dict]:
    """The answerable questions: those with a document and an evidence quote."""
    return [it for it in items if it["evidence"] is not None]


def check_lines(raw_lines: list[str]) -> None:
    """One JSON object per line, no blank line, a final newline, UTF-8 not ``\\u`` escapes."""
    assert raw_lines[-1] == "", "file must end with a newline"
    for n, line in enumerate(raw_lines[:-1], start=1):
        assert line.strip(), f"line {n} is blank"
        assert isinstance(json.loads(line), dict), f"line {n} is not a JSON object"
    assert "\\u00" not in "\n".join(raw_lines), "write with ensure_ascii=False"


def check_fields(items: list[dict], id_pattern: str) -> None:
    """Every field present with its type, ids matching ``id_pattern``, questions trimmed."""
    for it in items:
        for name, typ in FIELDS.items():
            assert name in it, f"{it.get('id')}: missing {name}"
            assert isinstance(it[name], typ), f"{it['id']}: {name} has type {type(it[name])}"
        assert re.fullmatch(id_pattern, it["id"]), it["id"]
        assert it["question"].strip() == it["question"] and len(it["question"]) >= 5, it["id"]


def check_unique(items: list[dict]) -> None:
    """No id and no question (ignoring case) occurs twice."""
    ids = Counter(it["id"] for it in items)
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"
    questions = Counter(it["question"].lower() for it in items)
    assert not [q for q, n in questions.items() if n > 1], "duplicate questions"


def check_kinds_and_splits(items: list[dict], kinds: Collection[str]) -> None:
    """Every kind is one of ``kinds``; every split is ``tune`` or ``heldout``."""
    for it in items:
        assert it["kind"] in kinds, f"{it['id']}: kind {it['kind']!r}"
        assert it["split"] in SPLITS, f"{it['id']}: split {it['split']!r}"


def check_targets(items: list[dict], no_answer_kinds: Collection[str]) -> None:
    """``document_id`` and ``evidence`` are null exactly for the kinds without an answer."""
    for it in items:
        no_answer = it["kind"] in no_answer_kinds
        assert (it["document_id"] is None) == no_answer, it["id"]
        assert (it["evidence"] is None) == no_answer, it["id"]


def check_evidence_once(items: list[dict], texts: Mapping[str, str]) -> None:
    """Every evidence is a trimmed, non-empty quote found exactly once in its document."""
    for it in with_evidence(items):
        assert it["document_id"] in texts, f"{it['id']}: unknown document {it['document_id']}"
        ev = it["evidence"]
        assert ev.strip() == ev and ev, f"{it['id']}: evidence empty or padded"
        n = texts[it["document_id"]].count(ev)
        assert n == 1, f"{it['id']}: evidence occurs {n} times in {it['document_id']}"


def check_no_copied_run(items: list[dict], max_run: int = MAX_SHARED_RUN) -> None:
    """No question shares more than ``max_run`` consecutive words with its evidence."""
    for it in with_evidence(items):
        run = longest_shared_run(words(it["question"]), words(it["evidence"]))
        assert run <= max_run, f"{it['id']}: question shares {run} consecutive words with its evidence"


def check_alternating_splits(items: list[dict]) -> None:
    """Within each (document, kind) group, in id order, splits alternate from ``tune``: the
    split was fixed by position when the question was written, never by how it scored."""
    seen: Counter[tuple[str | None, str]] = Counter()
    for it in sorted(items, key=lambda it: it["id"]):
        group = (it["document_id"], it["kind"])
        expected = SPLITS[seen[group] % 2]
        seen[group] += 1
        assert it["split"] == expected, f"{it['id']}: split {it['split']!r}, expected {expected!r}"
