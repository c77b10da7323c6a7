"""A result's ``text`` is exactly its document's ``text[start:end]``, in every format and on
every way out (the engine, ``POST /api/search``, ``qa ask --json``, the documents API), and
each highlight's document offsets cut exactly the highlighted words out of it.

One folder holds a document of each format the service reads (PDF, DOCX, ODT, HTML,
Markdown, plain text, JSONL), each with headings, paragraphs and a list, so passages run over
line breaks and blank lines: a text with its whitespace collapsed would differ. The folder is
built into a real index with the real model, as ``qa build`` builds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest import make_files as mk

ROOT = Path(__file__).resolve().parents[1]

SIMHALL = [
    [("h1", "Simhallen i Exempelby"),
     ("p", "Simhallen har en bassäng på 25 meter och en undervisningsbassäng för barn. Hallen "
           "renoverades 2023 och har nu ett nytt omklädningsrum med plats för rullstol."),
     ("h2", "Öppettider"),
     ("p", "Simhallen har öppet vardagar klockan 6 till 21 och helger klockan 9 till 17.")],
    [("h2", "Priser"),
     ("p", "Ett vuxenbad kostar 70 kronor och ett barnbad 35 kronor. Ett årskort kostar "
           "2 400 kronor för vuxna."),
     ("li", "Pensionärer badar för halva priset."),
     ("li", "Barn under tre år badar gratis.")],
]
FORSKOLA = [
    ("h1", "Förskola i Exempelby"),
    ("p", "Alla barn från ett års ålder har rätt till förskola när vårdnadshavarna arbetar "
          "eller studerar."),
    ("h2", "Ansökan"),
    ("p", "Du ansöker om plats i e-tjänsten senast fyra månader innan barnet ska börja."),
    ("li", "Ange önskat startdatum."),
    ("li", "Välj upp till tre förskolor."),
    ("h2", "Avgift"),
    ("p", "Avgiften är tre procent av hushållets inkomst, högst 1 688 kronor per månad."),
]
KULTURSKOLA = [
    ("h1", "Kulturskolan"),
    ("p", "Kulturskolan erbjuder kurser i musik, dans och teater för barn mellan sex och "
          "nitton år."),
    ("h2", "Terminsavgift"),
    ("p", "En kurs kostar 600 kronor per termin. Syskon får tjugo procents rabatt."),
]
VATTEN = [
    ("h1", "Vatten och avlopp"),
    ("p", "Kommunen levererar dricksvatten till alla hushåll i tätorterna."),
    ("h2", "Vattenläcka"),
    ("p", "Ring kommunens felanmälan om du ser en vattenläcka. Telefonen är bemannad dygnet "
          "runt."),
    ("li", "Stäng huvudkranen om läckan är inne i huset."),
    ("li", "Flytta undan det som kan skadas av vatten."),
]
PARK = [
    ("h1", "Parker och lekplatser"),
    ("p", "Kommunen sköter tjugo parker och fyrtio lekplatser."),
    ("h2", "Grillning"),
    ("p", "Det är tillåtet att grilla på anvisade grillplatser i Stadsparken och vid Sjövallen."),
    ("li", "Använd inte engångsgrill på gräsmattan."),
    ("li", "Släck glöden med vatten innan du går."),
]
SNO = ("Snöröjning\n\nKommunen plogar gator när snödjupet är mer än  åtta centimeter.\n"
       "Gång- och cykelvägar plogas först,\ndärefter bussgator och sist bostadsgatorna.\n\n\n"
       "Halkbekämpning\n\n- Sand läggs ut vid halka.\n- Saltning görs bara på huvudgator.\n")
BIBLIOTEK = {"id": "bibliotek", "title": "Biblioteket",
             "text": "Biblioteket\n\nLåna böcker\nDu lånar med ditt bibliotekskort.\tLånetiden är "
                     "fyra veckor.\n\nFörsenade böcker\nDet kostar inget att lämna tillbaka en bok "
                     "för sent, men efter sextio dagar skickas en faktura."}

FORMATS = {"simhall": "pdf", "forskola": "docx", "kulturskola": "odt", "vatten": "html",
           "park": "md", "sno": "txt", "bibliotek": "jsonl"}
QUESTIONS = [
    "Vad kostar ett årskort på simhallen?", "När har simhallen öppet på helgen?",
    "Badar pensionärer billigare?", "Hur söker man förskoleplats?", "Vad kostar förskolan?",
    "Hur många förskolor kan man välja?", "Vad kostar kulturskolan?",
    "Vad ska jag göra om det läcker vatten i huset?", "Var får man grilla?",
    "Hur släcker man grillen?", "När plogar kommunen?", "Saltas alla gator?",
    "Hur länge får man låna en bok?", "Vad händer om jag lämnar tillbaka en bok för sent?",
]
MODES = ("hybrid", "dense", "lexical")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, settings, embedder) -> Path:
    from qa.index.build import build_index
    from qa.ingest.sources import read_corpus

    folder = tmp_path_factory.mktemp("formats")
    mk.make_pdf(folder / "simhall.pdf", SIMHALL, title="Simhallen")
    mk.make_docx(folder / "forskola.docx", FORSKOLA, title="Förskola")
    mk.make_odt(folder / "kulturskola.odt", KULTURSKOLA, title="Kulturskolan")
    mk.make_html(folder / "vatten.html", "Vatten och avlopp – Exempelby kommun", VATTEN)
    mk.make_markdown(folder / "park.md", PARK)
    mk.make_text(folder / "sno.txt", SNO, "utf-8")
    (folder / "poster.jsonl").write_text(json.dumps(BIBLIOTEK, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    corpus = read_corpus(folder)
    assert not corpus.skipped, corpus.skipped
    assert {d.id: d.format for d in corpus.documents} == FORMATS
    target = tmp_path_factory.mktemp("index") / "formats"
    build_index(corpus.documents, embedder, settings.index, target, progress=False)
    return target


@pytest.fixture(scope="module")
def formats_engine(index_dir, settings, questions):
    from qa.search.engine import SearchEngine

    return SearchEngine.open(settings, str(index_dir), questions)


@pytest.fixture(scope="module")
def formats_client(formats_engine, settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(formats_engine, settings), raise_server_exceptions=False) as c:
        yield c


def check_result(result: dict, doc: str) -> None:
    """``text`` is ``doc[start:end]``; every highlight lies inside it, cuts the same characters
    out of ``text`` as out of ``doc``, and starts and ends on whole words."""
    start, end, text = result["start"], result["end"], result["text"]
    assert text == doc[start:end], (result["passage_id"], text, doc[start:end])
    for a, b in result["highlights"]:
        assert start <= a < b <= end, (result["passage_id"], a, b)
        marked = text[a - start:b - start]
        assert marked == doc[a:b]
        assert marked == marked.strip(), repr(marked)
        assert not (a > 0 and doc[a - 1].isalnum() and doc[a].isalnum()), repr(doc[a - 1:b])
        assert not (b < len(doc) and doc[b - 1].isalnum() and doc[b].isalnum()), repr(doc[a:b + 1])


def test_engine_passages_are_their_documents_text(formats_engine) -> None:
    texts = formats_engine.document_texts()
    for p in formats_engine.passages:
        assert p.text == texts[p.document_id][p.start:p.end]
    # The check bites: passages run over line breaks in every format.
    over_lines = {formats_engine.document(p.document_id).format
                  for p in formats_engine.passages if "\n" in p.text}
    assert over_lines == set(FORMATS.values())


def test_search_answers_cite_exact_text_and_highlights_in_every_format(formats_client) -> None:
    documents: dict[str, str] = {}
    seen: set[str] = set()
    highlighted = 0
    for question in QUESTIONS:
        for mode in MODES:
            res = formats_client.post("/api/search", json={"question": question, "k": 10,
                                                           "mode": mode})
            assert res.status_code == 200, res.text
            for result in res.json()["results"]:
                doc_id = result["document_id"]
                if doc_id not in documents:
                    got = formats_client.get(f"/api/documents/{doc_id}")
                    assert got.status_code == 200
                    documents[doc_id] = got.json()["text"]
                check_result(result, documents[doc_id])
                seen.add(FORMATS[doc_id])
                highlighted += bool(result["highlights"])
    assert seen == set(FORMATS.values())
    assert highlighted >= len(QUESTIONS)


@pytest.mark.parametrize(("question", "doc_id", "answer"), [
    ("Hur mycket kostar ett årskort på simhallen?", "simhall", "2 400 kronor"),
    ("Vart ringer man om en vattenläcka?", "vatten", "felanmälan"),
    ("Kostar det något att lämna tillbaka en bok för sent?", "bibliotek", "sextio dagar"),
])
def test_first_highlight_marks_the_answer_in_the_text(formats_client, question, doc_id,
                                                      answer) -> None:
    top = formats_client.post("/api/search", json={"question": question, "k": 3}).json()
    hit = top["results"][0]
    assert hit["document_id"] == doc_id
    a, b = hit["highlights"][0]
    assert answer in hit["text"][a - hit["start"]:b - hit["start"]]


def test_ask_json_gives_the_exact_text(index_dir, settings) -> None:
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--json", "-k", "10",
                           "--index", str(index_dir), "När plogar kommunen gatorna?"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1",
                               "QA_CACHE_DIR": str(settings.embed.cache_dir)})
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert results and any("\n" in r["text"] for r in results)
    texts = {"sno": SNO}
    for r in results:
        if r["document_id"] in texts:
            check_result(r, texts[r["document_id"]])
    assert results[0]["document_id"] == "sno"
