"""``filters`` in ``POST /api/search`` over a real socket (uvicorn), on the real seeds index."""

from __future__ import annotations

import httpx
import pytest

A = "003_c2aea3d9b67761fb"
B = "004_61a7695175b3d7f3"
COUNTING = "Hur många länsstyrelser finns det?"


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c


def search(http, **body):
    return http.post("/api/search", json={"question": COUNTING, **body})


def test_filtered_search_returns_k_hits_of_the_filtered_document_and_echoes_the_filters(http):
    assert search(http, k=1).json()["results"][0]["document_id"] == A
    r = search(http, k=5, filters={"document_ids": [B, B]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [h["document_id"] for h in body["results"]] == [B] * 5
    assert body["filters"] == {"document_ids": [B], "date_from": None, "date_to": None,
                               "formats": None, "metadata": None}
    assert search(http, k=1).json()["filters"] is None


def test_every_part_together(http):
    body = search(http, k=3, mode="dense", filters={
        "document_ids": [A, B], "date_from": "2015-01-01", "date_to": "2015-12-31",
        "formats": ["txt", "pdf"], "metadata": {"encoding": "utf-8"}}).json()
    assert [h["document_id"] for h in body["results"]] == [A] * 3
    assert body["filters"]["metadata"] == {"encoding": "utf-8"}


def test_a_filter_nothing_matches_is_an_empty_answer_not_an_error(http):
    for filters in ({"document_ids": ["finns-inte"]}, {"formats": ["odt"]},
                    {"date_from": "1990-01-01", "date_to": "1990-12-31"}):
        r = search(http, filters=filters)
        assert r.status_code == 200, r.text
        assert r.json()["results"] == [] and r.json()["no_good_match"] is True


def test_the_answer_matches_the_documented_schema(http):
    from api.schemas import SITUATIONAL_FIELDS, SearchResponse

    body = search(http, k=2, filters={"formats": ["txt"], "metadata": {"source": f"{A}.txt"}}).json()
    assert not SITUATIONAL_FIELDS & set(body)  # no history, no question log
    parsed = SearchResponse.model_validate(body)
    assert parsed.model_dump(mode="json", exclude=SITUATIONAL_FIELDS) == body


BAD_FILTERS = [
    ({"filter": {"formats": ["pdf"]}}, "unknown field 'filter'"),
    ({"filters": {"document": ["a"]}}, "unknown field 'filters.document'"),
    ({"filters": {"formats": ["pdf"], "extra": 1}}, "unknown field 'filters.extra'"),
    ({"filters": {"date_from": "2015-13-01"}}, "date_from '2015-13-01' is not a valid date"),
    ({"filters": {"date_from": "01/02/2015"}}, "is not a date of the form YYYY-MM-DD"),
    ({"filters": {"date_to": 2015}}, "'filters.date_to'"),
    ({"filters": {"date_from": "2016-01-01", "date_to": "2015-01-01"}},
     "date_from 2016-01-01 is after date_to 2015-01-01"),
    ({"filters": {"document_ids": []}}, "document_ids must not be an empty list"),
    ({"filters": {"formats": []}}, "formats must not be an empty list"),
    ({"filters": {"formats": ["doc"]}}, "'filters.formats.0': Input should be 'pdf', 'docx'"),
    ({"filters": {"formats": "pdf"}}, "'filters.formats'"),
    ({"filters": {"metadata": {}}}, "metadata must name at least one field"),
    ({"filters": {"document_ids": ["a"] * 1001}}, "'filters.document_ids'"),
    ({"filters": {"metadata": {"a": {"b": 1}}}}, "metadata 'a': the value must be a string"),
    ({"filters": {"document_ids": [7]}}, "'filters.document_ids.0'"),
    ({"filters": {"document_ids": [""]}}, "a document id must not be empty"),
    ({"filters": ["pdf"]}, "'filters'"),
]


@pytest.mark.parametrize(("body", "message"), BAD_FILTERS)
def test_bad_filters_are_a_422_with_a_clear_message(http, body, message):
    r = http.post("/api/search", json={"question": COUNTING, **body})
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"]


def test_openapi_documents_the_filters(http):
    spec = http.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["SearchFilters"]
    assert set(schema["properties"]) == {"document_ids", "date_from", "date_to", "formats",
                                         "metadata"}
    assert schema["additionalProperties"] is False
    assert all(p.get("description") for p in schema["properties"].values())
    assert schema["properties"]["document_ids"]["minItems"] == 1
    assert schema["properties"]["date_from"]["anyOf"][0]["format"] == "date"
    formats = schema["properties"]["formats"]["anyOf"][0]["items"]["enum"]
    assert formats == ["pdf", "docx", "odt", "html", "md", "txt", "epub", "pptx", "xlsx", "ods",
                       "rtf", "eml", "jsonl"]
