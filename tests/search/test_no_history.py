"""A search without history answers as before conversations existed.

``data/no_history_golden.json`` holds what an engine without conversations answered to every
seed test question in every mode (``no_history_golden`` says which engine and how it was
made); today's engine must give the same passages in the same order, with the same
highlights, sections and ``no_good_match``, and the same scores (to rounding: the fixture's
index is built in-process, the golden one by ``qa build``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.search.no_history_golden import answers

GOLDEN = Path(__file__).resolve().parent / "data" / "no_history_golden.json"


def test_every_answer_without_history_is_the_one_before_conversations(engine):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    today = answers(engine)
    assert today.keys() == golden.keys()
    for key, before in golden.items():
        now = today[key]
        assert now["no_good_match"] == before["no_good_match"], key
        assert now["question"] == before["question"], key
        assert [h[0] for h in now["hits"]] == [h[0] for h in before["hits"]], key
        for h_now, h_before in zip(now["hits"], before["hits"], strict=True):
            assert h_now[1:4] == pytest.approx(h_before[1:4], abs=1e-4), key
            assert h_now[4:] == h_before[4:], key
