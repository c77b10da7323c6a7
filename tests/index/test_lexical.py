"""Swedish lexical analysis: stems, stop words and compounds matching their parts."""

from __future__ import annotations

import pytest

from qa.index.lexical import LexicalIndex, SwedishAnalyzer

CORPUS = [
    "Den regionala utvecklingsstrategin förverkligas genom flera projekt.",
    "Vi har den högsta produktivitetsutvecklingen i näringslivet.",
    "Strategier för att stötta barn och ungdomar.",
    "Produktivitet istället för värde och utveckling av kommunen.",
    "Länsstyrelserna är 21 fristående myndigheter.",
]


@pytest.fixture(scope="module")
def analyzer() -> SwedishAnalyzer:
    return SwedishAnalyzer.learn(CORPUS)


@pytest.mark.parametrize(
    ("compound", "parts"),
    [
        ("utvecklingsstrategin", {"utveckling", "strategi"}),
        ("produktivitetsutvecklingen", {"produktivitet", "utveckling"}),
    ],
)
def test_compounds_are_indexed_with_their_parts(analyzer, compound, parts):
    assert parts <= set(analyzer.tokens(compound))


def test_question_words_and_stop_words_are_dropped(analyzer):
    assert analyzer.tokens("Hur många länsstyrelser finns det?") == analyzer.tokens("länsstyrelser")


def test_inflections_share_a_stem(analyzer):
    assert set(analyzer.tokens("strategi")) <= set(analyzer.tokens("strategier"))


def test_bm25_finds_a_compound_from_its_parts():
    index = LexicalIndex.build(CORPUS)
    _, rows = index.search("strategi för utveckling i regionen", 2)
    assert rows[0] == 0, "'utvecklingsstrategin' matches 'strategi för utveckling'"
    _, rows = index.search("produktivitet", 5)
    assert {1, 3} <= set(rows.tolist())


def test_nothing_to_match_returns_nothing():
    index = LexicalIndex.build(CORPUS)
    scores, rows = index.search("och det är", 5)
    assert len(rows) == 0 and len(scores) == 0


def test_idf_weighs_every_indexed_term_by_its_rarity(analyzer):
    index = LexicalIndex.build(CORPUS)
    idf = index.idf()
    assert set(idf) == set(index.bm25.vocab_dict)  # the empty term too, as held by no passage
    [rare] = analyzer.tokens("länsstyrelserna")  # in one passage
    common = analyzer.tokens("utveckling")[0]  # in three (two of them inside compounds)
    assert idf[rare] > idf[common] > 0
