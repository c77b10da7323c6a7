"""Request and response bodies of the HTTP API (they are also the OpenAPI docs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from qa.settings import SearchMode


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="The question, in Swedish. Not blank; length limit in /health.",
                          examples=["Vad är tillitsbaserad styrning?"])
    k: StrictInt = Field(5, ge=1, le=50, description="How many passages to return (1-50).")
    mode: SearchMode | None = Field(
        None, description="Ranking: hybrid (default), dense (vectors only) or lexical (BM25 only)."
    )


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
    took_ms: float
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
