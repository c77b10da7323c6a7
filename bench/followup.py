"""Follow-up questions: each choice of reading a question with its history, measured.

Over the conversation sets of the seeds and the municipal corpus
(``qa/eval/testsets/followups_*_sv.jsonl``), through the serving engine in the default
mode, per split: follow-up Hit@1, MRR@10 and Answer@1, and topic changes' Hit@1 and share
left undisturbed, for

* ``alone``: every follow-up without history (today's service);
* ``prefix``: the first question and the follow-up searched as one question, no history
  (the naive reading the issue measured);
* ``always``: every follow-up read with its first question, no cue or weakness test;
* ``cues only``: read with the first question only on a continuation cue;
* ``adopted``: the settings as shipped (cues, then the weak-alone test);
* ablations of the adopted reading: without the earlier question's vector, without its BM25
  terms, without the document and section bonus, without the own-word evidence a question
  without a cue needs (``QA_FOLLOWUP_OWN_WORDS=0``), without leaving out the names an
  "Och …?" question swaps (``cues.contrasted``), without the earlier answer's vector in the
  topic's (and with other shares of it);
* ``grid``: the vector weight and the document bonus over a small grid, chosen on the
  ``tune`` half only (the adopted values are the best there), with ``heldout`` beside it.

    python -m bench.followup [--quick]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import (
    ROOT,
    bench_parser,
    ensure_kommun_index,
    ensure_seeds_index,
    write_result,
)

SETS = {"seeds": ROOT / "qa" / "eval" / "testsets" / "followups_seeds_sv.jsonl",
        "kommun": ROOT / "qa" / "eval" / "testsets" / "followups_kommun_sv.jsonl"}


@contextmanager
def _patched(engine: Any, always: bool = False, no_contrast: bool = False,
             **settings: float) -> Iterator[None]:
    """The engine's follow-up reading with other settings (and, ``always``, a cue on every
    question; ``no_contrast``, the topic never contrasted) for the duration of the block."""
    import qa.search.engine as engine_module
    from qa.search.cues import Cue

    followups = engine.followups
    before, cue, contrast = (followups.settings, engine_module.continuation_cue,
                             engine_module.contrasted)
    followups.settings = before.model_copy(update=settings)
    if always:
        engine_module.continuation_cue = lambda _q: Cue("forced", "")
    if no_contrast:
        engine_module.contrasted = lambda _q, topic, _c: topic
    try:
        yield
    finally:
        followups.settings, engine_module.continuation_cue = before, cue
        engine_module.contrasted = contrast


def _figures(rows: list[dict[str, Any]], way: str) -> dict[str, dict[str, float]]:
    """Per split: follow-ups' and topic changes' figures; ``way``: "alone", "history" or
    "prefix" (the rows of ``_prefix``, scored as "alone")."""
    out: dict[str, dict[str, float]] = {}
    for split in ("tune", "heldout"):
        part = [r for r in rows if r["split"] == split]
        fu = [r for r in part if r["kind"] == "followup"]
        tc = [r for r in part if r["kind"] == "topic_change"]
        un = [r for r in part if r["kind"] == "unanswerable"]


        def mean(group: list[dict[str, Any]], name: str) -> float:
            scored = "alone" if way == "prefix" else way
            return sum(r["scores"][scored][name] for r in group) / max(len(group), 1)

        out[split] = {"followup Hit@1": mean(fu, "Hit@1"), "followup MRR@10": mean(fu, "MRR@10"),
                      "followup Answer@1": mean(fu, "Answer@1"),
                      "topic change Hit@1": mean(tc, "Hit@1"),
                      # Alone, a topic change is its own baseline; read as one question with
                      # the first (prefix), it is never the search it would be alone.
                      "topic changes undisturbed": (sum(r["undisturbed"] for r in tc)
                                                    / max(len(tc), 1)) if way == "history" else
                      (1.0 if way == "alone" else 0.0),
                      # Unanswerable questions read with the first (prefix: all of them).
                      "unanswerable dragged": (sum(r["carried"] for r in un) / max(len(un), 1))
                      if way == "history" else (1.0 if way == "prefix" else 0.0),
                      "followups": len(fu), "topic changes": len(tc), "unanswerable": len(un)}
    return out


def _prefix(engine: Any, convs: list[Any], mode: str) -> list[dict[str, Any]]:
    """Rows for the naive reading: "first follow-up" searched as one question."""
    from dataclasses import replace

    from qa.eval.conversations import Conversation, evaluate_conversations

    joined = [Conversation(c.first, replace(c.query, question=f"{c.first} {c.query.question}"),
                           c.cue) for c in convs]
    rows = evaluate_conversations(engine, joined, mode, 10, progress=False)
    for r, c in zip(rows, convs, strict=True):  # undisturbed: compared with the true alone
        r["undisturbed"] = False if c.query.kind == "topic_change" else r["undisturbed"]
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    from qa.eval.conversations import evaluate_conversations, load_conversations
    from qa.search.engine import SearchEngine
    from qa.settings import Settings

    settings = Settings()
    mode = settings.search.default_mode
    engines = {"seeds": SearchEngine.open(settings, ensure_seeds_index())}
    engines["kommun"] = SearchEngine.open(settings, ensure_kommun_index(), engines["seeds"].questions)
    convs = {name: load_conversations(SETS[name], e.document_texts()) for name, e in engines.items()}
    if quick:
        convs = {n: c[:10] for n, c in convs.items()}

    def measure(**kw: Any) -> dict[str, Any]:
        out = {}
        for name, engine in engines.items():
            with _patched(engine, **kw):
                rows = evaluate_conversations(engine, convs[name], mode, 10, progress=False)
            out[name] = _figures(rows, "history")
        return out

    variants: dict[str, Callable[[], dict[str, Any]]] = {
        "alone": lambda: {n: _figures(evaluate_conversations(e, convs[n], mode, 10, progress=False),
                                      "alone") for n, e in engines.items()},
        "prefix": lambda: {n: _figures(_prefix(e, convs[n], mode), "prefix")
                           for n, e in engines.items()},
        "always": lambda: measure(always=True),
        "cues only": lambda: measure(followup_weak_similarity=-1.0),
        "adopted": measure,
        "no earlier vector": lambda: measure(followup_vector_weight=0.0),
        "no earlier BM25 terms": lambda: measure(followup_lexical_weight=0.0),
        "no document/section bonus": lambda: measure(followup_document_bonus=0.0,
                                                     followup_section_bonus=0.0),
        "no section bonus": lambda: measure(followup_section_bonus=0.0),
        "no own-word evidence": lambda: measure(followup_own_words=0.0),
        "no contrast": lambda: measure(no_contrast=True),
        "no earlier answer in the topic": lambda: measure(followup_answer_weight=0.0),
        "earlier answer 0.3": lambda: measure(followup_answer_weight=0.3),
        "earlier answer 0.6": lambda: measure(followup_answer_weight=0.6),
    }
    results: dict[str, Any] = {}
    for name, fn in variants.items():
        results[name] = fn()
        _print(name, results[name])
    grid = {}
    weights = (0.6,) if quick else (0.3, 0.6, 1.0)
    bonuses = (0.04,) if quick else (0.0, 0.02, 0.04, 0.08)
    for w, b in itertools.product(weights, bonuses):
        key = f"vector {w}, document {b}"
        grid[key] = measure(followup_vector_weight=w, followup_document_bonus=b)
        _print(key, grid[key])
    s = settings.search
    return {"mode": mode, "query_path": engines["seeds"].health().query_path,
            "adopted_settings": {
        "QA_FOLLOWUP_VECTOR_WEIGHT": s.followup_vector_weight,
        "QA_FOLLOWUP_LEXICAL_WEIGHT": s.followup_lexical_weight,
        "QA_FOLLOWUP_ANSWER_WEIGHT": s.followup_answer_weight,
        "QA_FOLLOWUP_DOCUMENT_BONUS": s.followup_document_bonus,
        "QA_FOLLOWUP_SECTION_BONUS": s.followup_section_bonus,
        "QA_FOLLOWUP_WEAK_SIMILARITY": s.followup_weak_similarity,
        "QA_FOLLOWUP_GAIN": s.followup_gain,
        "QA_FOLLOWUP_OWN_WORDS": s.followup_own_words},
        "conversations": {n: len(c) for n, c in convs.items()},
        "variants": results, "grid": grid}


def _print(name: str, found: dict[str, Any]) -> None:
    for corpus, per_split in found.items():
        for split, f in per_split.items():
            print(f"{name:<28} {corpus:<6} {split:<7} follow-up Hit@1 {f['followup Hit@1']:.3f} "
                  f"MRR {f['followup MRR@10']:.3f} Answer@1 {f['followup Answer@1']:.3f} | topic "
                  f"change Hit@1 {f['topic change Hit@1']:.3f} undisturbed "
                  f"{f['topic changes undisturbed']:.2f} | unanswerable dragged "
                  f"{f['unanswerable dragged']:.2f}", flush=True)


def markdown(data: dict[str, Any]) -> str:
    lines = ["# Follow-up questions: each choice measured", "",
             "`python -m bench.followup` (mode " + data["mode"] + ", question path "
             + data.get("query_path", "?") + "). Follow-up Hit@1 / MRR@10 / Answer@1, "
             "topic-change Hit@1 and share undisturbed, the share of unanswerable questions "
             "dragged onto the first, per corpus and split.", ""]
    for title, table in (("Variants", data["variants"]), ("Grid (choose on tune)", data["grid"])):
        lines += [f"## {title}", "", "| variant | corpus | split | follow-up Hit@1 | MRR@10 | "
                  "Answer@1 | topic change Hit@1 | undisturbed | unanswerable dragged |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for name, found in table.items():
            for corpus, per_split in found.items():
                for split, f in per_split.items():
                    lines.append(f"| {name} | {corpus} | {split} | {f['followup Hit@1']:.3f} | "
                                 f"{f['followup MRR@10']:.3f} | {f['followup Answer@1']:.3f} | "
                                 f"{f['topic change Hit@1']:.3f} | "
                                 f"{f['topic changes undisturbed']:.2f} | "
                                 f"{f['unanswerable dragged']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    data = run(args.quick)
    path = write_result("followup", data, args.quick)
    path.with_suffix(".md").write_text(markdown(data), encoding="utf-8")


if __name__ == "__main__":
    main()
