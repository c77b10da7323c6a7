"""Real documents end to end: a folder of PDF, DOCX, ODT, HTML, Markdown, Latin-1 text, a
scanned PDF and bad files, built by the real ``qa build`` and searched with the real model.

The files are made in the test (``tests/ingest/make_files.py``). One build serves every test:
it is run as a user runs it, ``python -m qa.cli build``, so its summary and exit status are
checked too; the index it publishes is then opened by the real engine and served over HTTP.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest import make_files as mk

ROOT = Path(__file__).resolve().parents[1]

# The index is built by a `qa build` process with the real model, which no fixture marks.
pytestmark = pytest.mark.model

POLICY = [
    [("h1", "Parkeringspolicy för Exempelby kommun"),
     ("p", "Policyn beskriver hur kommunen styr parkeringen i tätorterna. Den antogs av "
           "kommunfullmäktige i mars 2024 och gäller tills vidare. Syftet är att gatumarken ska "
           "användas effektivt och att det ska vara lätt att hitta en ledig plats nära målet.")],
    [("h2", "Avgifter och zoner"),
     ("p", "Centrum är indelat i två avgiftszoner. I zon A kostar det 25 kronor per timme att "
           "parkera på gatan, vardagar mellan klockan 8 och 18. I zon B är de två första timmarna "
           "avgiftsfria, därefter kostar det 10 kronor per timme."),
     ("p", "Avgiften betalas i parkeringsautomat eller med en app i mobiltelefonen.")],
    [("h2", "Boendeparkering"),
     ("p", "Den som är folkbokförd i centrum kan ansöka om tillstånd för boendeparkering hos "
           "tekniska förvaltningen. Tillståndet kostar 600 kronor per månad och gäller på gatorna "
           "i den egna zonen, men inte på torget eller vid resecentrum.")],
]
TAXA = [
    ("h1", "Bygglovstaxa 2025"),
    ("p", "Taxan gäller för bygglov, marklov och rivningslov i Exempelby kommun."),
    ("h2", "Avgift för bygglov"),
    ("p", "En ansökan om bygglov för ett nytt enbostadshus kostar 24 000 kronor. För en "
          "tillbyggnad under 50 kvadratmeter är avgiften 8 500 kronor."),
    ("li", "Avgiften tas ut även om ansökan avslås."),
    ("li", "Startbesked ingår i avgiften."),
    ("h2", "Handläggningstid"),
    ("p", "Byggnadsnämnden ska fatta beslut inom tio veckor från det att ansökan är komplett."),
]
BIBLIOTEK = [
    ("h1", "Biblioteksplan för regionen"),
    ("p", "Planen beskriver hur folkbiblioteken i länet samverkar kring medier och program."),
    ("h2", "Öppettider"),
    ("p", "Stadsbiblioteket har öppet vardagar klockan 10 till 19 och lördagar klockan 11 till 15. "
          "På söndagar är biblioteket stängt."),
    ("h2", "Lån och förseningar"),
    ("p", "Vuxna låntagare betalar ingen förseningsavgift, men en bok som inte lämnas tillbaka "
          "faktureras efter sextio dagar."),
]
AVFALL = [
    ("h1", "Sophämtning och återvinning"),
    ("p", "Hushållsavfall hämtas varannan vecka i hela kommunen, matavfall varje vecka."),
    ("h2", "Grovavfall"),
    ("p", "Grovavfall som möbler och cyklar lämnas kostnadsfritt på återvinningscentralen "
          "Returen vid Industrivägen. Returen har öppet måndag till torsdag klockan 7 till 19."),
]
FARDTJANST = [
    ("h1", "Om kollektivtrafiken"),
    ("p", "Regionen ansvarar för busstrafiken och tågtrafiken inom länet."),
    ("h2", "Färdtjänst"),
    ("p", "Färdtjänst beviljas den som på grund av en varaktig funktionsnedsättning har "
          "väsentliga svårigheter att resa med den vanliga kollektivtrafiken. Ansökan görs hos "
          "kommunens biståndshandläggare."),
]
SNO = ("Snöröjning i Exempelby\n\nKommunen plogar gator och vägar när snödjupet är mer än åtta "
       "centimeter. Gång- och cykelvägar plogas först, därefter bussgator och sist "
       "bostadsgatorna. Sandning görs vid halka.\n")
PROTOKOLL = [["Protokoll fört vid kommunstyrelsens sammanträde",
              "Kommunstyrelsen beslutade att bygga en ny förskola i Norrby med sex avdelningar.",
              "Byggstarten planeras till hösten och kostnaden beräknas till 60 miljoner kronor."]]

# (question, document id, page, section): each answer sits in exactly one file.
QUESTIONS = [
    ("Vad kostar det att parkera på gatan i zon A?", "kommun/parkering/policy", 2,
     "Avgifter och zoner"),
    ("Hur mycket kostar tillstånd för boendeparkering per månad?", "kommun/parkering/policy", 3,
     "Boendeparkering"),
    ("Vad kostar bygglov för ett nytt enbostadshus?", "kommun/bygglov/taxa", None,
     "Avgift för bygglov"),
    ("När har stadsbiblioteket öppet på lördagar?", "region/kultur/bibliotek", None, "Öppettider"),
    ("Var kan man lämna grovavfall som möbler?", "webb/avfall", None, "Grovavfall"),
    ("När plogar kommunen gatorna?", "anteckningar/snöröjning", None, None),
    ("Vem kan beviljas färdtjänst?", "kollektivtrafik", None, "Färdtjänst"),
    ("Vad beslutade kommunstyrelsen om förskolan i Norrby?", "skannat/protokoll", 1, None),
    ("Hur nöjda är brukarna med äldreomsorgen?", "a/rapport", 1, None),
    ("Hur höga är nitrathalterna i dricksvattnet?", "b/rapport", 1, None),
]

# (file, reason): every bad file is listed with its reason.
BAD = [
    ("trasig.pdf", "corrupt"),
    ("hemlig.pdf", "encrypted"),
    ("tom.txt", "empty"),
    ("bild.txt", "binary"),
    ("bomb.docx", "too large"),
    ("stor.txt", "too large"),
    ("okänd.xyz", "unsupported type"),
    ("dubbel.txt", "duplicate id"),
    ("dubbel.md", "duplicate id"),
]


def _make_corpus(root: Path) -> None:
    folder = _Folder(root)
    mk.make_pdf(folder / "kommun/parkering/policy.pdf", POLICY, title="Parkeringspolicy")
    mk.make_docx(folder / "kommun/bygglov/taxa.docx", TAXA, title="Bygglovstaxa 2025")
    mk.make_odt(folder / "region/kultur/bibliotek.odt", BIBLIOTEK, title="Biblioteksplan")
    mk.make_html(folder / "webb/avfall.html", "Sophämtning – Exempelby kommun", AVFALL)
    mk.make_markdown(folder / "kollektivtrafik.md", FARDTJANST)
    mk.make_text(folder / "anteckningar/snöröjning.txt", SNO, "latin-1")
    mk.make_scanned_pdf(folder / "skannat/protokoll.pdf", PROTOKOLL)
    mk.make_pdf(folder / "a/rapport.pdf", [[("h1", "Årsrapport för äldreomsorgen"), (
        "p", "I årets brukarundersökning svarade 92 procent av brukarna att de är nöjda med "
             "äldreomsorgen i hemtjänsten och på särskilda boenden.")]])
    mk.make_pdf(folder / "b/rapport.pdf", [[("h1", "Rapport om vattenkvaliteten"), (
        "p", "Provtagningen av dricksvattnet visade nitrathalter på 4 milligram per liter, "
             "långt under gränsvärdet 50 milligram per liter.")]])
    mk.make_corrupt_pdf(folder / "trasig.pdf")
    mk.make_encrypted_pdf(folder / "hemlig.pdf", "Hemlig text om löner.")
    (folder / "tom.txt").write_bytes(b"")
    (folder / "bild.txt").write_bytes(bytes(range(256)) * 64)
    mk.make_zip_bomb_docx(folder / "bomb.docx")
    with (folder / "stor.txt").open("wb") as f:  # 200 MB, sparse: skipped before it is read
        f.truncate(200_000_000)
    (folder / "okänd.xyz").write_text("Okänt format.", encoding="utf-8")
    (folder / "nollor.txt").write_bytes(
        "Bibliotekets\x00 magasin rymmer fyrtio\x00tusen böcker.\n".encode())
    (folder / "dubbel.txt").write_text("Dubbel text.", encoding="utf-8")
    (folder / "dubbel.md").write_text("# Dubbel\n\nDubbel text.", encoding="utf-8")


class _Folder:
    """``folder / "a/b.pdf"`` is a path whose parent folders exist."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __truediv__(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, settings
          ) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("corpus")
    _make_corpus(folder)
    index_dir = tmp_path_factory.mktemp("index") / "docs"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_CACHE_DIR": str(settings.embed.cache_dir),
           "QA_MAX_UNZIPPED_MB": "20"}
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "build", "--source", str(folder),
                           "--index", str(index_dir)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900)
    return folder, index_dir, proc


@pytest.fixture(scope="module")
def docs_engine(built, settings, questions):
    from qa.index.snapshot import Snapshot
    from qa.search.engine import SearchEngine

    _, index_dir, proc = built
    assert proc.returncode == 0, proc.stderr
    snapshot = Snapshot.open(index_dir, settings.index, model_id=questions.model_id, dim=questions.dim)
    return SearchEngine(snapshot, questions, settings.search)


def test_build_lists_every_format_and_every_skipped_file(built) -> None:
    _, _, proc = built
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Traceback" not in proc.stderr
    summary = out.splitlines()[0]
    for fmt, n in [("pdf", 4), ("docx", 1), ("odt", 1), ("html", 1), ("md", 1), ("txt", 2)]:
        assert f"{fmt} {n}" in summary, summary
    for name, reason in BAD:
        line = next((ln for ln in out.splitlines() if ln.strip().startswith(f"{name}:")), None)
        assert line is not None, f"{name} is not listed:\n{out}"
        assert reason in line, line
    assert "dubbel.txt" in next(ln for ln in out.splitlines() if ln.strip().startswith("dubbel.md"))


@pytest.mark.parametrize(("question", "doc_id", "page", "section"), QUESTIONS)
def test_each_file_answers_its_question_with_page_and_section(docs_engine, question, doc_id,
                                                              page, section) -> None:
    hit = docs_engine.search(question, k=3).hits[0]
    top = hit.passage
    assert top.document_id == doc_id, (question, [h.passage.document_id for h in
                                                   docs_engine.search(question, k=3).hits])
    assert top.page == page
    if section is not None:  # the citation names the section of the answer
        assert hit.cited_section == section


def test_passages_are_exact_and_free_of_markup_and_chrome(docs_engine) -> None:
    for summary in docs_engine.documents():
        text = docs_engine.document_text(summary.id)
        doc = docs_engine.document(summary.id)
        for block in doc.blocks:
            assert text[block.start:block.end].strip() == text[block.start:block.end]
    for p in docs_engine.index.store.passages:
        text = docs_engine.document_text(p.document_id)
        assert text[p.start:p.end] == p.text
        assert not p.text.startswith("#") and "**" not in p.text
        assert "cookie" not in p.text.lower() and "Relaterade länkar" not in p.text
    nul = docs_engine.document_text("nollor")
    assert "\x00" not in nul and "fyrtio" in nul


def test_latin1_text_is_decoded_exactly(docs_engine) -> None:
    assert docs_engine.document_text("anteckningar/snöröjning").startswith("Snöröjning i Exempelby")
    assert docs_engine.document("anteckningar/snöröjning").metadata["encoding"] in (
        "latin_1", "iso8859_1", "cp1252", "iso8859_15", "windows-1252", "latin-1")


@pytest.fixture(scope="module")
def docs_client(docs_engine, settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(docs_engine, settings), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(("doc_id", "name", "media_type"), [
    ("kommun/parkering/policy", "kommun/parkering/policy.pdf", "application/pdf"),
    ("kommun/bygglov/taxa", "kommun/bygglov/taxa.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("region/kultur/bibliotek", "region/kultur/bibliotek.odt",
     "application/vnd.oasis.opendocument.text"),
    ("webb/avfall", "webb/avfall.html", "text/html"),
])
def test_original_is_downloadable_with_its_content_type(built, docs_client, doc_id, name,
                                                        media_type) -> None:
    folder, _, _ = built
    res = docs_client.get(f"/api/documents/{doc_id}/original")
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].split(";")[0] == media_type
    assert res.content == (folder / name).read_bytes()
    assert res.headers["content-security-policy"] == "sandbox"


def test_document_route_gives_structure_pages_and_original(docs_client) -> None:
    body = docs_client.get("/api/documents/kommun/parkering/policy").json()
    assert body["format"] == "pdf"
    assert [p["number"] for p in body["pages"]] == [1, 2, 3]
    assert body["original"]["url"] == "/api/documents/kommun/parkering/policy/original"
    text = body["text"]
    page2 = body["pages"][1]
    assert "25 kronor per timme" in text[page2["start"]:page2["end"]]
    taxa = docs_client.get("/api/documents/kommun/bygglov/taxa").json()
    kinds = {(b["kind"], text_of(taxa, b)) for b in taxa["blocks"]}
    assert ("heading", "Avgift för bygglov") in kinds
    assert ("list_item", "Startbesked ingår i avgiften.") in kinds
    missing = docs_client.get("/api/documents/finns/inte/original")
    assert missing.status_code == 404 and "finns/inte" in missing.json()["detail"]


def text_of(doc: dict, block: dict) -> str:
    return doc["text"][block["start"]:block["end"]]


def test_search_response_cites_the_page(docs_client) -> None:
    res = docs_client.post("/api/search", json={"question": QUESTIONS[1][0], "k": 1}).json()
    hit = res["results"][0]
    assert (hit["document_id"], hit["page"], hit["page_end"]) == ("kommun/parkering/policy", 3, None)


def test_ask_prints_the_page(built, settings) -> None:
    _, index_dir, _ = built
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "ask", QUESTIONS[0][0], "-k", "1",
                           "--index", str(index_dir)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1",
                               "QA_CACHE_DIR": str(settings.embed.cache_dir)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "s. 2" in proc.stdout and "Avgifter och zoner" in proc.stdout


def test_strict_and_nothing_to_index_fail_without_touching_the_index(built, tmp_path,
                                                                     settings) -> None:
    folder, index_dir, _ = built
    before = (index_dir / "CURRENT").read_text()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_CACHE_DIR": str(settings.embed.cache_dir)}
    strict = subprocess.run([sys.executable, "-m", "qa.cli", "build", "--strict", "--source",
                             str(folder), "--index", str(index_dir)], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=300)
    assert strict.returncode == 1
    assert "--strict" in strict.stderr and "hemlig.pdf: encrypted" in strict.stdout
    bad_only = tmp_path / "bad"
    bad_only.mkdir()
    shutil.copy(folder / "trasig.pdf", bad_only)
    (bad_only / "tom.txt").write_bytes(b"")
    none = subprocess.run([sys.executable, "-m", "qa.cli", "build", "--source", str(bad_only),
                           "--index", str(index_dir)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert none.returncode == 1 and "nothing to index" in none.stderr
    assert "trasig.pdf: corrupt" in none.stdout and "tom.txt: empty" in none.stdout
    assert "Traceback" not in strict.stderr + none.stderr
    assert (index_dir / "CURRENT").read_text() == before
