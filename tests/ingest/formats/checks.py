"""Checks shared by the format readers' tests: blocks as (kind, level, text), the Skip of a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.ingest.converted import Converted, Skip
from qa.ingest.formats import ReadOptions, convert


def skip_of(path: Path, options: ReadOptions | None = None) -> Skip:
    """The ``Skip`` that converting ``path`` raises (the test fails if it converts)."""
    with pytest.raises(Skip) as caught:
        convert(path, options or ReadOptions())
    return caught.value


def blocks_of(converted: Converted) -> list[tuple[str, int, str]]:
    """Every block as ``(kind, level, text)``; also checks the contract: blocks in order,
    separated by exactly one blank line, each without blank lines or surrounding spaces."""
    text = converted.text
    out = []
    previous_end = None
    for block in converted.blocks:
        body = text[block.start:block.end]
        assert body and body == body.strip() and "\n\n" not in body
        if previous_end is not None:
            assert text[previous_end:block.start] == "\n\n"
        previous_end = block.end
        out.append((block.kind, block.level, body))
    if converted.blocks:
        assert converted.blocks[0].start == 0 and converted.blocks[-1].end == len(text)
    return out
