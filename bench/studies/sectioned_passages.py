"""Passage vectors with their document's title and section, or section alone, per set and half.

Over indexes built with ``QA_SECTION_MIN_PASSAGES=0`` (every passage embedded as its text
alone), each variant re-embeds the passages of the documents it applies to, swaps them into
the engine's vector index (sentence vectors untouched) and runs the set through ``qa eval``'s
own code (hybrid): Hit@1, Hit@5, MRR@10, Answer@1 and the shares flagged ``no_good_match`` by
the bundled abstention model, per split. Record: docs/design/2026-12-07-long-documents.md.

    python -m bench.studies.sectioned_passages seeds=var/seeds-index=qa/eval/testsets/seeds_sv.jsonl \\
        kommun=... lo=... ll=...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed.build_encoder import open_build_encoder
from qa.eval.runner import evaluate
from qa.eval.testset import load_testset, resolve
from qa.index.vectors import VectorIndex, make_vector_index
from qa.ingest.passages import Passage
from qa.search import engine as engine_module
from qa.search.engine import SearchEngine
from qa.settings import Settings

OUT = Path(__file__).resolve().parent / "results" / "sectioned_passages.json"
# (name, text of a passage of a document the variant applies to, least passages of such a document)
VARIANTS: list[tuple[str, str, int]] = [
    ("as built", "plain", 0),
    ("title and section, every document", "head", 1),
    ("section, every document", "section", 1),
    ("title and section, documents of 20+ passages", "head", 20),
    ("title and section, documents of 40+ passages", "head", 40),
    ("section, documents of 40+ passages (adopted)", "section", 40),
]
FIGURES = ("Hit@1", "Hit@5", "MRR@10", "Answer@1", "Flagged answerable", "Flagged unanswerable")


def text_of(p: Passage, kind: str) -> str:
    if kind == "head":
        return p.embedding_text(True)
    if kind == "section":
        return p.sectioned_text()
    return p.embedding_text(False)


def swap(engine: SearchEngine, vectors: np.ndarray) -> None:
    """Serve ``vectors`` as the passage vectors (exact search, centroid recomputed)."""
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    engine.index.embeddings = v
    engine.index.vectors = VectorIndex(make_vector_index(v, len(v) + 1))
    engine._centroid = engine_module._centroid(v)


def main() -> None:
    sets = [arg.split("=") for arg in sys.argv[1:]]
    settings = Settings()
    encoder = open_build_encoder(settings.embed)
    results: dict[str, Any] = {}
    for name, index, questions in sets:
        engine = SearchEngine.open(settings, Path(index))
        if engine.index.manifest.section_min_passages:
            raise SystemExit(f"{index}: build it with QA_SECTION_MIN_PASSAGES=0")
        built = np.asarray(engine.index.embeddings).copy()
        passages = engine.index.passages
        per_document = engine.passages_per_document()
        queries = resolve(load_testset(Path(questions)), engine.document_texts())
        embedded: dict[str, np.ndarray] = {}
        for label, kind, least in VARIANTS:
            vectors = built.copy()
            if kind != "plain":
                if kind not in embedded:
                    embedded[kind] = encoder.embed_passages([text_of(p, kind) for p in passages])
                rows = [i for i, p in enumerate(passages) if per_document[p.document_id] >= least]
                vectors[rows] = embedded[kind][rows]
            swap(engine, vectors)
            ev = evaluate(engine, queries, ["hybrid"], k=10, progress=False)
            row = {split: {f: ev.splits[split]["hybrid"].get(f) for f in FIGURES}
                   for split in sorted(ev.splits)}
            results.setdefault(label, {})[name] = row
            print(name, label, {s: [round(v, 3) for v in r.values() if v is not None]
                                for s, r in row.items()}, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
