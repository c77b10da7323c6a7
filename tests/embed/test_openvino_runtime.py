"""The build's embedding paths: OpenVINO fp32 gives the model's vectors, bf16 stays next to them,
and the settings pick a path or fail with a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed.build_encoder import BuildEncoder
from qa.embed.build_runtimes import Machine, fp32_runtime, runtime_name, vector_precision
from qa.embed.encoder import encode_in_length_order
from qa.errors import ModelError
from qa.index.build import build_index
from qa.index.manifest import read_manifest
from qa.settings import Settings


@pytest.fixture(scope="module")
def prompted_passages(embedder, seed_passages) -> list[str]:
    return [embedder.passage_prompt + t for t in seed_passages]


@pytest.fixture(scope="module")
def reference(passage_reference) -> np.ndarray:
    return passage_reference


def _bf16_machine(embedder) -> None:
    if not embedder.machine.cpu_bf16:
        pytest.skip("this CPU has no native bfloat16, so the bf16 path is not offered here")


def test_default_build_paths(embedder):
    assert embedder.runtime("passage") == "openvino-fp32"
    expected = "openvino-bf16" if embedder.machine.cpu_bf16 else "openvino-fp32"
    assert embedder.runtime("sentence") == expected


def test_openvino_fp32_passages_are_the_models_vectors(embedder, prompted_passages, reference):
    fp32 = embedder.encoder("passage")
    assert fp32.precision == "fp32"
    vectors = encode_in_length_order(fp32, prompted_passages, 16)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.9999, f"min cosine {cosines.min():.6f}"


def test_bf16_sentences_stay_next_to_fp32_and_do_not_depend_on_their_batch(
        embedder, prompted_passages, reference):
    _bf16_machine(embedder)
    bf16 = embedder.encoder("sentence")
    assert bf16.precision == "bf16"
    vectors = encode_in_length_order(bf16, prompted_passages, 16)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.9995 and cosines.mean() >= 0.9999, (cosines.min(), cosines.mean())
    assert not np.allclose(vectors, reference, atol=1e-6)  # really another precision
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    alone = np.concatenate([bf16.embed([t]) for t in prompted_passages[:6]])
    assert (alone * vectors[:6]).sum(axis=1).min() >= 0.9999


def test_sentence_precision_is_part_of_the_build_key(embedder, settings, seed_documents, tmp_path):
    doc = seed_documents[4]  # a short one: what is tested does not depend on its length
    build_index([doc], embedder, settings.index, tmp_path / "idx", progress=False)
    manifest = read_manifest(tmp_path / "idx")
    assert manifest.passage_path == "openvino-fp32"
    assert manifest.sentence_precision == embedder.precision("sentence")

    other = "int8" if embedder.precision("sentence") != "int8" else "fp32"
    changed = settings.model_copy(update={"sentence_precision": other})
    report = build_index([doc], BuildEncoder(changed.embed), changed.index, tmp_path / "idx", progress=False)
    assert report.reused == 0, "vectors of another precision are never reused"
    assert read_manifest(tmp_path / "idx").sentence_precision == other



def test_a_builds_vectors_are_those_of_each_text_embedded_alone(embedder, settings, seed_documents,
                                                               tmp_path):
    """The build orders texts by model tokens and embeds each distinct text once; every stored
    vector is still its own text's, as embedded alone (fp32 to float tolerance; bf16 within its
    own batch-to-batch noise), and a repeated document gets its first copy's vectors."""
    from qa.index.snapshot import Snapshot
    from qa.ingest.documents import make_document
    from qa.ingest.passages import collapse

    doc = seed_documents[4]  # a short one: what is tested does not depend on its length
    copy = make_document("kopia", doc.text, title=doc.title)
    build_index([doc, copy], embedder, settings.index, tmp_path / "idx", progress=False)
    with Snapshot.open(tmp_path / "idx", settings.index) as index:
        passages = list(index.passages)
        vectors = np.asarray(index.embeddings)
        stored = index.sentences
        assert stored is not None and stored.contexts is not None
        half = len(passages) // 2
        assert np.array_equal(vectors[:half], vectors[half:])
        fp32 = embedder.encoder("passage")
        for row, p in enumerate(passages[:half]):
            alone = fp32.embed([embedder.passage_prompt + p.embedding_text(False)])[0]
            assert np.abs(vectors[row] - alone).max() <= 1e-5, row
        sentence = embedder.encoder("sentence")
        text = index.document(doc.id).text
        for row, p in enumerate(passages[:half]):
            a, b = stored.offsets[row], stored.offsets[row + 1]
            if b - a < 2:
                continue
            found = [collapse(text[x:y]) for x, y in stored.spans[a:b].tolist()]
            alone = np.concatenate([sentence.embed([embedder.passage_prompt + t]) for t in found])
            assert (np.asarray(stored.vectors[a:b]) * alone).sum(axis=1).min() >= 0.9999
            in_context = [p.sentence_in_context(t, found[i - 1] if i else "")
                          for i, t in enumerate(found)]
            alone = np.concatenate([sentence.embed([embedder.passage_prompt + t])
                                    for t in in_context])
            assert (np.asarray(stored.contexts[a:b]) * alone).sum(axis=1).min() >= 0.9999

BF16 = Machine(exportable=True, has_openvino=True, cpu_bf16=True)
NO_BF16 = Machine(exportable=True, has_openvino=True, cpu_bf16=False)
NO_OPENVINO = Machine(exportable=True, has_openvino=False, cpu_bf16=False)
CLS_MODEL = Machine(exportable=False, has_openvino=True, cpu_bf16=True)


def _paths(machine: Machine, **settings: str) -> tuple[str, str]:
    s = Settings(**settings)
    engine = fp32_runtime(s.embed, machine)
    return (runtime_name(vector_precision(s.embed, "passage", machine), engine),
            runtime_name(vector_precision(s.embed, "sentence", machine), engine))


@pytest.mark.parametrize(("machine", "settings", "expected"), [
    (BF16, {}, ("openvino-fp32", "openvino-bf16")),
    (NO_BF16, {}, ("openvino-fp32", "openvino-fp32")),
    (NO_OPENVINO, {}, ("onnxruntime-fp32", "onnxruntime-fp32")),
    (CLS_MODEL, {}, ("sentence-transformers-fp32", "sentence-transformers-fp32")),
    (BF16, {"passage_engine": "onnx"}, ("onnxruntime-fp32", "openvino-bf16")),
    (BF16, {"passage_precision": "bf16"}, ("openvino-bf16", "openvino-bf16")),
    (BF16, {"sentence_precision": "fp32", "passage_engine": "torch"},
     ("sentence-transformers-fp32", "sentence-transformers-fp32")),
    (NO_BF16, {"passage_precision": "int8", "sentence_precision": "int8"},
     ("onnxruntime-int8", "onnxruntime-int8")),
])
def test_settings_choose_the_paths(machine, settings, expected):
    assert _paths(machine, **settings) == expected


@pytest.mark.parametrize(("machine", "settings", "message"), [
    (NO_BF16, {"passage_precision": "bf16"}, "QA_PASSAGE_PRECISION=bf16 needs"),
    (NO_OPENVINO, {"sentence_precision": "bf16"}, "QA_SENTENCE_PRECISION=bf16 needs"),
    (NO_OPENVINO, {"passage_engine": "openvino"}, "openvino package is not installed"),
    (CLS_MODEL, {"passage_engine": "onnx"}, "not a mean-pooled model"),
    (CLS_MODEL, {"sentence_precision": "int8"}, "not a mean-pooled model"),
])
def test_impossible_choices_are_clear_errors(machine, settings, message):
    with pytest.raises(ModelError, match=message):
        _paths(machine, **settings)


def test_bf16_question_path_stays_next_to_the_model_and_does_not_depend_on_its_batch(
        embedder, settings, st_model):
    """QA_QUERY_PRECISION=bf16: OpenVINO over the question graph (opt-in, CPUs with bfloat16)."""
    _bf16_machine(embedder)
    from qa.embed.question_encoder import open_question_encoder

    questions = open_question_encoder(settings.model_copy(update={"query_precision": "bf16"}).embed)
    assert questions.runtime == "openvino-bf16"
    texts = ["Vad är tillitsbaserad styrning?", "Hur många länsstyrelser finns det?", "Vem?",
             "Vilka regler gäller för hundar i parken och vad kostar ett busskort?"]
    batch = questions.embed_many(texts)
    reference = st_model.embed([questions.prompt + t for t in texts])
    assert (batch * reference).sum(axis=1).min() >= 0.9995
    alone = np.concatenate([questions.embed_many([t]) for t in texts])
    assert (alone * batch).sum(axis=1).min() >= 0.9999
