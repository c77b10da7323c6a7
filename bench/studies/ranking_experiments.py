"""Ranking experiments from the model's own signals: fusions, feedback, RM3, decompounding.

Every variant is a setting of the real engine (``qa.search``: ``fusion``, ``prf_*``,
``rm3_*``, ``compound_vocabulary``), evaluated by ``qa.eval.runner.evaluate`` exactly as
``qa eval`` does (hybrid mode, k = 10). Protocol:

* each family's grid is run on the **tune** halves of the split test sets (pooled) and
  the best setting is chosen there (MRR@10, then Hit@1, then nDCG@10);
* only that setting is run on the **held-out** halves, compared with the reference (the
  default before these experiments, ``REFERENCE``) over the same questions (paired
  bootstrap, ``qa.eval.confidence``); the verdict follows the adoption rule (``_conclude``);
* SweFAQ dev (all its questions, no split) is a sanity check against fitting the seeds;
* the learned fusion is a logistic regression over ``qa.search.features`` fitted with
  cross-validation grouped by question on the tune halves plus SweFAQ dev; its tune and
  SweFAQ figures are out-of-fold (each fold ranked by a model that never saw it), its
  held-out figures come from the model fitted on all of them, which is written to
  ``qa/search/fusion_weights.json`` (the weights ``QA_FUSION=learned`` reads);
* the municipal set, ``qa/eval/testsets/kommun_sv.jsonl`` over ``qa/eval/testsets/kommun/``,
  is included when it exists (its tune half trains and selects, like the seeds').

Writes ``bench/studies/results/ranking_experiments.json`` and ``.md``.

    python -m bench.studies.ranking_experiments [--quick] [--no-fit] [--family NAME ...]
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    BENCH_INDEX,
    KOMMUN_CORPUS,
    KOMMUN_TESTSET,
    ROOT,
    STUDY_RESULTS,
    SWEFAQ,
    TESTSET,
    bench_parser,
    ensure_kommun_index,
    ensure_seeds_index,
    results_dir,
    write_result,
)

MODE = "hybrid"
K = 10
FIGURES = ("Hit@1", "Hit@5", "MRR@10", "nDCG@10")
SCRATCH = ROOT / "var" / "ranking-experiments"
WEIGHTS = ROOT / "qa" / "search" / "fusion_weights.json"

# The default before these experiments: every variant is compared with it (also after one
# is adopted as the new default), and each family's settings apply on top of it alone.
REFERENCE: dict[str, Any] = {"fusion": "convex", "lexical_weight": 0.03, "prf_beta": 0.0,
                             "rm3_terms": 0, "compound_vocabulary": "corpus"}
# Families that change lexical mode too are also measured in it (RM3 applies to hybrid
# ranking only; README's design note has what it did to lexical mode when it applied there).
LEXICAL_FAMILIES = ("hunspell",)

# Each family: settings to try on tune (the first is the family's reference point).
GRIDS: dict[str, list[dict[str, Any]]] = {
    "minmax": [{"fusion": "minmax", "lexical_weight": w} for w in (0.05, 0.1, 0.2, 0.3, 0.5)],
    "zscore": [{"fusion": "zscore", "lexical_weight": w} for w in (0.05, 0.1, 0.2, 0.3, 0.5)],
    "rrf": [{"fusion": "rrf", "rrf_k": 60, "lexical_weight": w} for w in (0.25, 0.5, 0.75, 1.0)],
    "vector_prf": [{"prf_beta": b, "prf_passages": m} for b in (0.1, 0.25, 0.5) for m in (1, 3, 5)],
    "rm3": [{"rm3_terms": t, "rm3_passages": m, "rm3_weight": lam}
            for t in (5, 10) for m in (3, 5) for lam in (0.5, 0.7, 0.85)],
    "hunspell": [{"compound_vocabulary": "hunspell"}, {"compound_vocabulary": "both"}],
}
QUICK_GRIDS = {name: grid[:1] for name, grid in GRIDS.items()}
C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
CLASS_WEIGHTS = (None, "balanced")
FOLDS = 5


@dataclass
class DataSet:
    """One labelled data set: its queries, the engine factory and how relevance is counted."""

    name: str
    queries: list[Any]
    unit: str
    engine_for: Callable[[dict[str, Any]], Any]  # settings overrides -> engine
    splits: bool  # tune / heldout halves (else: all questions are a sanity check)
    info: dict[str, Any] = field(default_factory=dict)

    def part(self, split: str | None) -> list[Any]:
        return [q for q in self.queries if split is None or q.split == split]


def _settings(**overrides: Any):
    """Settings of a run: the reference (the default before these experiments) plus ``overrides``."""
    from qa.settings import Settings

    return Settings(**{**REFERENCE, **overrides})


def _rows(ev, mode: str = MODE) -> list[dict[str, Any]]:
    """The per-question rows ``qa.eval.breakdown`` reads (as in report.json), filed under
    ``MODE`` whichever mode ran, so that every comparison reads them alike."""
    return [{"id": q.id, "split": q.split, "kind": q.kind, "answerable": q.answerable,
             "scores": {MODE: ev.scores[mode][q.id]}} for q in ev.queries]


def _intervals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from qa.eval import breakdown

    return {n: i.to_json() for n, i in breakdown.intervals(rows, MODE, FIGURES).items()}


def _compare(base: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    from qa.eval import breakdown

    return breakdown.comparisons_json(breakdown.comparisons(base, MODE, rows, MODE, FIGURES))


def _scored(base: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A variant's figures with intervals, and its paired difference from the default."""
    return {"figures": _intervals(rows), "versus_default": _compare(base, rows)}


def _run(ds: DataSet, overrides: dict[str, Any], queries: Sequence[Any], mode: str = MODE
         ) -> list[dict[str, Any]]:
    from qa.eval.runner import evaluate

    engine = ds.engine_for(overrides)
    return _rows(evaluate(engine, list(queries), [mode], K, ds.unit, progress=False), mode)


def _selection_key(figures: dict[str, Any]) -> tuple[float, float, float]:
    return (figures["MRR@10"]["mean"], figures["Hit@1"]["mean"], figures["nDCG@10"]["mean"])


# ---------------------------------------------------------------- data sets and engines

def _seed_like(name: str, testset: Path, index_dir: Path, source: Path) -> DataSet:
    """A span-labelled test set over its corpus; engines share one question encoder."""
    from qa.embed.question_encoder import open_question_encoder
    from qa.eval.testset import load_testset, resolve
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    base = _settings()
    questions = open_question_encoder(base)
    snapshots: dict[str, Any] = {}

    def snapshot_for(vocabulary: str):
        if vocabulary not in snapshots:
            where = index_dir if vocabulary == "corpus" else _variant_index(index_dir, source,
                                                                            vocabulary)
            snapshots[vocabulary] = Snapshot.open(where, base, model_id=questions.model_id,
                                                  dim=questions.dim)
        return snapshots[vocabulary]

    def engine_for(overrides: dict[str, Any]):
        s = _settings(**overrides)
        return SearchEngine(snapshot_for(s.compound_vocabulary), questions, s)

    first = engine_for({})
    queries = resolve(load_testset(testset), first.document_texts())
    return DataSet(name, queries, "passage", engine_for, True,
                   {"questions": sum(q.answerable for q in queries),
                    "tune": sum(q.answerable and q.split == "tune" for q in queries),
                    "heldout": sum(q.answerable and q.split == "heldout" for q in queries),
                    "passages": len(first.passages)})


def _variant_index(base_dir: Path, source: Path, vocabulary: str) -> Path:
    """The corpus indexed with another compound vocabulary (built once, then reused)."""
    import shutil

    from qa.embed.build_encoder import BuildEncoder
    from qa.index.build import build_index
    from qa.index.generations import current
    from qa.ingest.sources import load_documents

    where = SCRATCH / f"{base_dir.name}-{vocabulary}"
    if current(where) is None:
        # Start from a copy of the base index: the build then reuses every vector and only
        # writes the lexical index anew, with the other vocabulary.
        if where.exists():
            shutil.rmtree(where)
        shutil.copytree(base_dir, where, symlinks=True)
    s = _settings(compound_vocabulary=vocabulary)
    build_index(load_documents(source), BuildEncoder(s), s, where, progress=False)
    return where


def _swefaq() -> DataSet:
    from qa.eval.datasets import load_swefaq, open_engine
    from qa.search.engine import SearchEngine

    bench = load_swefaq(SWEFAQ)
    engines: dict[str, Any] = {}

    def engine_for(overrides: dict[str, Any]):
        s = _settings(**overrides)
        if s.compound_vocabulary not in engines:
            engines[s.compound_vocabulary] = open_engine(bench, s, progress=False)
        e = engines[s.compound_vocabulary]
        return SearchEngine(e.index, e.questions, s)

    engine_for({})
    return DataSet("swefaq_dev", bench.queries, "document", engine_for, False, dict(bench.info))


def _kommun() -> DataSet | None:
    if not (KOMMUN_TESTSET.is_file() and KOMMUN_CORPUS.is_dir()):
        return None
    return _seed_like("kommun", KOMMUN_TESTSET, ensure_kommun_index(), KOMMUN_CORPUS)


# ---------------------------------------------------------------- the learned fusion

def _training(datasets: Sequence[DataSet]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple]]:
    """Features, labels and question groups of every candidate of the training questions.

    Training questions: the tune half of split data sets, every question of the others.
    Also returns (data set, query) per group, in group order.
    """
    xs, ys, gs, owners = [], [], [], []
    for ds in datasets:
        engine = ds.engine_for({})
        for q in ds.part("tune" if ds.splits else None):
            if not q.answerable:
                continue
            found, x = engine.candidates(q.question)
            y = [q.target_of(engine.passages[int(r)]) is not None for r in found.rows]
            xs.append(x)
            ys.append(np.asarray(y, np.int64))
            gs.append(np.full(len(y), len(owners)))
            owners.append((ds.name, q))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(gs), owners


def _pairs(x: np.ndarray, y: np.ndarray, groups: np.ndarray, hard: int | None) -> np.ndarray:
    """Within each question, relevant minus non-relevant candidate features (one row a pair).

    ``hard``: only the non-relevant candidates among the default order's first ``hard``
    (the ones a ranking must get past), else all of them.
    """
    diffs = []
    for g in np.unique(groups):
        sel = groups == g
        xs, ys = x[sel], y[sel]
        keep = np.ones(len(ys), bool)
        if hard is not None:
            keep[:] = False
            keep[np.argsort(-_default_scores(xs), kind="stable")[:hard]] = True
        pos, neg = xs[ys == 1], xs[(ys == 0) & keep]
        if len(pos) and len(neg):
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, x.shape[1]))
    return np.vstack(diffs)


def _fit(x: np.ndarray, y: np.ndarray, groups: np.ndarray, setting: dict[str, Any]):
    """A logistic regression on standardised features, returned as raw-feature weights.

    ``pointwise``: relevant or not, per candidate. ``pairwise``: which of two candidates of
    one question is the relevant one, from their feature difference (no intercept; the
    ranking score is then ``features · weights``), which is what ranking needs.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from qa.search.fusion import LearnedFusion

    scaler = StandardScaler().fit(x)
    if setting["kind"] == "pointwise":
        model = LogisticRegression(C=setting["C"], class_weight=setting["class_weight"],
                                   max_iter=5000).fit(scaler.transform(x), y)
        w = model.coef_[0] / scaler.scale_
        b = float(model.intercept_[0] - np.sum(model.coef_[0] * scaler.mean_ / scaler.scale_))
        return LearnedFusion(w, b)
    d = _pairs(x, y, groups, setting.get("hard")) / scaler.scale_
    both = np.vstack([d, -d])
    labels = np.concatenate([np.ones(len(d)), np.zeros(len(d))])
    model = LogisticRegression(C=setting["C"], fit_intercept=False, max_iter=5000).fit(both, labels)
    return LearnedFusion(model.coef_[0] / scaler.scale_, 0.0)


def _default_scores(x: np.ndarray) -> np.ndarray:
    """Today's convex fusion from the feature columns (passage and sentence mix, BM25 share)."""
    from qa.search.features import FEATURES

    s = _settings()
    col = {name: x[:, i] for i, name in enumerate(FEATURES)}
    return (s.passage_weight * col["passage_cosine"] + (1 - s.passage_weight) * col["sentence_cosine"]
            + s.lexical_weight * col["bm25_relative"])


def _candidate_mrr(scores: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """Mean reciprocal rank (cut at 10) of the first relevant candidate, over the groups."""
    out = []
    for g in np.unique(groups):
        sel = groups == g
        order = np.argsort(-scores[sel], kind="stable")[:K]
        hits = np.flatnonzero(y[sel][order])
        out.append(1.0 / (hits[0] + 1) if len(hits) else 0.0)
    return float(np.mean(out))


def learned_fusion(datasets: Sequence[DataSet], base_rows: dict[str, dict[str, list]], fit: bool,
                   log: Callable[[str], None]) -> dict[str, Any]:
    from sklearn.model_selection import GroupKFold

    x, y, groups, owners = _training(datasets)
    log(f"learned fusion: {len(owners)} training questions, {len(y)} candidates, "
        f"{int(y.sum())} relevant")
    folds = list(GroupKFold(n_splits=FOLDS).split(x, y, groups))
    grid = []
    settings_grid = [{"kind": "pointwise", "C": c, "class_weight": cw}
                     for c in C_GRID for cw in CLASS_WEIGHTS]
    settings_grid += [{"kind": "pairwise", "C": c, "class_weight": None, "hard": hard}
                      for c in C_GRID for hard in (None, 20)]
    for setting in settings_grid:
        oof = np.zeros(len(y))
        for train, test in folds:
            oof[test] = _fit(x[train], y[train], groups[train], setting).score(x[test])
        grid.append({**setting, "oof_candidate_mrr": _candidate_mrr(oof, y, groups)})
    best = max(grid, key=lambda g: g["oof_candidate_mrr"])
    chosen = {k: v for k, v in best.items() if k != "oof_candidate_mrr"}
    # The default's own order of the same candidates, for scale.
    default_mrr = _candidate_mrr(_default_scores(x), y, groups)
    log(f"  chosen {chosen} (out-of-fold candidate MRR@10 {best['oof_candidate_mrr']:.3f}; "
        f"the default's order of the same candidates: {default_mrr:.3f})")

    # Out-of-fold figures through the engine: each fold ranked with weights fitted without it.
    oof_rows: dict[str, list[dict[str, Any]]] = {ds.name: [] for ds in datasets}
    by_name = {ds.name: ds for ds in datasets}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (train, test) in enumerate(folds):
            path = Path(tmp) / f"fold{i}.json"
            _fit(x[train], y[train], groups[train], chosen).save(path)
            held = {int(g) for g in np.unique(groups[test])}
            for name, ds in by_name.items():
                queries = [owners[g][1] for g in sorted(held) if owners[g][0] == name]
                if queries:
                    oof_rows[name] += _run(ds, {"fusion": "learned", "fusion_weights": path}, queries)
    final = _fit(x, y, groups, chosen)
    about = {"fitted_on": {ds.name: sum(1 for n, _ in owners if n == ds.name) for ds in datasets},
             **chosen, "written_by": "python -m bench.studies.ranking_experiments"}
    weights_path = WEIGHTS if fit else Path(tempfile.mkdtemp()) / "fusion_weights.json"
    final.save(weights_path, about)
    out: dict[str, Any] = {"grid": grid, "chosen": chosen, "default_candidate_mrr": default_mrr,
                           "weights": dict(zip(_feature_names(), [round(float(w), 4) for w in final.weights],
                                               strict=True)),
                           "bias": round(final.bias, 4), "datasets": {}}
    settings = {"fusion": "learned", "fusion_weights": weights_path}
    heldout: dict[str, list[dict[str, Any]]] = {}
    for ds in datasets:
        base = base_rows[ds.name]
        res: dict[str, Any] = {}
        if ds.splits:
            tune = [r for r in oof_rows[ds.name] if r["split"] == "tune"]
            base_tune = [r for r in base["all"] if r["split"] == "tune"]
            res["tune_out_of_fold"] = _scored(base_tune, tune)
            held = heldout[ds.name] = _run(ds, settings, ds.part("heldout"))
            res["heldout"] = _scored(base["heldout"], held)
        else:
            rows = oof_rows[ds.name]
            res["all_out_of_fold"] = _scored(base["all"], rows)
        out["datasets"][ds.name] = res
    tune = {ds.name: [r for r in oof_rows[ds.name] if r["split"] == "tune"] for ds in datasets if ds.splits}
    base_tune = {n: [r for r in base_rows[n]["all"] if r["split"] == "tune"] for n in tune}
    out["tune_pooled"] = _scored(_pooled(base_tune), _pooled(tune))
    _conclude(out, heldout, base_rows)
    return out


def _feature_names() -> list[str]:
    from qa.search.features import FEATURES

    return list(FEATURES)


# ---------------------------------------------------------------- the experiments

def _family(name: str, grid: list[dict[str, Any]], datasets: Sequence[DataSet],
            base_rows: dict[str, dict[str, list]], log: Callable[[str], None]) -> dict[str, Any]:
    """Tune the family on the tune halves, then run its choice on held-out and SweFAQ."""
    tried = []
    split_sets = [ds for ds in datasets if ds.splits]
    for overrides in grid:
        entry: dict[str, Any] = {"settings": overrides, "tune": {}, "rows": {}}
        pooled_tune, pooled_base = [], []
        for ds in split_sets:
            rows = entry["rows"][ds.name] = _run(ds, overrides, ds.part("tune"))
            entry["tune"][ds.name] = _intervals(rows)
            pooled_tune += [{**r, "id": f"{ds.name}:{r['id']}"} for r in rows]
            pooled_base += [{**r, "id": f"{ds.name}:{r['id']}"}
                            for r in base_rows[ds.name]["all"] if r["split"] == "tune"]
        entry["tune_pooled"] = _intervals(pooled_tune)
        entry["tune_versus_default"] = _compare(pooled_base, pooled_tune)
        tried.append(entry)
        log(f"  {name} {overrides}: tune MRR@10 {entry['tune_pooled']['MRR@10']['mean']:.3f} "
            f"Hit@1 {entry['tune_pooled']['Hit@1']['mean']:.3f}")
    chosen = max(tried, key=lambda e: _selection_key(e["tune_pooled"]))
    tune_rows = {e["settings"].__repr__(): e.pop("rows") for e in tried}[chosen["settings"].__repr__()]
    out: dict[str, Any] = {"tried": tried, "chosen": chosen["settings"], "datasets": {},
                           "tune_pooled": {"figures": chosen["tune_pooled"],
                                           "versus_default": chosen["tune_versus_default"]}}
    heldout: dict[str, list[dict[str, Any]]] = {}
    for ds in datasets:
        res: dict[str, Any] = {}
        if ds.splits:
            rows = heldout[ds.name] = _run(ds, chosen["settings"], ds.part("heldout"))
            res["tune"] = {"figures": chosen["tune"][ds.name],
                           "versus_default": _compare(
                               [r for r in base_rows[ds.name]["all"] if r["split"] == "tune"],
                               tune_rows[ds.name])}
            res["heldout"] = _scored(base_rows[ds.name]["heldout"], rows)
        else:
            rows = _run(ds, chosen["settings"], ds.queries)
            res["all"] = _scored(base_rows[ds.name]["all"], rows)
        out["datasets"][ds.name] = res
    _conclude(out, heldout, base_rows)
    if name in LEXICAL_FAMILIES:
        out["lexical_mode"] = _lexical_mode(datasets, chosen["settings"])
    return out


def _lexical_mode(datasets: Sequence[DataSet], overrides: dict[str, Any]) -> dict[str, Any]:
    """The chosen setting in lexical mode against the reference's lexical mode, per part."""
    out: dict[str, Any] = {}
    for ds in datasets:
        for part in (("tune", "heldout") if ds.splits else (None,)):
            queries = ds.part(part)
            out[f"{ds.name} {part or 'all'}"] = _scored(_run(ds, {}, queries, "lexical"),
                                                        _run(ds, overrides, queries, "lexical"))
    return out


def _pooled(rows: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows of several data sets as one list, ids made unique by the data set's name."""
    return [{**r, "id": f"{name}:{r['id']}"} for name, part in rows.items() for r in part]


def _conclude(out: dict[str, Any], heldout: dict[str, list[dict[str, Any]]],
              base_rows: dict[str, dict[str, list]]) -> None:
    """The pooled held-out comparison and the verdict of the adoption rule.

    Adopt only when, on the held-out halves pooled, Hit@1 or MRR@10 is better (the whole
    paired interval above 0), no figure is worse on the pooled or any single held-out half,
    and no figure is worse on a data set without split (SweFAQ dev).
    """
    pooled = _scored(_pooled({n: base_rows[n]["heldout"] for n in heldout}), _pooled(heldout))
    out["heldout_pooled"] = pooled
    compared = [pooled["versus_default"]] + [
        res[part]["versus_default"] for res in out["datasets"].values()
        for part in res if part in ("heldout", "all", "all_out_of_fold")]
    worse = any(c["verdict"] == "worse" for cmp in compared for c in cmp.values())
    better = any(pooled["versus_default"][n]["verdict"] == "better" for n in ("Hit@1", "MRR@10"))
    out["verdict"] = "adopt" if better and not worse else (
        "not adopted: a figure is worse" if worse else "not adopted: no clear gain on held-out")


def run(quick: bool = False, fit: bool = True, only: Sequence[str] = ()) -> dict[str, Any]:
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", flush=True)

    ensure_seeds_index()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    datasets = [_seed_like("seeds", TESTSET, BENCH_INDEX, ROOT / "seeds")]
    kommun = _kommun()
    if kommun is not None:
        datasets.append(kommun)
    datasets.append(_swefaq())
    log("data sets: " + ", ".join(f"{ds.name} {ds.info}" for ds in datasets))

    base_rows: dict[str, dict[str, list]] = {}
    baseline: dict[str, Any] = {}
    for ds in datasets:
        rows = _run(ds, {}, ds.queries)
        base_rows[ds.name] = {"all": rows, "heldout": [r for r in rows if r["split"] == "heldout"]}
        if ds.splits:
            baseline[ds.name] = {s: _intervals([r for r in rows if r["split"] == s])
                                 for s in ("tune", "heldout")}
        else:
            baseline[ds.name] = {"all": _intervals(rows)}
    log("baseline MRR@10: " + json.dumps({n: {s: f["MRR@10"]["mean"] for s, f in v.items()}
                                          for n, v in baseline.items()}))

    families: dict[str, Any] = {}
    for name, grid in (QUICK_GRIDS if quick else GRIDS).items():
        if only and name not in only:
            continue
        log(f"family {name}: {len(grid)} settings")
        families[name] = _family(name, grid, datasets, base_rows, log)
    if not only or "learned" in only:
        log("family learned")
        families["learned"] = learned_fusion(datasets, base_rows, fit and not quick, log)
    log("done")
    return {"mode": MODE, "k": K, "figures": list(FIGURES), "reference": REFERENCE,
            "datasets": {ds.name: ds.info for ds in datasets},
            "default": baseline, "families": families, "elapsed_s": round(time.perf_counter() - t0, 1)}


# ---------------------------------------------------------------- the report

def _cell(f: dict[str, Any], name: str) -> str:
    i = f.get(name)
    return "—" if i is None else f"{i['mean']:.3f} [{i['low']:.3f}, {i['high']:.3f}]"


def _diff(c: dict[str, Any], name: str) -> str:
    d = c.get(name)
    if d is None:
        return "—"
    x = d["difference"]
    return f"{x['mean']:+.3f} [{x['low']:+.3f}, {x['high']:+.3f}] {d['verdict']}"


def markdown(result: dict[str, Any]) -> str:
    lines = ["# Ranking experiments", "",
             f"Hybrid mode, k = {result['k']}; each family tuned on the tune halves, its choice run "
             "once on held-out; differences are variant − the reference, paired over the same "
             "questions, with 95 % bootstrap intervals. SweFAQ dev is all 110 questions (no split). "
             "The learned fusion's tune and SweFAQ figures are out-of-fold. "
             f"The reference (\"default\") is `{json.dumps(result['reference'])}`.", ""]
    for ds, parts in result["default"].items():
        lines.append(f"**Reference, {ds}:** " + "; ".join(
            f"{part}: " + ", ".join(f"{n} {_cell(f, n)}" for n in result["figures"])
            for part, f in parts.items()))
        lines.append("")
    for name, fam in result["families"].items():
        chosen = fam.get("chosen")
        lines += [f"## {name}", "", f"Chosen on tune: `{json.dumps(chosen)}`", ""]
        lines += ["| data set | part | " + " | ".join(result["figures"]) + " | Δ Hit@1 | Δ MRR@10 |",
                  "|---|---|" + "---:|" * (len(result["figures"]) + 2)]
        for ds, res in fam["datasets"].items():
            for part, r in res.items():
                lines.append(f"| {ds} | {part} | " + " | ".join(_cell(r["figures"], n)
                                                               for n in result["figures"])
                             + f" | {_diff(r['versus_default'], 'Hit@1')} | "
                             f"{_diff(r['versus_default'], 'MRR@10')} |")
        for key, part in (("tune_pooled", "tune"), ("heldout_pooled", "heldout")):
            if key in fam:
                r = fam[key]
                lines.append("| halves pooled | " + part + " | " + " | ".join(
                    _cell(r["figures"], n) for n in result["figures"])
                    + f" | {_diff(r['versus_default'], 'Hit@1')} | "
                    f"{_diff(r['versus_default'], 'MRR@10')} |")
        if "verdict" in fam:
            lines += ["", f"**Verdict: {fam['verdict']}.**"]
        if "lexical_mode" in fam:
            lines += ["", "The same setting in lexical mode (BM25 alone), against the reference's:", "",
                      "| data set and part | " + " | ".join(result["figures"]) + " | Δ Hit@1 | Δ MRR@10 |",
                      "|---|" + "---:|" * (len(result["figures"]) + 2)]
            for part, r in fam["lexical_mode"].items():
                lines.append(f"| {part} | " + " | ".join(_cell(r["figures"], n) for n in result["figures"])
                             + f" | {_diff(r['versus_default'], 'Hit@1')} | "
                             f"{_diff(r['versus_default'], 'MRR@10')} |")
        if "tried" in fam:
            lines += ["", "Grid on tune (pooled tune halves):", "",
                      "| settings | Hit@1 | Hit@5 | MRR@10 | nDCG@10 | Δ MRR@10 |",
                      "|---|---:|---:|---:|---:|---:|"]
            for e in fam["tried"]:
                f = e["tune_pooled"]
                lines.append(f"| `{json.dumps(e['settings'])}` | " + " | ".join(
                    f"{f[n]['mean']:.3f}" for n in result["figures"])
                    + f" | {_diff(e['tune_versus_default'], 'MRR@10')} |")
        if "grid" in fam:
            lines += ["", "Fitting (grouped 5-fold CV, out-of-fold MRR@10 of the candidate pool, "
                      f"before de-duplication; the reference's order of the same pool: "
                      f"{fam['default_candidate_mrr']:.3f}):", "",
                      "| objective | C | class weight | negatives | MRR@10 |", "|---|---:|---|---|---:|"]
            lines += [f"| {g['kind']} | {g['C']} | {g['class_weight']} | "
                      f"{'all' if g.get('hard') is None else 'top ' + str(g['hard'])} | "
                      f"{g['oof_candidate_mrr']:.3f} |" for g in fam["grid"]]
            lines += ["", "Weights (raw features): " + ", ".join(
                f"{k} {v:+.3f}" for k, v in fam["weights"].items()) + f"; bias {fam['bias']:+.3f}"]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--no-fit", action="store_true",
                        help="do not overwrite qa/search/fusion_weights.json")
    parser.add_argument("--family", action="append", default=[], choices=[*GRIDS, "learned"],
                        help="run only this family (repeatable); the results files are written "
                        "with only these")
    args = parser.parse_args()
    result = run(args.quick, fit=not args.no_fit, only=args.family)
    write_result("ranking_experiments", result, args.quick, STUDY_RESULTS)
    path = results_dir(args.quick, STUDY_RESULTS) / "ranking_experiments.md"
    path.write_text(markdown(result) + "\n", encoding="utf-8")
    print(f"→ {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
