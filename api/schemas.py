"""Request and response bodies of the HTTP API (they are also the OpenAPI docs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from qa.search.filters import DocumentFormat, FilterError, Filters
from qa.settings import SearchMode

_Day = Annotated[StrictStr, WithJsonSchema({"type": "string", "format": "date",
                                            "examples": ["2015-06-01"]})]
_MetadataValue = Annotated[Any, WithJsonSchema({"type": ["string", "number", "boolean"]})]


class SearchFilters(BaseModel):
    """Which passages may answer; every part optional, the parts AND-ed (see ``qa.search.filters``).

    Applied inside ranking: a search returns ``k`` matching passages whenever that many match.
    """

    model_config = ConfigDict(extra="forbid")

    document_ids: list[StrictStr] | None = Field(
        None, max_length=1000, json_schema_extra={"minItems": 1},
        description="Only passages of these documents (ids as in /api/documents). An id the "
        "index does not hold matches nothing.", examples=[["004_61a7695175b3d7f3"]])
    date_from: _Day | None = Field(
        None, description="YYYY-MM-DD: only passages whose date overlaps the period from this "
        "day on (inclusive). A passage's date is its section's, else its document's; a partial "
        "date stands for its whole year or month (\"2015\" overlaps 2015-06-01). A passage "
        "without a date does not match a date filter.")
    date_to: _Day | None = Field(
        None, description="YYYY-MM-DD: only passages whose date overlaps the period up to this "
        "day (inclusive); not before date_from.")
    formats: list[DocumentFormat] | None = Field(
        None, json_schema_extra={"minItems": 1},
        description="Only passages of documents read from these formats.",
        examples=[["pdf", "docx"]])
    metadata: dict[str, _MetadataValue] | None = Field(
        None, json_schema_extra={"minProperties": 1},
        description="Only passages of documents whose metadata has each field with this value "
        "(a list value: containing it). Values are compared as text: 3 equals \"3\".",
        examples=[{"encoding": "utf-8"}])

    # Emptiness, dates and metadata values are checked by ``Filters.make`` (one set of rules
    # and messages for the API and ``qa ask``); the schema documents them.
    _filters: Filters = PrivateAttr()

    @model_validator(mode="after")
    def _checked(self) -> SearchFilters:
        try:
            self._filters = Filters.make(
                document_ids=self.document_ids, date_from=self.date_from, date_to=self.date_to,
                formats=self.formats, metadata=self.metadata)
        except FilterError as exc:
            raise PydanticCustomError("filters", str(exc)) from None
        return self

    def to_filters(self) -> Filters:
        """The checked filter, as the engine takes it."""
        return self._filters


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="The question, in Swedish. Not blank; length limit in /health.",
                          examples=["Vad är tillitsbaserad styrning?"])
    k: StrictInt = Field(5, ge=1, le=50, description="How many passages to return (1-50).")
    mode: SearchMode | None = Field(
        None, description="Ranking: hybrid (default), dense (vectors only) or lexical (BM25 only)."
    )
    filters: SearchFilters | None = Field(
        None, description="Search only passages that match these filters (inside ranking, not "
        "after it). An unknown field is a 422.")


class SearchHit(BaseModel):
    rank: int
    score: float = Field(..., description="Ranking score of the mode (not comparable across modes).")
    similarity: float = Field(..., description="Cosine similarity of question and passage.")
    relevance: float = Field(..., description="Similarity mapped to 0-1 for display.")
    passage_id: str
    document_id: str
    title: str
    section: str | None
    date: str | None
    text: str = Field(..., description="The passage: document text[start:end], whitespace collapsed.")
    start: int = Field(..., description="Start offset (characters) in the document's original text.")
    end: int = Field(..., description="End offset (exclusive).")
    page: int | None = Field(None, description="Page the passage starts on (documents with pages, "
                             "such as PDF), numbered as a PDF viewer shows them.")
    page_end: int | None = Field(None, description="Last page, when the passage runs over a page "
                                 "break; else null.")
    highlights: list[tuple[int, int]] = Field(
        ..., description="Document spans [start, end) of the sentences that best answer."
    )


class SearchResponse(BaseModel):
    question: str
    mode: str
    filters: SearchFilters | None = Field(
        ..., description="The filters applied (every part, null when not given); null when the "
        "request gave none.")
    took_ms: float
    generation: int | None = Field(..., description="The index generation that answered (all of "
                                   "the answer comes from this one; see /health).")
    no_good_match: bool = Field(..., description="True when even the best passage is a weak match.")
    results: list[SearchHit]


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    passages: int
    model: str
    query_path: str
    passage_path: str | None = None  # how the index's vectors were embedded (older indexes: unknown)
    sentence_path: str | None = None
    vector_index: str
    built_at: str | None
    generation: int = Field(..., description="The published index generation being served.")
    max_question_chars: int
    max_request_mb: float = Field(..., description="Largest write body (MiB) the service takes.")
    modes: list[str]
    default_mode: str


class DocumentSummary(BaseModel):
    id: str
    title: str
    date: str | None
    chars: int
    passages: int
    format: str = Field(..., description="pdf, docx, odt, html, md, txt or jsonl.")
    pages: int | None = Field(..., description="Number of pages (documents with pages).")


class DocumentList(BaseModel):
    documents: list[DocumentSummary]


class SectionOut(BaseModel):
    title: str | None
    date: str | None
    start: int
    end: int


class BlockOut(BaseModel):
    kind: Literal["heading", "paragraph", "list_item", "table_row", "preformatted"]
    start: int
    end: int
    level: int = Field(..., description="Heading level (1-6) or list depth (1 = top); else 0.")


class PageOut(BaseModel):
    number: int
    start: int
    end: int


class OriginalOut(BaseModel):
    filename: str = Field(..., description="The file's path as found in the folder that was read.")
    media_type: str
    size: int = Field(..., description="Bytes.")
    url: str = Field(..., description="Where to download it.")


class DocumentOut(BaseModel):
    id: str
    title: str
    date: str | None
    format: str = Field(..., description="What it was read from: pdf, docx, odt, html, md, txt or "
                        "jsonl.")
    text: str = Field(..., description="The text every citation span indexes into.")
    sections: list[SectionOut]
    blocks: list[BlockOut] = Field(..., description="Headings, paragraphs, list items, table rows: "
                                   "spans of text in document order.")
    pages: list[PageOut] = Field(..., description="Page spans of documents that have pages.")
    original: OriginalOut | None = Field(..., description="The original file, if kept.")
    metadata: dict[str, object]


class ErrorOut(BaseModel):
    detail: str


class DocumentIn(BaseModel):
    """A document given as JSON (``POST /api/documents``, ``PUT /api/documents/{id}``)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="Required for POST; PUT takes the id from the path.")
    text: str = Field(..., description="The text, as it should be cited.")
    title: str | None = None
    date: str | None = Field(None, description="ISO date (YYYY, YYYY-MM or YYYY-MM-DD).")
    metadata: dict[str, str | int | float | bool | list[str]] | None = Field(
        None, description="Any fields to filter by (search filters, metadata).")


class DocumentChange(BaseModel):
    id: str | None = Field(..., description="The document's id (from the file name, the JSON or "
                           "the path).")
    file: str | None = Field(None, description="The uploaded file it came from.")
    status: Literal["added", "replaced", "unchanged", "skipped", "deleted"]
    reason: str | None = Field(None, description="Why a file was skipped.")


class ChangesOut(BaseModel):
    documents: list[DocumentChange]
    generation: int | None = Field(..., description="The index generation that holds the change "
                                   "(the one served before, when nothing changed).")


class Examples(BaseModel):
    questions: list[str] = Field(..., description="Questions the served index answers well "
                                 "(each checked against it), for the page's empty state.")
