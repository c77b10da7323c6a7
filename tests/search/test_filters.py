"""Search filters, applied inside ranking: real model, real FAISS (exact and HNSW), real BM25.

Three indexes: the seeds (exact search, the session fixture), the same seeds republished with
HNSW indexes (its vectors reused, nothing embedded again), and a small index of documents of
every format, with full, partial and missing dates and with metadata, also HNSW.
"""

from __future__ import annotations

import shutil

import faiss
import numpy as np
import pytest

from qa.errors import FilterError
from qa.index.vectors import RowSelection, VectorIndex, make_vector_index
from qa.ingest.documents import make_document
from qa.search.filters import FORMATS, FilterMasks, Filters, date_period

MODES = ("hybrid", "dense", "lexical")
A = "003_c2aea3d9b67761fb"  # Seminarium i Almedalen 2015: says how many länsstyrelser there are
B = "004_61a7695175b3d7f3"  # Att bygga utvecklingskapacitet (2024)
BLOG = "001_d3ecacca4b922300"  # dated posts of November 2012
COUNTING = "Hur många länsstyrelser finns det?"


def doc_ids(result) -> list[str]:
    return [h.passage.document_id for h in result.hits]


def passage_ids(result) -> list[str]:
    return [h.passage.id for h in result.hits]


# ----------------------------------------------------------------------------- the seeds


def test_best_answer_elsewhere_still_gives_k_hits_of_the_filtered_document(engine):
    assert doc_ids(engine.search(COUNTING, 1))[0] == A
    only_b = Filters.make(document_ids=[B])
    for mode in ("hybrid", "dense"):
        result = engine.search(COUNTING, 5, mode, filters=only_b)
        assert doc_ids(result) == [B] * 5, mode
        scores = [h.score for h in result.hits]
        assert scores == sorted(scores, reverse=True)
        # Highlighted exactly where the card is above the relevance floor (weak cards: none).
        assert all(bool(h.highlights) == (h.relevance > 0) for h in result.hits)
    # B's best passage comes first: its dense score is the highest of all of B's passages.
    rows = np.array(engine.index.store.rows_of(B))
    best = rows[np.argmax(engine.dense_scores(rows, engine.questions.embed(COUNTING)))]
    dense = engine.search(COUNTING, 5, "dense", filters=only_b)
    assert dense.hits[0].passage.id == engine.passages[best].id
    assert dense.filters == only_b


def test_fewer_hits_only_when_fewer_passages_match(engine):
    a_passages = len(engine.index.store.rows_of(A))
    result = engine.search(COUNTING, 50, "dense", filters=Filters.make(document_ids=[A]))
    assert len(result.hits) == a_passages and set(doc_ids(result)) == {A}
    assert len(engine.search(COUNTING, 50, "dense").hits) > a_passages


def test_dates_overlap_partial_dates(engine):
    autumn_2012 = Filters.make(date_from="2012-11-01", date_to="2012-11-30")
    for mode in MODES:
        result = engine.search(COUNTING, 5, mode, filters=autumn_2012)
        assert set(doc_ids(result)) == {BLOG}, mode
        assert all("2012-11-01" <= h.passage.date <= "2012-11-30" for h in result.hits)
    # Almedalen is dated "2015" (a year): any day of 2015 overlaps it, 2014 does not.
    midsummer = engine.search(COUNTING, 5, filters=Filters.make(date_from="2015-06-24",
                                                                 date_to="2015-06-24"))
    assert set(doc_ids(midsummer)) == {A}
    assert A not in doc_ids(engine.search(COUNTING, 10, filters=Filters.make(date_to="2014-12-31")))
    since = engine.search("Vad är tillitsbaserad styrning?", 10, filters=Filters.make(
        date_from="2020-01-31"))
    assert set(doc_ids(since)) <= {"000_ce65c358d56e68d5", B} and len(since.hits) == 10


def test_metadata_and_format_filters(engine):
    only_a = engine.search(COUNTING, 3, filters=Filters.make(
        metadata={"source": f"{A}.txt"}))
    assert doc_ids(only_a) == [A] * 3
    updated = engine.search(COUNTING, 3, filters=Filters.make(metadata={"updated": "2024-02-16"}))
    assert doc_ids(updated) == [B] * 3
    everything = engine.search(COUNTING, 5, filters=Filters.make(formats=["txt"]))
    assert passage_ids(everything) == passage_ids(engine.search(COUNTING, 5))
    assert engine.search(COUNTING, 5, filters=Filters.make(formats=["pdf", "docx"])).hits == []


@pytest.mark.parametrize("mode", MODES)
def test_a_filter_nothing_matches_gives_no_hits_and_no_good_match(engine, mode):
    for nothing in (Filters.make(document_ids=["finns-inte"]), Filters.make(formats=["pdf"]),
                    Filters.make(document_ids=[A], date_to="2000-01-01"),
                    Filters.make(metadata={"source": "finns-inte"})):
        result = engine.search(COUNTING, 5, mode, filters=nothing)
        assert result.hits == [] and result.no_good_match and result.filters == nothing


def test_no_filter_is_the_unfiltered_path(engine):
    plain = engine.search(COUNTING, 5)
    assert plain.filters is None and "filter_ms" not in plain.timings
    empty = engine.search(COUNTING, 5, filters=Filters.make())
    assert not Filters.make() and "filter_ms" not in empty.timings
    assert passage_ids(empty) == passage_ids(plain)
    assert [h.score for h in empty.hits] == [h.score for h in plain.hits]


@pytest.fixture(scope="module")
def hnsw_engine(tmp_path_factory, settings, embedder, questions, seeds_index_dir, seed_documents):
    """The seeds republished with HNSW indexes for passages and sentences (vectors reused)."""
    from qa.index.build import build_index
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    where = tmp_path_factory.mktemp("hnsw") / "seeds"
    shutil.copytree(seeds_index_dir, where)
    small = settings.model_copy(update={"exact_search_max": 20, "index_dir": where})
    report = build_index(seed_documents, embedder, small, where, progress=False)
    assert report.embedded == 0 and report.vector_index == "hnsw"
    snapshot = Snapshot.open(where, small, model_id=questions.model_id, dim=questions.dim)
    return SearchEngine(snapshot, questions, small)


def test_filters_with_hnsw_give_what_exact_search_gives(engine, hnsw_engine):
    assert hnsw_engine.health().vector_index == "hnsw"
    assert isinstance(hnsw_engine.index.sentences.index.index, faiss.IndexHNSW)
    cases = [
        Filters.make(document_ids=[B]),  # 12 passages: at most exact_search_max, exact
        Filters.make(date_from="2012-01-01", date_to="2012-12-31"),  # 27 passages: the graph
        Filters.make(document_ids=[A, B], formats=["txt"]),
    ]
    for filters in cases:
        for mode in MODES:
            want = engine.search(COUNTING, 10, mode, filters=filters)
            got = hnsw_engine.search(COUNTING, 10, mode, filters=filters)
            assert passage_ids(got) == passage_ids(want), (filters, mode)
            assert np.allclose([h.score for h in got.hits], [h.score for h in want.hits], atol=1e-5)


# ----------------------------------------------------------------- every format, dates, metadata

PARKING_2019 = ("Parkering i centrum\n\nAtt parkera på gatan i centrum kostar 20 kronor i timmen "
                "på vardagar. Avgiften betalas i automat eller med en app.")
PARKING_2024 = ("Ny parkeringstaxa\n\nFrån maj kostar gatuparkering i centrum 30 kronor i timmen. "
                "Boende kan söka ett tillstånd för boendeparkering.")
LIBRARY = ("Bibliotekets öppettider\n\nStadsbiblioteket har öppet vardagar klockan 10 till 19 och "
           "lördagar klockan 11 till 15.")
WASTE = ("Sophämtning\n\nHushållsavfall hämtas varannan vecka. Grovavfall lämnas på "
         "återvinningscentralen vid Industrivägen.")
SNOW = ("Snöröjning\n\nKommunen plogar gatorna när snödjupet är mer än åtta centimeter. "
        "Gång- och cykelvägar plogas först.")
MUSEUM = ("Konstmuseet\n\nKonstmuseet visar samtida konst och har fri entré för barn under "
          "18 år. Museet är stängt på måndagar.")
PERMIT = ("Bygglov\n\nEn ansökan om bygglov för ett nytt enbostadshus kostar 24 000 kronor. "
          "Byggnadsnämnden beslutar inom tio veckor.")
# One short document for each of the other formats a reader reads (dated in 2022, no metadata,
# so that the date and metadata cases above keep their answers).
BOOK = ("Ortens historia\n\nBoken berättar om hur järnvägen kom till orten år 1874.")
SLIDES = ("Bild 1: Budget\n\nNämnden föreslår fler platser på särskilt boende.")
SHEET = ("Budget\n\nVerksamhet | Budget 2025\n\nFörskola | 126500")
CALC = ("Taxor\n\nTaxa | Belopp\n\nMaxtaxa förskola | 1688")
LETTER = ("Riktlinje för distansarbete\n\nMedarbetare får arbeta hemifrån två dagar i veckan.")
MAIL = ("Fråga om skolskjuts\n\nFrån: Åsa Öberg. Eleven har rätt till skolskjuts om vägen är lång.")

# id → (text, format, date, metadata)
DOCUMENTS = {
    "parkering/2019": (PARKING_2019, "pdf", "2019-03-01",
                       {"kommun": "Exempelby", "taggar": ["trafik", "avgift"]}),
    "parkering/2024": (PARKING_2024, "docx", "2024-05-10", {"kommun": "Exempelby",
                                                            "taggar": ["trafik"]}),
    "bibliotek": (LIBRARY, "html", "2023-09", {"kommun": "Norrby"}),
    "avfall": (WASTE, "md", "2021", {"kommun": "Norrby", "nummer": 7}),
    "snö": (SNOW, "txt", None, {"kommun": "Norrby", "vinter": True}),
    "bygglov": (PERMIT, "jsonl", "2022-02-14", {"kommun": "Exempelby", "version": 2.5}),
    "museum": (MUSEUM, "odt", "2022-08", {"kommun": "Exempelby"}),
    "historia": (BOOK, "epub", "2022-01-10", {}),
    "bildspel": (SLIDES, "pptx", "2022-02-01", {}),
    "budget": (SHEET, "xlsx", "2022-03-01", {}),
    "taxor": (CALC, "ods", "2022-04-01", {}),
    "distans": (LETTER, "rtf", "2022-05-01", {}),
    "brev": (MAIL, "eml", "2022-06-01", {}),
}
PARKING = "Vad kostar det att parkera på gatan i centrum?"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, settings, embedder, questions):
    """An engine over DOCUMENTS, with HNSW indexes (exact_search_max 3)."""
    from qa.index.build import build_index
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    where = tmp_path_factory.mktemp("mixed") / "index"
    small = settings.model_copy(update={"exact_search_max": 3, "index_dir": where})
    docs = [make_document(i, text, date=day, format=fmt, metadata=meta)
            for i, (text, fmt, day, meta) in DOCUMENTS.items()]
    build_index(docs, embedder, small, where, progress=False)
    snapshot = Snapshot.open(where, small, model_id=questions.model_id, dim=questions.dim)
    engine = SearchEngine(snapshot, questions, small)
    assert engine.health().vector_index == "hnsw"
    assert {p.document_id: p.date for p in engine.passages}["snö"] is None
    return engine


def matching(mixed, **parts) -> set[str]:
    """The documents of every passage a filter lets through, in every mode (k = all)."""
    filters = Filters.make(**parts)
    found: set[str] = set()
    for mode in ("hybrid", "dense"):
        result = mixed.search(PARKING, 50, mode, filters=filters)
        found |= set(doc_ids(result))
        assert found == set(doc_ids(result)), "both modes see the same passages"
    return found


def test_every_format_is_a_filter(mixed):
    from qa.ingest.formats import SUFFIXES

    assert set(FORMATS) == set(SUFFIXES.values()) | {"jsonl"}  # every format a document has
    assert set(FORMATS) == {fmt for _, fmt, _, _ in DOCUMENTS.values()}
    for doc_id, (_, fmt, _, _) in DOCUMENTS.items():
        assert matching(mixed, formats=[fmt]) == {doc_id}
    assert matching(mixed, formats=["pdf", "docx"]) == {"parkering/2019", "parkering/2024"}
    top = mixed.search(PARKING, 3, filters=Filters.make(formats=["html", "txt", "md"]))
    assert len(top.hits) == 3 and set(doc_ids(top)) == {"bibliotek", "snö", "avfall"}


def test_date_filters_with_full_partial_and_missing_dates(mixed):
    assert matching(mixed, date_to="2020-12-31") == {"parkering/2019"}
    assert matching(mixed, date_from="2023-01-01") == {"parkering/2024", "bibliotek"}
    # "2023-09" is all of September, "2021" all of the year; "snö" has no date at all.
    assert matching(mixed, date_from="2023-09-15", date_to="2023-09-15") == {"bibliotek"}
    assert matching(mixed, date_from="2021-06-01", date_to="2021-06-30") == {"avfall"}
    assert matching(mixed, date_from="2023-10-01", date_to="2024-05-09") == set()
    assert matching(mixed, date_from="1900-01-01") == set(DOCUMENTS) - {"snö"}
    first = mixed.search(PARKING, 1, filters=Filters.make(date_to="2020-12-31"))
    assert "20 kronor" in first.hits[0].passage.text


def test_metadata_filters_compare_as_text_and_look_into_lists(mixed):
    assert matching(mixed, metadata={"kommun": "Norrby"}) == {"bibliotek", "avfall", "snö"}
    assert matching(mixed, metadata={"taggar": "avgift"}) == {"parkering/2019"}
    assert matching(mixed, metadata={"taggar": "trafik", "kommun": "Exempelby"}) == {
        "parkering/2019", "parkering/2024"}
    assert matching(mixed, metadata={"nummer": 7}) == matching(mixed, metadata={"nummer": "7"}) \
        == {"avfall"}
    assert matching(mixed, metadata={"vinter": True}) == matching(
        mixed, metadata={"vinter": "true"}) == {"snö"}
    assert matching(mixed, metadata={"version": 2.5}) == {"bygglov"}
    assert matching(mixed, metadata={"kommun": "norrby"}) == set()  # exact, case included
    assert matching(mixed, metadata={"saknas": "x"}) == set()


def test_parts_are_anded(mixed):
    assert matching(mixed, formats=["pdf", "md", "txt"], metadata={"kommun": "Norrby"},
                    date_from="2000-01-01") == {"avfall"}
    assert matching(mixed, document_ids=["parkering/2019", "bibliotek", "finns-inte"],
                    date_from="2023-01-01") == {"bibliotek"}
    hits = mixed.search(PARKING, 5, "lexical", filters=Filters.make(
        document_ids=["parkering/2024"]))
    assert doc_ids(hits) and set(doc_ids(hits)) == {"parkering/2024"}


# ---------------------------------------------------------------- the parts, one by one


def test_masks_are_computed_once_per_filter_and_the_last_few_kept(mixed):
    masks = FilterMasks(mixed.index, kept=2)
    first = masks.mask(Filters.make(formats=["pdf"]))
    assert masks.mask(Filters.make(formats=["pdf"])) is first
    assert first.count == sum(p.document_id == "parkering/2019" for p in mixed.passages)
    assert first.weights.dtype == np.float32 and first.sentences is not None
    assert masks.mask(Filters.make(metadata={"nummer": 7})) is masks.mask(
        Filters.make(metadata={"nummer": "7"}))  # the same passages: one mask
    masks.mask(Filters.make(formats=["md"]))
    masks.mask(Filters.make(formats=["txt"]))
    assert masks.mask(Filters.make(formats=["pdf"])) is not first  # evicted, made again


@pytest.mark.parametrize("exact_max", [0, 10_000])
def test_search_within_returns_the_n_best_selected_rows(engine, exact_max):
    """Real passage vectors in flat and HNSW indexes; masks from one row to nearly all."""
    vectors = np.asarray(engine.index.embeddings, dtype=np.float32)
    query = engine.questions.embed(COUNTING)
    rng = np.random.default_rng(7)
    for built in (make_vector_index(vectors, exact_max=10_000),
                  make_vector_index(vectors, exact_max=0, hnsw_m=8)):
        index = VectorIndex(built, ef_search=64)
        for share in (1 / len(vectors), 0.05, 0.3, 0.9):
            mask = rng.random(len(vectors)) < share
            mask[rng.integers(len(vectors))] = True
            selected = RowSelection(mask)
            scores, rows = index.search_within(query, 10, selected, exact_max)
            want = np.flatnonzero(mask)[np.argsort(-(vectors[mask] @ query), kind="stable")][:10]
            assert len(rows) == min(10, mask.sum()) and mask[rows].all()
            assert set(rows.tolist()) == set(want.tolist()), (index.kind, share)
            assert np.allclose(scores, vectors[rows] @ query, atol=1e-5)
        empty = RowSelection(np.zeros(len(vectors), bool))
        assert len(index.search_within(query, 10, empty, exact_max)[1]) == 0


def test_date_periods():
    assert date_period("2015") == (20150101, 20151231)
    assert date_period("2015-06") == (20150601, 20150631)
    assert date_period("2015-06-02") == date_period("2015-06-02T10:00:00Z") == (20150602, 20150602)
    for undated in (None, "", "juni 2015", "2015-13", "2015-06-32", "20150602", "2015-6"):
        assert date_period(undated) is None, undated


@pytest.mark.parametrize(("parts", "message"), [
    ({"document_ids": []}, "document_ids must not be an empty list"),
    ({"document_ids": [""]}, "document id must not be empty"),
    ({"formats": []}, "formats must not be an empty list"),
    ({"formats": ["doc"]}, "unknown format 'doc'; expected one of pdf, docx"),
    ({"date_from": "2015"}, "date_from '2015' is not a date of the form YYYY-MM-DD"),
    ({"date_to": "2015-02-30"}, "date_to '2015-02-30' is not a valid date"),
    ({"date_from": "2016-01-01", "date_to": "2015-12-31"}, "date_from 2016-01-01 is after date_to"),
    ({"metadata": {}}, "metadata must name at least one field"),
    ({"metadata": {"a": [1]}}, "metadata 'a': the value must be a string, number or boolean"),
    ({"metadata": {"a": None}}, "not NoneType"),
])
def test_bad_filters_are_refused_with_a_message(parts, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(")):
        Filters.make(**parts)


def test_filters_normalise_and_echo():
    f = Filters.make(document_ids=["b", "a", "b"], formats=["pdf", "pdf"],
                     metadata={"z": 1, "a": "x"}, date_from="2015-01-01")
    assert f.document_ids == ("b", "a") and f.formats == ("pdf",)
    assert f.to_json() == {"document_ids": ["b", "a"], "date_from": "2015-01-01", "date_to": None,
                           "formats": ["pdf"], "metadata": {"a": "x", "z": 1}}
    assert f == Filters.make(document_ids=["b", "a"], formats=["pdf"], date_from="2015-01-01",
                             metadata={"a": "x", "z": 1})
    assert Filters.make(metadata={"n": True}).key != Filters.make(metadata={"n": 1}).key
