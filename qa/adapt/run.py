"""``qa adapt``: mine pairs, train, check, and publish only what the check adopts.

The steps, each in its own module: ``pairs`` (what the collection teaches), ``negatives``
(hard negatives from BM25 and the base model), ``train`` (the fine-tuning), ``check`` (adapted
against base on what was not trained on) and ``publish`` (exports and a new generation). A run
that does not adopt changes nothing the service reads: no generation is written, the model is
discarded, and only its report is appended to ``adaptations.jsonl`` in the index directory
(outside the generations), as is the report of every run that is not a dry run.

Which check decides:

- with labelled questions (``--questions``, a ``qa eval`` test set of this collection): the
  questions of its ``tune`` half (all of them when the set has no halves), every pair kind
  trained on;
- without: the pairs of one kind left out of training, the first of ``question`` and ``list``
  that the collection has enough of. None: nothing can decide, and the base stays.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qa.adapt import negatives as neg
from qa.adapt.check import Check, Verdict, decide, pair_check, question_check
from qa.adapt.pairs import PAIR_KINDS, Pair, PairKind, counts, mine_pairs
from qa.adapt.train import TrainingParams, TrainingRun
from qa.embed.hashed import is_hashed
from qa.embed.model_files import read_model_files
from qa.errors import QAError
from qa.eval.testset import EvalQuery, load_testset, resolve
from qa.index import generations
from qa.index.lexical import LexicalIndex
from qa.index.manifest import load_manifest
from qa.index.store import PassageStore
from qa.settings import Settings

log = logging.getLogger(__name__)

REPORTS = "adaptations.jsonl"
MIN_CHECK_PAIRS = 20  # fewer pairs of a kind cannot decide anything at 95 %
DECIDING_KINDS: tuple[PairKind, ...] = ("question", "list")


@dataclass(frozen=True)
class AdaptOptions:
    """What one ``qa adapt`` run does."""

    minutes: float = 20.0
    dry_run: bool = False
    questions: Path | None = None
    kinds: tuple[PairKind, ...] = PAIR_KINDS
    negatives: neg.NegativeSource = "both"
    training: TrainingParams = field(default_factory=TrainingParams)


@dataclass
class AdaptReport:
    """What a run found and did; ``to_json`` is what ``adaptations.jsonl`` and the manifest
    record."""

    index_dir: Path
    base: str
    generation: int
    pairs: dict[str, int]
    trained_kinds: list[PairKind]
    trained_pairs: int
    training: TrainingRun | None
    verdict: Verdict
    published: int | None = None
    model: str | None = None
    dry_run: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"at": datetime.now(UTC).isoformat(timespec="seconds"), "base": self.base,
                "from_generation": self.generation, "pairs": self.pairs,
                "trained_kinds": self.trained_kinds, "trained_pairs": self.trained_pairs,
                "training": self.training.to_json() if self.training else None,
                "check": self.verdict.to_json(), "published_generation": self.published,
                "model": self.model, "dry_run": self.dry_run, "seconds": round(self.seconds, 1),
                "notes": self.notes}

    def lines(self) -> list[str]:
        out = ["pairs mined: " + ", ".join(f"{k} {n}" for k, n in self.pairs.items()),
               f"trained on: {', '.join(self.trained_kinds) or 'nothing'} "
               f"({self.trained_pairs} pairs)"]
        if self.training is not None:
            t = self.training
            out.append(f"training: {t.steps} steps, {t.epochs:.2f} epochs, {t.seconds:.0f} s, "
                       f"peak memory {t.peak_rss_mb:.0f} MB"
                       f"{' (stopped by the time budget)' if t.stopped_by_budget else ''}")
        out += [c.line() for c in self.verdict.checks]
        out.append(("adopted: " if self.verdict.adopt else "not adopted: ") + self.verdict.reason)
        if self.published is not None:
            out.append(f"published generation {self.published} embedded with {self.model}")
        elif self.verdict.adopt and self.dry_run:
            out.append("dry run: nothing published")
        out += self.notes
        return out


def embedder(model: Any) -> Callable[[Sequence[str], str], np.ndarray]:
    """``model`` (a ``SentenceTransformer``) as a check's embedder: normalised float32 rows."""
    def embed(texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        vectors = model.encode(list(texts), prompt=prompt, batch_size=32,
                               normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)
    return embed


def labelled_questions(path: Path, store: PassageStore
                       ) -> tuple[list[EvalQuery], list[EvalQuery]]:
    """The labelled questions: (those that decide, those only reported), by the set's halves."""
    queries = resolve(load_testset(path), store.document_texts())
    tune = [q for q in queries if q.split == "tune"]
    if not tune:
        return queries, []
    return tune, [q for q in queries if q.split != "tune"]


def adapt_collection(index_dir: Path, settings: Settings, options: AdaptOptions,
                     say: Callable[[str], None] = lambda _m: None) -> AdaptReport:
    """Adapt the base model to the collection at ``index_dir``; publish only what the check
    adopts (and never on a dry run). See the module docstring."""
    from qa.adapt import train as training

    t0 = time.monotonic()
    index_dir = Path(index_dir).resolve()
    generation = generations.current(index_dir)
    if generation is None:
        raise QAError(f"no index at {index_dir}: build one with `qa build --index {index_dir}`")
    manifest = load_manifest(generation.path)
    if is_hashed(settings.embed):
        raise QAError("adapting needs a real model: QA_MODEL=hashed-ngrams has nothing to train")
    base_id = (manifest.adaptation or {}).get("base", manifest.model)
    if base_id != settings.embed.model:
        raise QAError(f"{index_dir} was built with {base_id!r}, but QA_MODEL is "
                      f"{settings.embed.model!r}: adapt with the model the index was built with")
    files = read_model_files(settings.embed)
    store = PassageStore(generation.files.store)
    try:
        passages = store.passages
        pairs = mine_pairs(store, options.kinds)
        found = counts(pairs)
        say("pairs mined: " + ", ".join(f"{k} {n}" for k, n in found.items()))
        labelled: tuple[list[EvalQuery], list[EvalQuery]] | None = None
        if options.questions is not None:
            labelled = labelled_questions(options.questions, store)
            deciding_kind = None
            trained_kinds = [k for k in options.kinds if found[k]]
        else:
            deciding_kind = next((k for k in DECIDING_KINDS if found[k] >= MIN_CHECK_PAIRS), None)
            trained_kinds = [k for k in options.kinds if found[k] and k != deciding_kind]
        train_pairs = [p for p in pairs if p.kind in trained_kinds and not p.held_out]
        report = AdaptReport(index_dir, base_id, generation.number, found, list(trained_kinds),
                             len(train_pairs), None, Verdict(), dry_run=options.dry_run)
        if len(train_pairs) < 2:
            report.verdict = Verdict([], False, "the collection yields too few training pairs")
            return _finish(report, options, t0)
        base_model = training.load_model(files, options.training.threads)
        base_embed = embedder(base_model)
        negatives = hard_negatives(train_pairs, passages, generation, base_embed,
                                   files.query_prompt, options.negatives)
        say(f"training on {len(train_pairs)} pairs for at most {options.minutes:g} minutes")
        model = training.load_model(files, options.training.threads)
        params = TrainingParams(**{**options.training.__dict__, "seconds": options.minutes * 60})
        report.training = training.train(model, train_pairs, negatives, files, params)
        adapted_embed = embedder(model)
        say("checking the adapted model against the base")
        checks = _checks(pairs, trained_kinds, deciding_kind, labelled, passages, generation,
                         manifest.embed_context, base_embed, adapted_embed, files.query_prompt,
                         files.passage_prompt)
        report.verdict = decide(checks)
        if report.verdict.adopt and not options.dry_run:
            report = _publish(report, model, settings, index_dir, say)
        return _finish(report, options, t0)
    finally:
        store.close()


def hard_negatives(pairs: Sequence[Pair], passages: Sequence[Any],
                   generation: generations.Generation,
                   embed: Callable[[Sequence[str], str], np.ndarray], query_prompt: str,
                   source: neg.NegativeSource) -> list[str | None]:
    """Per pair, the text of its hard negative from ``source`` (None where it has none)."""
    if source == "none":
        return [None] * len(pairs)
    bm25 = model = None
    if source in ("bm25", "both"):
        bm25 = neg.bm25_negatives(pairs, passages, LexicalIndex.load(generation.files.lexical))
    if source in ("model", "both"):
        vectors = np.load(generation.files.embeddings)
        model = neg.model_negatives(pairs, passages, embed([p.query for p in pairs], query_prompt),
                                    vectors)
    rows = neg.choose(bm25, model, len(pairs))
    return [neg.negative_text(p, passages[r]) if r is not None else None
            for p, r in zip(pairs, rows, strict=True)]


def _checks(pairs: Sequence[Pair], trained: Sequence[str], deciding_kind: str | None,
            labelled: tuple[list[EvalQuery], list[EvalQuery]] | None, passages: Sequence[Any],
            generation: generations.Generation, with_context: bool, base: Any, adapted: Any,
            query_prompt: str, passage_prompt: str) -> list[Check]:
    checks: list[Check] = []
    if labelled is not None:
        texts = [p.embedding_text(with_context) for p in passages]
        base_vectors = np.load(generation.files.embeddings)
        adapted_vectors = adapted(texts, passage_prompt)
        deciding, reported = labelled
        checks.append(question_check("labelled questions (tune)" if reported else
                                     "labelled questions", deciding, passages, base_vectors,
                                     adapted_vectors, base, adapted, query_prompt, decisive=True))
        if reported:
            checks.append(question_check("labelled questions (heldout)", reported, passages,
                                         base_vectors, adapted_vectors, base, adapted,
                                         query_prompt))
    if deciding_kind is not None:
        chosen = [p for p in pairs if p.kind == deciding_kind]
        checks.append(pair_check(f"{deciding_kind} pairs (not trained on)", chosen, base, adapted,
                                 query_prompt, passage_prompt, decisive=labelled is None))
    for kind in trained:
        held = [p for p in pairs if p.kind == kind and p.held_out]
        if len(held) >= 2:
            checks.append(pair_check(f"held-out {kind} pairs", held, base, adapted, query_prompt,
                                     passage_prompt))
    return checks


def _publish(report: AdaptReport, model: Any, settings: Settings, index_dir: Path,
             say: Callable[[str], None]) -> AdaptReport:
    from qa.adapt import publish
    from qa.adapt import train as training

    record = report.to_json()
    name = publish.model_name(index_dir, record)
    with tempfile.TemporaryDirectory(prefix=".adapt-", dir=index_dir) as scratch:
        trained = training.save(model, Path(scratch) / name)
        model_dir = publish.install_model(trained, index_dir, name)
    say(f"adopted: exporting {model_dir} and re-embedding the collection")
    record["model"] = str(model_dir)
    manifest = publish.publish_adapted(model_dir, settings.embed, settings.index, index_dir,
                                       record, say)
    report.published = manifest.generation
    report.model = manifest.model
    return report


def _finish(report: AdaptReport, options: AdaptOptions, t0: float) -> AdaptReport:
    report.seconds = time.monotonic() - t0
    if not options.dry_run:
        with (report.index_dir / REPORTS).open("a", encoding="utf-8") as out:
            out.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    return report
