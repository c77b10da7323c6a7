"""The HTTP API through a real client on the real app over a real seeds index."""

from __future__ import annotations

import pytest

QUESTION = "Vad är tillitsbaserad styrning?"


def test_health(client, engine, embedder):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["documents"] == 5 and body["passages"] == len(engine.passages)
    assert body["model"] == "intfloat/multilingual-e5-small"
    assert body["passage_path"] == embedder.runtime("passage") == "openvino-fp32"
    assert body["sentence_path"] == embedder.runtime("sentence")
    # The question path and why it was taken (the tests pin fp32, the reference: conftest).
    assert body["query_path"] == engine.questions.runtime == "onnxruntime-fp32"
    assert body["query_path_chosen_by"] == "QA_QUERY_PRECISION=fp32"
    assert body["modes"] == ["hybrid", "dense", "lexical"]


def test_search_returns_cited_passages(client):
    r = client.post("/api/search", json={"question": QUESTION, "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["question"] == QUESTION and body["mode"] == "hybrid" and body["took_ms"] > 0
    assert [h["rank"] for h in body["results"]] == [1, 2, 3]
    top = body["results"][0]
    assert top["document_id"] == "004_61a7695175b3d7f3"
    assert top["title"] == "Att bygga utvecklingskapacitet"
    assert "Helsingborg" in top["text"] or "Palle" in top["text"]
    scores = [h["score"] for h in body["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_result_cites_the_document_text_exactly(client, mode):
    body = client.post("/api/search", json={"question": "Hur många länsstyrelser finns det?",
                                            "k": 10, "mode": mode}).json()
    assert body["mode"] == mode and body["results"]
    texts: dict[str, str] = {}
    for h in body["results"]:
        if h["document_id"] not in texts:
            texts[h["document_id"]] = client.get(f"/api/documents/{h['document_id']}").json()["text"]
        doc = texts[h["document_id"]]
        assert doc[h["start"] : h["end"]] == h["text"]
        for a, b in h["highlights"]:
            assert h["start"] <= a < b <= h["end"]
            assert h["text"][a - h["start"] : b - h["start"]] == doc[a:b]
    for h in body["results"][:3]:
        assert h["highlights"], "top results carry at least one highlight"


def test_default_k_is_five(client):
    assert len(client.post("/api/search", json={"question": "Vad är NPM?"}).json()["results"]) == 5


def test_documents(client):
    docs = client.get("/api/documents").json()["documents"]
    assert len(docs) == 5
    assert {"id", "title", "date", "chars", "passages"} <= set(docs[0])
    one = client.get(f"/api/documents/{docs[0]['id']}").json()
    assert one["id"] == docs[0]["id"] and len(one["text"]) == docs[0]["chars"]
    assert one["sections"]
    missing = client.get("/api/documents/finns-inte")
    assert missing.status_code == 404 and "finns-inte" in missing.json()["detail"]


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/search" in spec["paths"]


BAD_BODIES = [
    ({"question": ""}, "empty"),
    ({"question": "   \n\t "}, "empty"),
    ({"question": "x" * 1001}, "too long"),
    ({"question": "Fråga", "k": 0}, "k"),
    ({"question": "Fråga", "k": 51}, "k"),
    ({"question": "Fråga", "k": "fem"}, "k"),
    ({"question": "Fråga", "k": 2.5}, "k"),
    ({"question": "Fråga", "k": None}, "k"),
    ({"question": "Fråga", "mode": "magic"}, "mode"),
    ({"question": 42}, "question"),
    ({"question": ["a"]}, "question"),
    ({"k": 3}, "question"),
    ({}, "question"),
    ({"question": "Fråga", "extra": 1}, "extra"),
    ([1, 2, 3], "body"),
    ("just a string", "body"),
]


@pytest.mark.parametrize(("body", "hint"), BAD_BODIES)
def test_bad_input_is_a_4xx_with_a_message(client, body, hint):
    r = client.post("/api/search", json=body)
    assert 400 <= r.status_code < 500, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and hint in detail


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b'{"question": "Hej", ', "application/json"),
        (b"\xff\xfe\xfa", "application/json"),
        (b"question=Hej", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b"null", "application/json"),
        (b'{"question": "\\ud800"}', "application/json"),
    ],
)
def test_malformed_bodies_never_5xx(client, content, ctype):
    r = client.post("/api/search", content=content, headers={"content-type": ctype})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]


def test_odd_but_valid_questions_are_answered(client):
    for q in ["???", "😀", "a", "x" * 1000, "SELECT * FROM passages; --", "<script>alert(1)</script>",
              "\u0000null", "Ｆｕｌｌ－ｗｉｄｔｈ ＳＶＥＲＩＧＥ"]:
        r = client.post("/api/search", json={"question": q, "k": 50})
        assert r.status_code == 200, (q, r.text)


def test_wrong_methods_and_paths(client):
    assert client.get("/api/search").status_code == 405
    assert client.get("/nope").status_code == 404


def test_search_body_matches_the_documented_schema(client):
    from api.schemas import SITUATIONAL_FIELDS, SearchResponse

    body = client.post("/api/search", json={"question": "Vem är Palle Lundberg?", "k": 3}).json()
    parsed = SearchResponse.model_validate(body)
    # No history, no question log: none of the fields that are there only when they apply.
    assert not SITUATIONAL_FIELDS & set(body)
    assert parsed.model_dump(mode="json", exclude=SITUATIONAL_FIELDS) == body
