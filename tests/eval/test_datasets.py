"""Benchmark datasets (``qa.eval.datasets``): SweFAQ read, indexed once and reused, exported as a
corpus that indexes to the same figures; BEIR folders with graded judgements."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from qa.eval.runner import evaluate
from qa.eval.testset import Target

ROOT = Path(__file__).resolve().parents[2]
SWEFAQ_DEV = ROOT.parent / "shared" / "benchmarks" / "swefaq" / "swefaq_dev.jsonl"


@pytest.mark.slow
def test_swefaq_benchmark_matches_its_exported_corpus(settings, embedder, tmp_path, caplog) -> None:
    if not SWEFAQ_DEV.is_file():
        pytest.skip(f"SweFAQ dev split not found at {SWEFAQ_DEV}")
    from qa.eval.datasets import export_corpus, load_swefaq, open_engine
    from qa.index.build import build_index
    from qa.index.plan import corpus_fingerprint
    from qa.ingest.sources import load_documents

    data = tmp_path / "swefaq_head.jsonl"
    lines = SWEFAQ_DEV.read_text(encoding="utf-8").splitlines(keepends=True)[:24]
    data.write_text("".join(lines), encoding="utf-8")
    bench = load_swefaq(data)
    answers = {a for line in lines for a in json.loads(line)["candidate_answers"]}
    assert len(bench.queries) == 24 and len(bench.documents) == len(answers) > 10

    # Its own cache for the benchmark's indexes; the model prepared by set-up is linked in, so
    # that the model is not rebuilt and exported again (what is tested is the benchmark's index).
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "models").symlink_to(settings.embed.model_cache, target_is_directory=True)
    local = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    engine = open_engine(bench, local, progress=False)
    assert engine.health().index_dir.parent == tmp_path / "cache" / "bench-indexes"
    ev = evaluate(engine, bench.queries, k=10, unit="document", progress=False)
    for mode, metrics in ev.metrics.items():
        assert metrics["nDCG@10"] > 0.3, (mode, metrics)
        assert metrics["Recall@5"] == metrics["Hit@5"]  # one relevant document per question
    for outcome in ev.outcomes["hybrid"].values():
        docs = [r.document_id for r in outcome.retrieved]
        assert len(docs) == len(set(docs)) == 10  # ranks are over distinct documents

    with caplog.at_level(logging.INFO, logger="qa.eval.datasets"):
        open_engine(bench, local, progress=False)
    assert any("reusing" in r.getMessage() for r in caplog.records), caplog.text

    exported = tmp_path / "answers.jsonl"
    assert export_corpus(bench, exported) == len(bench.documents)
    docs = load_documents(exported)
    assert corpus_fingerprint(docs) == corpus_fingerprint(bench.documents)
    build_index(docs, embedder, local.index, tmp_path / "exported-index", progress=False)
    again = open_engine(bench, local, tmp_path / "exported-index")
    ev2 = evaluate(again, bench.queries, k=10, unit="document", progress=False)
    assert ev2.metrics == ev.metrics


def test_beir_folder_is_read_with_graded_qrels(tmp_path) -> None:
    from qa.eval.datasets import load_beir

    (tmp_path / "qrels").mkdir()
    corpus = [{"_id": "doc:1", "title": "Skatt", "text": "Deklarationen lämnas senast 2 maj."},
              {"_id": "d2", "title": "", "text": "Barnbidrag betalas ut den 20:e varje månad."},
              {"_id": "d3", "title": "Tom", "text": ""}]
    (tmp_path / "corpus.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in corpus), encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "q1", "text": "När ska jag deklarera?"}\n{"_id": "q2", "text": "Ingen dom"}\n',
        encoding="utf-8")
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tdoc:1\t2\nq1\td2\t0\nq2\tmissing\t1\n", encoding="utf-8")
    bench = load_beir(tmp_path)
    ids = [d.id for d in bench.documents]
    assert len(ids) == 3 and ids[1] == "d2" and ids[0] != "doc:1"  # ':' is not valid in an id
    assert bench.documents[2].text == "Tom"  # an empty text falls back to the title
    (q,) = bench.queries  # q2 has no judged document in the corpus; score 0 is not relevant
    assert q.targets == (Target(ids[0], grade=2),)
