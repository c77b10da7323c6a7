"""What each kind of pair contributes to `qa adapt`: train on one kind only, or on all but one.

Usage::

    python -m bench.adapt_ablation --index-root DIR [--sets kommun,libreoffice,seeds]
        [--variants all,only-heading,...,no-list] [--steps 5] [--minutes 10]
        [--learning-rate 2e-5]

``DIR/<set>`` is an index of the set's corpus, as for ``bench/adapt.py`` (how each is built is
in docs/design/2026-12-07-adapting-the-model.md). Per set, in one process: the pairs are mined
once (every kind), the hard negatives found once for every trainable pair (BM25 and the base
model, as ``qa adapt`` does; a variant trains on its pairs with the very same negatives, so the
variants differ only in which pairs they train on), and the base model is scored once. Then
each variant fine-tunes a fresh copy of the base model with ``qa adapt``'s trainer and
defaults (constant learning rate after warm-up, the same seed) for the same number of
optimiser steps (``--steps``; the time budget ``--minutes`` is only a safety stop), so that
the variants differ in which pairs they see, not in how much training a busy machine let them
have. A variant with fewer pairs than a step takes is skipped rather than passed over
repeatedly. The variants:

- ``all``: every kind (what ``qa adapt`` trains on with labelled questions);
- ``only-<kind>``: that kind alone (``qa adapt --kinds <kind>``);
- ``no-<kind>``: every kind but that one.

Each adapted model is scored as ``qa adapt``'s check scores it (a dense ranking of the
collection's passages; MRR@10 and Hit@1 of the labelled questions, per half; each held-out
pair's query against the positives of its kind), and compared question by question with the
base and with ``all`` (paired bootstrap 95 % intervals). The tune half is where a mix may be
chosen; the held-out half is what is reported. One run at a time (training takes both cores);
results are written after every variant, so a cut run keeps what it measured. Writes
bench/results/<name>.json and .md (name ``adapt_ablation``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, ROOT, bench_parser, write_result
from qa.adapt import train as training
from qa.adapt.check import reciprocal_ranks
from qa.adapt.pairs import PAIR_KINDS, Pair, counts, mine_pairs
from qa.adapt.run import embedder, hard_negatives, labelled_questions
from qa.eval.confidence import compare
from qa.eval.testset import EvalQuery
from qa.index import generations
from qa.index.manifest import load_manifest
from qa.index.store import PassageStore
from qa.ingest.passages import Passage
from qa.settings import Settings

TESTSETS = ROOT / "qa" / "eval" / "testsets"
QUESTIONS = {"seeds": TESTSETS / "seeds_sv.jsonl", "kommun": TESTSETS / "kommun_sv.jsonl",
             "libreoffice": TESTSETS / "libreoffice_sv.jsonl",
             "lifelines": TESTSETS / "lifelines_sv.jsonl"}
VARIANTS = ("all", *(f"only-{k}" for k in PAIR_KINDS), *(f"no-{k}" for k in PAIR_KINDS))
Embed = Callable[[Sequence[str], str], np.ndarray]


def trained_kinds(variant: str) -> tuple[str, ...]:
    """The kinds of pair a variant trains on."""
    if variant == "all":
        return PAIR_KINDS
    if variant.startswith("only-") and variant[5:] in PAIR_KINDS:
        return (variant[5:],)
    if variant.startswith("no-") and variant[3:] in PAIR_KINDS:
        return tuple(k for k in PAIR_KINDS if k != variant[3:])
    raise SystemExit(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")


def question_ranks(queries: Sequence[EvalQuery], passages: Sequence[Passage],
                   vectors: np.ndarray, embed: Embed, prompt: str) -> np.ndarray:
    """Reciprocal rank (at 10) of each answerable question's evidence in a dense ranking."""
    answerable = [q for q in queries if q.answerable]
    relevant = [{row for row, p in enumerate(passages) if q.target_of(p) is not None}
                for q in answerable]
    return reciprocal_ranks(embed([q.question for q in answerable], prompt) @ vectors.T,
                            relevant)


def pair_ranks(pairs: Sequence[Pair], embed: Embed, query_prompt: str,
               passage_prompt: str) -> np.ndarray:
    """Each pair's query against the distinct positives of ``pairs`` (as ``check.pair_check``)."""
    positives = list(dict.fromkeys(p.positive for p in pairs))
    where = {text: i for i, text in enumerate(positives)}
    scores = embed([p.query for p in pairs], query_prompt) @ embed(positives, passage_prompt).T
    return reciprocal_ranks(scores, [{where[p.positive]} for p in pairs])


def scores(ranks: dict[str, np.ndarray], passages: Sequence[Passage], texts: list[str],
           halves: dict[str, list[EvalQuery]], held: Mapping[str, list[Pair]], embed: Embed,
           files: Any) -> dict[str, np.ndarray]:
    """Every score of one model: ``q:<half>`` (questions) and ``p:<kind>`` (held-out pairs)."""
    vectors = embed(texts, files.passage_prompt)
    for half, queries in halves.items():
        ranks[f"q:{half}"] = question_ranks(queries, passages, vectors, embed, files.query_prompt)
    for kind, pairs in held.items():
        ranks[f"p:{kind}"] = pair_ranks(pairs, embed, files.query_prompt, files.passage_prompt)
    return ranks


def comparison(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """MRR@10 and Hit@1 of ``b`` against ``a``, paired, with 95 % intervals."""
    return {"mrr@10": compare(a.tolist(), b.tolist()).to_json(),
            "hit@1": compare((a == 1.0).astype(float).tolist(),
                             (b == 1.0).astype(float).tolist()).to_json()}


def ablate(name: str, index_dir: Path, questions: Path, variants: Sequence[str],
           params: training.TrainingParams, done: Callable[[dict[str, Any]], None]
           ) -> dict[str, Any]:
    """Every variant on one set; ``done`` is called with the set's results after each."""
    settings = Settings()
    generation = generations.current(index_dir)
    if generation is None:
        raise SystemExit(f"no index at {index_dir}")
    manifest = load_manifest(generation.path)
    from qa.embed.model_files import read_model_files

    files = read_model_files(settings.embed)
    store = PassageStore(generation.files.store)
    passages = store.passages
    pairs = mine_pairs(store)
    trainable = [p for p in pairs if not p.held_out]
    by_kind = {k: [p for p in pairs if p.kind == k and p.held_out] for k in PAIR_KINDS}
    held: dict[str, list[Pair]] = {k: v for k, v in by_kind.items() if len(v) >= 2}
    tune, heldout = labelled_questions(questions, store)
    halves = {"tune": tune, "heldout": heldout}
    texts = [p.embedding_text(manifest.embed_context) for p in passages]
    t0 = time.monotonic()
    base_model = training.load_model(files, params.threads)
    base_embed = embedder(base_model)
    negatives = hard_negatives(trainable, passages, generation, base_embed, files.query_prompt,
                               "both")
    base: dict[str, np.ndarray] = {}
    for half, queries in halves.items():
        base[f"q:{half}"] = question_ranks(queries, passages, np.load(generation.files.embeddings),
                                           base_embed, files.query_prompt)
    for kind, chosen in held.items():
        base[f"p:{kind}"] = pair_ranks(chosen, base_embed, files.query_prompt,
                                       files.passage_prompt)
    del base_model, base_embed
    result: dict[str, Any] = {
        "set": name, "steps": params.max_steps, "passages": len(passages), "pairs": counts(pairs),
        "trainable": counts(trainable), "held_out_pairs": {k: len(v) for k, v in held.items()},
        "questions": {h: sum(q.answerable for q in qs) for h, qs in halves.items()},
        "setup_seconds": round(time.monotonic() - t0, 1),
        "base": {k: round(float(v.mean()), 4) for k, v in base.items()}, "variants": []}
    every: dict[str, np.ndarray] | None = None
    for variant in variants:
        kinds = trained_kinds(variant)
        rows = [i for i, p in enumerate(trainable) if p.kind in kinds]
        entry: dict[str, Any] = {"variant": variant, "kinds": list(kinds),
                                 "trained_pairs": len(rows)}
        if len(rows) < params.max_steps * params.batch_size:
            entry["skipped"] = (f"fewer pairs than {params.max_steps} steps of "
                                f"{params.batch_size} take")
            result["variants"].append(entry)
            done(result)
            continue
        print(f"== {name} / {variant}: {len(rows)} pairs", flush=True)
        w0, c0 = time.monotonic(), time.process_time()
        model = training.load_model(files, params.threads)
        run = training.train(model, [trainable[i] for i in rows], [negatives[i] for i in rows],
                             files, params)
        ranks = scores({}, passages, texts, halves, held, embedder(model), files)
        del model
        entry.update(training=run.to_json(), wall_seconds=round(time.monotonic() - w0, 1),
                     cpu_seconds=round(time.process_time() - c0, 1),
                     versus_base={k: comparison(base[k], v) for k, v in ranks.items()})
        if variant == "all":
            every = ranks
        elif every is not None:
            entry["versus_all"] = {k: comparison(every[k], v) for k, v in ranks.items()}
        result["variants"].append(entry)
        print(f"   {entry['wall_seconds']} s wall, {entry['cpu_seconds']} CPU s, "
              f"{run.steps} steps; held-out MRR@10 difference "
              f"{_fmt(entry['versus_base']['q:heldout']['mrr@10']['difference'])}", flush=True)
        done(result)
    store.close()
    return result


def _fmt(d: dict[str, Any]) -> str:
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def _cell(entry: dict[str, Any], key: str, against: str = "versus_base") -> str:
    c = (entry.get(against) or {}).get(key)
    return _fmt(c["mrr@10"]["difference"]) if c else ""


def markdown(results: list[dict[str, Any]], command: str) -> str:
    """The tables of bench/results/adapt_ablation.md, each under the command that made it."""
    lines = ["# What each kind of pair contributes (`python -m bench.adapt_ablation`)", "",
             "Dense MRR@10 differences, adapted − base (and − the all-kinds model), paired 95 % "
             "intervals; questions answerable only.", ""]
    for r in results:
        pair_kinds = list(r["held_out_pairs"])
        lines += [f"## {r['set']}, {r.get('steps', '?')} steps ({r['passages']} passages; "
                  "pairs mined "
                  + ", ".join(f"{k} {n}" for k, n in r["pairs"].items())
                  + f"; questions tune {r['questions']['tune']}, held-out "
                  f"{r['questions']['heldout']})", "",
                  f"`{r.get('command', command)}`", "",
                  "Base MRR@10: " + ", ".join(f"{k} {v:.3f}" for k, v in r["base"].items()), "",
                  "| variant | pairs trained | steps | wall s | CPU s | tune questions | "
                  "held-out questions | held-out questions vs all | "
                  + " | ".join(f"held-out {k} pairs" for k in pair_kinds) + " |",
                  "| --- " * (8 + len(pair_kinds)) + "|"]
        for e in r["variants"]:
            if "skipped" in e:
                lines.append(f"| {e['variant']} | {e['trained_pairs']} | skipped: "
                             f"{e['skipped']} |")
                continue
            lines.append(
                f"| {e['variant']} | {e['trained_pairs']} | {e['training']['steps']} | "
                f"{e['wall_seconds']} | {e['cpu_seconds']} | {_cell(e, 'q:tune')} | "
                f"{_cell(e, 'q:heldout')} | {_cell(e, 'q:heldout', 'versus_all')} | "
                + " | ".join(_cell(e, f"p:{k}") for k in pair_kinds) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--index-root", type=Path, required=True)
    parser.add_argument("--sets", default="kommun,libreoffice,seeds")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=5, help="optimiser steps per variant")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="time budget per variant (a safety stop)")
    parser.add_argument("--learning-rate", type=float, default=training.TrainingParams
                        .learning_rate)
    parser.add_argument("--name", default="adapt_ablation")
    parser.add_argument("--merge", action="store_true",
                        help="keep the results already in <name>.json and add these runs' "
                        "after them (each with its own command)")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        trained_kinds(v)
    params = training.TrainingParams(seconds=args.minutes * 60, max_steps=args.steps,
                                     learning_rate=args.learning_rate)
    command = (f"python -m bench.adapt_ablation --index-root DIR --sets {args.sets} "
               f"--variants {args.variants} --steps {args.steps} --minutes {args.minutes:g} "
               f"--learning-rate {args.learning_rate:g}")
    earlier: list[dict[str, Any]] = []
    kept = (RESULTS / "quick" if args.quick else RESULTS) / f"{args.name}.json"
    if args.merge and kept.is_file():
        old = json.loads(kept.read_text(encoding="utf-8"))
        earlier = [{"command": old["command"], **r} if "command" not in r else r
                   for r in old["results"]]
    results: list[dict[str, Any]] = []

    def write(current: dict[str, Any] | None = None) -> None:
        shown = earlier + results + ([current] if current is not None else [])
        write_result(args.name, {"command": command, "minutes": args.minutes,
                                 "training": params.__dict__, "results": shown}, args.quick)
        path = (RESULTS / "quick" if args.quick else RESULTS) / f"{args.name}.md"
        path.write_text(markdown(shown, command), encoding="utf-8")

    for name in [s for s in args.sets.split(",") if s]:
        results.append({"command": command, **ablate(
            name, args.index_root / name, QUESTIONS[name], variants, params,
            lambda r: write({"command": command, **r}))})
        write()
    print(json.dumps({"sets": len(results)}))


if __name__ == "__main__":
    main()
