"""Bootstrap intervals, paired comparisons and the per-question breakdown (model-free)."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from qa.cli import app
from qa.eval import breakdown
from qa.eval.answers import answer_scores
from qa.eval.confidence import compare, interval
from qa.eval.metrics import Retrieved
from qa.eval.testset import EvalQuery, Target


def test_interval_holds_the_mean_and_narrows_with_more_questions() -> None:
    rng = np.random.default_rng(0)
    small = (rng.random(50) < 0.7).astype(float)
    large = (rng.random(2000) < 0.7).astype(float)
    a, b = interval(small), interval(large)
    assert a.low < a.mean < a.high and b.low < b.mean < b.high
    assert (b.high - b.low) < (a.high - a.low) / 3
    assert interval([1.0] * 10).text() == "1.000 [1.000, 1.000]"
    assert interval(small) == a  # fixed seed: the same data give the same interval


def test_paired_comparison_sees_a_consistent_small_gain_that_unpaired_intervals_miss() -> None:
    rng = np.random.default_rng(1)
    a = (rng.random(300) < 0.6).astype(float)
    b = a.copy()
    b[np.flatnonzero(a == 0)[:15]] = 1.0  # B answers 15 more, loses none: +0.05
    ia, ib = interval(a), interval(b)
    assert ib.low < ia.high  # the two intervals overlap ...
    c = compare(a, b)
    assert c.verdict == "better" and c.difference.low > 0  # ... but the paired one is clear
    assert compare(b, a).verdict == "worse"
    assert compare(a, a).verdict == "no clear difference"
    noisy = a.copy()
    noisy[np.flatnonzero(a == 1)[:10]] = 0.0
    noisy[np.flatnonzero(a == 0)[:10]] = 1.0
    assert compare(a, noisy).verdict == "no clear difference"


def _row(qid: str, answerable: bool, kind: str, split: str, **scores: float) -> dict:
    return {"id": qid, "answerable": answerable, "kind": kind, "split": split,
            "no_good_match": {"hybrid": bool(scores.pop("Flagged", 0.0))},
            "scores": {"hybrid": scores}}


def test_flagged_splits_answerable_from_unanswerable_and_fewer_false_flags_is_better() -> None:
    rows_a = [_row(f"q{i}", True, "who", "tune", **{"Hit@1": 1.0, "Flagged": 1.0})
              for i in range(40)] + [_row(f"u{i}", False, "unanswerable", "tune") for i in range(10)]
    rows_b = [_row(f"q{i}", True, "who", "tune", **{"Hit@1": 1.0}) for i in range(40)] + [
        _row(f"u{i}", False, "unanswerable", "tune", Flagged=1.0) for i in range(10)]
    found = breakdown.comparisons(rows_a, "hybrid", rows_b, "hybrid", breakdown.headline(10))
    assert found[breakdown.FLAGGED_ANSWERABLE].b == 0.0
    assert breakdown.verdict(breakdown.FLAGGED_ANSWERABLE, found[breakdown.FLAGGED_ANSWERABLE]) == "better"
    assert breakdown.verdict(breakdown.FLAGGED_UNANSWERABLE,
                             found[breakdown.FLAGGED_UNANSWERABLE]) == "better"
    assert found["Hit@1"].verdict == "no clear difference"


def test_answer_accuracy_judges_the_first_highlight_only() -> None:
    q = EvalQuery("q", "?", (Target("d", 100, 150),))

    def r(doc: str, *spans: tuple[int, int]) -> Retrieved:
        return Retrieved("p", doc, 0, 500, "x", 0.9, 0, tuple(spans))

    assert answer_scores(q, [r("d", (120, 130))]) == {"Answer@1": 1.0, "Answer@3": 1.0}
    assert answer_scores(q, [r("d", (10, 20), (120, 130))])["Answer@1"] == 0.0
    assert answer_scores(q, [r("e", (120, 130))])["Answer@1"] == 0.0
    assert answer_scores(q, [r("d"), r("d", (0, 10)), r("d", (149, 160))]) == {
        "Answer@1": 0.0, "Answer@3": 1.0}


def test_qa_compare_prints_paired_differences_and_rejects_bad_reports(tmp_path) -> None:
    rows = [_row(f"q{i}", True, "who", "heldout" if i % 2 else "tune",
                 **{"Hit@1": float(i % 3 != 0), "MRR@10": 1.0}) for i in range(60)]
    better = [_row(r["id"], True, "who", r["split"], **{"Hit@1": 1.0, "MRR@10": 1.0}) for r in rows]
    for name, per in (("a.json", rows), ("b.json", better)):
        (tmp_path / name).write_text(json.dumps({"modes": ["hybrid"], "default_mode": "hybrid",
                                                 "k": 10, "per_question": per}))
    runner = CliRunner()
    out = runner.invoke(app, ["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert out.exit_code == 0, out.output
    assert "60 questions in both" in out.output
    assert "| Hit@1 | 0.667 | 1.000 |" in out.output and "| better |" in out.output
    out = runner.invoke(app, ["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                              "--split", "heldout"])
    assert "30 questions in both (split heldout)" in out.output
    (tmp_path / "bad.json").write_text("{not json")
    out = runner.invoke(app, ["compare", str(tmp_path / "a.json"), str(tmp_path / "bad.json")])
    assert out.exit_code == 1 and "not a readable report.json" in str(out.exception or out.output)
