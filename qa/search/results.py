"""What a search returns, and its one JSON form.

``result_json`` is the body of ``POST /api/search`` and the output of
``qa ask --json``, so a program reading either gets the same fields; the API
documents that shape as ``api.schemas.SearchResponse``. The dicts are built by
hand rather than through pydantic because the API encodes them on every
request and the service's own cost should stay small next to the embedding's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qa.ingest.passages import Passage
from qa.search.abstention import Signals
from qa.search.conversation import Reading
from qa.search.filters import Filters


@dataclass
class Hit:
    """One ranked passage: its scores, its citation (the passage) and highlight spans."""

    rank: int
    score: float  # the mode's ranking score; not comparable across modes
    similarity: float  # cosine of question and passage (mixed with its best sentence)
    relevance: float  # similarity mapped to 0-1 for display
    passage: Passage
    highlights: list[tuple[int, int]] = field(default_factory=list)  # document spans [start, end)
    # The section the first highlight lies in, where it is not the passage's own (a passage
    # that holds several sections, as a short document kept whole does); None: the passage's.
    section: str | None = None

    @property
    def cited_section(self) -> str | None:
        """The section a citation names: the answer's, else the passage's."""
        return self.section or self.passage.section


@dataclass
class SearchResult:
    """The hits of one question, best first, with the mode used and the engine's timings."""

    question: str
    mode: str
    hits: list[Hit]
    took_ms: float
    no_good_match: bool  # the collection does not answer it (qa.search.abstention), or no hit
    timings: dict[str, float]
    filters: Filters | None = None  # what the search was restricted to, if anything
    generation: int | None = None  # the index generation that answered
    signals: Signals | None = None  # what the abstention decided on; None without hits
    unanswered: float = 1.0  # the abstention model's probability that nothing here answers
    reading: Reading | None = None  # how it was read in its conversation; None: no history


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit as JSON: scores, citation (document, title, section, date, span, pages), text,
    highlights."""
    p = hit.passage
    return {
        "rank": hit.rank, "score": hit.score, "similarity": hit.similarity,
        "relevance": hit.relevance, "passage_id": p.id, "document_id": p.document_id,
        "title": p.title, "section": hit.cited_section, "date": p.date, "text": p.text,
        "start": p.start, "end": p.end, "page": p.page, "page_end": p.page_end,
        "highlights": hit.highlights,
    }


def result_json(result: SearchResult) -> dict[str, Any]:
    """A search result as JSON: the question as searched, the mode, the filters (null when
    none were given), the time and the hits; with history, how the question was read
    (``read_as``, ``carried``, ``reason``), which a search without history does not carry."""
    body: dict[str, Any] = {
        "question": result.question,
        "mode": result.mode,
        "filters": None if result.filters is None else result.filters.to_json(),
        "took_ms": round(result.took_ms, 2),
        "generation": result.generation,
        "no_good_match": result.no_good_match,
        "results": [hit_json(h) for h in result.hits],
    }
    if result.reading is not None:
        body.update(result.reading.to_json())
    return body
