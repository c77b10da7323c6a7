"""One error model: each user-facing error class carries its HTTP status, one handler maps them.

Every ``QAError`` class is raised from a route of a real FastAPI app with the project's handlers
and answered over Starlette's test client: the status is the class's, the body is the message,
and only the temporary conditions (503, and 429 for a client past its rate) tell the client when
to retry. A permanent error (a broken index, a model that cannot load) must not, or clients
retry for ever.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import qa.errors
from api.errors import add_error_handlers
from qa.errors import QAError

ROOT = Path(__file__).resolve().parents[2]
CLASSES = [c for c in vars(qa.errors).values()
           if isinstance(c, type) and issubclass(c, QAError) and c is not QAError]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    add_error_handlers(app)

    @app.get("/raise/{name}")
    def _raise(name: str) -> None:
        raise getattr(qa.errors, name)(f"{name} happened")

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_each_error_is_answered_with_its_own_status(client, cls):
    res = client.get(f"/raise/{cls.__name__}")
    assert res.status_code == cls.status
    assert res.json() == {"detail": f"{cls.__name__} happened"}
    if cls.status in (503, 429):  # temporary: the service, or this client's rate
        assert int(res.headers["retry-after"]) == cls.retry_after > 0
    else:
        assert "retry-after" not in res.headers, "only a temporary condition asks for a retry"


def test_permanent_and_request_errors_are_not_retried():
    statuses = {c.__name__: (c.status, c.retry_after) for c in CLASSES}
    assert statuses["IndexLoadError"] == (500, None)
    assert statuses["ModelError"] == (500, None)
    assert statuses["QuestionError"] == (422, None)
    assert statuses["UnknownDocumentError"] == (404, None)
    assert statuses["IndexBusyError"][0] == 503


def test_every_user_facing_error_class_is_defined_in_qa_errors():
    names = {c.__name__ for c in CLASSES} | {"QAError"}
    elsewhere = []
    for path in [*ROOT.joinpath("qa").rglob("*.py"), *ROOT.joinpath("api").rglob("*.py")]:
        if path == ROOT / "qa" / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id in names for b in node.bases):
                elsewhere.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert elsewhere == [], elsewhere
