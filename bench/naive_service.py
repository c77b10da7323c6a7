"""A baseline "straightforward service" to compare the real one against.

What a first version would do: a FastAPI app that embeds each question with the
sentence-transformers fp32 model (``"query: "`` prefix), searches a FAISS flat
inner-product index of the same passages (the passage vectors of the given
index directory, i.e. the same model's vectors) and returns the top k passages.
No ONNX Runtime, no query cache, no sentence vectors, no BM25, no highlights.

    python -m bench.naive_service --index var/bench-index --port 8011
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pydantic import BaseModel, Field


class Query(BaseModel):
    question: str = Field(..., min_length=1, max_length=1000)
    k: int = Field(5, ge=1, le=50)


class Hit(BaseModel):
    rank: int
    score: float
    passage_id: str
    document_id: str
    title: str
    start: int
    end: int
    text: str


class Answer(BaseModel):
    question: str
    results: list[Hit]


def create_app(index_dir: Path) -> Any:
    """The baseline app over the passages and vectors of ``index_dir``."""
    import faiss
    import numpy as np
    from fastapi import FastAPI

    from bench.common import load_sentence_transformer
    from qa.index.generations import current

    model = load_sentence_transformer()
    published = current(index_dir)
    if published is None:
        raise SystemExit(f"no index at {index_dir}")
    files = published.files  # read directly: this baseline shares nothing with the engine
    vectors = np.load(files.embeddings)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    con = sqlite3.connect(files.store)
    passages = con.execute('SELECT id, document_id, title, start, "end", text FROM passages '
                           "ORDER BY row").fetchall()
    con.close()

    app = FastAPI(title="naive baseline")

    @app.post("/api/search", response_model=Answer)
    def search(q: Query) -> Answer:
        vec = model.encode(["query: " + q.question], normalize_embeddings=True, convert_to_numpy=True)
        scores, rows = index.search(vec.astype(np.float32), q.k)
        hits = []
        for s, i in zip(scores[0].tolist(), rows[0].tolist(), strict=True):
            if i >= 0:
                pid, doc, title, start, end, text = passages[i]
                hits.append(Hit(rank=len(hits) + 1, score=s, passage_id=pid, document_id=doc,
                                title=title, start=start, end=end, text=text))
        return Answer(question=q.question, results=hits)

    model.encode(["query: uppvärmning"])
    return app


def main() -> None:
    import uvicorn

    from bench.common import HOST

    parser = argparse.ArgumentParser(description="Serve the naive baseline on 127.0.0.1.")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args()
    app = create_app(args.index)
    uvicorn.run(app, host=HOST, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
