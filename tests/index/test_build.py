"""The index directory: round trip, reuse of unchanged embeddings, atomic builds, model checks.

The lifecycle (generations, the pointer, the lock, crashes at each system call) is tested in
``test_index_lifecycle.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.errors import IndexLoadError
from qa.index.build import build_index
from qa.index.generations import current
from qa.index.manifest import read_manifest
from qa.index.snapshot import Snapshot
from qa.ingest.documents import make_document

DOCS = [
    make_document("kommun", "Kommunen\n\nKommunfullmäktige beslutar om budgeten varje år i november."),
    make_document("region", "Regionen\n\nRegionen ansvarar för hälso- och sjukvård och kollektivtrafik."),
]


def test_round_trip(settings, embedder, questions, tmp_path):
    target = tmp_path / "idx"
    report = build_index(DOCS, embedder, settings, target, progress=False)
    assert (report.documents, report.embedded, report.reused) == (2, report.passages, 0)
    manifest = read_manifest(target)
    assert manifest.model == embedder.model_id and manifest.dim == embedder.dim
    assert manifest.passages == report.passages and manifest.documents == 2
    assert manifest.corpus_fingerprint and manifest.built_at
    assert manifest.generation == report.generation == 1
    index = Snapshot.open(target, settings, model_id=embedder.model_id, dim=embedder.dim)
    assert index.generation == 1 and index.manifest == manifest
    assert len(index.store) == len(index.vectors) == report.passages
    q = questions.embed("Vem ansvarar för sjukvården?")
    _, rows = index.vectors.search(q, 1)
    assert index.store.passages[rows[0]].document_id == "region"
    doc = index.document("kommun")
    assert doc is not None and doc.text == DOCS[0].text
    assert [(d.id, d.chars) for d in index.documents()] == [(d.id, len(d.text)) for d in DOCS]
    assert sum(d.passages for d in index.documents()) == report.passages
    stored = np.asarray(index.embeddings)
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-4)


def test_rebuild_reuses_unchanged_documents(settings, embedder, tmp_path):
    target = tmp_path / "idx"
    build_index(DOCS, embedder, settings, target, progress=False)
    added = make_document("skola", "Skolan\n\nGrundskolan är obligatorisk för alla barn i Sverige.")
    report = build_index([*DOCS, added], embedder, settings, target, progress=False)
    assert report.reused == 2 and report.embedded == report.passages - 2
    index = Snapshot.open(target, settings)
    fresh = embedder.embed_passages([p.embedding_text(settings.embed_context)
                                     for p in index.store.passages])
    assert np.allclose(np.asarray(index.embeddings), fresh, atol=1e-4)


def test_interrupted_build_leaves_previous_index_intact(settings, embedder, tmp_path, monkeypatch):
    target = tmp_path / "idx"
    build_index(DOCS, embedder, settings, target, progress=False)
    before = read_manifest(target)

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr("qa.index.build.LexicalIndex.build", interrupted)
    changed = [make_document("kommun", "Helt ny text om kommunen och dess nämnder."), DOCS[1]]
    with pytest.raises(KeyboardInterrupt):
        build_index(changed, embedder, settings, target, progress=False)
    assert read_manifest(target) == before
    assert Snapshot.open(target, settings).document("kommun").text == DOCS[0].text
    assert [p.name for p in tmp_path.iterdir()] == ["idx"], "nothing is written beside the index"
    assert [p.name for p in (target / "generations").iterdir()] == ["000001"], "no staging is left"
    monkeypatch.undo()
    build_index(changed, embedder, settings, target, progress=False)
    assert Snapshot.open(target, settings).document("kommun").text == changed[0].text


def test_opening_with_another_model_is_a_clear_error(settings, embedder, tmp_path):
    target = tmp_path / "idx"
    build_index(DOCS, embedder, settings, target, progress=False)
    path = current(target).files.manifest
    manifest = json.loads(path.read_text())
    manifest["model"] = "some/other-model"
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="built with model 'some/other-model'"):
        Snapshot.open(target, settings, model_id=embedder.model_id, dim=embedder.dim)


def test_missing_index_is_a_clear_error(settings, embedder, tmp_path):
    with pytest.raises(IndexLoadError, match="no index at"):
        Snapshot.open(tmp_path / "nothing", settings)


def test_a_sentence_shared_by_overlapping_passages_is_embedded_once(settings, embedder, tmp_path):
    from qa.ingest.passages import collapse

    small = settings.model_copy(update={"passage_max_tokens": 64, "passage_overlap_tokens": 24,
                                        "whole_document_tokens": 0})
    text = "Styrning\n\n" + " ".join(
        f"Nämnd nummer {i} ansvarar för en egen del av den kommunala verksamheten i år." for i in range(12))
    logged: list[str] = []
    build_index([make_document("lang", text)], embedder, small, tmp_path / "idx", progress=False,
                log=logged.append)
    stored = Snapshot.open(tmp_path / "idx", small).sentences
    assert stored is not None
    spans, offsets, sentences = stored.spans, stored.offsets, stored.vectors
    distinct = {tuple(s) for s in spans.tolist()}
    assert len(offsets) > 2 and len(distinct) < len(spans), "the passages overlap"
    assert f"and {len(distinct)} sentences" in logged[0]
    # Every occurrence of a span carries that sentence's own vector.
    fresh = dict(zip(sorted(distinct), embedder.embed_passages(
        [collapse(text[a:b]) for a, b in sorted(distinct)], kind="sentence"), strict=True))
    for row, (a, b) in enumerate(spans.tolist()):
        assert (sentences[row] @ fresh[(a, b)]) >= 0.9999


def test_without_a_terminal_progress_is_logged_as_lines(settings, embedder, tmp_path, monkeypatch):
    import qa.index.build

    monkeypatch.setattr(qa.index.build, "_PROGRESS_SECONDS", 0.0)
    logged: list[str] = []
    build_index(DOCS, embedder, settings, tmp_path / "idx", progress=False, log=logged.append)
    lines = [m for m in logged if m.startswith("embedded ")]
    assert lines and lines[-1].endswith("(100 %)")
    done, total = lines[-1].split()[1].split("/")
    assert done == total


def test_add_keeps_structure_pages_and_originals_of_converted_documents(settings, embedder,
                                                                        tmp_path):
    from qa.index.layout import GenerationFiles
    from qa.ingest.sources import read_corpus
    from tests.ingest.make_files import make_pdf

    folder = tmp_path / "docs"
    folder.mkdir()
    make_pdf(folder / "policy.pdf", [[("h1", "Parkeringspolicy"), ("p", "Policyn gäller alla "
              "kommunens gator och torg i centrum.")], [("h2", "Avgifter"), ("p", "I zon A "
              "kostar det 25 kronor per timme att parkera.")]])
    index_dir = tmp_path / "idx"
    build_index(read_corpus(folder).documents, embedder, settings, index_dir, progress=False)
    first = Snapshot.open(index_dir, settings)
    before = first.document("policy")
    pages_before = [(p.page, p.section) for p in first.store.passages]
    build_index([DOCS[0]], embedder, settings, index_dir, add=True, progress=False)

    after = Snapshot.open(index_dir, settings)
    assert after.generation == first.generation + 1
    kept = after.document("policy")
    assert (kept.format, kept.blocks, kept.pages, kept.original) == (
        before.format, before.blocks, before.pages, before.original)
    assert [(p.page, p.section) for p in after.store.passages if p.document_id == "policy"] == \
        pages_before == [(1, "Parkeringspolicy"), (2, "Avgifter")]
    copy = after.original("policy")
    assert copy is not None and copy.path.read_bytes() == (folder / "policy.pdf").read_bytes()
    # The unchanged file is linked from the generation before, not copied again.
    assert copy.path.stat().st_ino == GenerationFiles(first.path).original(
        kept.original.sha256).stat().st_ino
    assert after.original(DOCS[0].id) is None  # built from text, not from a file
