"""Running questions through the very engine the API serves.

Every question goes through ``SearchEngine.search`` once per mode, so the
figures describe what users get, fusion and de-duplication included. In: an
engine, resolved questions (``qa.eval.testset`` or ``qa.eval.datasets``), the
modes and the rank depth. Out: an ``Evaluation`` holding what each mode
returned for each question, scored by ``qa.eval.metrics``, and the engine's
timings.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from qa.eval.answers import answer_scores, has_spans
from qa.eval.metrics import Retrieved, Unit, compute_metrics, per_query_metrics, relevant_items
from qa.eval.stats import percentile
from qa.eval.testset import EvalQuery
from qa.search.conversation import Reading
from qa.search.engine import SearchEngine
from qa.search.modes import MODES

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one mode returned for one question."""

    retrieved: list[Retrieved]
    best_similarity: float
    no_good_match: bool
    rank_ms: float  # the engine's time without the question embedding
    embed_ms: float | None = None  # question embedding, timed on the first mode only
    reading: Reading | None = None  # how a question sent with history was read

    @property
    def rank(self) -> int | None:
        """1-based rank of the first relevant item, None when none was returned."""
        return next((i for i, r in enumerate(self.retrieved, 1) if r.target is not None), None)


@dataclass
class Evaluation:
    queries: list[EvalQuery]
    modes: list[str]
    k: int
    unit: Unit
    outcomes: dict[str, dict[str, Outcome]]  # mode -> query id -> outcome
    relevant: dict[str, set[str]]  # query id -> every relevant item id
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    splits: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    # mode -> query id -> per-question values (retrieval and answer metrics of answerable
    # questions), for intervals, kinds and paired comparisons
    scores: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def answerable(self) -> list[EvalQuery]:
        return [q for q in self.queries if q.answerable]


def _fetch_depth(engine: SearchEngine, k: int, unit: Unit) -> int:
    """Passages to ask for so that ``k`` distinct documents survive when documents split.

    Capped at the engine's candidate pool, so the fused order of the first
    passages is exactly the one the service produces for a normal request.
    """
    if unit == "passage":
        return k
    most = max(engine.passages_per_document().values(), default=1)
    return k if most == 1 else max(k, min(engine.settings.candidates, k * most, len(engine.passages)))


def run_query(engine: SearchEngine, q: EvalQuery, mode: str, k: int, unit: Unit,
              depth: int, cold: bool = False, history: Sequence[str] | None = None) -> Outcome:
    """One search as a user would send it.

    With ``cold`` the question's cached embedding is dropped first, so this
    search pays for (and times) the embedding like a new question; the other
    modes then reuse it through the engine's question cache, which keeps a full
    run of all modes within the time budget on two cores. ``history``: the conversation's
    earlier questions, sent as the API sends them (``qa.eval.conversations``).
    """
    if cold:
        engine.forget(q.question)
    result = engine.search(q.question, k=depth, mode=mode, highlights=True, history=history)
    retrieved: list[Retrieved] = []
    seen_docs: set[str] = set()
    for hit in result.hits:
        p = hit.passage
        if unit == "document":
            if p.document_id in seen_docs:
                continue
            seen_docs.add(p.document_id)
        item = p.document_id if unit == "document" else p.id
        retrieved.append(Retrieved(item, p.document_id, p.start, p.end, p.text, hit.similarity,
                                   q.target_of(p), tuple(hit.highlights)))
        if len(retrieved) == k:
            break
    best = max((h.similarity for h in result.hits), default=0.0)
    embed_ms = result.timings.get("embed_ms", 0.0)
    return Outcome(retrieved, best, result.no_good_match, result.took_ms - embed_ms,
                   embed_ms if cold else None, result.reading)


def evaluate(engine: SearchEngine, queries: Sequence[EvalQuery], modes: Sequence[str] | None = None,
             k: int = 10, unit: Unit = "passage", progress: bool = True) -> Evaluation:
    """Search every question in every mode, then score each mode and each split."""
    modes = list(modes or MODES)
    t0 = time.perf_counter()
    depth = _fetch_depth(engine, k, unit)
    if depth != k:
        log.info("documents span several passages: fetching %d passages per search to rank %d "
                 "documents", depth, k)
    outcomes: dict[str, dict[str, Outcome]] = {m: {} for m in modes}
    bar = tqdm(total=len(queries) * len(modes), desc="evaluating", unit="search",
               disable=not progress, file=sys.stderr)
    for q in queries:
        for i, m in enumerate(modes):
            outcomes[m][q.id] = run_query(engine, q, m, k, unit, depth, cold=i == 0)
            bar.update()
    bar.close()
    ev = Evaluation(list(queries), modes, k, unit, outcomes,
                    relevant_items(queries, engine.passages, unit))
    score(ev)
    ev.elapsed_s = time.perf_counter() - t0
    return ev


def score(ev: Evaluation) -> None:
    """Fill in the metrics of every mode, overall and per split, and each question's values."""
    splits = sorted({q.split for q in ev.answerable if q.split})
    for m in ev.modes:
        ranking = {qid: o.retrieved for qid, o in ev.outcomes[m].items()}
        ev.metrics[m] = compute_metrics(ev.queries, ranking, ev.relevant, ev.k)
        ev.scores[m] = question_scores(ev, m, ranking)
        ev.metrics[m].update(_means(ev.queries, ev.scores[m], ev.outcomes[m]))
        for s in splits:
            part = [q for q in ev.queries if q.split == s]
            ev.splits.setdefault(s, {})[m] = compute_metrics(part, ranking, ev.relevant, ev.k)
            ev.splits[s][m].update(_means(part, ev.scores[m], ev.outcomes[m]))


def question_scores(ev: Evaluation, mode: str, ranking: dict[str, list[Retrieved]]
                    ) -> dict[str, dict[str, float]]:
    """Per answerable question: its retrieval metrics and (span labels only) answer metrics;
    an unanswerable one has none (what it is judged by, "no good match", is in its outcome)."""
    per = per_query_metrics(ev.queries, ranking, ev.relevant, ev.k)
    out: dict[str, dict[str, float]] = {}
    for q in ev.queries:
        values = dict(per.get(q.id, {}))
        if has_spans(q):
            values.update(answer_scores(q, ranking[q.id]))
        out[q.id] = values
    return out


def _means(queries: Sequence[EvalQuery], scores: dict[str, dict[str, float]],
           outcomes: dict[str, Outcome]) -> dict[str, float]:
    """Answer metrics, and the share flagged among answerable and unanswerable questions."""
    out: dict[str, float] = {}
    answerable = [q for q in queries if q.answerable]
    for name in ("Answer@1", "Answer@3"):
        values = [scores[q.id][name] for q in answerable if name in scores[q.id]]
        if values:
            out[name] = sum(values) / len(values)
    for name, group in (("Flagged answerable", answerable),
                        ("Flagged unanswerable", [q for q in queries if not q.answerable])):
        if group:
            out[name] = sum(outcomes[q.id].no_good_match for q in group) / len(group)
    return out


def _median_p95(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {"median_ms": round(percentile(values, 50), 2), "p95_ms": round(percentile(values, 95), 2)}


def latency(ev: Evaluation) -> dict[str, dict[str, float]]:
    """Median and 95th percentile of the engine's timings: the question embedding (measured
    once per question) and, per mode, the rest of the search (ranking, fusion, de-duplication)."""
    out = {"embed": _median_p95([o.embed_ms for m in ev.modes for o in ev.outcomes[m].values()
                                 if o.embed_ms is not None])}
    for m in ev.modes:
        out[m] = _median_p95([o.rank_ms for o in ev.outcomes[m].values()])
    return out


def summary(ev: Evaluation) -> dict[str, Any]:
    """Counts a report starts with."""
    return {"questions": len(ev.answerable), "unanswerable": len(ev.queries) - len(ev.answerable)}
