"""The index directory: round trip, reuse of unchanged embeddings, atomic builds, model checks.

Built with the hashed n-gram encoder (``qa.embed.hashed``): what is tested is which vectors the
build computes, stores and reuses, not the model's (the seeds index of ``tests/conftest.py`` and
the search tests build with the real model).

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


def test_round_trip(hashed_settings, hashed_embedder, hashed_questions, tmp_path):
    target = tmp_path / "idx"
    report = build_index(DOCS, hashed_embedder, hashed_settings.index, target, progress=False)
    assert (report.documents, report.embedded, report.reused) == (2, report.passages, 0)
    manifest = read_manifest(target)
    assert manifest.model == hashed_embedder.model_id and manifest.dim == hashed_embedder.dim
    assert manifest.passages == report.passages and manifest.documents == 2
    assert manifest.corpus_fingerprint and manifest.built_at
    assert manifest.generation == report.generation == 1
    index = Snapshot.open(target,
                          hashed_settings.index, model_id=hashed_embedder.model_id, dim=hashed_embedder.dim)
    assert index.generation == 1 and index.manifest == manifest
    assert len(index.store) == len(index.vectors) == report.passages
    q = hashed_questions.embed("Vem ansvarar för sjukvården?")
    _, rows = index.vectors.search(q, 1)
    assert index.store.passages[rows[0]].document_id == "region"
    doc = index.document("kommun")
    assert doc is not None and doc.text == DOCS[0].text
    assert [(d.id, d.chars) for d in index.documents()] == [(d.id, len(d.text)) for d in DOCS]
    assert sum(d.passages for d in index.documents()) == report.passages
    stored = np.asarray(index.embeddings)
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-4)


def test_rebuild_reuses_unchanged_documents(hashed_settings, hashed_embedder, tmp_path):
    target = tmp_path / "idx"
    build_index(DOCS, hashed_embedder, hashed_settings.index, target, progress=False)
    added = make_document("skola", "Skolan\n\nGrundskolan är obligatorisk för alla barn i Sverige.")
    report = build_index([*DOCS, added], hashed_embedder, hashed_settings.index, target, progress=False)
    assert report.reused == 2 and report.embedded == report.passages - 2
    index = Snapshot.open(target, hashed_settings.index)
    fresh = hashed_embedder.embed_passages([p.embedding_text(False)
                                     for p in index.store.passages])
    assert np.allclose(np.asarray(index.embeddings), fresh, atol=1e-4)


def test_interrupted_build_leaves_previous_index_intact(
        hashed_settings, hashed_embedder, tmp_path, monkeypatch):
    target = tmp_path / "idx"
    build_index(DOCS, hashed_embedder, hashed_settings.index, target, progress=False)
    before = read_manifest(target)

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr("qa.index.build.LexicalIndex.build", interrupted)
    changed = [make_document("kommun", "Helt ny text om kommunen och dess nämnder."), DOCS[1]]
    with pytest.raises(KeyboardInterrupt):
        build_index(changed, hashed_embedder, hashed_settings.index, target, progress=False)
    assert read_manifest(target) == before
    assert Snapshot.open(target, hashed_settings.index).document("kommun").text == DOCS[0].text
    assert [p.name for p in tmp_path.iterdir()] == ["idx"], "nothing is written beside the index"
    assert [p.name for p in (target / "generations").iterdir()] == ["000001"], "no staging is left"
    monkeypatch.undo()
    build_index(changed, hashed_embedder, hashed_settings.index, target, progress=False)
    assert Snapshot.open(target, hashed_settings.index).document("kommun").text == changed[0].text


def test_opening_with_another_model_is_a_clear_error(hashed_settings, hashed_embedder, tmp_path):
    target = tmp_path / "idx"
    build_index(DOCS, hashed_embedder, hashed_settings.index, target, progress=False)
    path = current(target).files.manifest
    manifest = json.loads(path.read_text())
    manifest["model"] = "some/other-model"
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexLoadError, match="built with model 'some/other-model'"):
        Snapshot.open(target,
                      hashed_settings.index, model_id=hashed_embedder.model_id, dim=hashed_embedder.dim)


def test_missing_index_is_a_clear_error(hashed_settings, hashed_embedder, tmp_path):
    with pytest.raises(IndexLoadError, match="no index at"):
        Snapshot.open(tmp_path / "nothing", hashed_settings.index)


def test_a_sentence_shared_by_overlapping_passages_is_embedded_once(
        hashed_settings, hashed_embedder, tmp_path):
    from qa.ingest.passages import collapse

    small = hashed_settings.model_copy(update={"passage_max_tokens": 64, "passage_overlap_tokens": 24,
                                        "whole_document_tokens": 0})
    text = "Styrning\n\n" + " ".join(
        f"Nämnd nummer {i} ansvarar för en egen del av den kommunala verksamheten i år." for i in range(12))
    logged: list[str] = []
    build_index([make_document("lang", text)], hashed_embedder, small.index, tmp_path / "idx",
                progress=False,
                log=logged.append)
    stored = Snapshot.open(tmp_path / "idx", small.index).sentences
    assert stored is not None
    spans, offsets, sentences = stored.spans, stored.offsets, stored.vectors
    distinct = {tuple(s) for s in spans.tolist()}
    assert len(offsets) > 2 and len(distinct) < len(spans), "the passages overlap"
    assert f", {len(distinct)} sentences and" in logged[0]
    # Every occurrence of a span carries that sentence's own vector.
    fresh = dict(zip(sorted(distinct), hashed_embedder.embed_passages(
        [collapse(text[a:b]) for a, b in sorted(distinct)], kind="sentence"), strict=True))
    for row, (a, b) in enumerate(spans.tolist()):
        assert (sentences[row] @ fresh[(a, b)]) >= 0.9999


def test_each_sentence_is_also_embedded_in_context_once(hashed_settings, hashed_embedder, tmp_path):
    """Sentences of a passage of several get a second vector: the passage's title and section,
    the sentence before and the sentence (``Passage.sentence_in_context``); a passage of one
    sentence has nothing to choose between, so its sentence vector stands in."""
    from qa.ingest.passages import collapse

    text = ("Skolskjuts\n\nProjektet leds av barn- och utbildningsförvaltningen. "
            "Gunnel Gustavsson är projektledare. Ansökan lämnas senast den 15 april.")
    docs = [make_document("skjuts", text), make_document("kort", "En enda mening om taxan.")]
    logged: list[str] = []
    build_index(docs, hashed_embedder,
                hashed_settings.index, tmp_path / "idx", progress=False, log=logged.append)
    assert read_manifest(tmp_path / "idx").sentence_contexts
    index = Snapshot.open(tmp_path / "idx", hashed_settings.index)
    stored = index.sentences
    assert stored is not None and stored.contexts is not None
    assert stored.contexts.shape == stored.vectors.shape
    several, single = 0, 0
    for row, p in enumerate(index.passages):
        a, b = stored.offsets[row], stored.offsets[row + 1]
        doc = index.document(p.document_id).text
        found = [collapse(doc[x:y]) for x, y in stored.spans[a:b].tolist()]
        if len(found) == 1:
            assert np.array_equal(stored.contexts[a], stored.vectors[a])
            single += 1
            continue
        several += len(found)
        expected = hashed_embedder.embed_passages(
            [p.sentence_in_context(s, found[i - 1] if i else "") for i, s in enumerate(found)],
            kind="sentence")
        assert np.all(np.sum(stored.contexts[a:b] * expected, axis=1) >= 0.9999)
        assert np.array_equal(stored.for_highlights(row), stored.contexts[a:b])
    assert single == 1 and several >= 3  # one passage each: every context is distinct
    assert f"and {several} sentences in context" in logged[0]


def test_an_index_without_contexts_gains_them_reusing_every_other_vector(hashed_settings, hashed_embedder,
                                                                          tmp_path, caplog):
    text = "Styrning\n\nNämnden beslutar om taxan. Den gäller från januari. Den ses över varje år."
    docs = [*DOCS, make_document("taxa", text)]
    bare = hashed_settings.model_copy(update={"sentence_contexts": False})
    build_index(docs, hashed_embedder, bare.index, tmp_path / "idx", progress=False)
    assert not read_manifest(tmp_path / "idx").sentence_contexts
    with caplog.at_level("WARNING", logger="qa.index.snapshot"):
        before = Snapshot.open(tmp_path / "idx", hashed_settings.index)
    assert "built without sentences in context" in caplog.text  # served so, it says what to run
    assert before.sentences is not None and before.sentences.contexts is None
    assert not before.path.joinpath("sentence_contexts.npy").exists()
    vectors, sentences = np.array(before.embeddings), np.array(before.sentences.vectors)
    per_passage = np.diff(before.sentences.offsets)
    in_context = int(per_passage[per_passage > 1].sum())  # one passage a document: all distinct
    before.close()

    logged: list[str] = []
    report = build_index(docs, hashed_embedder, hashed_settings.index, tmp_path / "idx", progress=False,
                         log=logged.append)
    assert (report.embedded, report.reused) == (0, report.passages)
    assert f"embedding 0 passages, 0 sentences and {in_context} sentences in context" in logged[0]
    caplog.clear()
    after = Snapshot.open(tmp_path / "idx", hashed_settings.index)
    assert after.sentences is not None and after.sentences.contexts is not None
    assert "without sentences in context" not in caplog.text
    assert np.array_equal(np.asarray(after.embeddings), vectors)
    assert np.array_equal(np.asarray(after.sentences.vectors), sentences)
    after.close()
    # Now that they are there, they are reused like the rest.
    logged.clear()
    build_index(docs, hashed_embedder,
                hashed_settings.index, tmp_path / "idx", progress=False, log=logged.append)
    assert not any(m.startswith("embedding ") for m in logged)


def test_without_a_terminal_progress_is_logged_as_lines(
        hashed_settings, hashed_embedder, tmp_path, monkeypatch):
    import qa.index.build

    monkeypatch.setattr(qa.index.build, "_PROGRESS_SECONDS", 0.0)
    logged: list[str] = []
    build_index(DOCS, hashed_embedder,
                hashed_settings.index, tmp_path / "idx", progress=False, log=logged.append)
    lines = [m for m in logged if m.startswith("embedded ")]
    assert lines and lines[-1].endswith("(100 %)")
    done, total = lines[-1].split()[1].split("/")
    assert done == total


def test_add_keeps_structure_pages_and_originals_of_converted_documents(hashed_settings, hashed_embedder,
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
    build_index(read_corpus(folder).documents, hashed_embedder,
                hashed_settings.index, index_dir, progress=False)
    first = Snapshot.open(index_dir, hashed_settings.index)
    before = first.document("policy")
    pages_before = [(p.page, p.section) for p in first.store.passages]
    build_index([DOCS[0]], hashed_embedder, hashed_settings.index, index_dir, add=True, progress=False)

    after = Snapshot.open(index_dir, hashed_settings.index)
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


def test_passages_of_long_documents_are_embedded_after_their_section(
        hashed_settings, hashed_embedder, tmp_path):
    """A document cut into at least QA_SECTION_MIN_PASSAGES passages has each passage embedded
    after its section's title; a shorter one without; a one-sentence passage of a long
    document keeps its sentence's own vector; changing the threshold re-embeds."""
    from qa.ingest.passages import collapse

    small = hashed_settings.model_copy(update={"passage_max_tokens": 40, "passage_min_tokens": 0,
                                               "whole_document_tokens": 0, "section_min_passages": 3})
    long_text = "Handbok\n\n" + "\n\n".join(
        f"Avsnitt {i}\n\nDel {i} beskriver hur nämnd {i} fattar sina beslut om budgeten och "
        f"om taxorna för nästa år. Därefter granskar revisorerna nämndens arbete och skriver en "
        f"berättelse till fullmäktige." for i in range(4))
    docs = [make_document("bok", long_text), make_document("lapp", "Lapp\n\nEn kort lapp.")]
    build_index(docs, hashed_embedder, small.index, tmp_path / "idx", progress=False)
    index = Snapshot.open(tmp_path / "idx", small.index)
    assert index.manifest.section_min_passages == 3
    passages = index.store.passages
    long = [p.document_id == "bok" for p in passages]
    assert sum(long) >= 3 and not all(long)
    expected = hashed_embedder.embed_passages([
        f"{p.section}\n{collapse(p.text)}" if is_long and p.section not in (None, p.title)
        else collapse(p.text)
        for p, is_long in zip(passages, long, strict=True)])
    assert np.allclose(np.asarray(index.embeddings), expected, atol=1e-4)
    assert any(p.section and p.section != p.title for p in passages if p.document_id == "bok")
    sentences = index.sentences
    assert sentences is not None
    single = [row for row, p in enumerate(passages) if p.document_id == "bok"
              and sentences.offsets[row + 1] - sentences.offsets[row] == 1]
    assert single, "the long document has a passage of one sentence"
    for row in single:
        p, a = passages[row], sentences.offsets[row]
        alone = hashed_embedder.embed_passages([collapse(p.text)], kind="sentence")[0]
        assert float(sentences.vectors[a] @ alone) >= 0.9999
        assert float(index.embeddings[row] @ alone) < 0.9999
    report = build_index(docs, hashed_embedder,
                         small.model_copy(update={"section_min_passages": 0}).index,
                         tmp_path / "idx", progress=False)
    assert report.reused == 0
