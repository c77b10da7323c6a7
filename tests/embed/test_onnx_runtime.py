"""The ONNX paths: fp32 gives the model's own vectors without torch; int8 stays close to them."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed import onnx_export
from qa.embed.build_encoder import BuildEncoder
from qa.embed.onnx_runtime import OnnxRuntimeEncoder
from qa.embed.word_table import WordTable
from qa.index.build import build_index
from qa.index.generations import current
from qa.index.manifest import read_manifest

QUESTIONS = ["Vad är tillitsbaserad styrning?", "Hur många regioner finns det i Sverige?", "Vem?",
             "Vad kostar   ett\tbusskort 👍?", "x<s>y", "ord " * 600]


def _reference(st_model, texts: list[str], prompt: str) -> np.ndarray:
    return st_model.embed([prompt + t for t in texts])


def test_fp32_passage_vectors_match_sentence_transformers(settings, seed_passages, passage_reference):
    onnx = BuildEncoder(settings.model_copy(update={"passage_engine": "onnx"}).embed)
    assert onnx.runtime("passage") == "onnxruntime-fp32"
    fast = onnx.embed_passages(seed_passages)  # with a text past the window (tests/embed/conftest.py)
    cosines = (fast * passage_reference).sum(axis=1)
    assert cosines.min() >= 0.9999, f"min cosine {cosines.min():.5f}"
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)


def test_default_question_path_is_fp32_onnx_with_the_models_vectors(questions, st_model):
    assert questions.runtime == "onnxruntime-fp32"
    fast = questions.embed_many(QUESTIONS)
    cosines = (fast * _reference(st_model, QUESTIONS, questions.prompt)).sum(axis=1)
    assert cosines.min() >= 0.9999, f"min cosine {cosines.min():.5f}"


def test_question_graph_without_its_word_table_gives_the_full_graphs_vectors(settings, embedder):
    """The question graph looks words up in the table file: exactly the full graph's result."""
    files = embedder.files
    cache = settings.embed.model_cache
    split = OnnxRuntimeEncoder(onnx_export.export(cache, files, onnx_export.QUESTION_GRAPH),
                               embedder.tokenizer, files.dim,
                               word_table=onnx_export.export(cache, files, onnx_export.WORD_TABLE))
    full = OnnxRuntimeEncoder(onnx_export.export(cache, files), embedder.tokenizer, files.dim)
    texts = [files.query_prompt + q for q in QUESTIONS]
    assert np.allclose(split.embed(texts), full.embed(texts), atol=1e-6)
    table_file = onnx_export.export(cache, files, onnx_export.WORD_TABLE)
    table = np.load(table_file, mmap_mode="r")
    assert table.shape[1] == files.dim and table.shape[0] > 250_000
    ids = np.array([[0, 5, 250_000, 5], [17, 17, 2, 1]])
    assert np.array_equal(WordTable(table_file).lookup(ids), table[ids])
    with pytest.raises(IndexError):
        WordTable(table_file).lookup(np.array([table.shape[0]]))


def test_tokenizer_gives_sentence_transformers_token_ids(embedder, st_model, seed_passages):
    """The torch-free tokenizer reads the same tokenizer.json as transformers: same ids."""
    hf = st_model.model.tokenizer
    texts = [embedder.passage_prompt + t for t in [*seed_passages, *QUESTIONS, "<mask>", "\u00a0\u0301x",
                                                   "🫠🫠🫠", "  both  ", "a" * 3000]]
    ours = embedder.tokenizer.batch(texts)
    theirs = hf(texts, padding=True, truncation=True, max_length=embedder.max_tokens, return_tensors="np")
    assert np.array_equal(ours["input_ids"], theirs["input_ids"])
    assert np.array_equal(ours["attention_mask"], theirs["attention_mask"])
    counts = [len(ids) for ids in hf(texts, truncation=False)["input_ids"]]
    assert embedder.tokenizer.count(texts) == counts


def test_int8_stays_close_to_fp32_and_a_text_does_not_depend_on_its_batch(settings, embedder,
                                                                           seed_passages,
                                                                           passage_reference):
    assert embedder.precision("passage") == "fp32"  # int8 is opt-in
    int8 = BuildEncoder(settings.model_copy(update={"passage_precision": "int8"}).embed)
    quick_encoder = int8.encoder("passage")
    assert isinstance(quick_encoder, OnnxRuntimeEncoder) and quick_encoder.per_text
    exact = passage_reference  # the model's own fp32 vectors
    quick = int8.embed_passages(seed_passages)
    cosines = (exact * quick).sum(axis=1)
    assert cosines.min() >= 0.98 and cosines.mean() >= 0.99, (cosines.min(), cosines.mean())
    assert not np.allclose(exact, quick, atol=1e-4)  # it is another path, not the fp32 graph again
    # Activations are quantised per call, so each text goes alone: its vector is its own.
    alone = np.concatenate([quick_encoder.embed([embedder.passage_prompt + t]) for t in seed_passages[:6]])
    assert np.allclose(quick[:6], alone, atol=1e-6)


def test_passage_precision_is_part_of_the_build_key(embedder, settings, seed_documents, tmp_path):
    doc = seed_documents[4]  # a short one: what is tested does not depend on its length
    build_index([doc], embedder, settings.index, tmp_path / "idx", progress=False)
    exact = np.load(current(tmp_path / "idx").files.embeddings)
    assert read_manifest(tmp_path / "idx").passage_precision == "fp32"

    # Vectors of another precision are never reused: the int8 build embeds everything again.
    int8 = settings.model_copy(update={"passage_precision": "int8"})
    report = build_index([doc], BuildEncoder(int8.embed), int8.index, tmp_path / "idx", progress=False)
    assert report.reused == 0 and read_manifest(tmp_path / "idx").passage_precision == "int8"
    quick = np.load(current(tmp_path / "idx").files.embeddings)
    assert quick.shape == exact.shape and not np.allclose(exact, quick, atol=1e-4)
    assert (exact * quick).sum(axis=1).min() >= 0.98


def test_compact_question_tokenizer_gives_the_librarys_ids(settings, embedder, seed_passages):
    """The serving tokenizer (SentencePiece's Viterbi over the same pieces) equals the library's."""
    import json
    import random

    from qa.embed.tokenizer import TextTokenizer
    from qa.eval.testset import BUNDLED_TESTSET

    compact = TextTokenizer(embedder.files.location, embedder.max_tokens,
                            compact_cache=settings.embed.model_cache)
    assert compact.compact and not embedder.tokenizer.compact
    rng = random.Random(0)
    alphabet = [chr(c) for c in [*range(32, 127), *range(0xA0, 0x250), 0x301, 0x308, 0x200B, 0x200D,
                                 0xFEFF, 0x2028, 0x3000, 0x1F44D, 0x1F3FD, 0x1FAE0, 0x4E2D, 0xAC00, 0x5D0,
                                 0x627, 0x3B1, 0x43F, 9, 10, 13, 1, 0x7F, 0x2581]]
    fuzz = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(1500)]
    questions = [json.loads(line)["question"] for line in BUNDLED_TESTSET.read_text().splitlines()]
    texts = [*seed_passages, *questions, *QUESTIONS, *fuzz, "<s> <mask> </s> <pad>", "🫠🫠🫠", "  both  ",
             "\u200bzero\u200cwidth\ufeff", "ｶﾞｷﾞ", "ﬁ\u0301", "\x01"]
    for prompt in ("query: ", ""):
        prompted = [prompt + t for t in texts]
        assert compact.ids(prompted) == embedder.tokenizer.ids(prompted)
    batch = [embedder.query_prompt + q for q in QUESTIONS]
    assert all(np.array_equal(a, b) for a, b in zip(compact.batch(batch).values(),
                                                    embedder.tokenizer.batch(batch).values(), strict=True))
    # A question counted alone is tokenised once: batch takes its kept ids, the same ones,
    # also when they are cut to the window, and a text batched again is tokenised afresh.
    long = embedder.query_prompt + " ".join(seed_passages)
    for text in [*batch[:3], long]:
        compact.count([text])
    for _ in range(2):
        for texts in (batch, [long, batch[0]]):
            assert all(np.array_equal(a, b) for a, b in zip(
                compact.batch(texts).values(), embedder.tokenizer.batch(texts).values(), strict=True))
