"""The content-gap report: the logged questions a collection did not answer well, by topic.

A logged question counts as not answered well when

* the search found no good match (the abstention model's ``no_good_match``), or
* its best match was weak: its top similarity lies below the report's own threshold, the
  lower Tukey fence (first quartile - 1.5 x the interquartile range) of the top similarities of
  the questions that were answered and not marked unhelpful. That is an outlier among the
  answered questions of the same log and model, so it needs no setting; with fewer than
  ``MIN_FOR_THRESHOLD`` answered questions there is no fence and no question is weak; or
* a reader marked its answer unhelpful.

Those questions are grouped into topics by their question vectors (the served model's, of the
masked text): scikit-learn's agglomerative clustering, average linkage on cosine distance, cut
at ``DISTANCE_THRESHOLD``. A threshold rather than a number of groups, because nobody knows
beforehand how many topics readers miss; average linkage, because a paraphrase joins a topic
by its mean distance to it, so one odd question does not chain two topics together as single
linkage would. Before clustering each vector loses its part along the collection's mean
passage vector: every question to one collection shares that direction, and without it the
distances between topics and within one lie close together. The threshold was chosen on the
seed collection's gap questions (``tests/questionlog/gap_questions.json``, docs: gap report):
the tune half groups right from 0.52 to 0.66, the held-out half from 0.66 to 0.68.

Groups come largest first; each lists every masked question of the group (a question asked
twice counts twice) and the documents that came closest (the logged best documents of its
questions, most frequent first).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from qa.questionlog.log import LoggedQuestion, QuestionLog
from qa.search.engine import SearchEngine

#: Cosine distance at which two topics stay apart (average linkage).
DISTANCE_THRESHOLD = 0.66
#: Answered questions needed before the weak-match threshold is derived.
MIN_FOR_THRESHOLD = 8
#: Closest documents listed per group.
CLOSEST = 3


@dataclass
class GapGroup:
    """One topic of questions the collection did not answer well."""

    questions: list[str]
    closest_documents: list[dict[str, object]]

    @property
    def count(self) -> int:
        return len(self.questions)


@dataclass
class GapReport:
    """The groups, largest first, and how they were chosen."""

    groups: list[GapGroup]
    questions_logged: int
    weak_threshold: float | None
    reasons: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "groups": [{"count": g.count, "questions": g.questions,
                        "closest_documents": g.closest_documents} for g in self.groups],
            "questions_logged": self.questions_logged,
            "not_answered_well": sum(g.count for g in self.groups),
            "reasons": self.reasons,
            "weak_threshold": self.weak_threshold,
            "distance_threshold": DISTANCE_THRESHOLD,
        }


def weak_threshold(entries: Sequence[LoggedQuestion]) -> float | None:
    """The lower Tukey fence of the top similarities of the answered questions nobody marked
    unhelpful; ``None`` with fewer than ``MIN_FOR_THRESHOLD`` of them."""
    answered = [e.top_similarity for e in entries
                if e.good_match and e.feedback is not False and e.top_similarity is not None]
    if len(answered) < MIN_FOR_THRESHOLD:
        return None
    q1, q3 = np.percentile(np.asarray(answered, dtype=np.float64), [25, 75])
    return round(float(q1 - 1.5 * (q3 - q1)), 4)


def why_not_answered(entry: LoggedQuestion, threshold: float | None) -> str | None:
    """``no_good_match``, ``unhelpful`` or ``weak_match``; ``None`` when answered well."""
    if not entry.good_match:
        return "no_good_match"
    if entry.feedback is False:
        return "unhelpful"
    if threshold is not None and entry.top_similarity is not None and \
            entry.top_similarity < threshold:
        return "weak_match"
    return None


def topics(vectors: np.ndarray, centroid: np.ndarray | None = None) -> list[int]:
    """A topic label per row of ``vectors``: agglomerative clustering as the module says, on
    the vectors less their part along the collection's ``centroid`` (unit length)."""
    if len(vectors) < 2:
        return [0] * len(vectors)
    from sklearn.cluster import AgglomerativeClustering

    vectors = np.asarray(vectors, dtype=np.float64)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if centroid is not None:
        c = np.asarray(centroid, dtype=np.float64)
        vectors = vectors - np.outer(vectors @ c, c)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=DISTANCE_THRESHOLD,
                                    metric="cosine", linkage="average")
    return [int(label) for label in model.fit_predict(unit)]


def gap_report(entries: Sequence[LoggedQuestion],
               embed_many: Callable[[Sequence[str]], np.ndarray],
               titles: Mapping[str, str] | None = None,
               centroid: np.ndarray | None = None) -> GapReport:
    """The report over ``entries`` (``QuestionLog.entries``); ``embed_many`` gives the
    question vectors (the served model's), ``titles`` the documents' titles by id,
    ``centroid`` the collection's mean passage vector (``SearchEngine.centroid``)."""
    threshold = weak_threshold(entries)
    missed: list[LoggedQuestion] = []
    reasons: Counter[str] = Counter()
    for entry in entries:
        why = why_not_answered(entry, threshold)
        if why is not None:
            missed.append(entry)
            reasons[why] += 1
    groups: list[GapGroup] = []
    if missed:
        labels = topics(np.asarray(embed_many([e.question for e in missed])), centroid)
        members: dict[int, list[LoggedQuestion]] = {}
        for label, entry in zip(labels, missed, strict=True):
            members.setdefault(label, []).append(entry)
        for group in members.values():
            closest = Counter(e.top_document for e in group if e.top_document)
            groups.append(GapGroup(
                questions=[e.question for e in group],
                closest_documents=[{"id": doc, "title": (titles or {}).get(doc), "questions": n}
                                   for doc, n in closest.most_common(CLOSEST)]))
        groups.sort(key=lambda g: (-g.count, g.questions[0]))
    return GapReport(groups, len(entries), threshold, dict(reasons))


def collection_report(log: QuestionLog, engine: SearchEngine, since: date | None = None,
                      until: date | None = None) -> GapReport:
    """The report of ``log`` over the days ``since`` to ``until``, with ``engine``'s model
    for the question vectors and its documents' titles."""
    titles = {d.id: d.title for d in engine.index.documents()}
    return gap_report(log.entries(since, until), engine.questions.embed_many, titles,
                      engine.centroid)


def report_csv(report: GapReport) -> str:
    """One row per question: its group (1 = largest), the group's size, the question and the
    group's closest documents (ids, ``;``-separated)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["group", "count", "question", "closest_documents"])
    for number, group in enumerate(report.groups, 1):
        closest = ";".join(str(d["id"]) for d in group.closest_documents)
        for question in group.questions:
            writer.writerow([number, group.count, question, closest])
    return out.getvalue()


def report_text(report: GapReport, examples: int = 5) -> str:
    """The report for a terminal: each group with its count, a few questions, the documents."""
    lines = [f"{report.questions_logged} questions logged; "
             f"{sum(g.count for g in report.groups)} not answered well in "
             f"{len(report.groups)} topics"
             + (f" (weak match: similarity below {report.weak_threshold:.3f})"
                if report.weak_threshold is not None else "")]
    for number, group in enumerate(report.groups, 1):
        lines.append(f"\n{number}. {group.count} question(s)")
        shown = list(dict.fromkeys(group.questions))
        lines.extend(f"   - {q}" for q in shown[:examples])
        if len(shown) > examples:
            lines.append(f"   ... and {len(shown) - examples} more")
        if group.closest_documents:
            lines.append("   closest: " + ", ".join(
                f"{d['title'] or d['id']} ({d['id']})" for d in group.closest_documents))
    return "\n".join(lines)


def report_json_text(report: GapReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)
