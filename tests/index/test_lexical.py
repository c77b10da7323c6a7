"""Swedish lexical analysis: stems, stop words and compounds matching their parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa.errors import QAError
from qa.index.lexical import LexicalIndex, SwedishAnalyzer, hunspell_words

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


# ---------------------------------------------------------------- Hunspell compound vocabulary

DIC = """5
utveckling/AEY
strategi/AEHUXY
Kronoberg/A
e-tjänst/A
kommun/ABY
"""


@pytest.fixture()
def dictionary(tmp_path):
    path = tmp_path / "sv_TEST.dic"
    path.write_text(DIC, encoding="utf-8")
    return path


def test_hunspell_words_are_the_lower_case_stems_of_the_dictionary(dictionary):
    # Flags dropped, the count line skipped, proper names and non-letters left out.
    assert hunspell_words(dictionary) == ["utveckling", "strategi", "kommun"]


def test_a_missing_or_empty_dictionary_is_a_clear_error(tmp_path):
    with pytest.raises(QAError, match=r"cannot read the Hunspell dictionary.*hunspell-sv"):
        hunspell_words(tmp_path / "saknas.dic")
    (tmp_path / "tom.dic").write_text("0\n", encoding="utf-8")
    with pytest.raises(QAError, match="no words found"):
        hunspell_words(tmp_path / "tom.dic")


def test_the_dictionary_splits_compounds_whose_parts_the_corpus_lacks(dictionary):
    corpus = ["Utvecklingsstrategin antogs i kommunfullmäktige.", "Budgeten antogs i juni."]
    own = LexicalIndex.build(corpus)
    assert own.search("strategi", 2)[1].tolist() == []  # the corpus alone has no 'strategi'
    for vocabulary in ("hunspell", "both"):
        index = LexicalIndex.build(corpus, vocabulary, dictionary)
        assert {"utveckling", "strategi"} <= set(index.analyzer.tokens("utvecklingsstrategin"))
        assert index.search("strategi för utveckling", 2)[1].tolist() == [0]
    assert "antog" not in LexicalIndex.build(corpus, "hunspell", dictionary).analyzer.vocabulary
    assert "antog" in LexicalIndex.build(corpus, "both", dictionary).analyzer.vocabulary


def test_an_unknown_compound_vocabulary_is_refused(dictionary):
    with pytest.raises(QAError, match="unknown compound vocabulary 'ordbok'"):
        LexicalIndex.build(CORPUS, "ordbok", dictionary)
    with pytest.raises(QAError, match=r"needs the dictionary's \.dic file"):
        LexicalIndex.build(CORPUS, "hunspell")


def test_the_installed_swedish_dictionary_when_present():
    path = Path("/usr/share/hunspell/sv_SE.dic")
    if not path.is_file():
        pytest.skip("hunspell-sv is not installed (apt-get install hunspell-sv)")
    words = set(hunspell_words(path))
    assert {"kommun", "strategi", "utveckling", "bygglov"} <= words
    index = LexicalIndex.build(CORPUS, "hunspell", path)
    assert {"utveckling", "strategi"} <= set(index.analyzer.tokens("utvecklingsstrategin"))


# ---------------------------------------------------------------- scores as the rankers use them

def test_scores_weighted_scores_holding_and_top_agree_with_search():
    index = LexicalIndex.build(CORPUS)
    question = "produktivitet och utveckling"
    scores = index.scores(question)
    assert scores is not None and len(scores) == len(CORPUS)
    top_scores, top_rows = index.search(question, 3)
    assert top_rows.tolist() == LexicalIndex.top(scores, 3)[1].tolist()
    assert np.allclose(top_scores, scores[top_rows])
    # Unit weights over the question's distinct terms score as the plain query does.
    weighted = index.weighted_scores(dict.fromkeys(index.terms(question), 1.0))
    assert np.allclose(weighted, scores, atol=1e-5)
    # A weight scales its term's share; an unknown or zero-weight term adds nothing.
    [term] = index.terms("länsstyrelserna")
    assert np.allclose(index.weighted_scores({term: 2.0, "okänd": 5.0, "värde": 0.0}),
                       2 * index.scores("länsstyrelserna"), atol=1e-5)
    assert index.weighted_scores({"okänd": 1.0}) is None and index.scores("och det") is None
    assert index.holding(term).tolist() == [4]
    assert set(index.holding(index.terms("utveckling")[0]).tolist()) == {0, 1, 3}
    assert index.holding("okänd").tolist() == []


def test_unknown_share_counts_the_question_words_no_passage_uses():
    index = LexicalIndex.build(CORPUS)
    # Every word is in the collection: inflected ("strategier"), or a compound of its words.
    assert index.unknown_share("Vilka strategier har länsstyrelserna?") == 0.0
    assert index.unknown_share("Vilka utvecklingsprojekt finns?") == 0.0  # utveckling + projekt
    # One of two content words is new to the collection: "BankID".
    assert index.unknown_share("Vilka myndigheter har BankID?") == 0.5
    assert index.unknown_share("och det är 21") == 0.0  # stop words and numbers do not count
