"""Loading documents: folders and JSONL, titles, dates, dated posts, furniture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.ingest.sources import load_documents

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

EXPECTED = {
    "000_ce65c358d56e68d5": ("Att leda i och för utveckling", "2020-01-31"),
    "002_aab51d96c062ffea": (
        "Minnesanteckningar från Regionstyrelsens träff med Regionala "
        "utvecklingsförvaltningens ledningsgrupp 20170619",
        "2017-06-19",
    ),
    "003_c2aea3d9b67761fb": ("Seminarium i Almedalen 2015", "2015"),
    "004_61a7695175b3d7f3": ("Att bygga utvecklingskapacitet", "2024-02-16"),
}


def test_seed_titles_and_dates(seed_documents):
    by_id = {d.id: d for d in seed_documents}
    assert sorted(by_id) == sorted(p.stem for p in SEEDS.glob("*.txt"))
    for doc_id, (title, date) in EXPECTED.items():
        assert (by_id[doc_id].title, by_id[doc_id].date) == (title, date)
    # Navigation lines are never taken for a title.
    titles = {d.title for d in seed_documents}
    assert not titles & {"Fler nyheter", "Region Örebro läns webbplats för regional utveckling"}


def test_blog_file_yields_three_dated_posts(seed_documents):
    blog = next(d for d in seed_documents if d.id.startswith("001_"))
    posts = [s for s in blog.sections if s.title and s.title.startswith("fredag")]
    assert [s.date for s in posts] == ["2012-11-23", "2012-11-16", "2012-11-09"]
    # The 16 November post begins mid-line, glued to the previous post's last sentence.
    assert blog.text[posts[1].start :].startswith("fredag 16 november 2012")
    assert blog.text[: posts[1].start].endswith("befolkningsfrågan i länet.")


@pytest.mark.parametrize(
    "line",
    [
        "Fler nyheter", "Relaterade nyheter", "Växel: +46 (0)40-661 10 00",
        "Hade du nytta av innehållet på denna sida?", "Senast uppdaterad: den 16 februari 2024",
        "Region Örebro läns webbplats för regional utveckling", "Region Örebro län Region Örebro län",
    ],
)
def test_furniture_lines_are_recognised(seed_documents, line):
    roles = {ln.text: ln.role for d in seed_documents for ln in d.layout.lines}
    assert roles[line] == "furniture"


def test_teasers_after_related_news_are_furniture(seed_documents):
    doc = next(d for d in seed_documents if d.id.startswith("000_"))
    teaser = next(ln for ln in doc.layout.lines if ln.text.startswith("De antar utmaningen"))
    assert teaser.role == "furniture"


def test_jsonl_corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    rows = [
        {"id": "a1", "text": "Första dokumentet.\n\nMed två stycken.", "title": "Ett", "källa": "x"},
        {"id": 7, "text": "Andra dokumentet utan titel."},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    with path.open("a", encoding="utf-8") as fh:  # raw separators inside a JSON string
        fh.write(json.dumps({"id": "sep", "text": "Rad ett\u2028rad två\x1c slut."},
                            ensure_ascii=False) + "\r\n")
    docs = load_documents(path)
    assert [d.id for d in docs] == ["a1", "7", "sep"]
    assert docs[2].text == "Rad ett\u2028rad två\x1c slut."
    assert docs[0].title == "Ett" and docs[0].metadata["källa"] == "x"
    assert docs[1].title == "Andra dokumentet utan titel."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "a", "text": "x"}\n{not json}\n', ":2: invalid JSON"),
        ('{"text": "x"}\n', "'id' must be a non-empty string"),
        ('{"id": "a"}\n', "'text' must be a string"),
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "duplicate id 'a'"),
        ('{"id": "a/../b", "text": "x"}\n', "invalid document id"),
        ("[1, 2]\n", "expected a JSON object"),
        ("\n\n", "no documents with text"),
    ],
)
def test_bad_jsonl_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_documents(path)


def test_missing_and_unreadable_sources(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        load_documents(tmp_path / "nope")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_documents(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match=r"no \.txt or \.md files"):
        load_documents(empty)
