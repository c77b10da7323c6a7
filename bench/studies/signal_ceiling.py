"""How far the fixed model's signals can go: issue 15's ranking and abstention targets against
a bound.

Issue 15 asks, on unseen questions, for passage Hit@1 ≥ 0.85 and MRR@10 ≥ 0.90, and for at
least half of the unanswerable questions flagged at most 5 % of the answerable; the model
is fixed (multilingual-e5-small is the only one available offline), so the gains must come
from how its signals are used. This measures how much any use of them can give on the
project's own labelled questions (the seed and municipal sets, both halves):

* **ranking**: every answerable question's hybrid candidate pool
  (``SearchEngine.candidates``, default settings) with sixteen signals per candidate: the
  ten of ``qa.search.features`` (passage and best-sentence cosines, BM25 relative and by
  rank, term coverage, five answer-type cues); the best sentence cosine read in context,
  the mean of the two best sentence cosines, and the cosines of the passages before and
  after; and two further readings of the model (``ModelReadings``: token-level MaxSim, and
  the question embedded as a passage). The pools are ranked by the default mix; by a
  pairwise logistic regression and by weights searched for Hit@1 itself, both fitted
  **on the very questions they are scored on** (an optimistic bound: no linear rule
  learnt elsewhere does better on them); by gradient boosting and a random forest scored
  out of fold (5 folds grouped by question; in sample they only memorise); and by the
  default with each further reading mixed in, its weight chosen on the tune half and
  scored on the held-out half;
* **abstention**: every question, answerable or not, searched as served, with fourteen
  signals of how well its best hit answers (``SIGNALS``: the shipped three, the cosines of
  the best passage, sentence and sentence in context, score gaps, BM25, coverage, known
  words, a missing answer type, the candidate pool's median). The share of unanswerable
  questions a logistic regression flags while flagging at most 5 % of the answerable
  ones, fitted on the questions it is scored on (the bound), and out of fold.

Writes ``bench/studies/results/signal_ceiling.json`` and ``.md``.

    python -m bench.studies.signal_ceiling
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import (
    KOMMUN_TESTSET,
    STUDY_RESULTS,
    TESTSET,
    bench_parser,
    ensure_kommun_index,
    ensure_seeds_index,
    results_dir,
    write_result,
)

EXTRA = ("context_cosine", "two_best_sentences", "previous_passage_cosine", "next_passage_cosine")
# Two more readings of the same model, from sentence-transformers (``ModelReadings``).
READINGS = ("token_maxsim", "symmetric_cosine")
READING_WEIGHTS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
TARGETS = {"Hit@1": 0.85, "Hit@5": 0.97, "MRR@10": 0.90, "unanswerable flagged": 0.5}
MOST_ANSWERABLE_FLAGGED = 0.05
SIGNALS = ("similarity", "centroid", "agreement", "passage_cosine", "sentence_cosine",
           "context_cosine", "spread_of_top_5", "gap_to_second", "bm25_best", "term_coverage",
           "known_words", "answer_type_missing", "pool_median", "gap_to_pool_median")
SHIPPED = 3  # the first three are the signals the bundled abstention model uses
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
FOLDS = 5


@dataclass
class Pools:
    """Every candidate of every question: signals, relevance, and the question it belongs to."""

    x: np.ndarray
    relevant: np.ndarray
    group: np.ndarray
    default: np.ndarray  # the engine's own score of each candidate
    questions: int
    split: np.ndarray  # "tune" or "heldout", per question
    abstention: np.ndarray  # one row of SIGNALS per question, answerable or not
    unanswerable: np.ndarray  # 1 where the collection does not answer the question


def _extra(engine: Any, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
    """The four signals beyond ``qa.search.features``, one row per candidate."""
    sentences = engine.index.sentences
    vectors = engine.index.embeddings
    last = len(engine.passages) - 1
    out = []
    for r in (int(r) for r in rows):
        a, b = sentences.offsets[r], sentences.offsets[r + 1]
        bare = np.sort(np.asarray(sentences.vectors[a:b]) @ qvec)[::-1]
        in_context = sentences.for_highlights(r) @ qvec
        out.append([float(in_context.max()), float(bare[:2].mean()),
                    float(vectors[r - 1] @ qvec) if r > 0 else 0.0,
                    float(vectors[r + 1] @ qvec) if r < last else 0.0])
    return np.asarray(out, np.float64).reshape(len(rows), len(EXTRA))


class ModelReadings:
    """What the fixed model says beyond its pooled vectors: token-level late interaction
    (ColBERT's MaxSim: each question token's best cosine with a passage token, averaged)
    and the question embedded as a passage (a symmetric match)."""

    def __init__(self) -> None:
        from bench.common import load_sentence_transformer

        self.model = load_sentence_transformer()
        prompts = getattr(self.model, "prompts", {}) or {}
        self.query_prompt = prompts.get("query", "query: ")
        self.passage_prompt = prompts.get("passage", "passage: ")
        # the prompt's own tokens are not part of the question
        self.prompt_tokens = len(self.model.tokenizer(self.query_prompt, add_special_tokens=False)
                                 ["input_ids"])
        self._tokens: dict[str, list[np.ndarray]] = {}  # index directory -> per passage row

    def _unit_tokens(self, texts: list[str]) -> list[np.ndarray]:
        out = self.model.encode(texts, output_value="token_embeddings", batch_size=16,
                                show_progress_bar=False)
        return [t.numpy() / np.linalg.norm(t.numpy(), axis=1, keepdims=True) for t in out]

    def passage_tokens(self, engine: Any) -> None:
        """Embed every passage of ``engine``'s index token by token (once per index)."""
        texts = [self.passage_prompt + p.text for p in engine.passages]
        self._tokens[str(engine.index.dir)] = self._unit_tokens(texts)

    def signals(self, engine: Any, question: str, rows: np.ndarray) -> np.ndarray:
        """``READINGS`` of each candidate row, one row per candidate."""
        tokens = self._tokens[str(engine.index.dir)]
        q = self._unit_tokens([self.query_prompt + question])[0][1 + self.prompt_tokens:-1]
        symmetric = self.model.encode([self.passage_prompt + question], normalize_embeddings=True,
                                      show_progress_bar=False)[0]
        vectors = engine.index.embeddings
        return np.asarray([[float((q @ tokens[int(r)].T).max(axis=1).mean()),
                            float(vectors[int(r)] @ symmetric)] for r in rows], np.float64)


def _abstention_signals(engine: Any, question: str, qvec: np.ndarray, found: Any,
                        x: np.ndarray) -> list[float]:
    """``SIGNALS`` of one question: how well its best hit, as served, answers."""
    from qa.search.answer_types import has_answer_type, question_type

    result = engine.search(question, k=5, highlights=False)
    hits, signals = result.hits, result.signals
    ids = [engine.passages[int(r)].id for r in found.rows]
    top = ids.index(hits[0].passage.id) if hits and hits[0].passage.id in ids else \
        int(np.argmax(found.dense))
    row = int(found.rows[top])
    sims = [h.similarity for h in hits] or [0.0]
    idf = engine.highlighter.idf
    terms = engine.highlighter.terms(question)
    kind = question_type(question)
    median = float(np.median(found.dense))
    return [signals.similarity, signals.centroid, signals.agreement, float(found.passage[top]),
            float(found.sentence[top]),
            float((engine.index.sentences.for_highlights(row) @ qvec).max()),
            sims[0] - sims[-1], sims[0] - (sims[1] if len(sims) > 1 else 0.0),
            float(found.bm25.max(initial=0.0)), float(x[top, 4]),
            float(np.mean([t in idf for t in terms])) if terms else 0.0,
            float(kind is not None and not has_answer_type(engine.passages[row].text, kind)),
            median, signals.similarity - median]


def collect() -> Pools:
    """Candidate pools of every answerable question of both test sets, and the abstention
    signals of every question."""
    from qa.embed.question_encoder import open_question_encoder
    from qa.eval.testset import load_testset, resolve
    from qa.search.engine import SearchEngine
    from qa.settings import Settings

    settings = Settings()
    questions = open_question_encoder(settings)
    readings = ModelReadings()
    xs, ys, gs, ds, abstention, unanswerable, splits = [], [], [], [], [], [], []
    n = 0
    for index_dir, testset in ((ensure_seeds_index(), TESTSET), (ensure_kommun_index(), KOMMUN_TESTSET)):
        engine = SearchEngine.open(settings, str(index_dir), questions)
        readings.passage_tokens(engine)
        for q in resolve(load_testset(testset), engine.document_texts()):
            found, x = engine.candidates(q.question)
            qvec = questions.embed(q.question)
            abstention.append(_abstention_signals(engine, q.question, qvec, found, x))
            unanswerable.append(int(not q.answerable))
            if not q.answerable:
                continue
            xs.append(np.hstack([x, _extra(engine, found.rows, qvec),
                                 readings.signals(engine, q.question, found.rows)]))
            splits.append(q.split)
            ys.append(np.array([q.target_of(engine.passages[int(r)]) is not None
                                for r in found.rows], np.int64))
            best = float(found.bm25.max(initial=0.0))
            ds.append(found.dense + settings.lexical_weight * (found.bm25 / best if best > 0 else 0))
            gs.append(np.full(len(found), n))
            n += 1
    return Pools(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), np.concatenate(ds), n,
                 np.asarray(splits), np.asarray(abstention, np.float64),
                 np.asarray(unanswerable, np.int64))


def figures(p: Pools, score: np.ndarray, split: str | None = None) -> dict[str, float]:
    """Hit@1, Hit@5 and MRR@10 of ranking each question's pool (of ``split``) by ``score``."""
    hit1, hit5, rr = [], [], []
    for g in range(p.questions):
        if split is not None and p.split[g] != split:
            continue
        sel = p.group == g
        order = np.argsort(-score[sel], kind="stable")[:10]
        hits = np.flatnonzero(p.relevant[sel][order])
        first = int(hits[0]) + 1 if len(hits) else None
        hit1.append(first == 1)
        hit5.append(first is not None and first <= 5)
        rr.append(1.0 / first if first else 0.0)
    return {"Hit@1": round(float(np.mean(hit1)), 3), "Hit@5": round(float(np.mean(hit5)), 3),
            "MRR@10": round(float(np.mean(rr)), 3)}


def linear_in_sample(p: Pools, columns: list[int]) -> tuple[dict[str, float], float, np.ndarray]:
    """The best pairwise logistic regression over ``columns``, fitted on all questions:
    its figures, its C and its weights (of the raw columns)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = p.x[:, columns]
    scale = StandardScaler().fit(x).scale_
    diffs = []
    for g in range(p.questions):
        sel = p.group == g
        pos, neg = x[sel][p.relevant[sel] == 1], x[sel][p.relevant[sel] == 0]
        if len(pos) and len(neg):
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, len(columns)))
    d = np.vstack(diffs) / scale
    labels = np.concatenate([np.ones(len(d)), np.zeros(len(d))])
    best: tuple[dict[str, float], float, np.ndarray] | None = None
    for c in C_GRID:
        model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(np.vstack([d, -d]),
                                                                                labels)
        w = model.coef_[0] / scale
        found = figures(p, x @ w)
        if best is None or (found["Hit@1"], found["MRR@10"]) > (best[0]["Hit@1"], best[0]["MRR@10"]):
            best = (found, c, w)
    assert best is not None
    return best


def hit1_search(p: Pools, columns: list[int], starts_raw: list[np.ndarray], rounds: int = 6,
                seed: int = 0) -> dict[str, float]:
    """Weights found by searching for the best in-sample Hit@1 directly (then MRR@10).

    The logistic regression optimises its loss, not Hit@1; this coordinate search (each
    weight in turn shifted over a grid, from each of ``starts_raw``, weights of the raw
    columns, and from random restarts around the best)
    optimises the figure itself, on the questions it is scored on: an optimistic bound for
    a linear rule over these signals.
    """
    std = p.x[:, columns].std(axis=0).clip(1e-9)
    x = p.x[:, columns] / std
    starts = np.flatnonzero(np.r_[True, p.group[1:] != p.group[:-1]])

    def key(w: np.ndarray) -> tuple[float, float]:
        score = x @ w
        best = np.maximum.reduceat(score, starts)
        top = score >= np.repeat(best, np.diff(np.r_[starts, len(score)]))
        # a tie at the top counts as a miss unless every tied candidate is relevant
        hit = np.minimum.reduceat(np.where(top, p.relevant, 1), starts)
        return float(hit.mean()), figures(p, score)["MRR@10"]

    rng = np.random.default_rng(seed)
    candidates = [w * std for w in starts_raw]
    best_w = max(candidates, key=key)
    best_key = key(best_w)
    for restart in range(1 + len(candidates) + 2):
        if restart < len(candidates):
            w = candidates[restart].copy()
        else:
            w = best_w + rng.normal(0, 0.3 * float(np.abs(best_w).mean()), len(columns))
        current = key(w)
        for _ in range(rounds):
            scale = float(np.abs(w).max())
            for i in range(len(columns)):
                for step in (-1.0, -0.3, -0.1, -0.03, 0.03, 0.1, 0.3, 1.0):
                    trial = w.copy()
                    trial[i] += step * scale
                    k = key(trial)
                    if k > current:
                        w, current = trial, k
        if current > best_key:
            best_w, best_key = w, current
    return figures(p, x @ best_w)


def out_of_fold(p: Pools, make: Callable[[], Any]) -> dict[str, float]:
    """A pointwise classifier's ranking, each question scored by a model that never saw it."""
    from sklearn.model_selection import GroupKFold

    score = np.zeros(len(p.relevant))
    for train, test in GroupKFold(FOLDS).split(p.x, p.relevant, p.group):
        score[test] = make().fit(p.x[train], p.relevant[train]).predict_proba(p.x[test])[:, 1]
    return figures(p, score)


def _flagged_at(unanswerable: np.ndarray, probability: np.ndarray) -> float:
    """Share of the unanswerable flagged at the threshold that flags at most
    ``MOST_ANSWERABLE_FLAGGED`` of the answerable (the ROC curve's best point there)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(unanswerable, probability)
    return round(float(tpr[fpr <= MOST_ANSWERABLE_FLAGGED].max()), 3)


def abstention_bounds(p: Pools) -> dict[str, float]:
    """Unanswerable flagged at ≤ 5 % answerable: in sample (best C) and out of fold."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x, y = p.abstention, p.unanswerable
    z = (x - x.mean(axis=0)) / x.std(axis=0).clip(1e-9)
    out: dict[str, float] = {}
    for label, cols in ((f"the shipped {SHIPPED} signals", list(range(SHIPPED))),
                        (f"all {len(SIGNALS)} signals", list(range(len(SIGNALS))))):
        out[f"logistic regression over {label}, fitted in sample"] = max(
            _flagged_at(y, LogisticRegression(C=c, max_iter=5000).fit(z[:, cols], y)
                        .predict_proba(z[:, cols])[:, 1]) for c in C_GRID)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    out[f"logistic regression over all {len(SIGNALS)} signals, out of fold"] = _flagged_at(
        y, cross_val_predict(LogisticRegression(C=0.1, max_iter=5000), z, y, cv=folds,
                             method="predict_proba")[:, 1])
    out[f"gradient boosting over all {len(SIGNALS)} signals, out of fold"] = _flagged_at(
        y, cross_val_predict(GradientBoostingClassifier(n_estimators=200, max_depth=2,
                                                        random_state=0),
                             x, y, cv=folds, method="predict_proba")[:, 1])
    return out


def mixed_readings(p: Pools, base: int) -> dict[str, Any]:
    """Each model reading added to the default score with a weight chosen on the tune half
    (Hit@1, then MRR@10), then scored on the held-out half, beside the default."""
    out: dict[str, Any] = {"default": {s: figures(p, p.default, s) for s in ("tune", "heldout")}}
    for i, name in enumerate(READINGS):
        column = p.x[:, base + len(EXTRA) + i]
        grid = {w: figures(p, p.default + w * column, "tune") for w in READING_WEIGHTS}
        best = max(grid, key=lambda w: (grid[w]["Hit@1"], grid[w]["MRR@10"]))
        out[name] = {"alone, tune": figures(p, column, "tune"), "weight": best,
                     "tune": grid[best], "heldout": figures(p, p.default + best * column, "heldout")}
    return out


def run(quick: bool = False) -> dict[str, Any]:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.metrics import roc_auc_score

    from qa.search.features import FEATURES

    p = collect()
    base = len(FEATURES)
    pool_recall = float(np.mean([p.relevant[p.group == g].any() for g in range(p.questions)]))
    default = figures(p, p.default)
    linear10, c10, w10 = linear_in_sample(p, list(range(base)))
    every = list(range(base + len(EXTRA) + len(READINGS)))
    linear14, c14, w14 = linear_in_sample(p, every)
    mix = np.zeros(len(every))
    mix[:3] = [0.7, 0.3, 0.03]  # the engine's default mix of passage, sentence and BM25
    searched = hit1_search(p, every, [mix, np.r_[w10, np.zeros(len(every) - base)], w14],
                           rounds=2 if quick else 5)
    trees = {} if quick else {
        "gradient boosting (depth 2, 200 trees), out of fold": out_of_fold(
            p, lambda: GradientBoostingClassifier(n_estimators=200, max_depth=2, random_state=0)),
        "random forest (300 trees, leaves of 5), out of fold": out_of_fold(
            p, lambda: RandomForestClassifier(n_estimators=300, min_samples_leaf=5, random_state=0)),
    }
    rankings = {"default (the engine's mix)": default,
                f"linear over the 10 features, fitted in sample (C {c10})": linear10,
                f"linear over all {len(every)} signals, fitted in sample (C {c14})": linear14,
                f"linear over all {len(every)} signals, weights searched for the best in-sample "
                "Hit@1": searched,
                **trees}
    auc = {name: round(float(max(a, 1 - a)), 3) for name, a in zip(
        SIGNALS, (roc_auc_score(p.unanswerable, p.abstention[:, i]) for i in range(len(SIGNALS))),
        strict=True)}
    result = {"questions": p.questions, "candidates": len(p.relevant),
              "pool_recall": round(pool_recall, 3), "signals": [*FEATURES, *EXTRA, *READINGS],
              "targets": TARGETS, "rankings": rankings, "readings": mixed_readings(p, base),
              "abstention": {"questions": len(p.unanswerable),
                             "unanswerable": int(p.unanswerable.sum()),
                             "signal_auc": auc, "flagged_at_5_percent": abstention_bounds(p)}}
    (results_dir(quick, STUDY_RESULTS) / "signal_ceiling.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    write_result("signal_ceiling", result, quick, STUDY_RESULTS)
    return result


def markdown(result: dict[str, Any]) -> str:
    t = result["targets"]
    lines = [
        "# Signal ceiling: the fixed model's signals against issue 15's targets", "",
        "## Ranking", "",
        f"{result['questions']} answerable questions (seed and municipal sets, both halves), "
        f"{result['candidates']} candidates; the relevant passage is in the candidate pool for "
        f"{result['pool_recall']:.1%} of them. Signals: {', '.join(result['signals'])}.", "",
        "| ranking of the candidate pool | Hit@1 | Hit@5 | MRR@10 |", "| --- | ---: | ---: | ---: |",
    ]
    for name, f in result["rankings"].items():
        lines.append(f"| {name} | {f['Hit@1']:.3f} | {f['Hit@5']:.3f} | {f['MRR@10']:.3f} |")
    lines.append(f"| issue 15's targets (on unseen questions) | {t['Hit@1']:.2f} | {t['Hit@5']:.2f} | "
                 f"{t['MRR@10']:.2f} |")
    r = result["readings"]
    lines += ["", "Each further reading of the model mixed into the default score, its weight "
              "chosen on the tune half (Hit@1 / MRR@10):", "",
              "| reading | alone, tune | weight | tune | held out |", "| --- | ---: | ---: | ---: | ---: |",
              f"| none (the default) | | | {r['default']['tune']['Hit@1']:.3f} / "
              f"{r['default']['tune']['MRR@10']:.3f} | {r['default']['heldout']['Hit@1']:.3f} / "
              f"{r['default']['heldout']['MRR@10']:.3f} |"]
    for name in READINGS:
        f = r[name]
        lines.append(f"| {name} | {f['alone, tune']['Hit@1']:.3f} / {f['alone, tune']['MRR@10']:.3f} "
                     f"| {f['weight']} | {f['tune']['Hit@1']:.3f} / {f['tune']['MRR@10']:.3f} | "
                     f"{f['heldout']['Hit@1']:.3f} / {f['heldout']['MRR@10']:.3f} |")
    a = result["abstention"]
    lines += ["", "## Abstention", "",
              f"{a['questions']} questions, {a['unanswerable']} of them unanswerable. How well each "
              "signal alone tells them apart (ROC AUC): "
              + ", ".join(f"{n} {v:.3f}" for n, v in a["signal_auc"].items()) + ".", "",
              f"| decision | unanswerable flagged at ≤ {MOST_ANSWERABLE_FLAGGED:.0%} of the answerable |",
              "| --- | ---: |"]
    for name, v in a["flagged_at_5_percent"].items():
        lines.append(f"| {name} | {v:.3f} |")
    lines.append(f"| issue 15's target (on unseen questions) | {t['unanswerable flagged']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = bench_parser(__doc__)
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
