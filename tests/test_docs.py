"""The documentation: generated references cover the code, the README stays short, links hold.

The configuration and HTTP API references are generated when the site is built
(``docs/hooks/reference.py``), so they cannot go stale; these tests check that what is generated
covers every setting (flat fields and nested groups alike) and every operation, and that the
site builds offline with ``--strict`` (every link and anchor resolves, no page loads anything
from another site). No model is loaded.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Literal

import pytest
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook", ROOT / "docs/hooks/reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env_names(model: type[BaseModel], hook: ModuleType) -> set[str]:
    return {env for _path, _name, env, _field in hook.iter_settings(model)}


def test_every_setting_is_in_the_configuration_reference(hook):
    page = hook.settings_reference(Settings)
    names = _env_names(Settings, hook)
    assert len(names) >= 40
    for env in names:
        assert env.startswith("QA_")
        assert f"| `{env}` |" in page, f"{env} is missing from the configuration reference"


def test_the_reference_shows_types_defaults_limits_and_descriptions(hook):
    page = hook.settings_reference(Settings)
    row = next(line for line in page.splitlines() if line.startswith("| `QA_PASSAGE_MAX_TOKENS` |"))
    assert "`int`" in row and "`200`" in row and "≥ 16" in row and "≤ 512" in row
    row = next(line for line in page.splitlines() if line.startswith("| `QA_DEFAULT_MODE` |"))
    assert "'hybrid' \\| 'dense' \\| 'lexical'" in row
    row = next(line for line in page.splitlines() if line.startswith("| `QA_CACHE_DIR` |"))
    assert "`~/.cache/svensk-qa`" in row  # not this machine's home directory


class _Search(BaseSettings):
    """Ranking: how a question's candidates are scored."""

    model_config = SettingsConfigDict(env_prefix="QA_")
    passage_weight: float = Field(0.7, ge=0, le=1, description="Share of the passage cosine.")
    mode: Literal["hybrid", "dense"] = Field("hybrid", description="Default ranking.")


class _Limits(BaseModel):
    max_body_kb: int = Field(1024, gt=0, description="Largest body.")


class _Grouped(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_nested_delimiter="__")
    index_dir: Path = Field(Path("var/index"), description="Default index directory.")
    search: _Search = Field(default_factory=_Search)
    limits: _Limits = Field(default_factory=_Limits)


def test_nested_groups_get_a_section_each_with_the_names_pydantic_settings_reads(hook, monkeypatch):
    page = hook.settings_reference(_Grouped)
    assert "### search" in page and "### limits" in page
    assert "Ranking: how a question's candidates are scored." in page
    search = page.split("### search", 1)[1].split("###", 1)[0]
    assert "| `QA_PASSAGE_WEIGHT` | `float` | `0.7` | Share of the passage cosine. (≥ 0, ≤ 1) |" in search
    assert "| `QA_INDEX_DIR` |" in page.split("### search", 1)[0]
    assert _env_names(_Grouped, hook) == {"QA_INDEX_DIR", "QA_PASSAGE_WEIGHT", "QA_MODE",
                                          "QA_LIMITS__MAX_BODY_KB"}
    # The names are the ones that work.
    monkeypatch.setenv("QA_PASSAGE_WEIGHT", "0.5")
    monkeypatch.setenv("QA_LIMITS__MAX_BODY_KB", "7")
    grouped = _Grouped()
    assert grouped.search.passage_weight == 0.5 and grouped.limits.max_body_kb == 7


def test_every_operation_is_in_the_api_reference(hook):
    doc = hook.openapi_document()
    page = hook.openapi_reference(doc)
    operations = [(m.upper(), p) for p, item in doc["paths"].items() for m in item]
    assert ("POST", "/api/search") in operations and ("DELETE", "/api/documents/{doc_id}") in operations
    for method, path in operations:
        assert f"### `{method} {path}`" in page
    for name in doc["components"]["schemas"]:
        assert f"### {name}\n" in page
    # The writes say they need a token, and the question's limit comes from the settings.
    delete = page.split("### `DELETE /api/documents/{doc_id}`", 1)[1].split("### ", 1)[0]
    assert "Needs a bearer token" in delete
    request = page.split("### SearchRequest\n", 1)[1].split("### ", 1)[0]
    assert f"length ≤ `{Settings().limits.max_question_chars}`" in request


def test_the_readme_is_short_and_keeps_the_attribution():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    assert "SweFAQ" in readme and "CC BY 4.0" in readme and "Språkbanken Text" in readme
    for command in ("make serve", "make test", "make check", "make docs"):
        assert command in readme
    # Every link into the docs points at a page that exists.
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target


def test_every_design_record_is_dated_listed_and_in_the_nav():
    design = ROOT / "docs" / "design"
    index = (design / "index.md").read_text(encoding="utf-8")
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    records = sorted(p.name for p in design.glob("*.md") if p.name != "index.md")
    assert records
    for name in records:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.md", name), name
        assert f"]({name})" in index, f"{name} is not listed in docs/design/index.md"
        assert f"design/{name}" in nav, f"{name} is not in the nav of mkdocs.yml"


def test_no_test_imports_bench():
    pattern = re.compile(r"^\s*(from|import)\s+bench\b", re.MULTILINE)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.slow
def test_the_site_builds_strict_and_offline(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        html = page.read_text(encoding="utf-8")
        external = re.findall(r"<(?:script|link|img)[^>]+(?:src|href)=\"(https?://[^\"]+)", html)
        assert external == [], f"{page.relative_to(site)} loads {external}"
    generated = (site / "configuration.html").read_text(encoding="utf-8")
    assert "QA_MAX_FILE_MB" in generated and "<!-- settings-reference -->" not in generated
    assert "/api/search" in (site / "api-reference.html").read_text(encoding="utf-8")
    assert (site / "search" / "search_index.js").is_file()  # search works from file://
    assert (site / "bench" / "results" / "SUMMARY.html").is_file()
