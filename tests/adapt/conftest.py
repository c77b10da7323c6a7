"""A small collection shaped the way ``qa adapt`` mines it: an FAQ page with question headings,
sections with plain headings, a list with its lead-in; indexed with the hashed n-gram encoder
(no model), once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

FAQ = """# Vanliga frågor om biblioteket

## Hur får jag ett bibliotekskort?

Du får ett bibliotekskort i informationsdisken på huvudbiblioteket när du visar giltig
legitimation. Kortet är gratis för alla som bor eller arbetar i kommunen.

## Vad kostar det att låna om en bok?

Det kostar ingenting att låna om en bok. Du kan låna om upp till tre gånger via webben eller i
appen, så länge ingen annan har reserverat boken.

## Öppettider under sommaren

Under juni, juli och augusti har biblioteket kortare öppettider än resten av året.
Huvudbiblioteket har öppet vardagar mellan tio och sexton och är stängt på lördagar.

## E-böcker och ljudböcker

För att låna e-böcker och ljudböcker behöver du följande:

- ett giltigt bibliotekskort med en fyrsiffrig pinkod
- appen Biblio installerad på telefonen eller surfplattan
- en e-postadress som biblioteket kan skicka påminnelser till
"""

WASTE = """# Avfall och återvinning i kommunen

## Hämtning av hushållsavfall

Soptunnan töms varannan vecka under hela året. Matavfall sorteras i bruna papperspåsar som
kommunen delar ut gratis på biblioteken och i kommunhuset.

## Grovavfall och farligt avfall

Grovavfall lämnas på återvinningscentralen vid Norra industriområdet. Farligt avfall som
färgrester, batterier och lysrör tas emot kostnadsfritt vid miljöstationen varje lördag.
"""


@pytest.fixture(scope="session")
def adapt_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("adapt-corpus")
    (folder / "bibliotek.md").write_text(FAQ, encoding="utf-8")
    (folder / "avfall.md").write_text(WASTE, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def hashed_adapt_index(hashed_settings, hashed_embedder, adapt_corpus,
                       tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``adapt_corpus`` indexed with the hashed encoder (milliseconds)."""
    from qa.index.build import build_index
    from qa.ingest.sources import load_documents

    target = tmp_path_factory.mktemp("adapt-index") / "bibliotek"
    build_index(load_documents(adapt_corpus), hashed_embedder, hashed_settings.index, target,
                progress=False)
    return target
