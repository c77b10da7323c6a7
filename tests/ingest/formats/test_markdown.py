"""Markdown: structure as blocks, no markup left, front matter as metadata."""

from __future__ import annotations

from qa.ingest.formats import convert
from tests.ingest.formats.checks import blocks_of
from tests.ingest.make_files import make_markdown, make_text

BLOCKS = [
    ("h1", "Sophämtning i Exempelkommunen"),
    ("p", "Hämtningen sker varannan vecka från april till oktober."),
    ("h2", "Avgifter och zoner"),
    ("li", "Kärl om 140 liter kostar 1 200 kronor per år."),
    ("li", "Kärl om 190 liter kostar 1 650 kronor per år."),
    ("row", "Zon | Pris"),
    ("row", "Tätort | 20 kr"),
    ("h3", "Överklagande"),
    ("p", "Beslutet kan överklagas inom tre veckor."),
]


def test_structure_round_trips(tmp_path):
    converted = convert(make_markdown(tmp_path / "avfall.md", BLOCKS))
    assert converted.format == "md"
    assert blocks_of(converted) == [
        ("heading", 1, "Sophämtning i Exempelkommunen"),
        ("paragraph", 0, "Hämtningen sker varannan vecka från april till oktober."),
        ("heading", 2, "Avgifter och zoner"),
        ("list_item", 1, "Kärl om 140 liter kostar 1 200 kronor per år."),
        ("list_item", 1, "Kärl om 190 liter kostar 1 650 kronor per år."),
        ("table_row", 0, "Zon | Pris"),
        ("table_row", 0, "Tätort | 20 kr"),
        ("heading", 3, "Överklagande"),
        ("paragraph", 0, "Beslutet kan överklagas inom tre veckor."),
    ]
    assert "#" not in converted.text and "|---" not in converted.text


SOURCE = """---
title: "Avfall & återvinning"
date: 2024-03-05
tags: [avfall]
---
# Sophämtning i **Exempelkommunen**

Hämtningen sker *varannan* vecka. Se [taxan](https://example.se/taxa) och
![karta över zonerna](karta.png).<br>
Ring __kundtjänst__ på `0123-456`.

1. Första punkten
   - underpunkt med **fetstil**
2. Andra punkten

```
avgift = 1200
```

> Citat från nämnden.

<div class="note">En <b>notis</b></div>

---

Sista stycket efter en linje.
"""


def test_inline_markup_is_removed_and_front_matter_is_metadata(tmp_path):
    converted = convert(make_text(tmp_path / "sida.md", SOURCE, "utf-8"))
    assert (converted.title, converted.date) == ("Avfall & återvinning", "2024-03-05")
    assert blocks_of(converted) == [
        ("heading", 1, "Sophämtning i Exempelkommunen"),
        ("paragraph", 0, "Hämtningen sker varannan vecka. Se taxan och karta över zonerna. "
                         "Ring kundtjänst på 0123-456."),
        ("list_item", 1, "Första punkten"),
        ("list_item", 2, "underpunkt med fetstil"),
        ("list_item", 1, "Andra punkten"),
        ("preformatted", 0, "avgift = 1200"),
        ("paragraph", 0, "Citat från nämnden."),
        ("paragraph", 0, "En notis"),
        ("paragraph", 0, "Sista stycket efter en linje."),
    ]
    for marker in ("*", "#", "[", "](", "<", "`", "title:", "tags"):
        assert marker not in converted.text


def test_a_leading_rule_that_is_not_front_matter_stays_text(tmp_path):
    source = "---\nDetta är ingen metadata, bara text.\n\n---\nMer text.\n"
    converted = convert(make_text(tmp_path / "linje.md", source, "utf-8"))
    assert converted.title is None
    assert "Detta är ingen metadata, bara text." in converted.text


def test_latin1_markdown(tmp_path):
    converted = convert(make_text(tmp_path / "gammal.md", "# Äldreomsorg\n\nHemtjänst på ön.\n", "latin-1"))
    assert blocks_of(converted) == [("heading", 1, "Äldreomsorg"), ("paragraph", 0, "Hemtjänst på ön.")]
    assert converted.metadata["encoding"] == "cp1252"
