"""``qa ask`` with filters, run as a user runs it (a real process on the real seeds index)."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import assert_clean_error, qa

A = "003_c2aea3d9b67761fb"
B = "004_61a7695175b3d7f3"
BLOG = "001_d3ecacca4b922300"
COUNTING = "Hur många länsstyrelser finns det?"


def test_ask_with_every_filter_option(seeds_index_dir):
    proc = qa("ask", COUNTING, "-k", "4", "--index", str(seeds_index_dir), "--json",
              "--document", B, "--document", BLOG, "--from", "2012-11-10", "--to", "2024-12-31",
              "--format", "txt", "--meta", "encoding=utf-8", "--meta", "source=" + f"{B}.txt")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert [h["document_id"] for h in body["results"]] == [B] * 4
    assert body["filters"] == {"document_ids": [B, BLOG], "date_from": "2012-11-10",
                               "date_to": "2024-12-31", "formats": ["txt"],
                               "metadata": {"encoding": "utf-8", "source": f"{B}.txt"}}


def test_ask_text_output_with_filters(seeds_index_dir):
    dated = qa("ask", COUNTING, "-k", "2", "--index", str(seeds_index_dir), "--from", "2012-11-01",
               "--to", "2012-11-30")
    assert dated.returncode == 0, dated.stderr
    assert dated.stdout.count("[001_d3ecacca4b922300 ") == 2 and "2012-11-" in dated.stdout
    nothing = qa("ask", COUNTING, "--index", str(seeds_index_dir), "--format", "pdf")
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.strip() == "(no passage matches the filters)"


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "2015-13-01"], "--from '2015-13-01' is not a valid date"),
    (["--to", "juni"], "--to 'juni' is not a date of the form YYYY-MM-DD"),
    (["--from", "2020-01-01", "--to", "2019-01-01"], "--from 2020-01-01 is after --to 2019-01-01"),
    (["--format", "doc"], "--format: unknown format 'doc'; expected one of pdf, docx, odt"),
    (["--meta", "encoding"], "--meta expects FIELD=VALUE, got 'encoding'"),
    (["--meta", "=utf-8"], "--meta expects FIELD=VALUE"),
    (["--meta", "a=1", "--meta", "a=2"], "--meta names the field 'a' twice"),
    (["--document", ""], "--document: a document id must not be empty"),
])
def test_bad_filter_options_are_one_error_line(seeds_index_dir, options, message):
    assert_clean_error(qa("ask", COUNTING, "--index", str(seeds_index_dir), *options), message)
