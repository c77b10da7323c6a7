"""``access.toml`` read into a collection's tokens (``qa.search.collection_access``): only a
file that names a token is accepted, so that no broken or half-written file opens a collection."""

from __future__ import annotations

import re

import pytest

from qa.search.collection_access import Access, AccessFileError, read_access


def test_no_file_is_open_reading(tmp_path):
    assert read_access(tmp_path) == Access()


@pytest.mark.parametrize(("text", "expected"), [
    ('read_token = " las "\n', Access(read_token="las")),
    ('admin_token = "adm"\n', Access(admin_token="adm")),
    ('read_token = "las"\nadmin_token = "adm"\n', Access("las", "adm")),
])
def test_tokens_are_read(tmp_path, text, expected):
    (tmp_path / "access.toml").write_text(text, encoding="utf-8")
    assert read_access(tmp_path) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("", "sets neither read_token nor admin_token"),  # an editor's file between truncate and write
    ("# bara en kommentar\n", "sets neither read_token nor admin_token"),
    ('read-token = "las"\n', "unknown key(s) read-token"),
    ('read_token = ""\n', "read_token must be a non-empty string"),
    ('read_token = "la', "not a TOML file"),
])
def test_a_file_that_names_no_valid_token_is_an_error(tmp_path, text, why):
    (tmp_path / "access.toml").write_text(text, encoding="utf-8")
    with pytest.raises(AccessFileError, match=re.escape(why)):
        read_access(tmp_path)
