"""``history`` in ``POST /api/search`` over a real socket (uvicorn), real model, seeds index.

A follow-up that means nothing alone is answered from the earlier question's topic, the
answer says how it was read, a self-contained question about something else is answered
exactly as without history, and a bad ``history`` is a 422 with a message.
"""

from __future__ import annotations

import httpx
import pytest

FIRST = "Vem är ordförande för regionstyrelsen i Region Kronoberg?"
PARTY = "Vilket parti tillhör han?"
CHAIR = "sa Mikael Johansson (M), regionstyrelsens ordförande."
COUNTIES = "Hur många länsstyrelser finns det i Sverige?"
TRUST_FIRST = "Vad innebär tillitsbaserad styrning enligt Palle Lundberg?"
STEPS = "Hur många steg har den?"


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as c:
        yield c


def search(http, question: str, **body) -> dict:
    r = http.post("/api/search", json={"question": question, "k": 5, **body})
    assert r.status_code == 200, r.text
    return r.json()


def first_text(body: dict) -> str:
    return body["results"][0]["text"] if body["results"] else ""


def test_a_pronoun_follow_up_is_answered_from_the_earlier_topic(http):
    alone = search(http, PARTY)
    assert CHAIR not in first_text(alone)  # alone, "han" could be anyone
    assert "read_as" not in alone and "carried" not in alone and "reason" not in alone
    read = search(http, PARTY, history=[FIRST])
    assert CHAIR in first_text(read)
    assert read["carried"] == [FIRST]
    assert read["read_as"] == f"{FIRST} {PARTY}"
    assert read["reason"] == "pronoun 'han'"
    assert read["question"] == PARTY  # the question as asked; read_as says how it was read


def test_a_follow_up_of_a_follow_up_carries_the_whole_chain(http):
    body = search(http, "Varför då?", history=[TRUST_FIRST, STEPS])
    assert body["carried"] == [TRUST_FIRST, STEPS]
    assert body["reason"] == "echo 'varför då'"


def test_a_new_topic_is_answered_exactly_as_without_history(http):
    alone = search(http, COUNTIES)
    with_history = search(http, COUNTIES, history=[FIRST, PARTY])
    assert with_history["carried"] == [] and with_history["reason"] == "new topic"
    assert with_history["read_as"] == COUNTIES
    for key in ("took_ms", "read_as", "carried", "reason"):
        alone.pop(key, None)
        with_history.pop(key, None)
    assert with_history == alone


def test_an_empty_history_reads_the_question_alone(http):
    body = search(http, PARTY, history=[])
    assert body["carried"] == [] and body["reason"] == "new topic"


def test_history_and_filters_together_search_only_the_filtered_passages(http):
    other = "004_61a7695175b3d7f3"
    body = search(http, PARTY, history=[FIRST], filters={"document_ids": [other]})
    assert body["carried"] == [FIRST]
    assert {h["document_id"] for h in body["results"]} == {other}


def test_the_answer_with_history_matches_the_documented_schema(http):
    from api.schemas import SearchResponse

    body = search(http, PARTY, history=[FIRST])
    assert SearchResponse.model_validate(body).model_dump(mode="json") == body


def test_the_schema_states_the_bounds_of_history(http):
    spec = http.get("/openapi.json").json()
    history = spec["components"]["schemas"]["SearchRequest"]["properties"]["history"]
    array = next(o for o in history["anyOf"] if o.get("type") == "array")
    assert array["maxItems"] == 10
    assert array["items"]["minLength"] == 1
    assert array["items"]["maxLength"] == http.get("/health").json()["max_question_chars"]


BAD_HISTORY = [
    ({"history": [FIRST] * 11}, "history"),
    ({"history": [""]}, "'history[0]' must not be empty"),
    ({"history": [FIRST, "   \t"]}, "'history[1]' must not be empty"),
    ({"history": ["x" * 5000]}, "'history[0]' is too long"),
    ({"history": [FIRST, 3]}, "history"),
    ({"history": FIRST}, "history"),
    ({"history": [FIRST], "context": "x"}, "unknown field 'context'"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_HISTORY)
def test_a_bad_history_is_a_422_with_a_message(http, extra, message):
    r = http.post("/api/search", json={"question": PARTY, **extra})
    assert r.status_code == 422, r.text
    assert message in r.text
