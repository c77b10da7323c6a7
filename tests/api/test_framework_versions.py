"""The framework versions the service was tested with, and the parts of them it extends.

``api/server.py`` subclasses uvicorn's HTTP/1.1 protocols (h11 and httptools) to put a deadline
on request heads; uvicorn has no public option for it. FastAPI, Starlette and uvicorn are pinned
to the minor versions tested (pyproject.toml). This test fails when the installed versions leave
those pins, or when an upgrade renames what the subclass relies on; the behaviour itself is
tested over real sockets in ``test_hostile_clients.py``.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

ROOT = Path(__file__).resolve().parents[2]
PINNED = ("fastapi", "starlette", "uvicorn")


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = (Requirement(line) for line in project["dependencies"])
    return {r.name: r for r in found}


@pytest.mark.parametrize("name", PINNED)
def test_the_installed_framework_is_the_pinned_minor_version(name):
    requirement = _requirements()[name]
    upper = [s for s in requirement.specifier if s.operator == "<"]
    assert upper, f"{name} must have an upper bound: api/ relies on its behaviour"
    installed = importlib.metadata.version(name)
    assert requirement.specifier.contains(installed), f"{name} {installed} is not {requirement}"


@pytest.mark.parametrize("protocol", [H11Protocol, HttpToolsProtocol], ids=lambda p: p.__name__)
def test_uvicorns_protocols_still_have_what_the_head_deadline_extends(protocol):
    for method in ("connection_made", "data_received", "connection_lost", "on_response_complete"):
        assert callable(getattr(protocol, method, None)), method
    source = inspect.getsource(protocol)
    for attribute in ("self.cycle", "self.loop", "self.transport", "response_complete"):
        assert attribute in source, f"{protocol.__name__} no longer has {attribute}"
