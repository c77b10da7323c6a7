"""Request and response bodies of the HTTP API (they are also the OpenAPI docs).

The schema says what the service takes: every constraint the service checks is in it (lengths,
ranges, patterns, enums), so that a client generated from ``/openapi.json`` sends requests
that are answered. Two rules JSON Schema cannot state are in the descriptions: ``date_from``
not after ``date_to``, and a PUT body's ``id`` (if any) equal to the path's. Limits that are
settings (the question's length) are filled in from the served settings by ``api.openapi``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from qa.errors import FilterError
from qa.search.filters import DocumentFormat, Filters
from qa.settings import SearchMode

#: Characters a question may consist of without saying anything: Python's whitespace
#: (``str.isspace``) and the control characters ``clean_question`` blanks out. A question must
#: hold at least one other character. Written for both JSON Schema (ECMA-262) and Python.
QUESTION_PATTERN = r"[^\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
#: Same for a document's text, which must not be whitespace only (``str.strip``).
TEXT_PATTERN = r"[^\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
#: A document id (``qa.ingest.documents.is_valid_id``): '/'-separated segments of letters,
#: digits, '.', '_' and '-', none of them '.' or '..'; at most 200 characters.
#: Python's ``\w`` is Unicode letters and numbers and '_'; JSON Schema's (ECMA-262's) is ASCII,
#: so the pattern names the Unicode classes.
_SEGMENT = r"(?:\.*[\p{L}\p{N}_-][\p{L}\p{N}_.-]*|\.{3,})"
ID_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*$"
ID_MAX_LENGTH = 200

_Day = Annotated[StrictStr, WithJsonSchema({"type": "string", "format": "date",
                                            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                            "examples": ["2015-06-01"]})]
_MetadataValue = Annotated[Any, WithJsonSchema({"type": ["string", "number", "boolean"]})]


def _whole_number(value: Any) -> Any:
    """27.0 as 27: JSON Schema counts a number without a fraction an integer."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


_WholeNumber = Annotated[StrictInt, BeforeValidator(_whole_number)]


class SearchFilters(BaseModel):
    """Which passages may answer; every part optional, the parts AND-ed (see ``qa.search.filters``).

    Applied inside ranking: a search returns ``k`` matching passages whenever that many match.
    """

    model_config = ConfigDict(extra="forbid")

    document_ids: list[Annotated[StrictStr, Field(json_schema_extra={"minLength": 1})]] | None = Field(
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
        "day (inclusive). Not before date_from: a period that ends before it starts is a 422.")
    formats: list[DocumentFormat] | None = Field(
        None, json_schema_extra={"minItems": 1},
        description="Only passages of documents read from these formats.",
        examples=[["pdf", "docx"]])
    metadata: dict[str, _MetadataValue] | None = Field(
        None, json_schema_extra={"minProperties": 1, "propertyNames": {"minLength": 1}},
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


#: Earlier questions a search may carry (``SearchRequest.history``).
MAX_HISTORY = 10


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "Vad är tillitsbaserad styrning?", "k": 3},
        {"question": "Vilket parti tillhör han?",
         "history": ["Vem är ordförande för regionstyrelsen i Region Kronoberg?"]},
        {"question": "Hur många länsstyrelser finns det?", "k": 5, "mode": "hybrid",
         "filters": {"date_from": "2015-01-01", "formats": ["txt", "pdf"]}},
    ]})

    # Blank and length are checked by ``clean_question`` (one rule and message for the API and
    # ``qa ask``); the schema states them (``maxLength`` from the settings, see api.openapi).
    question: str = Field(..., description="The question, in Swedish: at least one character "
                          "that is not blank or a control character, at most "
                          "max_question_chars characters as sent (see /health).",
                          json_schema_extra={"minLength": 1, "pattern": QUESTION_PATTERN},
                          examples=["Vad är tillitsbaserad styrning?"])
    k: _WholeNumber = Field(5, ge=1, le=50, description="How many passages to return (1-50).")
    mode: SearchMode | None = Field(
        None, description="Ranking: hybrid (default), dense (vectors only) or lexical (BM25 only)."
    )
    filters: SearchFilters | None = Field(
        None, description="Search only passages that match these filters (inside ranking, not "
        "after it). An unknown field is a 422.")
    history: list[Annotated[StrictStr, Field(json_schema_extra={
        "minLength": 1, "pattern": QUESTION_PATTERN})]] | None = Field(
        None, max_length=MAX_HISTORY, description="The conversation's earlier questions, oldest "
        f"first (at most {MAX_HISTORY}, each bounded like 'question'). A follow-up ('Vilket "
        "parti tillhör han?', 'Och hur gör Motala?') is then read together with the question "
        "it follows; a self-contained question about something else is searched as without "
        "history. The answer says how it was read (read_as, carried, reason). Without "
        "history the search is exactly as before.",
        examples=[["Vem är ordförande för regionstyrelsen i Region Kronoberg?"]])


class SearchHit(BaseModel):
    rank: int
    score: float = Field(..., description="Ranking score of the mode (not comparable across modes).")
    similarity: float = Field(..., description="Cosine similarity of question and passage.")
    relevance: float = Field(
        ..., description="Similarity mapped to 0-1 for display (0 below the relevance floor); "
        "never higher than that of a better-ranked hit.")
    passage_id: str
    document_id: str
    title: str
    section: str | None
    date: str | None
    text: str = Field(..., description="The passage: exactly the document's text[start:end], "
                      "line breaks included, so a highlight [a, b) (document offsets) is "
                      "text[a - start:b - start]. Collapse whitespace for display if wanted.")
    start: int = Field(..., description="Start offset (characters) in the document's original text.")
    end: int = Field(..., description="End offset (exclusive).")
    page: int | None = Field(None, description="Page the passage starts on (documents with pages, "
                             "such as PDF), numbered as a PDF viewer shows them.")
    page_end: int | None = Field(None, description="Last page, when the passage runs over a page "
                                 "break; else null.")
    highlights: list[tuple[int, int]] = Field(
        ..., description="Document spans [a, b) of what answers, inside [start, end) (so "
        "text[a - start:b - start] is what is marked): one span over the "
        "answering sentences (a lead-in with its list, two sentences); empty for a hit below "
        "the relevance floor."
    )


class SearchResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "question": "Vad är tillitsbaserad styrning?", "mode": "hybrid", "filters": None,
        "took_ms": 11.9, "generation": 1, "no_good_match": False,
        "results": [{"rank": 1, "score": 0.898, "similarity": 0.875, "relevance": 0.75,
                     "passage_id": "004_61a7695175b3d7f3#3", "document_id": "004_61a7695175b3d7f3",
                     "title": "Att bygga utvecklingskapacitet",
                     "section": "Resan att bli en av Europas mest innovativa städer",
                     "date": "2024-02-16", "text": "Så här beskriver Palle tillitsbaserad styrning "
                     "på handens fem fingrar: …", "start": 1083, "end": 1332, "page": None,
                     "page_end": None, "highlights": [[1083, 1153]]}]}]})

    question: str
    mode: str
    filters: SearchFilters | None = Field(
        ..., description="The filters applied (every part, null when not given); null when the "
        "request gave none.")
    took_ms: float
    generation: int | None = Field(..., description="The index generation that answered (all of "
                                   "the answer comes from this one; see /health).")
    no_good_match: bool = Field(
        ..., description="True when the collection does not answer the question: the calibrated "
        "abstention model's decision (or no hit at all); the results are then only candidates.")
    results: list[SearchHit]
    read_as: str | None = Field(
        None, description="Only with history: the question as it was read, the carried earlier "
        "questions first ('question' itself when it was read alone).")
    carried: list[str] | None = Field(
        None, description="Only with history: the earlier questions read together with this "
        "one, oldest first; empty when it was read alone as a new topic.")
    reason: str | None = Field(
        None, description="Only with history: why it was read so, e.g. \"pronoun 'han'\", "
        "\"leading 'och'\", 'weak alone, strong with the earlier question' or 'new topic'.")


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "ok", "documents": 5, "passages": 73, "model": "intfloat/multilingual-e5-small",
        "query_path": "onnxruntime-fp32", "passage_path": "openvino-fp32",
        "sentence_path": "openvino-bf16", "vector_index": "flat",
        "built_at": "2025-06-02T10:41:07+00:00", "generation": 1, "max_question_chars": 1000,
        "max_request_mb": 100.0, "modes": ["hybrid", "dense", "lexical"],
        "default_mode": "hybrid"}]})

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
    format: str = Field(..., description="pdf, docx, odt, html, md, txt, epub, pptx, "
                        "xlsx, ods, rtf, eml or jsonl.")
    pages: int | None = Field(..., description="Number of pages (documents with pages).")


class DocumentList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"documents": [
        {"id": "004_61a7695175b3d7f3", "title": "Att bygga utvecklingskapacitet",
         "date": "2024-02-16", "chars": 3518, "passages": 11, "format": "txt", "pages": None},
        {"id": "kommun/bygglov/taxa", "title": "Taxa för bygglov", "date": "2024", "chars": 20417,
         "passages": 31, "format": "pdf", "pages": 6}]}]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "004_61a7695175b3d7f3", "title": "Att bygga utvecklingskapacitet",
        "date": "2024-02-16", "format": "txt",
        "text": "Region Örebro läns webbplats för regional utveckling\n\n…",
        "sections": [{"title": "Att bygga utvecklingskapacitet", "date": "2024-02-16",
                      "start": 95, "end": 396}],
        "blocks": [{"kind": "paragraph", "start": 0, "end": 52, "level": 0}],
        "pages": [],
        "original": {"filename": "004_61a7695175b3d7f3.txt",
                     "media_type": "text/plain; charset=utf-8", "size": 3527,
                     "url": "/api/documents/004_61a7695175b3d7f3/original"},
        "metadata": {"encoding": "utf-8"}}]})

    id: str
    title: str
    date: str | None
    format: str = Field(..., description="What it was read from: pdf, docx, odt, html, md, txt, "
                        "epub, pptx, xlsx, ods, rtf, eml or jsonl.")
    text: str = Field(..., description="The text every citation span indexes into.")
    sections: list[SectionOut]
    blocks: list[BlockOut] = Field(..., description="Headings, paragraphs, list items, table rows: "
                                   "spans of text in document order.")
    pages: list[PageOut] = Field(..., description="Page spans of documents that have pages.")
    original: OriginalOut | None = Field(..., description="The original file, if kept.")
    metadata: dict[str, object]


class ErrorOut(BaseModel):
    """Every error: one readable sentence, never a traceback."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"detail": "'question' must not be empty"}]})

    detail: str


class DocumentFields(BaseModel):
    """A document given as JSON to ``PUT /api/documents/{id}`` (the id is the path's)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={
        "examples": [{"text": "Simhallen har öppet 6-21 alla dagar.\n\nEntré: 60 kronor.",
                      "title": "Simhallen", "date": "2025-01-15", "metadata": {"kommun": "Exempelby"}}]})

    text: str = Field(..., description="The text, as it should be cited; not blank.",
                      json_schema_extra={"pattern": TEXT_PATTERN})
    title: str | None = Field(None, description="Default: from the text (its first heading), "
                              "else the id.")
    date: str | None = Field(None, description="ISO date (YYYY, YYYY-MM or YYYY-MM-DD); "
                             "default: from the text.")
    metadata: dict[str, str | int | float | bool | list[str]] | None = Field(
        None, description="Any fields to filter by (search filters, metadata).")
    # Taken when it is the path's id (a client may send the same body as to POST); not
    # documented, since any other value is a 422.
    id: SkipJsonSchema[str | None] = None


class DocumentIn(DocumentFields):
    """A document given as JSON to ``POST /api/documents``."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "simhallen", "text": "Simhallen har öppet 6-21 alla dagar.\n\nEntré: 60 kronor.",
         "title": "Simhallen", "date": "2025-01-15", "metadata": {"kommun": "Exempelby"}}]})

    id: str = Field(..., description="The document's id: '/'-separated folder names of letters, "
                    "digits, '.', '_' and '-' (kommun/bygglov/taxa).", max_length=ID_MAX_LENGTH,
                    json_schema_extra={"pattern": ID_PATTERN})


class DocumentChange(BaseModel):
    id: str | None = Field(..., description="The document's id (from the file name, the JSON or "
                           "the path).")
    file: str | None = Field(None, description="The uploaded file it came from.")
    status: Literal["added", "replaced", "unchanged", "skipped", "deleted"]
    reason: str | None = Field(None, description="Why a file was skipped.")


class ChangesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"documents": [
        {"id": "simhallen", "file": "simhallen.pdf", "status": "added", "reason": None},
        {"id": "tom", "file": "tom.txt", "status": "skipped", "reason": "empty: 0 bytes"}],
        "generation": 7}]})

    documents: list[DocumentChange]
    generation: int | None = Field(..., description="The index generation that holds the change "
                                   "(the one served before, when nothing changed).")


class Examples(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"questions": [
        "Vad är tillitsbaserad styrning?", "Hur många länsstyrelser finns det?"]}]})

    questions: list[str] = Field(..., description="Questions the served index answers well "
                                 "(each checked against it), for the page's empty state.")


class CollectionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "region", "documents": 5, "passages": 73,
        "model": "intfloat/multilingual-e5-small", "generation": 3,
        "built_at": "2026-12-06T10:41:07+00:00", "protected": True, "writable": False}]})

    name: str = Field(..., description="The collection's name: its API lives under "
                      "/api/collections/{name}/ and its page at /c/{name}.")
    documents: int
    passages: int
    model: str
    generation: int = Field(..., description="The published index generation being served.")
    built_at: str | None
    protected: bool = Field(..., description="Reading needs a token (its read or admin token).")
    writable: bool = Field(..., description="The request's token is the collection's admin "
                           "token: it may add and delete documents.")


class CollectionList(BaseModel):
    collections: list[CollectionOut] = Field(..., description="The collections the request may "
                                             "read (its token, or none for open ones), by name.")


class ServiceHealth(BaseModel):
    """``GET /health`` of a service of collections (each collection's own health is
    ``GET /api/collections/{name}/health``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "ok", "collections": True, "model": "intfloat/multilingual-e5-small",
        "query_path": "onnxruntime-fp32", "max_question_chars": 1000, "max_request_mb": 100.0,
        "modes": ["hybrid", "dense", "lexical"], "default_mode": "hybrid"}]})

    status: Literal["ok"]
    collections: Literal[True] = Field(..., description="The service serves collections: its "
                                       "API is under /api/collections/{name}/.")
    model: str
    query_path: str
    max_question_chars: int
    max_request_mb: float
    modes: list[str]
    default_mode: str


#: What each error status of the API means; ``error_responses`` documents them on a route.
ERROR_MEANINGS: dict[int, str] = {
    400: "The Host header names a host this service does not answer to (QA_ALLOWED_HOSTS).",
    401: "A token is needed and was not sent, or is wrong (Authorization: Bearer <token>).",
    403: "Writing over HTTP is off: the service runs without QA_ADMIN_TOKEN.",
    404: "No document with this id, or no collection with this name.",
    408: "The request body stalled, or did not arrive whole, within QA_BODY_TIMEOUT.",
    409: "The change would leave the index empty (deleting its only document).",
    413: "The request body is larger than QA_MAX_REQUEST_MB (document writes) or QA_MAX_BODY_KB "
         "(any other request).",
    415: "The body is neither multipart/form-data nor JSON.",
    422: "The request is malformed or breaks a rule of the schema; the detail says which.",
    503: "Busy: more requests under way than QA_MAX_ACTIVE_REQUESTS, or the index cannot take a "
         "change now (another build held it too long); retry after Retry-After seconds.",
}
ANY_ROUTE = (400, 408, 413, 503)  # answered by the middleware, before any route runs


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route for these error statuses: ``ErrorOut`` with its meaning."""
    return {s: {"model": ErrorOut, "description": ERROR_MEANINGS[s]} for s in statuses}
