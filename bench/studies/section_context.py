"""Ranking passages of long documents with their section's and neighbours' match, per set and half.

Explores how a passage's score could take in how well its surroundings match the question:
the passages next to it, or the section it lies in. Each variant adds ``weight`` x a context
cosine to the served hybrid score of every candidate, then re-sorts; or, for documents of 40
passages or more, weighs the passage's cosine against its best sentence's differently, or
mixes the passage vector with its section (as served) with one embedded without it; or
ranks BM25 over other texts of a passage, or with another weight or pool. The sets
run through ``qa eval``'s own code (hybrid), and every figure and per-question first-passage
outcome is written per split. Record: docs/design/2026-12-07-answer-after-its-subject.md.

    python -m bench.studies.section_context ll=var/ll-index=qa/eval/testsets/lifelines_sv.jsonl \\
        [seeds=...] [VARIANT LABEL ...]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.build_encoder import open_build_encoder
from qa.eval.runner import evaluate
from qa.eval.testset import load_testset, resolve
from qa.index.lexical import LexicalIndex
from qa.ingest.passages import Passage, collapse
from qa.search.engine import SearchEngine
from qa.search.ranking import Ranker
from qa.settings import Settings

OUT = Path(__file__).resolve().parent / "results" / "section_context.json"
FIGURES = ("Hit@1", "Hit@5", "MRR@10", "Answer@1", "Flagged answerable", "Flagged unanswerable")


class ContextRanker(Ranker):
    """The served ranking plus ``weight`` x a context cosine of each candidate (study only)."""

    kind = "none"
    weight = 0.0
    least = 0  # only documents of at least this many passages

    plain: np.ndarray | None = None  # passage vectors without their section (plain_mix)

    def cosines(self, rows: np.ndarray, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        passage, sentence = super().cosines(rows, qvec)
        if self.kind == "plain_mix" and self.plain is not None and len(rows):
            _, _, long_doc = self._groups()
            plain = self.plain[rows] @ qvec
            passage = np.where(long_doc[rows], (1 - self.weight) * passage + self.weight * plain,
                               passage)
        return passage, sentence

    def dense_scores(self, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        if self.kind != "long_passage_weight":
            return super().dense_scores(rows, qvec)
        passage, sentence = self.cosines(rows, qvec)
        if sentence is None:
            return passage
        _, _, long_doc = self._groups()
        w = np.where(long_doc[rows], self.weight, self.settings.passage_weight)
        return w * passage + (1 - w) * sentence

    def rank(self, question: str, qvec: np.ndarray, mode: str, n: int,
             timings: dict[str, float], mask: Any = None,
             trace: dict[str, np.ndarray] | None = None) -> list[tuple[int, float]]:
        ranked = super().rank(question, qvec, mode, n, timings, mask, trace)
        if self.kind not in CONTEXT_KINDS or self.weight == 0 or not ranked:
            return ranked
        cos = np.asarray(self.index.embeddings) @ qvec
        out = []
        for row, score in ranked:
            out.append((row, score + self.weight * self.context(row, cos, qvec)))
        return sorted(out, key=lambda kv: -kv[1])

    def _groups(self) -> tuple[np.ndarray, dict[int, np.ndarray], np.ndarray]:
        if not hasattr(self, "_g"):
            passages = self.index.passages
            per_doc: dict[str, int] = {}
            for p in passages:
                per_doc[p.document_id] = per_doc.get(p.document_id, 0) + 1
            group = np.zeros(len(passages), np.int64)
            g = -1
            prev = None
            for i, p in enumerate(passages):
                key = (p.document_id, p.section)
                if key != prev:
                    g += 1
                    prev = key
                group[i] = g
            members: dict[int, np.ndarray] = {}
            for gid in np.unique(group):
                members[int(gid)] = np.flatnonzero(group == gid)
            long_doc = np.array([per_doc[p.document_id] >= self.least for p in passages])
            self._g = (group, members, long_doc)
        return self._g

    def context(self, row: int, cos: np.ndarray, qvec: np.ndarray) -> float:
        group, members, long_doc = self._groups()
        if not long_doc[row]:
            return 0.0
        passages = self.index.passages
        p = passages[row]
        if self.kind == "neighbours":
            near = [cos[r] for r in (row - 1, row + 1)
                    if 0 <= r < len(passages) and passages[r].document_id == p.document_id]
            return float(max(near, default=cos[row]))
        rows = members[int(group[row])]
        if self.kind == "section_max":
            return float(cos[rows].max())
        if self.kind == "section_mean":
            return float(cos[rows].mean())
        if self.kind == "section_vector":
            v = np.asarray(self.index.embeddings[rows]).mean(axis=0)
            return float((v / max(float(np.linalg.norm(v)), 1e-12)) @ qvec)
        if self.kind == "section_others_max":
            others = rows[rows != row]
            return float(cos[others].max()) if len(others) else float(cos[row])
        raise ValueError(self.kind)


CONTEXT_KINDS = ("neighbours", "section_max", "section_mean", "section_vector",
                 "section_others_max")
# BM25 over other texts of a passage than the served title, section and text (LexicalIndex).
LEXICAL_TEXTS: dict[str, Callable[[Passage], str]] = {
    "bm25_text": lambda p: collapse(p.text),
    "bm25_section": lambda p: p.sectioned_text(),
    "bm25_section_twice": lambda p: f"{p.head}\n{p.section or ''}\n{collapse(p.text)}",
}
SETTINGS = {"lexical_weight": "lexical_weight", "candidates": "candidates"}

VARIANTS: list[tuple[str, str, float, int]] = [
    ("as served", "none", 0.0, 0),
    ("neighbours 0.1", "neighbours", 0.1, 0),
    ("neighbours 0.2", "neighbours", 0.2, 0),
    ("section max 0.1", "section_max", 0.1, 0),
    ("section max 0.2", "section_max", 0.2, 0),
    ("section mean 0.1", "section_mean", 0.1, 0),
    ("section mean 0.2", "section_mean", 0.2, 0),
    ("section mean 0.3", "section_mean", 0.3, 0),
    ("section vector 0.2", "section_vector", 0.2, 0),
    ("section others max 0.1", "section_others_max", 0.1, 0),
    ("section mean 0.2, documents of 40+", "section_mean", 0.2, 40),
    ("neighbours 0.1, documents of 40+", "neighbours", 0.1, 40),
    ("passage weight 0.5, documents of 40+", "long_passage_weight", 0.5, 40),
    ("passage weight 0.6, documents of 40+", "long_passage_weight", 0.6, 40),
    ("passage weight 0.8, documents of 40+", "long_passage_weight", 0.8, 40),
    ("passage weight 0.9, documents of 40+", "long_passage_weight", 0.9, 40),
    ("with section 0.7 + without 0.3, documents of 40+", "plain_mix", 0.3, 40),
    ("with section 0.5 + without 0.5, documents of 40+", "plain_mix", 0.5, 40),
    ("BM25 over the text alone", "bm25_text", 0.0, 0),
    ("BM25 over section and text", "bm25_section", 0.0, 0),
    ("BM25 over title, section twice and text", "bm25_section_twice", 0.0, 0),
    ("BM25 weight 0.02", "lexical_weight", 0.02, 0),
    ("BM25 weight 0.045", "lexical_weight", 0.045, 0),
    ("100 candidates per ranker", "candidates", 100, 0),
]


def first_hits(ev: Any) -> dict[str, float]:
    return {qid: s.get("Hit@1", 0.0) for qid, s in ev.scores["hybrid"].items()}


def main() -> None:
    sets = [arg.split("=") for arg in sys.argv[1:] if "=" in arg]
    only = {a for a in sys.argv[1:] if "=" not in a}
    settings = Settings()
    encoder = open_build_encoder(settings.embed)
    results: dict[str, Any] = {}
    for name, index, questions in sets:
        engine = SearchEngine.open(settings, Path(index))
        queries = resolve(load_testset(Path(questions)), engine.document_texts())
        plain = None
        for label, kind, weight, least in VARIANTS:
            if only and label not in only and kind != "none":
                continue
            served_lexical, served_settings = engine.index.lexical, engine.settings
            if kind in LEXICAL_TEXTS:  # BM25 over other texts of each passage
                engine.index.lexical = LexicalIndex.build(
                    [LEXICAL_TEXTS[kind](p) for p in engine.index.passages])
            elif kind in SETTINGS:
                engine.settings = served_settings.model_copy(update={SETTINGS[kind]: weight})
            ranker = ContextRanker(engine.index, engine.settings)
            ranker.kind, ranker.weight, ranker.least = kind, weight, least
            if kind == "plain_mix":
                if plain is None:
                    plain = encoder.embed_passages(
                        [p.embedding_text(False) for p in engine.index.passages])
                ranker.plain = plain
            engine.ranker = ranker
            ev = evaluate(engine, queries, ["hybrid"], k=10, progress=False)
            row: dict[str, Any] = {split: {f: ev.splits[split]["hybrid"].get(f) for f in FIGURES}
                                   for split in sorted(ev.splits)}
            engine.index.lexical, engine.settings = served_lexical, served_settings
            row["hit1"] = first_hits(ev)
            row["answer1"] = {qid: s.get("Answer@1", 0.0) for qid, s in ev.scores["hybrid"].items()}
            results.setdefault(label, {})[name] = row
            print(name, label, {s: [round(v, 3) for v in r.values() if v is not None]
                                for s, r in row.items() if s in ev.splits}, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
