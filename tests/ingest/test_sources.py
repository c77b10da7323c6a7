"""Loading documents: folders and JSONL, titles, dates, dated posts, furniture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.errors import CorpusError
from qa.ingest.sources import load_documents, read_corpus

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


def test_missing_source_and_nothing_to_index(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        load_documents(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no documents to index"):
        load_documents(empty)
    (empty / "tom.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"no documents to index \(tom.txt: empty"):
        load_documents(empty)
    program = tmp_path / "x.exe"
    program.write_bytes(b"MZ")
    with pytest.raises(CorpusError, match=r"expected a folder, a \.jsonl file"):
        load_documents(program)


def _write(folder, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def test_folders_are_read_recursively_with_path_ids(tmp_path):
    _write(tmp_path, {
        "taxa.txt": "Taxa\n\nAvgiften är 100 kronor.",
        "kommun/bygglov/taxa.md": "# Bygglovstaxa\n\nBygglov kostar **24 000** kronor.",
        "kommun/Mitt dokument.v2.txt": "Ett dokument med mellanslag i namnet.",
        "a/rapport.txt": "Rapport A om äldreomsorgen.",
        "b/rapport.txt": "Rapport B om vattnet.",
        "poster.jsonl": '{"id": "p1", "text": "En post i en JSONL-fil."}\n',
    })
    corpus = read_corpus(tmp_path)
    ids = sorted(d.id for d in corpus.documents)
    assert ids == ["a/rapport", "b/rapport", "kommun/Mitt_dokument.v2", "kommun/bygglov/taxa",
                   "p1", "taxa"]
    assert corpus.skipped == []
    md = next(d for d in corpus.documents if d.id == "kommun/bygglov/taxa")
    assert md.format == "md" and "#" not in md.text and "**" not in md.text
    assert md.title == "Bygglovstaxa" and md.metadata["source"] == "kommun/bygglov/taxa.md"
    assert md.original is not None and md.original.filename == "kommun/bygglov/taxa.md"
    assert corpus.formats() == {"txt": 4, "md": 1, "jsonl": 1}


def test_every_file_not_indexed_is_listed_with_its_reason(tmp_path):
    _write(tmp_path, {
        "ok.txt": "Det här dokumentet indexeras.",
        "krockar.txt": "Det här dokumentet har samma id som en post.",
        "tom.txt": "",
        "blank.md": "   \n\n  ",
        "okänd.xyz": "Okänt format.",
        "dup.txt": "Ett.",
        "dup.md": "Två.",
        ".dold.txt": "Dold fil.",
        ".git/config": "[core]",
        "trasig.jsonl": "{inte json}\n",
        "krock.jsonl": '{"id": "krockar", "text": "Samma id som krockar.txt."}\n',
    })
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["ok"]
    listed = {s.path: s for s in corpus.skipped}
    assert listed["tom.txt"].reason == "empty"
    assert listed["blank.md"].reason == "empty"
    assert listed["okänd.xyz"].reason == "unsupported type"
    assert listed["dup.txt"].reason == "duplicate id" and "dup.md" in listed["dup.txt"].detail
    assert listed["dup.md"].reason == "duplicate id" and "dup.txt" in listed["dup.md"].detail
    assert listed[".dold.txt"].reason == "hidden" and listed[".git/"].reason == "hidden"
    assert listed["trasig.jsonl"].reason == "unreadable" and "invalid JSON" in listed["trasig.jsonl"].detail
    assert listed["krockar.txt"].reason == "duplicate id"
    assert "krock.jsonl" in listed["krockar.txt"].detail
    assert listed["krock.jsonl (id krockar)"].reason == "duplicate id"
    assert len(corpus.skipped) == 10


def test_a_single_file_is_read_with_its_stem_as_id(tmp_path):
    path = tmp_path / "Parkering.md"
    path.write_text("# Parkering\n\n## Avgifter och zoner\n\nZon A kostar 25 kronor.", encoding="utf-8")
    (doc,) = load_documents(path)
    assert doc.id == "Parkering" and doc.format == "md"
    assert [s.title for s in doc.sections][-1] == "Avgifter och zoner"


def test_reading_many_files_reports_progress(tmp_path, monkeypatch):
    import qa.ingest.sources

    monkeypatch.setattr(qa.ingest.sources, "_PROGRESS_SECONDS", 0.0)
    _write(tmp_path, {f"del{i}/text.txt": f"Dokument nummer {i}." for i in range(3)})
    lines: list[str] = []
    read_corpus(tmp_path, progress=lines.append)
    assert lines[-1] == "read 3/3 files (3 documents, 0 skipped)"
