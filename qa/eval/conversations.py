"""Evaluating follow-up questions: each conversation's follow-up with and without its history.

A conversation set is a JSONL file (``qa/eval/testsets/README.md``): per line a first
question (``first``), a follow-up (``question``), the follow-up's evidence
(``document_id`` and a verbatim ``evidence``), its ``kind`` (``followup``: a question that
leans on the first; ``topic_change``: a self-contained question about something else;
``unanswerable``: a self-contained question about something the collection does not cover,
which has no evidence), an optional ``cue`` (what makes it lean, for reading the report) and
its ``split``.

Each follow-up is searched twice through the serving engine: alone, and with
``history=[first]`` as the API takes it. The report gives, per split and kind, Hit@1,
MRR@k and answer accuracy both ways with 95 % intervals and the paired difference, and for
topic changes the share left undisturbed: the same passages in the same order as alone. For
unanswerable questions it gives the share *dragged* onto the earlier topic (read with the
first question, which can only be wrong for them) and the share flagged ``no_good_match``
both ways (``NoGoodMatch``).
Its ``per_question`` rows have the shape of ``qa eval``'s, with the two ways as the modes
``alone`` and ``history``, so ``qa compare`` compares two runs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from qa.errors import QAError
from qa.eval import breakdown
from qa.eval.answers import answer_scores
from qa.eval.runner import Outcome, run_query
from qa.eval.testset import EvalQuery, Target, evidence_span
from qa.ingest.jsonl import jsonl_records
from qa.search.engine import SearchEngine

KINDS = ("followup", "topic_change", "unanswerable")
#: The kind whose follow-ups the collection does not answer: no evidence, no Hit@1.
UNANSWERABLE = "unanswerable"
WAYS = ("alone", "history")


@dataclass(frozen=True)
class Conversation:
    """A first question and a follow-up with its target (``query``: the follow-up)."""

    first: str
    query: EvalQuery
    cue: str | None


def load_conversations(path: Path, texts: Mapping[str, str]) -> list[Conversation]:
    """Read a conversation set and resolve each evidence in ``texts`` (the index's texts)."""
    if not path.is_file():
        raise QAError(f"{path}: no such conversation file")
    out: list[Conversation] = []
    seen: set[str] = set()
    for where, rec in jsonl_records(path):
        try:
            cid, first, question, kind = str(rec["id"]), rec["first"], rec["question"], rec["kind"]
            if kind != UNANSWERABLE:
                doc, evidence = rec["document_id"], rec["evidence"]
        except KeyError as exc:
            raise QAError(f"{where}: not a conversation line (missing {exc})") from None
        if kind not in KINDS:
            raise QAError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if kind == UNANSWERABLE and ("document_id" in rec or "evidence" in rec):
            raise QAError(f"{where}: an unanswerable conversation has no document_id or evidence")
        fields = (first, question) if kind == UNANSWERABLE else (first, question, doc, evidence)
        if not all(isinstance(v, str) and v.strip() for v in fields):
            raise QAError(f"{where}: first, question, document_id and evidence must be "
                          "non-empty strings")
        if cid in seen:
            raise QAError(f"{where}: the id {cid!r} is used twice")
        seen.add(cid)
        split = str(rec.get("split") or "") or None
        if kind == UNANSWERABLE:
            query = EvalQuery(cid, question, (), split, kind)
        else:
            if doc not in texts:
                raise QAError(f"conversation {cid}: document {doc!r} is not in the index; "
                              "evaluate against an index of the corpus the conversations were "
                              "written for")
            start, end = evidence_span(texts[doc], evidence, f"conversation {cid}")
            query = EvalQuery(cid, question, (Target(doc, start, end),), split, kind, evidence)
        out.append(Conversation(first, query, rec.get("cue")))
    if not out:
        raise QAError(f"{path}: the conversation set is empty")
    return out


def _scores(c: Conversation, o: Outcome, k: int) -> dict[str, float]:
    if not c.query.answerable:
        return {"NoGoodMatch": float(o.no_good_match)}
    rank = o.rank
    return {"Hit@1": float(rank == 1), f"MRR@{k}": 1.0 / rank if rank and rank <= k else 0.0,
            **{n: v for n, v in answer_scores(c.query, o.retrieved).items() if n == "Answer@1"}}


def evaluate_conversations(engine: SearchEngine, conversations: Sequence[Conversation],
                           mode: str, k: int = 10, progress: bool = True) -> list[dict[str, Any]]:
    """Per conversation: its follow-up's scores alone and with history, how it was read,
    and whether the passages stayed those it gets alone."""
    rows = []
    for c in tqdm(conversations, desc="conversations", disable=not progress, file=sys.stderr):
        alone = run_query(engine, c.query, mode, k, "passage", k)
        with_history = run_query(engine, c.query, mode, k, "passage", k, history=[c.first])
        reading = with_history.reading
        rows.append({
            "id": c.query.id, "first": c.first, "question": c.query.question,
            "split": c.query.split, "kind": c.query.kind, "cue": c.cue,
            "answerable": c.query.answerable,
            "rank": {"alone": alone.rank, "history": with_history.rank},
            "scores": {"alone": _scores(c, alone, k), "history": _scores(c, with_history, k)},
            "no_good_match": {"alone": alone.no_good_match,
                              "history": with_history.no_good_match},
            "read_as": None if reading is None else reading.read_as,
            "carried": bool(reading and reading.carried),
            "reason": None if reading is None else reading.reason,
            "undisturbed": [r.item for r in alone.retrieved]
            == [r.item for r in with_history.retrieved],
        })
    return rows


def _names(k: int, kind: str = "followup") -> list[str]:
    return ["NoGoodMatch"] if kind == UNANSWERABLE else ["Hit@1", f"MRR@{k}", "Answer@1"]


def summarise(rows: Sequence[Mapping[str, Any]], k: int) -> dict[str, Any]:
    """Per split ("all" too) and kind: n, intervals alone and with history, the paired
    difference, the share read with the first question, and the share left undisturbed;
    for unanswerable questions the share read with the first is the share dragged onto the
    earlier topic, and the figure is how often ``no_good_match`` is set."""
    out: dict[str, Any] = {}
    splits = ["all", *sorted({r["split"] for r in rows if r.get("split")})]
    for split in splits:
        part = [r for r in rows if split == "all" or r.get("split") == split]
        per_kind = {}
        for kind in KINDS:
            group = [r for r in part if r["kind"] == kind]
            if not group:
                continue
            names = _names(k, kind)
            per_kind[kind] = {
                "conversations": len(group),
                "alone": {n: i.to_json() for n, i in breakdown.intervals(group, "alone", names).items()},
                "history": {n: i.to_json() for n, i in
                            breakdown.intervals(group, "history", names).items()},
                "difference": breakdown.comparisons_json(
                    breakdown.comparisons(group, "alone", group, "history", names)),
                "read_with_first": sum(r["carried"] for r in group) / len(group),
                "undisturbed": sum(r["undisturbed"] for r in group) / len(group),
            }
            if kind == UNANSWERABLE:
                per_kind[kind]["dragged"] = per_kind[kind]["read_with_first"]
        out[split] = per_kind
    return out


def report(rows: list[dict[str, Any]], *, name: str, source: str, mode: str, k: int,
           engine: SearchEngine) -> dict[str, Any]:
    """``report.json`` of a conversation run: the summary and the per-question rows."""
    info = engine.health()
    return {"name": name, "source": source, "kind": "conversations", "k": k,
            "modes": list(WAYS), "default_mode": "history", "search_mode": mode,
            "model": info.model, "query_path": info.query_path, "index": str(info.index_dir),
            "definitions": {
                "alone": "the follow-up searched without history",
                "history": "the follow-up searched with history=[first], as the API takes it",
                "read_with_first": "share of follow-ups read together with the first question",
                "undisturbed": "share whose passages are the same, in the same order, as alone",
                "dragged": "unanswerable questions: the share read with the first question",
                "NoGoodMatch": "unanswerable questions: the share flagged no_good_match",
                "intervals": "95 % percentile bootstrap over conversations; the difference "
                             "resamples the paired per-conversation differences"},
            "summary": summarise(rows, k), "per_question": rows}


def markdown(rep: Mapping[str, Any]) -> str:
    """``report.md``: the summary tables, then every follow-up the history did not answer."""
    k = rep["k"]
    lines = [f"# Follow-up questions: {rep['name']}", "",
             f"Source `{rep['source']}`, mode {rep['search_mode']}, k = {k}, model "
             f"{rep['model']} ({rep['query_path']}).", ""]
    for split, per_kind in rep["summary"].items():
        lines += [f"## {split}", "", "| kind | n | figure | alone | with history | difference "
                  "[95 %] | read with first | undisturbed |", "|---|---:|---|---:|---:|---:|---:|---:|"]
        for kind, s in per_kind.items():
            for n in _names(k, kind):
                if n not in s["alone"]:
                    continue
                d = s["difference"].get(n, {})
                diff = (f"{d['difference']['mean']:+.3f} [{d['difference']['low']:+.3f}, "
                        f"{d['difference']['high']:+.3f}]") if d else "—"
                lines.append(f"| {kind} | {s['conversations']} | {n} | {s['alone'][n]['mean']:.3f}"
                             f" | {s['history'][n]['mean']:.3f} | {diff} | "
                             f"{s['read_with_first']:.2f} | {s['undisturbed']:.2f} |")
        lines.append("")
    misses = [r for r in rep["per_question"] if r["scores"]["history"].get("Hit@1", 1) < 1
              or (not r["answerable"] and r["carried"])]
    lines += ["## Not first with history (unanswerable: dragged onto the first question)", "",
              "| id | split | kind | cue | first | question | rank alone | rank with history "
              "| reason |", "|---|---|---|---|---|---|---:|---:|---|"]
    for r in misses:
        lines.append(f"| {r['id']} | {r['split']} | {r['kind']} | {r['cue'] or ''} | {r['first']} | "
                     f"{r['question']} | {r['rank']['alone'] or '—'} | {r['rank']['history'] or '—'}"
                     f" | {r['reason']} |")
    return "\n".join(lines) + "\n"


def write(rep: Mapping[str, Any], out: Path) -> Path:
    """Write report.json and report.md into ``out``; the path of report.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    (out / "report.md").write_text(markdown(rep), encoding="utf-8")
    return out / "report.md"
