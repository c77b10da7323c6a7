"""The gap report on the seed collection with the real model: paraphrases of topics the seeds
do not cover land in one group each, and answerable questions stay out of the top groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.questionlog import gaps
from qa.questionlog.log import QuestionLog

QUESTIONS = json.loads((Path(__file__).parent / "gap_questions.json").read_text(encoding="utf-8"))


def _report(engine, tmp_path: Path, half: str) -> tuple[gaps.GapReport, dict[str, str]]:
    """Ask every question of ``half`` through the real engine into a fresh log, then report."""
    log = QuestionLog(tmp_path / half, "seeds", days=30)
    topic_of: dict[str, str] = {}
    for topic, halves in QUESTIONS["topics"].items():
        for question in halves[half]:
            log.record(question, engine.search(question, 5))
            topic_of[question] = topic
    for question in QUESTIONS["answerable"][half]:
        log.record(question, engine.search(question, 5))
        topic_of[question] = "answerable"
    entries = log.entries()
    by_masked = {e.question: topic_of[q] for e, q in zip(entries, topic_of, strict=True)}
    titles = {d.id: d.title for d in engine.index.documents()}
    return gaps.gap_report(entries, engine.questions.embed_many, titles, engine.centroid), by_masked


@pytest.mark.parametrize("half", ["tune", "heldout"])
def test_unanswered_topics_group_together_and_answerable_questions_stay_out(engine, tmp_path, half):
    report, topic_of = _report(engine, tmp_path, half)
    groups = [[topic_of[q] for q in g.questions] for g in report.groups]
    reported = {t for g in groups for t in g} - {"answerable"}
    # Every topic reaches the report (at least one paraphrase not answered well) ...
    assert reported == set(QUESTIONS["topics"]), groups
    # ... each in exactly one group, which holds nothing else ...
    for topic in reported:
        holding = [g for g in groups if topic in g]
        assert len(holding) == 1 and set(holding[0]) == {topic}, groups
    # ... and the top groups (as many as there are topics) hold no answerable question.
    top = groups[:len(QUESTIONS["topics"])]
    assert all("answerable" not in g for g in top), groups
    assert [g.count for g in report.groups] == sorted((g.count for g in report.groups), reverse=True)
    assert all(g.closest_documents for g in report.groups)
