"""Plain text: every common encoding of Swedish text decodes to exactly the text written."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest.formats import convert
from tests.ingest.make_files import make_text

SEEDS = Path(__file__).resolve().parents[3] / "seeds"

SWEDISH = ("Åsa och Örjan köpte äpplen på torget i Västerås.\r\n"
           "Kommunen ansvarar för hushållsavfallet; avgiften gäller för ett år i taget.\r\n")
QUOTED = "Nämnden sa “det här är för dyrt” – avgiften blir 200 € för ett år. Även Åke höll med.\n"


@pytest.mark.parametrize(("encoding", "text"), [
    ("utf-8", SWEDISH),
    ("utf-8-sig", SWEDISH),
    ("latin-1", SWEDISH),
    ("cp1252", SWEDISH + QUOTED),
    ("iso8859-15", "Priset är 200 € för ett år i Göteborg.\n"),
    ("cp850", SWEDISH),
    ("mac_roman", SWEDISH + QUOTED),
    ("utf-16", SWEDISH + QUOTED),  # with a byte-order mark
    ("utf-16-le", SWEDISH + QUOTED),  # without one
    ("utf-16-be", SWEDISH),
    ("utf-32", SWEDISH),
])
def test_swedish_text_decodes_exactly(tmp_path, encoding, text):
    converted = convert(make_text(tmp_path / "brev.txt", text, encoding))
    assert converted.text == text  # line endings kept, nothing normalised
    assert converted.format == "txt" and converted.blocks == [] and converted.pages == []
    assert converted.metadata["encoding"]


def test_the_encoding_is_recorded(tmp_path):
    def encoding_of(text: str, encoding: str) -> str:
        return convert(make_text(tmp_path / f"{encoding}.txt", text, encoding)).metadata["encoding"]

    assert encoding_of(SWEDISH, "utf-8") == "utf-8"
    assert encoding_of(SWEDISH, "utf-8-sig") == "utf-8-sig"
    assert encoding_of(SWEDISH + QUOTED, "cp1252") == "cp1252"
    assert encoding_of(SWEDISH, "cp850") == "cp850"
    assert encoding_of(SWEDISH, "utf-16") == "utf-16"


def test_a_single_word_with_a_swedish_letter_is_not_misread(tmp_path):
    for encoding in ("latin-1", "cp850", "mac_roman"):
        assert convert(make_text(tmp_path / "ord.txt", "sjö\n", encoding)).text == "sjö\n"


def test_seed_files_read_exactly_as_before(tmp_path):
    """The seed corpus (UTF-8 .txt) must reach the pipeline byte for byte as it did."""
    seeds = sorted(SEEDS.glob("*.txt"))
    assert seeds
    for path in seeds:
        assert convert(path).text == path.read_bytes().decode("utf-8-sig"), path.name
