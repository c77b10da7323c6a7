"""What the user reads first: does the highlighted sentence hold the answer?

A passage can be the right one while its highlight marks the wrong sentence;
the page shows the highlight first, so it is measured on its own. A result
*answers* when its first highlight span overlaps the evidence span of a target
in the same document (the same overlap rule as passage relevance,
``qa.eval.testset.overlaps``). Only span-labelled questions are scored: a
benchmark that labels whole documents has no sentence to find.

* ``Answer@1`` (answer accuracy): the first result answers.
* ``Answer@3`` (answer recall within the top 3): one of the first three results answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.eval.metrics import Retrieved
from qa.eval.testset import EvalQuery, overlaps

ANSWER_DEPTHS = (1, 3)
DEFINITIONS = {
    "Answer@1": "answer accuracy: share of answerable questions whose first result's first "
                "highlighted span overlaps the evidence",
    "Answer@3": "answer recall within the top 3: share whose evidence is overlapped by the first "
                "highlighted span of one of the first three results",
}


def has_spans(q: EvalQuery) -> bool:
    """Whether the question's targets are spans, so a highlight can be judged."""
    return q.answerable and all(t.start is not None for t in q.targets)


def answers(q: EvalQuery, r: Retrieved) -> bool:
    """Whether the result's first highlight overlaps one of the question's evidence spans."""
    if not r.highlights:
        return False
    a, b = r.highlights[0]
    return any(t.document_id == r.document_id and t.start is not None and t.end is not None
               and overlaps(a, b, t.start, t.end) for t in q.targets)


def answer_scores(q: EvalQuery, retrieved: Sequence[Retrieved]) -> dict[str, float]:
    """``Answer@1`` and ``Answer@3`` of one span-labelled question, as 1.0 or 0.0."""
    hits = [answers(q, r) for r in retrieved[: max(ANSWER_DEPTHS)]]
    return {f"Answer@{d}": float(any(hits[:d])) for d in ANSWER_DEPTHS}
