"""The faster question paths against fp32, the reference: vectors close, the same answers first.

Every faster path is held to a stated cosine against the fp32 vectors of the same questions,
and on a small set of the seed set's questions it must put the same answers first as fp32
does, in the default mode, over the same index. The set: the first tune-half questions whose
answer fp32 puts first with a clear lead (its score at least ``MARGIN`` above the next result's;
the answer judged as the evaluation judges it, ``Target.matches``). A near-tie may flip either
way, which the evaluation rule counts as noise; a clear first answer must not move.
The evaluation rule itself (paired intervals on every set) is measured by
``bench/query_precision.py``, not here.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from qa.embed import onnx_export
from qa.embed.cpu_features import read_cpu_features
from qa.embed.model_files import read_model_files
from qa.embed.onnx_runtime import OnnxRuntimeEncoder
from qa.embed.question_encoder import (
    ADOPTED_PRECISIONS,
    open_question_encoder,
    query_path_choice,
    question_graphs,
)
from qa.embed.tokenizer import TextTokenizer
from qa.embed.word_table import WordTable
from qa.eval.testset import BUNDLED_TESTSET, EvalQuery, load_testset, resolve
from qa.search.engine import SearchEngine

# The lowest cosine to fp32 each path may give a question (measured lows are about 0.99 for
# static int8 and 0.999 for bf16, docs/performance.md).
MIN_COSINE = {"int8-static": 0.98, "bf16": 0.995}
MEAN_COSINE = {"int8-static": 0.99, "bf16": 0.999}
SMALL_SET = 12
MARGIN = 0.02  # of the hybrid score, between the answer first and the second result


def _seed_questions(n: int) -> list[str]:
    items = load_testset(BUNDLED_TESTSET)
    return [it.question for it in items if it.split == "tune" and it.document_id][:n]


def _answered_first(engine: SearchEngine, q: EvalQuery) -> tuple[bool, float]:
    """Whether the first result holds the answer, and its lead over the second result."""
    hits = engine.search(q.question, k=3).hits
    first = hits[0].passage
    holds = any(t.matches(first.document_id, first.start, first.end) for t in q.targets)
    return holds, hits[0].score - hits[1].score


def _supported(precision: str) -> bool:
    return bool(read_cpu_features().supports(precision))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fp32_questions(settings):
    return open_question_encoder(settings.embed.model_copy(update={"query_precision": "fp32"}))


@pytest.mark.parametrize("precision", sorted(MIN_COSINE))
def test_a_faster_path_stays_within_its_cosine_and_puts_the_same_answers_first(
        precision, settings, fp32_questions, seeds_index_dir) -> None:
    if not _supported(precision):
        pytest.skip(f"this CPU lacks the instructions {precision} needs")
    fast = open_question_encoder(settings.embed.model_copy(update={"query_precision": precision}))
    assert fast.runtime.endswith(precision) and fast.chosen_by == f"QA_QUERY_PRECISION={precision}"
    questions = _seed_questions(16)
    exact, quick = fp32_questions.embed_many(questions), fast.embed_many(questions)
    cosines = (exact * quick).sum(axis=1)
    assert cosines.min() >= MIN_COSINE[precision], cosines.min()
    assert cosines.mean() >= MEAN_COSINE[precision], cosines.mean()
    assert not np.allclose(exact, quick, atol=1e-5)  # another path, not fp32 again
    reference = SearchEngine.open(settings, seeds_index_dir, fp32_questions)
    other = SearchEngine.open(settings, seeds_index_dir, fast)
    clear = []
    for q in resolve(load_testset(BUNDLED_TESTSET), reference.document_texts()):
        if q.split == "tune" and q.answerable and len(clear) < SMALL_SET:
            holds, lead = _answered_first(reference, q)
            if holds and lead >= MARGIN:
                clear.append(q)
    assert len(clear) == SMALL_SET
    moved = [q.question for q in clear if not _answered_first(other, q)[0]]
    assert not moved


@pytest.mark.model  # loads the static int8 graph (exported on first use), through settings only
def test_static_int8_vectors_do_not_depend_on_their_batch(settings) -> None:
    """Fixed activation scales: a question's vector is its own, alone or among others."""
    fast = open_question_encoder(settings.embed.model_copy(update={"query_precision": "int8-static"}))
    questions = _seed_questions(8)
    batched = fast.embed_many(questions)
    alone = np.concatenate([fast.embed_many([q]) for q in questions])
    assert np.allclose(batched, alone, atol=1e-5)
    # A lone question served on every core (QA_QUERY_SPREAD_ALONE) gets the vector of the
    # one-core path: which cores embed a question is scheduling, not a change of answers.
    one_core = open_question_encoder(settings.embed.model_copy(
        update={"query_precision": "int8-static", "query_workers": 2, "query_spread_alone": False}))
    spread = open_question_encoder(settings.embed.model_copy(
        update={"query_precision": "int8-static", "query_workers": 2, "threads": 2}))
    served = np.stack([spread.embed(q) for q in questions[:6]])  # one after another
    assert spread.spread_batches >= 1  # the fourth, the first lone one (the batcher's calm)
    assert np.allclose(served, one_core.embed_many(questions[:6]), atol=1e-6)


@pytest.mark.model  # loads the int8 question graphs (exported on first use)
@pytest.mark.parametrize("precision", ["int8-static", "int8"])
def test_int8_question_graphs_hold_no_word_table(precision, settings) -> None:
    """The int8 question graphs read their word rows from the table file, as fp32's does: a
    graph that held the table would make a serving process hold it in memory."""
    import onnx

    files = read_model_files(settings.embed)
    graph_name, table_name = question_graphs(precision)
    assert table_name == onnx_export.WORD_TABLE
    graph = onnx_export.export(settings.embed.model_cache, files, graph_name)
    table = WordTable(onnx_export.export(settings.embed.model_cache, files, table_name))
    largest = max(int(np.prod(i.dims)) for i in
                  onnx.load(str(graph), load_external_data=False).graph.initializer)
    assert largest < table.rows * table.dim // 50  # a layer's weights, not the word table


@pytest.mark.model  # loads the static int8 graphs (exported on first use)
def test_static_int8_question_graph_gives_the_vectors_of_the_graph_with_the_table(settings) -> None:
    """Taking the word lookup out of the static int8 graph changes no vector, so no answer or
    rank: the served path against the whole-graph path that was measured under the rule."""
    files = read_model_files(settings.embed)
    cache = settings.embed.model_cache
    served = open_question_encoder(settings.embed.model_copy(update={"query_precision": "int8-static"}))
    assert served.workers == (settings.embed.threads or os.cpu_count() or 1)  # QA_QUERY_WORKERS=0
    tokenizer = TextTokenizer(files.location, files.max_tokens, compact_cache=cache)
    whole = OnnxRuntimeEncoder(onnx_export.export(cache, files, onnx_export.INT8_STATIC_GRAPH),
                               tokenizer, files.dim, threads=1)
    questions = _seed_questions(24)
    assert np.allclose(served.embed_many(questions),
                       whole.embed([files.query_prompt + q for q in questions]), atol=1e-6)


def test_auto_names_its_choice(settings) -> None:
    choice = query_path_choice(settings.embed.model_copy(update={"query_precision": "auto"}))
    supported = [p for p in ADOPTED_PRECISIONS if _supported(p)]
    assert choice.precision == (supported[0] if supported else "fp32")
    assert choice.reason.startswith("auto")
