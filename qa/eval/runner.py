"""Retrieval evaluation through the very engine the API serves.

Every question goes through ``SearchEngine.search`` once per mode, so the
figures describe what users get, fusion and de-duplication included. Metrics
come from ``ir_measures`` (trec_eval semantics), never from hand-written
formulas, so they compare with published figures.

Two kinds of relevance are scored (see ``DEFINITIONS``):

* the *answer region*: a question counts once, at the first retrieved item that
  holds its answer (Hit@k, MRR@k, nDCG@k);
* the *relevant items*: every passage overlapping the evidence (or every
  relevant document), so Recall@k is the share of them found in the top k.
  With one relevant item per question, as in SweFAQ, Recall@k equals Hit@k.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import ir_measures
from ir_measures import RR, R, Success, nDCG
from tqdm import tqdm

from qa.eval.testset import EvalQuery
from qa.ingest.passages import Passage
from qa.search.engine import MODES, SearchEngine

Unit = Literal["passage", "document"]
CUTOFFS = (1, 3, 5, 10)
DEFINITIONS = {
    "Hit@k": "share of answerable questions with at least one relevant item in the top k "
             "(ir_measures Success@k over the answer region; a question counts once)",
    "Recall@k": "mean share of a question's relevant items found in the top k (ir_measures R@k "
                "over every passage overlapping the evidence, or every relevant document); "
                "equals Hit@k when a question has one relevant item",
    "MRR@k": "mean of 1/rank of the first relevant item, 0 beyond k (ir_measures RR@k)",
    "nDCG@k": "ir_measures nDCG@k over the answer regions (one per question in the seed set "
               "and SweFAQ, so 1/log2(1+rank) of the first relevant item; graded for BEIR qrels)",
}


@dataclass(frozen=True)
class Retrieved:
    """One ranked item as the evaluation sees it: a passage, or a document's best passage."""

    item: str
    document_id: str
    start: int
    end: int
    text: str
    similarity: float
    target: int | None  # index of the query target it hits, None when not relevant


@dataclass
class Outcome:
    """What one mode returned for one question."""

    retrieved: list[Retrieved]
    best_similarity: float
    no_good_match: bool
    rank_ms: float  # the engine's time without the question embedding
    embed_ms: float | None = None  # question embedding, timed on the first mode only

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
    elapsed_s: float = 0.0

    @property
    def answerable(self) -> list[EvalQuery]:
        return [q for q in self.queries if q.answerable]


def metric_names(k: int) -> list[str]:
    cut = [c for c in CUTOFFS if c < k] + [k]
    return [f"Hit@{c}" for c in cut] + [f"Recall@{c}" for c in cut] + [f"MRR@{k}", f"nDCG@{k}"]


def compute_metrics(queries: Sequence[EvalQuery], rankings: Mapping[str, Sequence[Retrieved]],
                    relevant: Mapping[str, set[str]], k: int) -> dict[str, float]:
    """Hit, Recall, MRR and nDCG over the answerable queries, by ``ir_measures``.

    Later items hitting an already-found target are renamed so that they are
    not relevant in the answer-region judgements: finding the same answer twice
    earns nothing there, as a user reads it once.
    """
    answerable = [q for q in queries if q.answerable]
    if not answerable:
        return {}
    cut = [c for c in CUTOFFS if c < k] + [k]
    region_qrels: dict[str, dict[str, int]] = {}
    item_qrels: dict[str, dict[str, int]] = {}
    region_run: dict[str, dict[str, float]] = {}
    item_run: dict[str, dict[str, float]] = {}
    for q in answerable:
        region_qrels[q.id] = {f"@target{i}": t.grade for i, t in enumerate(q.targets)}
        item_qrels[q.id] = dict.fromkeys(relevant[q.id], 1)
        seen: set[int] = set()
        regions: dict[str, float] = {}
        items: dict[str, float] = {}
        for rank, r in enumerate(list(rankings.get(q.id, ()))[:k], start=1):
            score = float(k + 1 - rank)  # strictly decreasing: no tie-breaking by id
            items[r.item] = score
            if r.target is not None and r.target not in seen:
                seen.add(r.target)
                regions[f"@target{r.target}"] = score
            else:
                regions[f"{r.item}#{rank}"] = score
        # A query with an empty ranking must still count (as a zero), so give it a dummy item.
        region_run[q.id] = regions or {"@none": 0.0}
        item_run[q.id] = items or {"@none": 0.0}
    region = ir_measures.calc_aggregate(
        [*(Success @ c for c in cut), RR @ k, nDCG @ k], region_qrels, region_run)
    item = ir_measures.calc_aggregate([R @ c for c in cut], item_qrels, item_run)
    out = {f"Hit@{c}": region[Success @ c] for c in cut}
    out.update({f"Recall@{c}": item[R @ c] for c in cut})
    out[f"MRR@{k}"] = region[RR @ k]
    out[f"nDCG@{k}"] = region[nDCG @ k]
    return {name: float(value) for name, value in out.items()}


def check_gate(metrics: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """The metrics below their threshold, as readable lines; empty when the gate passes."""
    return [f"{name} = {metrics.get(name, float('nan')):.3f} < {floor:.3f}"
            for name, floor in thresholds.items() if not metrics.get(name, -1.0) >= floor]


def relevant_items(queries: Sequence[EvalQuery], passages: Sequence[Passage],
                   unit: Unit) -> dict[str, set[str]]:
    """Every item of the index that holds (part of) each question's answer."""
    out: dict[str, set[str]] = {}
    for q in queries:
        if unit == "document":
            out[q.id] = {t.document_id for t in q.targets}
        else:
            out[q.id] = {p.id for p in passages if q.target_of(p) is not None}
    return out


def _fetch_depth(engine: SearchEngine, k: int, unit: Unit) -> int:
    """Passages to ask for so that ``k`` distinct documents survive when documents split.

    Capped at the engine's candidate pool, so the fused order of the first
    passages is exactly the one the service produces for a normal request.
    """
    if unit == "passage":
        return k
    most = max(engine.index.store.passages_per_document().values(), default=1)
    return k if most == 1 else max(k, min(engine.settings.candidates, k * most, len(engine.passages)))


def run_query(engine: SearchEngine, q: EvalQuery, mode: str, k: int, unit: Unit,
              depth: int, cold: bool = False) -> Outcome:
    """One search as a user would send it.

    With ``cold`` the question's cached embedding is dropped first, so this
    search pays for (and times) the embedding like a new question; the other
    modes then reuse it through the embedder's own cache, which keeps a full
    run of all modes within the time budget on two cores.
    """
    if cold:
        engine.embedder.forget(q.question)
    result = engine.search(q.question, k=depth, mode=mode, highlights=False)
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
                                   q.target_of(p)))
        if len(retrieved) == k:
            break
    best = max((h.similarity for h in result.hits), default=0.0)
    embed_ms = result.timings.get("embed_ms", 0.0)
    return Outcome(retrieved, best, result.no_good_match, result.took_ms - embed_ms,
                   embed_ms if cold else None)


def evaluate(engine: SearchEngine, queries: Sequence[EvalQuery], modes: Sequence[str] | None = None,
             k: int = 10, unit: Unit = "passage", progress: bool = True,
             log: Callable[[str], None] = lambda _m: None) -> Evaluation:
    """Search every question in every mode, then score each mode and each split."""
    modes = list(modes or MODES)
    t0 = time.perf_counter()
    depth = _fetch_depth(engine, k, unit)
    if depth != k:
        log(f"documents span several passages: fetching {depth} passages per search "
            f"to rank {k} documents")
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
    """Fill in the metrics of every mode, overall and per split."""
    splits = sorted({q.split for q in ev.answerable if q.split})
    for m in ev.modes:
        ranking = {qid: o.retrieved for qid, o in ev.outcomes[m].items()}
        ev.metrics[m] = compute_metrics(ev.queries, ranking, ev.relevant, ev.k)
        for s in splits:
            part = [q for q in ev.queries if q.split == s]
            ev.splits.setdefault(s, {})[m] = compute_metrics(part, ranking, ev.relevant, ev.k)


def _median_p95(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {"median_ms": round(statistics.median(values), 2), "p95_ms": round(p95, 2)}


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
