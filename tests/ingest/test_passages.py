"""Segmentation: exact offsets, no furniture, headings kept with their text, token window."""

from __future__ import annotations

import itertools

import pytest

from qa.ingest.documents import make_document
from qa.ingest.passages import SegmentationParams, collapse, split_document

FURNITURE = (
    "Fler nyheter", "Relaterade nyheter", "Växel:", "Hade du nytta", "Senast uppdaterad",
    "webbplats för regional utveckling", "Region Örebro län Region Örebro län",
    "De antar utmaningen", "Regionstyrelsen sammanträder 2 juni",
)


@pytest.fixture(scope="module")
def seed_passages(seed_documents, embedder):
    return {d.id: (d, split_document(d, embedder.count_tokens)) for d in seed_documents}


def test_offsets_are_exact_for_every_seed_passage(seed_passages):
    total = 0
    for doc, passages in seed_passages.values():
        for p in passages:
            assert 0 <= p.start < p.end <= len(doc.text)
            assert doc.text[p.start : p.end] == p.text
            assert collapse(p.text) == p.embedding_text(False)
            assert p.document_id == doc.id and p.title == doc.title
            total += 1
    assert total > 40


def test_no_passage_holds_site_furniture(seed_passages):
    for _, passages in seed_passages.values():
        for p in passages:
            for marker in FURNITURE:
                assert marker not in p.text, (p.id, marker)


def test_headings_stay_with_the_text_they_introduce(seed_passages):
    for doc, passages in seed_passages.values():
        for line in doc.layout.lines:
            if line.role != "heading":
                continue
            holder = next(p for p in passages if p.start <= line.start < p.end)
            assert holder.end > line.end + 20, f"heading {line.text!r} stands alone in {holder.id}"


def test_passages_fit_the_model_window(seed_passages, embedder):
    for _, passages in seed_passages.values():
        counts = embedder.count_tokens([p.embedding_text(True) for p in passages])
        assert max(counts) <= embedder.max_tokens


def test_blog_passages_carry_their_post_date(seed_passages):
    doc, passages = next(v for k, v in seed_passages.items() if k.startswith("001_"))
    dates = {p.date for p in passages}
    assert {"2012-11-23", "2012-11-16", "2012-11-09"} <= dates
    glued = doc.text.index("fredag 16 november 2012")
    for p in passages:  # no passage straddles the boundary between two posts
        assert not (p.start < glued < p.end)


def test_long_paragraph_is_split_with_overlap(embedder):
    sentences = [f"Mening nummer {i} handlar om kommunens arbete med styrning och ledning."
                 for i in range(60)]
    doc = make_document("lang", "Rubrik för test\n\n" + " ".join(sentences))
    params = SegmentationParams(max_tokens=120, min_tokens=30, overlap_tokens=30)
    passages = split_document(doc, embedder.count_tokens, params)
    assert len(passages) > 5
    for a, b in itertools.pairwise(passages):
        assert b.start < a.end, "consecutive pieces of one paragraph overlap"
    counts = embedder.count_tokens([p.embedding_text(False) for p in passages])
    assert max(counts) <= 120 + 10


def test_giant_sentence_is_cut_within_the_window(embedder):
    doc = make_document("jätte", " ".join(["regionutvecklingsstrategi"] * 3000))
    passages = split_document(doc, embedder.count_tokens,
                              SegmentationParams(max_tokens=512, model_max_tokens=512))
    assert len(passages) > 1
    assert max(embedder.count_tokens([p.embedding_text(False) for p in passages])) <= 512
    assert passages[0].start == 0 and passages[-1].end == len(doc.text)
