"""Example questions for the page's empty state, each one checked against the served index.

Configured questions (``QA_EXAMPLES_FILE``, one a line) are kept when the index answers them
well; without them, questions are drawn from the index itself: headings that are questions
(FAQ pages, "Vem kan få färdtjänst?"), then "Vad handlar … om?" for short document titles,
each kept only when its own document answers it best and clearly. So the page never offers a
question that the collection served cannot answer, whatever the collection.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

from qa.search.engine import SearchEngine

logger = logging.getLogger(__name__)

_MAX_WORDS = 15
_TITLE_WORDS = 8
_TRIES = 40  # searches at most, so that a large index does not make the page wait


def example_questions(engine: SearchEngine, configured: Path | None, limit: int = 4) -> list[str]:
    """Up to ``limit`` questions the index answers well (see the module docstring)."""
    found: list[str] = []
    for n, (question, document) in enumerate(_candidates(engine, configured)):
        if n >= _TRIES or len(found) >= limit:
            break
        result = engine.search(question, 1, highlights=False)
        if result.no_good_match or not result.hits:
            continue
        if document is not None and result.hits[0].passage.document_id != document:
            continue
        if question not in found:
            found.append(question)
    return found


def _candidates(engine: SearchEngine, configured: Path | None) -> Iterator[tuple[str, str | None]]:
    if configured is not None:
        try:
            lines = configured.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            logger.warning("example questions: cannot read %s (%s)", configured, exc)
            lines = []
        yield from ((line.strip(), None) for line in lines if line.strip())
        return
    summaries = engine.documents()
    per_document = [[(title, summary.id) for title in _question_headings(engine, summary.id)]
                    for summary in summaries]
    yield from (q for q in itertools.chain(*itertools.zip_longest(*per_document)) if q)
    for summary in summaries:  # round-robin above: examples from several documents first
        title = summary.title.strip().rstrip(".:")
        words = title.split()
        if not 1 <= len(words) <= _TITLE_WORDS or words[0].lower() in ("om", "vad", "hur"):
            continue  # "Vad handlar Om kollektivtrafiken om?" reads oddly
        yield f"Vad handlar {title} om?", summary.id


def _question_headings(engine: SearchEngine, doc_id: str) -> list[str]:
    titles = [" ".join((s.title or "").split()) for s in engine.document(doc_id).sections]
    return [t.replace(" ?", "?") for t in titles
            if t.endswith("?") and 3 <= len(t.split()) <= _MAX_WORDS]
