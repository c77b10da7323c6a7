"""Writing an evaluation: ``report.json`` for machines, ``report.md`` and PNG plots for people.

The Markdown lists every question the default mode does not answer first, with
what it returned instead, because a mean hides *which* questions fail and why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa.eval import breakdown
from qa.eval.answers import DEFINITIONS as ANSWER_DEFINITIONS
from qa.eval.confidence import Comparison, Interval
from qa.eval.metrics import DEFINITIONS, metric_names
from qa.eval.runner import Evaluation, Outcome, latency, summary
from qa.eval.testset import EvalQuery
from qa.index.manifest import Manifest
from qa.search.abstention import AbstentionModel
from qa.search.engine import EngineInfo

_SNIPPET = 300


def _short(text: str | None, limit: int = _SNIPPET) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first(o: Outcome) -> dict[str, Any] | None:
    if not o.retrieved:
        return None
    r = o.retrieved[0]
    return {"item": r.item, "document_id": r.document_id, "start": r.start, "end": r.end,
            "similarity": round(r.similarity, 4), "text": _short(r.text)}


def _per_question(ev: Evaluation, default: str) -> list[dict[str, Any]]:
    rows = []
    for q in ev.queries:
        out = {m: ev.outcomes[m][q.id] for m in ev.modes}
        rows.append({
            "id": q.id, "question": q.question, "split": q.split, "kind": q.kind,
            "answerable": q.answerable,
            "document_id": q.targets[0].document_id if q.targets else None,
            "relevant_items": len(ev.relevant.get(q.id, ())),
            "rank": {m: o.rank for m, o in out.items()},
            "best_similarity": {m: round(o.best_similarity, 4) for m, o in out.items()},
            "no_good_match": {m: o.no_good_match for m, o in out.items()},
            "scores": {m: {n: round(v, 4) for n, v in ev.scores[m][q.id].items()}
                       for m in ev.modes if q.id in ev.scores.get(m, {})},
            "first": _first(out[default]),
        })
    return rows


def confidence(rows: list[dict[str, Any]], modes: list[str], default: str, k: int
               ) -> dict[str, Any]:
    """Intervals per mode and per split, per kind of the default mode, and each mode against
    the default, paired over the questions."""
    names = breakdown.headline(k)
    splits = sorted({r["split"] for r in rows if r.get("split")})
    return {
        "intervals": {m: {n: i.to_json() for n, i in breakdown.intervals(rows, m, names).items()}
                      for m in modes},
        "split_intervals": {
            s: {m: {n: i.to_json() for n, i in
                    breakdown.intervals([r for r in rows if r.get("split") == s], m, names).items()}
                for m in modes} for s in splits},
        "kinds": {kind: {n: i.to_json() for n, i in found.items()}
                  for kind, found in breakdown.by_kind(rows, default, names).items()},
        "comparisons": {m: breakdown.comparisons_json(breakdown.comparisons(rows, default, rows, m,
                                                                            names))
                        for m in modes if m != default},
    }


def build_report(ev: Evaluation, *, name: str, source: str, default_mode: str, engine: EngineInfo,
                 manifest: Manifest, abstention: AbstentionModel,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything ``report.json`` holds; ``report.md`` and the plots are drawn from it.

    ``engine`` and ``manifest`` are the evaluated engine's ``health()`` and ``manifest``.
    """
    default = default_mode if default_mode in ev.modes else ev.modes[0]
    rows = _per_question(ev, default)
    return {
        "name": name,
        "source": source,
        **summary(ev),
        "unit": ev.unit,
        "k": ev.k,
        "modes": ev.modes,
        "default_mode": default,
        "metrics": ev.metrics,
        "splits": {s: {"questions": sum(1 for q in ev.answerable if q.split == s), "metrics": per}
                   for s, per in ev.splits.items()},
        "definitions": {**DEFINITIONS, **ANSWER_DEFINITIONS,
                        breakdown.FLAGGED_ANSWERABLE: "share of answerable questions the service "
                        "flags \"no good match\" (lower is better)",
                        breakdown.FLAGGED_UNANSWERABLE: "share of unanswerable questions it flags "
                        "(higher is better)",
                        "intervals": "95 % percentile bootstrap over questions (scipy, 2,000 "
                        "resamples, fixed seed); a comparison resamples the paired per-question "
                        "differences and calls a run better only when the whole interval is "
                        "above 0"},
        "model": engine.model,
        "query_path": engine.query_path,
        "query_path_chosen_by": engine.query_path_chosen_by,
        "index": {"dir": str(engine.index_dir), "manifest": manifest.model_dump(mode="json")},
        "abstention": {"threshold": abstention.threshold, "fitted_on": abstention.fitted_on},
        "elapsed_seconds": round(ev.elapsed_s, 2),
        "latency": latency(ev),
        **confidence(rows, ev.modes, default, ev.k),
        **(extra or {}),
        "per_question": rows,
    }


def write_report(report: dict[str, Any], ev: Evaluation, out_dir: Path) -> list[Path]:
    """Write report.json, report.md, metrics.png and ranks.png into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "metrics.png",
             out_dir / "ranks.png"]
    paths[0].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(report, {q.id: q for q in ev.queries}), encoding="utf-8")
    plot_metrics(report, paths[2])
    plot_ranks(report, paths[3])
    return paths


def _table(metrics: dict[str, dict[str, float]], names: list[str], modes: list[str]) -> list[str]:
    lines = ["| metric | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    for name in names:
        values = [metrics.get(m, {}).get(name) for m in modes]
        best = max((v for v in values if v is not None), default=None)
        cells = [("—" if v is None else (f"**{v:.3f}**" if v == best and len(modes) > 1 else f"{v:.3f}"))
                 for v in values]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _rank_text(rank: int | None, k: int) -> str:
    return f"not in top {k}" if rank is None else str(rank)


def _vector_paths(manifest: Manifest) -> str:
    """How the index's passage (and sentence) vectors were embedded; older manifests name less."""
    passages = manifest.passage_path or manifest.passage_precision
    sentences = manifest.sentence_path
    return f"`{passages}`" + (f", sentences by `{sentences}`" if sentences else "")


def markdown(report: dict[str, Any], queries: dict[str, EvalQuery]) -> str:
    """The human report: metrics side by side, per split, the misses, the unanswerable."""
    modes, k, default = report["modes"], report["k"], report["default_mode"]
    names = metric_names(k)
    unit = report["unit"]
    manifest = Manifest.model_validate(report["index"]["manifest"])
    lines = [
        f"# Retrieval evaluation: {report['name']}",
        "",
        f"{report['questions']} answerable questions, {report['unanswerable']} unanswerable; "
        f"ranked {unit}s, top {k}; default mode **{default}**.  ",
        f"Model `{report['model']}`, questions embedded by `{report['query_path']}`"
        + (f" ({report['query_path_chosen_by']})" if report.get("query_path_chosen_by") else "")
        + ", passages by "
        f"{_vector_paths(manifest)}; index "
        f"`{report['index']['dir']}` ({manifest.passages} passages, {manifest.documents} documents).  ",
        f"Source `{report['source']}`; {report['elapsed_seconds']:.1f} s for "
        f"{len(report['per_question']) * len(modes)} searches.",
        "",
        "## Metrics",
        "",
        *_table(report["metrics"], names, modes),
        "",
    ]
    for split, part in report["splits"].items():
        lines += [f"### Split `{split}` ({part['questions']} answerable questions)", "",
                  *_table(part["metrics"], names, modes), ""]
    lines += _confidence_lines(report, modes, default, k)
    lines += ["### What the metrics mean", ""]
    lines += [f"* **{n}**: {d}." for n, d in report["definitions"].items()]
    lat = report["latency"]
    lines += ["", "### Latency (engine timings, ms)", "",
              f"Question embedding: median {lat['embed'].get('median_ms')}, "
              f"p95 {lat['embed'].get('p95_ms')} (once per question, reused by the other modes).  ",
              "Rest of the search: " + "; ".join(
                  f"{m} median {lat[m].get('median_ms')}, p95 {lat[m].get('p95_ms')}" for m in modes),
              ""]
    lines += _misses(report, queries, modes, default, k)
    lines += _unanswerable(report, modes, default)
    return "\n".join(lines) + "\n"


def _as_intervals(found: dict[str, dict[str, dict[str, float]]]
                  ) -> dict[str, dict[str, Interval]]:
    return {col: {n: Interval(v["mean"], v["low"], v["high"], int(v["n"]))
                  for n, v in per.items()} for col, per in found.items()}


def _confidence_lines(report: dict[str, Any], modes: list[str], default: str, k: int
                      ) -> list[str]:
    """Intervals per mode and split, the default mode per kind, and the paired comparisons."""
    if "intervals" not in report:
        return []
    names = breakdown.headline(k)
    lines = ["## With 95 % confidence intervals", "",
             "Bootstrap over questions; `Answer@1` is what the user reads first: the first "
             "result's highlight holds the answer.", "",
             *breakdown.interval_lines(_as_intervals(report["intervals"]), modes, names), ""]
    for split, per in report.get("split_intervals", {}).items():
        lines += [f"### Split `{split}`", "",
                  *breakdown.interval_lines(_as_intervals(per), modes, names), ""]
    kinds = report.get("kinds", {})
    if kinds:
        lines += [f"### Per kind of question (`{default}`)", "",
                  *breakdown.interval_lines(_as_intervals(kinds), list(kinds), names), ""]
    for m, found in report.get("comparisons", {}).items():
        comps = {n: Comparison(v["a"], v["b"], Interval(**v["difference"]))
                 for n, v in found.items()}
        lines += [f"### `{m}` against `{default}`, paired", "",
                  *breakdown.comparison_lines(comps, default, m), ""]
    return lines


def _misses(report: dict[str, Any], queries: dict[str, EvalQuery], modes: list[str], default: str,
            k: int) -> list[str]:
    rows = [r for r in report["per_question"] if r["answerable"] and r["rank"][default] != 1]
    rows.sort(key=lambda r: (r["rank"][default] is not None, -(r["rank"][default] or 0)))
    lines = [f"## Misses: not ranked first by `{default}` ({len(rows)})", ""]
    if not rows:
        return [*lines, "None.", ""]
    lines += [f"Misses first, then by rank. Each is a question where the user reads another "
              f"{report['unit']} before the one that answers it.", ""]
    for r in rows:
        q = queries[r["id"]]
        others = ", ".join(f"{m}: {_rank_text(r['rank'][m], k)}" for m in modes if m != default)
        tags = ", ".join(x for x in (r["kind"], r["split"]) if x)
        lines += [f"### {r['id']}: {q.question}", "",
                  f"* rank in `{default}`: **{_rank_text(r['rank'][default], k)}**"
                  + (f" ({others})" if others else "") + (f"; {tags}" if tags else ""),
                  f"* expected (`{r['document_id']}`): {_short(q.expected)}"]
        first = r["first"]
        if first:
            lines.append(f"* returned first (`{first['document_id']}` {first['start']}:{first['end']}, "
                         f"similarity {first['similarity']:.3f}): {first['text']}")
        lines.append("")
    return lines


def _unanswerable(report: dict[str, Any], modes: list[str], default: str) -> list[str]:
    rows = [r for r in report["per_question"] if not r["answerable"]]
    model = report["abstention"]
    lines = [f"## Unanswerable questions ({len(rows)})", "",
             "The service says \"no good match\" when its abstention model (`qa calibrate`; "
             f"{model['fitted_on'] or 'no description'}) gives a probability of at least "
             f"{model['threshold']:.3f} that the collection does not answer. "
             + ("These questions should be flagged." if rows
                else "This set has no unanswerable questions."), ""]
    if rows:
        lines += ["| id | question | " + " | ".join(f"best similarity ({m})" for m in modes)
                  + f" | flagged by {default} |", "|---|---|" + "---:|" * len(modes) + "---|"]
        for r in rows:
            sims = " | ".join(f"{r['best_similarity'][m]:.3f}" for m in modes)
            flag = "yes" if r["no_good_match"][default] else "**no**"
            lines.append(f"| {r['id']} | {r['question']} | {sims} | {flag} |")
        lines.append("")
    answerable = [r for r in report["per_question"] if r["answerable"]]
    if answerable:
        wrongly = sum(1 for r in answerable if r["no_good_match"][default])
        best = sorted(r["best_similarity"][default] for r in answerable)
        lines += [f"For comparison, answerable questions: best similarity median "
                  f"{best[len(best) // 2]:.3f}, minimum {best[0]:.3f}; {wrongly} of {len(answerable)} "
                  f"would be flagged \"no good match\" by `{default}`.", ""]
    return lines


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    return plt


_COLOURS = ("#1f5aa6", "#e07b24", "#3a9b4a", "#b03a8c", "#777777")


def plot_metrics(report: dict[str, Any], path: Path) -> None:
    """Grouped bars: one group per metric, one bar per mode, each bar labelled with its value."""
    plt = _pyplot()
    k, modes = report["k"], report["modes"]
    names = [n for n in metric_names(k) if not n.startswith("Recall@")]
    width = 0.8 / len(modes)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.5 * len(names) * len(modes) / 2), 5.2), dpi=120)
    for i, m in enumerate(modes):
        values = [report["metrics"][m].get(n, 0.0) for n in names]
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(names))]
        bars = ax.bar(xs, values, width * 0.95, label=m, color=_COLOURS[i % len(_COLOURS)])
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], padding=2, fontsize=8)
    ax.set_xticks(range(len(names)), names, fontsize=10)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("score (higher is better)")
    ax.set_title(f"{report['name']}: {report['questions']} answerable questions, top {k} {report['unit']}s")
    ax.legend(title="mode", loc="lower right", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_ranks(report: dict[str, Any], path: Path) -> None:
    """How many questions have their answer at each rank, per mode, with a bucket for misses."""
    plt = _pyplot()
    k, modes = report["k"], report["modes"]
    buckets = [*range(1, k + 1), None]
    labels = [str(b) for b in buckets[:-1]] + [f"miss\n(>{k})"]
    rows = [r for r in report["per_question"] if r["answerable"]]
    width = 0.8 / len(modes)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.75 * len(buckets) * len(modes) / 2), 5.2), dpi=120)
    top = 1
    for i, m in enumerate(modes):
        counts = [sum(1 for r in rows if r["rank"][m] == b) for b in buckets]
        top = max(top, *counts)
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(buckets))]
        bars = ax.bar(xs, counts, width * 0.95, label=m, color=_COLOURS[i % len(_COLOURS)])
        ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], padding=2, fontsize=8)
    ax.set_xticks(range(len(buckets)), labels)
    ax.set_xlabel(f"rank of the first relevant {report['unit']}")
    ax.set_ylabel("questions")
    ax.set_ylim(0, top * 1.12)
    ax.set_title(f"{report['name']}: where the answer is ranked ({len(rows)} questions)")
    ax.legend(title="mode", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
