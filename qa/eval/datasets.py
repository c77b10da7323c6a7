"""Standard benchmarks (SweFAQ, BEIR-format) run through the normal index and engine.

A benchmark corpus is indexed by the same ``build_index`` as a user's documents
and searched by the same ``SearchEngine``, so the figures measure the service,
not a side implementation. Its index is cached under a key made of the corpus
fingerprint and every setting that changes the index, and reused when present.

Relevance is per document: when a long answer is cut into several passages,
a document counts as retrieved at the rank of its best passage.

``export_corpus`` writes the benchmark corpus as a JSONL file that
``qa build --source FILE`` indexes into exactly the same documents (same ids,
texts and titles, hence the same fingerprint and the same figures).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.embed.build_encoder import open_build_encoder
from qa.embed.question_encoder import open_question_encoder
from qa.errors import QAError
from qa.eval.testset import EvalQuery, Target
from qa.index.build import build_index
from qa.index.manifest import FORMAT, read_manifest
from qa.index.plan import PassageEncoder, build_key, corpus_fingerprint
from qa.index.snapshot import Snapshot
from qa.ingest.documents import Document, is_valid_id, make_document
from qa.ingest.jsonl import jsonl_records
from qa.search.engine import SearchEngine
from qa.settings import IndexSettings, Settings

log = logging.getLogger(__name__)

BENCHMARKS = ("swefaq", "beir")
# Characters str.splitlines() breaks on that json.dumps(ensure_ascii=False) leaves raw.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@dataclass
class Benchmark:
    name: str
    source: str
    documents: list[Document]
    queries: list[EvalQuery]
    info: dict[str, Any] = field(default_factory=dict)


def answer_id(text: str) -> str:
    """A stable document id for an answer: the same text gets the same id in every run."""
    return "a" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_swefaq(path: Path) -> Benchmark:
    """SweFAQ: every distinct answer is a document; each question's relevant one is its label."""
    docs: dict[str, Document] = {}
    queries: list[EvalQuery] = []
    for n, (where, rec) in enumerate(jsonl_records(path), start=1):
        question, answers, label = rec.get("question"), rec.get("candidate_answers"), rec.get("label")
        if not isinstance(question, str) or not question.strip():
            raise QAError(f"{where}: 'question' must be a non-empty string")
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise QAError(f"{where}: 'candidate_answers' must be a list of strings")
        if not isinstance(label, int) or not 0 <= label < len(answers):
            raise QAError(f"{where}: 'label' must index 'candidate_answers'")
        for answer in answers:
            if answer.strip() and answer_id(answer) not in docs:
                docs[answer_id(answer)] = make_document(answer_id(answer), answer)
        right = answers[label]
        if not right.strip():
            raise QAError(f"{where}: the labelled answer is empty")
        meta = rec.get("meta")
        if not isinstance(meta, dict):
            meta = {}
        queries.append(EvalQuery(f"q{n:04d}", question.strip(), (Target(answer_id(right)),),
                                 kind=meta.get("source"), expected=right))
    if not queries:
        raise QAError(f"{path}: no questions")
    return Benchmark("swefaq", str(path), list(docs.values()), queries)


def _beir_id(raw: str, taken: dict[str, str]) -> str:
    doc_id = raw if is_valid_id(raw) else "d" + hashlib.sha256(raw.encode()).hexdigest()[:16]
    taken[raw] = doc_id
    return doc_id


def load_beir(folder: Path, split: str = "test") -> Benchmark:
    """A BEIR-format folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv (graded, > 0 relevant)."""
    if not folder.is_dir():
        raise QAError(f"{folder}: expected a BEIR folder with corpus.jsonl, queries.jsonl, qrels/")
    ids: dict[str, str] = {}
    docs: list[Document] = []
    for where, rec in jsonl_records(folder / "corpus.jsonl"):
        raw, title, text = str(rec.get("_id", "")), rec.get("title") or None, rec.get("text") or ""
        if not raw or raw in ids:
            raise QAError(f"{where}: '_id' missing or repeated")
        text = text if text.strip() else (title or "")
        if text.strip():
            docs.append(make_document(_beir_id(raw, ids), text, title))
    questions = {str(rec.get("_id")): str(rec.get("text", ""))
                 for _, rec in jsonl_records(folder / "queries.jsonl")}
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise QAError(f"{qrels_path}: no such file")
    graded: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            try:
                qid, cid, grade = row["query-id"], row["corpus-id"], int(float(row["score"]))
            except (KeyError, TypeError, ValueError):
                raise QAError(f"{qrels_path}: expected columns query-id, corpus-id, score") from None
            if grade > 0 and cid in ids:
                graded.setdefault(qid, {})[ids[cid]] = grade
    queries = [
        EvalQuery(qid, questions[qid].strip(),
                  tuple(Target(doc, grade=g) for doc, g in sorted(rel.items())))
        for qid, rel in graded.items() if questions.get(qid, "").strip()
    ]
    if not docs or not queries:
        raise QAError(f"{folder}: no documents or no judged queries")
    return Benchmark(f"beir-{folder.name}", str(folder), docs, queries)


def load_benchmark(kind: str, data: Path) -> Benchmark:
    if kind == "swefaq":
        return load_swefaq(data)
    if kind == "beir":
        return load_beir(data)
    raise QAError(f"unknown benchmark {kind!r}; expected one of {', '.join(BENCHMARKS)}")


def export_corpus(bench: Benchmark, path: Path) -> int:
    """Write the corpus as JSONL for ``qa build --source``; returns the number of documents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for d in bench.documents:
            # The title as indexed (given or derived), so `qa build` makes the very same document.
            line = json.dumps({"id": d.id, "title": d.title, "text": d.text}, ensure_ascii=False)
            for raw, escaped in _LINE_BREAKS.items():
                line = line.replace(raw, escaped)
            fh.write(line + "\n")
    return len(bench.documents)


def index_key(bench: Benchmark, embedder: PassageEncoder, settings: IndexSettings) -> str:
    """Corpus fingerprint plus everything that changes what ``build_index`` writes."""
    key = {
        "corpus": corpus_fingerprint(bench.documents),
        **asdict(build_key(settings, embedder)),
        "exact_search_max": settings.exact_search_max,
        "hnsw_m": settings.hnsw_m,
        "format": FORMAT,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def open_engine(bench: Benchmark, settings: Settings, index_dir: Path | None = None,
                progress: bool = True) -> SearchEngine:
    """The engine over the benchmark's index: the one given, or a cached one (built if missing)."""
    fingerprint = corpus_fingerprint(bench.documents)
    if index_dir is not None:
        found = read_manifest(index_dir).corpus_fingerprint
        if found != fingerprint:
            raise QAError(f"the index at {index_dir} does not hold the {bench.name} corpus "
                          f"(fingerprint {found}, expected {fingerprint}); build it from "
                          "`qa eval --benchmark ... --export-corpus FILE` with `qa build --source FILE`, "
                          "or leave out --index")
    else:
        embedder = open_build_encoder(settings.embed)
        key = index_key(bench, embedder, settings.index)
        index_dir = settings.embed.cache_dir / "bench-indexes" / f"{bench.name}-{key}"
        try:
            reuse = read_manifest(index_dir).corpus_fingerprint == fingerprint
        except QAError:
            reuse = False
        if reuse:
            log.info("reusing the benchmark index %s", index_dir)
        else:
            log.info("indexing %d documents into %s", len(bench.documents), index_dir)
            build_index(bench.documents, embedder, settings.index, index_dir, progress=progress,
                        log=log.info)
    questions = open_question_encoder(settings.embed)
    snapshot = Snapshot.open(index_dir, settings.index, model_id=questions.model_id,
                             dim=questions.dim)
    engine = SearchEngine(snapshot, questions, settings.search, device=settings.embed.device)
    per_doc = list(engine.passages_per_document().values())
    bench.info.update({
        "documents": len(per_doc),
        "passages": engine.health().passages,
        "documents_in_several_passages": sum(1 for n in per_doc if n > 1),
        "max_passages_per_document": max(per_doc, default=0),
    })
    return engine
