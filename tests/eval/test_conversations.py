"""Conversation sets and their evaluation's bookkeeping (``qa.eval.conversations``): model-free.

The sets themselves: every line well formed, evidence quoted once from its seed document,
no question copying its evidence, and the split fixed by position (alternating within each
kind). The loader's errors, and the summary's arithmetic on rows whose outcome is known.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from qa.errors import QAError
from qa.eval.conversations import load_conversations, summarise
from tests.eval.testset_checks import longest_shared_run, words

ROOT = Path(__file__).resolve().parents[2]
TESTSETS = ROOT / "qa" / "eval" / "testsets"
SETS = ("followups_seeds_sv.jsonl", "followups_kommun_sv.jsonl")


def lines(name: str) -> list[dict]:
    return [json.loads(line) for line in (TESTSETS / name).read_text(encoding="utf-8").splitlines()]


def seed_texts() -> dict[str, str]:
    return {p.stem: p.read_bytes().decode("utf-8-sig") for p in (ROOT / "seeds").glob("*.txt")}


@pytest.mark.parametrize("name", SETS)
def test_a_conversation_set_is_well_formed_and_split_by_position(name: str) -> None:
    rows = lines(name)
    assert len({r["id"] for r in rows}) == len(rows)
    seen: Counter[str] = Counter()
    for r in rows:
        assert r["kind"] in ("followup", "topic_change", "unanswerable")
        assert (r["cue"] == "none") == (r["kind"] != "followup")
        assert r["split"] == ("tune", "heldout")[seen[r["kind"]] % 2], r["id"]
        seen[r["kind"]] += 1
        if r["kind"] == "unanswerable":
            assert set(r) == {"id", "first", "question", "kind", "cue", "split"}
            continue
        assert set(r) == {"id", "first", "question", "document_id", "evidence", "kind", "cue",
                          "split"}
        assert longest_shared_run(words(r["question"]), words(r["evidence"])) <= 4, r["id"]
    assert seen["followup"] >= 24 and seen["topic_change"] >= 8 and seen["unanswerable"] >= 8


def test_there_are_at_least_sixty_conversations_with_topic_changes_among_them() -> None:
    rows = [r for name in SETS for r in lines(name)]
    assert len(rows) >= 60
    assert sum(r["kind"] == "topic_change" for r in rows) >= 20


def test_the_seed_conversations_resolve_in_the_seed_texts(tmp_path: Path) -> None:
    texts = seed_texts()
    found = load_conversations(TESTSETS / SETS[0], texts)
    assert len(found) == len(lines(SETS[0]))
    for c in found:
        if c.query.kind == "unanswerable":
            assert not c.query.targets
            continue
        t = c.query.targets[0]
        assert t.start is not None and t.end is not None
        assert texts[t.document_id][t.start:t.end] == c.query.expected


@pytest.mark.parametrize(("line", "message"), [
    ({"id": "x", "first": "a", "question": "b", "document_id": "d", "evidence": "E"},
     "missing 'kind'"),
    ({"id": "x", "first": "a", "question": "b", "document_id": "d", "evidence": "E",
      "kind": "other"}, "kind must be one of"),
    ({"id": "x", "first": " ", "question": "b", "document_id": "d", "evidence": "E",
      "kind": "followup"}, "non-empty strings"),
    ({"id": "x", "first": "a", "question": "b", "document_id": "nope", "evidence": "E",
      "kind": "followup"}, "not in the index"),
    ({"id": "x", "first": "a", "question": "b", "document_id": "d", "evidence": "twice",
      "kind": "followup"}, "occurs 2 times"),
])
def test_a_bad_line_is_an_error_that_names_it(tmp_path: Path, line: dict, message: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(QAError, match=message):
        load_conversations(path, {"d": "E twice twice"})


def test_an_unanswerable_conversation_has_no_evidence(tmp_path: Path) -> None:
    line = {"id": "u", "first": "a", "question": "b", "kind": "unanswerable"}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (found,) = load_conversations(path, {})
    assert found.query.kind == "unanswerable" and not found.query.answerable
    path.write_text(json.dumps({**line, "document_id": "d", "evidence": "E"}) + "\n",
                    encoding="utf-8")
    with pytest.raises(QAError, match="has no document_id or evidence"):
        load_conversations(path, {"d": "E"})


def test_a_duplicate_id_and_an_empty_file_are_errors(tmp_path: Path) -> None:
    line = {"id": "x", "first": "a", "question": "b", "document_id": "d", "evidence": "E",
            "kind": "followup"}
    path = tmp_path / "c.jsonl"
    path.write_text((json.dumps(line) + "\n") * 2, encoding="utf-8")
    with pytest.raises(QAError, match="used twice"):
        load_conversations(path, {"d": "E"})
    path.write_text("", encoding="utf-8")
    with pytest.raises(QAError, match="empty"):
        load_conversations(path, {"d": "E"})
    with pytest.raises(QAError, match="no such"):
        load_conversations(tmp_path / "missing.jsonl", {})


def _row(cid: str, kind: str, alone: float, history: float, undisturbed: bool,
         carried: bool) -> dict:
    return {"id": cid, "split": "heldout", "kind": kind, "answerable": True,
            "scores": {"alone": {"Hit@1": alone, "MRR@10": alone},
                       "history": {"Hit@1": history, "MRR@10": history}},
            "no_good_match": {"alone": False, "history": False},
            "undisturbed": undisturbed, "carried": carried}


def test_the_summary_counts_follow_ups_and_topic_changes_apart() -> None:
    rows = [_row("a", "followup", 0, 1, False, True), _row("b", "followup", 0, 1, False, True),
            _row("c", "followup", 1, 0, False, True), _row("d", "followup", 0, 0, True, False),
            _row("e", "topic_change", 1, 1, True, False),
            _row("f", "topic_change", 1, 0, False, True)]
    found = summarise(rows, 10)
    assert set(found) == {"all", "heldout"}
    fu, tc = found["heldout"]["followup"], found["heldout"]["topic_change"]
    assert fu["conversations"] == 4 and tc["conversations"] == 2
    assert fu["alone"]["Hit@1"]["mean"] == 0.25 and fu["history"]["Hit@1"]["mean"] == 0.5
    assert fu["difference"]["Hit@1"]["difference"]["mean"] == 0.25
    assert fu["read_with_first"] == 0.75
    assert tc["undisturbed"] == 0.5 and tc["history"]["Hit@1"]["mean"] == 0.5


def test_unanswerable_questions_report_how_many_were_dragged_onto_the_first() -> None:
    def row(cid: str, flagged_alone: bool, flagged: bool, carried: bool) -> dict:
        return {"id": cid, "split": "tune", "kind": "unanswerable", "answerable": False,
                "scores": {"alone": {"NoGoodMatch": float(flagged_alone)},
                           "history": {"NoGoodMatch": float(flagged)}},
                "undisturbed": not carried, "carried": carried}

    found = summarise([row("u", True, False, True), row("v", True, True, False),
                       row("w", False, False, False), row("x", True, True, False)], 10)
    un = found["tune"]["unanswerable"]
    assert un["conversations"] == 4 and un["dragged"] == 0.25
    assert un["alone"]["NoGoodMatch"]["mean"] == 0.75
    assert un["history"]["NoGoodMatch"]["mean"] == 0.5
    assert "Hit@1" not in un["alone"]
