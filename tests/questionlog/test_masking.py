"""Masking personal data in questions: each kind, the numbers that must stay, and the log's
file format and retention (no server, no model)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from qa.questionlog.log import QuestionLog
from qa.questionlog.masking import mask_personal_data
from qa.search.results import SearchResult


@pytest.mark.parametrize(("text", "masked"), [
    ("Mitt personnummer är 850709-9805.", "Mitt personnummer är [personnummer]."),
    ("19850709-9805 och 198507099805 och 8507099805", "[personnummer] och [personnummer] och "
     "[personnummer]"),
    ("850709+9805", "[personnummer]"),  # over 100 years old
    ("samordningsnummer 850769-9802", "samordningsnummer [personnummer]"),  # day + 60
    ("nr 850709 9805", "nr [personnummer]"),
    ("nr 850709\u200b-9805", "nr [personnummer]"),  # a zero-width space does not hide it
    ("fel kontrollsiffra 850709-9806", "fel kontrollsiffra [nummer]"),  # still masked
    ("ring 070-123 45 67", "ring [telefonnummer]"),
    ("ring 0701234567 eller 08-123 456 78", "ring [telefonnummer] eller [telefonnummer]"),
    ("ring +46 70 123 45 67 eller 0046 8 12 34 56", "ring [telefonnummer] eller [telefonnummer]"),
    ("ring ０７０１２３４５６７", "ring [telefonnummer]"),  # full-width digits
    ("mejla anna.svensson@exempel.se nu", "mejla [e-post] nu"),
    ("a.b+c@kommun.example.org", "[e-post]"),
    ("Jag bor på Storgatan 12B, 123 45 Småstad", "Jag bor på [adress], [adress]"),
    ("Kungsvägen 3 lgh 1102 i Växjö", "[adress] i Växjö"),
    ("Box 123, SE-351 04 Växjö", "[adress], [adress]"),
    ("Lilla torget 4", "Lilla [adress]"),
    ("kort 4111 1111 1111 1111", "kort [nummer]"),
    ("ärende 98765432", "ärende [nummer]"),
    ("ärende 1234-567-89", "ärende [nummer]"),
])
def test_personal_data_is_replaced_by_its_type(text, masked):
    assert mask_personal_data(text) == masked
    assert mask_personal_data(masked) == masked  # idempotent


@pytest.mark.parametrize("text", [
    "Vad kostar bygglov 2024?", "Hur många länsstyrelser fanns det år 2015?",
    "Vad hände 23-24 januari 2020?", "Ärende 123456 om 3 miljoner kronor",
    "Vad säger 3 kap. 2 § kommunallagen?", "Regiondagarna i Kronoberg",
])
def test_questions_without_personal_data_stay_as_they_are(text):
    assert mask_personal_data(text) == text


def _result(good: bool) -> SearchResult:
    return SearchResult(question="", mode="hybrid", hits=[], took_ms=1.0, no_good_match=not good,
                        timings={})


def test_the_log_writes_masked_lines_by_day_and_retention_deletes_whole_days(tmp_path):
    now = [datetime(2025, 6, 2, 10, 41, 7, tzinfo=UTC)]
    log = QuestionLog(tmp_path / "questions", "kommunen", days=30, clock=lambda: now[0])
    answer = log.record("Ring 070-123 45 67", _result(False))
    assert answer.startswith("20250602-")
    day = tmp_path / "questions" / "2025-06-02.jsonl"
    entry = json.loads(day.read_text(encoding="utf-8"))
    assert entry == {"kind": "question", "answer_id": answer, "time": "2025-06-02T10:00Z",
                     "collection": "kommunen", "question": "Ring [telefonnummer]",
                     "good_match": False, "top_document": None, "top_similarity": None}
    assert oct(day.stat().st_mode & 0o777) == "0o600"
    assert log.feedback(answer, False) and not log.feedback("20250602-0000000000000000", True)
    assert not log.feedback("../../etc/passwd", True)
    assert [(e.question, e.feedback) for e in log.entries()] == [("Ring [telefonnummer]", False)]
    now[0] += timedelta(days=29, hours=13)  # 2025-07-01 23:41: the first hour is 29 days old
    assert log.prune() == 0 and day.exists()
    now[0] += timedelta(minutes=20)  # 2025-07-02 00:01: 30 days
    assert log.prune() == 1 and not day.exists()
    assert not log.feedback(answer, True)  # expired: unknown, and no file is made again
    assert not day.exists()
