"""The engine's read API, the one JSON form of a search result, mode checks and the access log.

Real engine over the real seeds index (the session fixtures); the app is the real
one driven in-process.
"""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from qa.errors import QAError, UnknownDocumentError, UnknownModeError
from qa.search.modes import MODES, check_mode
from qa.search.results import hit_json, result_json


def test_health_describes_the_opened_index(engine):
    info = engine.health()
    assert info.documents == len(engine.documents()) == 5
    assert info.passages == len(engine.passages) == engine.manifest.passages
    assert info.model == engine.manifest.model
    assert info.passage_path == engine.manifest.passage_path
    assert info.vector_index == engine.manifest.vector_index == "flat"  # few passages: exact search
    assert (info.index_dir / "CURRENT").is_file() and info.generation >= 1


def test_documents_and_their_texts(engine):
    listed = engine.documents()
    assert sum(d.passages for d in listed) == len(engine.passages)
    for d in listed:
        doc = engine.document(d.id)
        assert doc.id == d.id and doc.title == d.title and len(doc.text) == d.chars
        assert engine.document_text(d.id) == doc.text == engine.document_texts()[d.id]
    with pytest.raises(UnknownDocumentError, match="no document with id 'finns-inte'"):
        engine.document("finns-inte")
    with pytest.raises(UnknownDocumentError):
        engine.document_text("finns-inte")
    with pytest.raises(TypeError):
        engine.document_texts()["x"] = "read-only"  # type: ignore[index]


def test_manifest_is_read_only(engine):
    with pytest.raises(ValidationError):
        engine.manifest.passages = -1
    assert engine.manifest.passages == engine.health().passages


def test_modes_are_checked_once_with_one_message(engine):
    assert [check_mode(m) for m in MODES] == list(MODES)
    with pytest.raises(UnknownModeError, match="unknown mode 'magic'; expected one of hybrid, dense, "
                       "lexical") as exc:
        check_mode("magic")
    assert isinstance(exc.value, QAError)
    with pytest.raises(UnknownModeError):
        engine.search("Vad är en region?", 3, "magic")


def test_result_json_has_exactly_the_documented_fields(engine):
    from api.schemas import SearchHit, SearchResponse

    result = engine.search("Hur många länsstyrelser finns det?", 3)
    body = result_json(result)
    # The conversation fields are only in an answer to a question asked with history.
    conversation = {"read_as", "carried", "reason"}
    assert set(body) == set(SearchResponse.model_fields) - conversation
    assert body["question"] == result.question and body["mode"] == result.mode
    assert [set(h) for h in body["results"]] == [set(SearchHit.model_fields)] * 3
    assert body["results"] == [hit_json(h) for h in result.hits]
    assert SearchResponse.model_validate(body).results[0].document_id == result.hits[0].passage.document_id


def test_access_log_follows_the_setting(engine, settings, caplog):
    from fastapi.testclient import TestClient

    from api.access import AccessLog
    from api.app import create_app

    def lines_logged(app) -> bool:
        (access,) = [m for m in app.user_middleware if m.cls is AccessLog]
        return bool(access.kwargs["log_lines"])

    assert lines_logged(create_app(engine, settings))
    assert not lines_logged(create_app(engine, settings.model_copy(update={"access_log": False})))
    access = logging.getLogger("api.access")
    access.addHandler(caplog.handler)  # also when the qa command made it stop propagating
    try:
        with TestClient(create_app(engine, settings, access_log=True)) as client, \
                caplog.at_level(logging.INFO, logger="api.access"):
            res = client.get("/api/documents/finns-inte")
            assert res.status_code == 404
    finally:
        access.removeHandler(caplog.handler)
    records = {r.getMessage() for r in caplog.records if r.name == "api.access"}
    (line,) = [json.loads(m) for m in records]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/documents/finns-inte", 404)
    assert line["ms"] >= 0 and line["request_id"] == res.headers["x-request-id"]
