"""JSON Lines: one object per line, each bad line named by file and line number.

Corpora, test sets and benchmarks are all JSONL; they share this one reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.errors import CorpusError


def read_text(path: Path) -> str:
    """A UTF-8 file (a byte-order mark is dropped); anything else is a clear error."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc.strerror})") from None


def jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(``file:line``, object) for each non-blank line; a bad line is a clear ``CorpusError``."""
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    # JSON Lines are split on "\n" only: str.splitlines() would also cut at U+2028 and
    # other separators that JSON strings may hold raw.
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise CorpusError(f"{where}: expected a JSON object")
        yield where, record
