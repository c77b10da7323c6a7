"""Retrieval metrics: Hit@k, Recall@k, MRR@k and nDCG@k by ``ir_measures``, and the quality gate.

Metrics come from ``ir_measures`` (trec_eval semantics), never from hand-written
formulas, so they compare with published figures. In: the questions with their
targets, each question's ranking (``Retrieved`` items) and its relevant item ids.
Out: one figure per metric name.

Two kinds of relevance are scored (see ``DEFINITIONS``):

* the *answer region*: a question counts once, at the first retrieved item that
  holds its answer (Hit@k, MRR@k, nDCG@k);
* the *relevant items*: every passage overlapping the evidence (or every
  relevant document), so Recall@k is the share of them found in the top k.
  With one relevant item per question, as in SweFAQ, Recall@k equals Hit@k.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import ir_measures
from ir_measures import RR, R, Success, nDCG

from qa.eval.testset import EvalQuery
from qa.ingest.passages import Passage

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
    highlights: tuple[tuple[int, int], ...] = ()  # the result's highlighted spans, as served


def metric_names(k: int) -> list[str]:
    cut = [c for c in CUTOFFS if c < k] + [k]
    return [f"Hit@{c}" for c in cut] + [f"Recall@{c}" for c in cut] + [f"MRR@{k}", f"nDCG@{k}"]


def _judgements(queries: Sequence[EvalQuery], rankings: Mapping[str, Sequence[Retrieved]],
                relevant: Mapping[str, set[str]], k: int) -> tuple[dict, dict, dict, dict]:
    """(region qrels, region run, item qrels, item run) of the answerable queries.

    Later items hitting an already-found target are renamed so that they are
    not relevant in the answer-region judgements: finding the same answer twice
    earns nothing there, as a user reads it once.
    """
    region_qrels: dict[str, dict[str, int]] = {}
    item_qrels: dict[str, dict[str, int]] = {}
    region_run: dict[str, dict[str, float]] = {}
    item_run: dict[str, dict[str, float]] = {}
    for q in queries:
        if not q.answerable:
            continue
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
    return region_qrels, region_run, item_qrels, item_run


def _cutoffs(k: int) -> list[int]:
    return [c for c in CUTOFFS if c < k] + [k]


def compute_metrics(queries: Sequence[EvalQuery], rankings: Mapping[str, Sequence[Retrieved]],
                    relevant: Mapping[str, set[str]], k: int) -> dict[str, float]:
    """Hit, Recall, MRR and nDCG over the answerable queries, by ``ir_measures``."""
    if not any(q.answerable for q in queries):
        return {}
    cut = _cutoffs(k)
    region_qrels, region_run, item_qrels, item_run = _judgements(queries, rankings, relevant, k)
    region = ir_measures.calc_aggregate(
        [*(Success @ c for c in cut), RR @ k, nDCG @ k], region_qrels, region_run)
    item = ir_measures.calc_aggregate([R @ c for c in cut], item_qrels, item_run)
    out = {f"Hit@{c}": region[Success @ c] for c in cut}
    out.update({f"Recall@{c}": item[R @ c] for c in cut})
    out[f"MRR@{k}"] = region[RR @ k]
    out[f"nDCG@{k}"] = region[nDCG @ k]
    return {name: float(value) for name, value in out.items()}


def per_query_metrics(queries: Sequence[EvalQuery], rankings: Mapping[str, Sequence[Retrieved]],
                      relevant: Mapping[str, set[str]], k: int) -> dict[str, dict[str, float]]:
    """Each answerable query's Hit@c, MRR@k and nDCG@k (by ``ir_measures``), for intervals and
    paired comparisons; their means are ``compute_metrics``' figures."""
    cut = _cutoffs(k)
    region_qrels, region_run, _, _ = _judgements(queries, rankings, relevant, k)
    names = {Success @ c: f"Hit@{c}" for c in cut} | {RR @ k: f"MRR@{k}", nDCG @ k: f"nDCG@{k}"}
    out: dict[str, dict[str, float]] = {qid: dict.fromkeys(names.values(), 0.0)
                                        for qid in region_qrels}
    for m in ir_measures.iter_calc(list(names), region_qrels, region_run):
        out[m.query_id][names[m.measure]] = float(m.value)
    return out


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
