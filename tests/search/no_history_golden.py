"""Writes what searches without history return, to check that conversations changed nothing.

Run it with the code of a commit without conversations first on ``sys.path``, over an index of
``seeds/`` that code built, to (re)write ``data/no_history_golden.json``. It was written at
``9ee62d4`` and rewritten from the branch ``realquality`` (new highlight rules, measured in
their design record; with the bundled abstention model it kept) when the two were merged::

    git archive realquality qa | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before:. python -m qa.cli build --source seeds --index /tmp/before-index
    PYTHONPATH=/tmp/before:. python -m tests.search.no_history_golden --index /tmp/before-index \\
        --out tests/search/data/no_history_golden.json

A deliberate change to ranking, highlights or abstention rewrites it the same way, from the
change's own code without the conversation path, never from the code under test.
Rewritten so for the next-sentence highlight rule (``QA_ANSWER_NEXT_MARGIN``, branch
``realq-3``): over a ``qa build`` of the seeds with ``QA_QUERY_PRECISION=fp32``, the rule off
reproduced this file exactly; with it on, only highlights of 436 of 3,440 hits changed, and
only those were written into it.

Every question of ``qa/eval/testsets/seeds_sv.jsonl`` in each mode, k=5: each hit's passage,
scores and highlights, and ``no_good_match`` (``took_ms`` and texts left out).
``tests/search/test_no_history.py`` compares today's engine with it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

MODES = ("hybrid", "dense", "lexical")
QUESTIONS = Path(__file__).resolve().parents[2] / "qa" / "eval" / "testsets" / "seeds_sv.jsonl"


def questions() -> list[str]:
    return [json.loads(line)["question"]
            for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]


def compact(body: dict[str, Any]) -> dict[str, Any]:
    """What a golden entry keeps of an answer body."""
    return {"no_good_match": body["no_good_match"], "question": body["question"],
            "hits": [[h["passage_id"], h["score"], h["similarity"], h["relevance"],
                      h["highlights"], h["section"]] for h in body["results"]]}


def answers(engine: Any) -> dict[str, dict[str, Any]]:
    from qa.search.results import result_json

    return {f"{mode}|{q}": compact(json.loads(json.dumps(result_json(
        engine.search(q, 5, mode, highlights=True)), ensure_ascii=False)))
        for mode in MODES for q in questions()}


def main() -> None:
    from qa.search.engine import SearchEngine
    from qa.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    engine = SearchEngine.open(Settings(), args.index)
    args.out.write_text(json.dumps(answers(engine), ensure_ascii=False, indent=0) + "\n",
                        encoding="utf-8")


if __name__ == "__main__":
    main()
