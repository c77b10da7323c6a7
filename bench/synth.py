"""Synthetic Swedish text: sentences of the seeds and of SweFAQ answers recombined, deterministically.

Every sentence of the five seed documents and of the distinct SweFAQ dev answers
(``candidate_answers``) goes into one ordered pool. A passage is a run of 2-5
consecutive pool sentences (so it mostly reads as connected text) in which each
sentence is, with probability 0.3, swapped for a random one from the pool. The
RNG is seeded, so the same arguments give the same corpus on every machine.

    python -m bench.synth --docs 2000 --out var/bench/synth-2000.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from functools import lru_cache
from pathlib import Path

from bench.common import ROOT, SEEDS, SWEFAQ

_MIN_WORDS, _MAX_WORDS = 4, 60


@lru_cache(maxsize=1)
def sentence_pool() -> tuple[str, ...]:
    """The seed and SweFAQ sentences (4-60 words, whitespace collapsed), in source order."""
    from qa.ingest.passages import collapse, sentence_spans

    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    if SWEFAQ.is_file():
        seen: set[str] = set()
        with SWEFAQ.open(encoding="utf-8") as fh:
            for line in fh:
                for answer in json.loads(line).get("candidate_answers", []):
                    if answer not in seen:
                        seen.add(answer)
                        texts.append(answer)
    pool: list[str] = []
    for text in texts:
        for a, b in sentence_spans(text, 0, len(text)):
            sentence = collapse(text[a:b])
            if _MIN_WORDS <= len(sentence.split()) <= _MAX_WORDS:
                pool.append(sentence)
    return tuple(dict.fromkeys(pool))


def passages(n: int, seed: int = 0, min_sentences: int = 2, max_sentences: int = 5) -> list[list[str]]:
    """``n`` passages, each a list of sentences."""
    pool = sentence_pool()
    rng = random.Random(seed)
    out: list[list[str]] = []
    for _ in range(n):
        size = rng.randint(min_sentences, max_sentences)
        start = rng.randrange(len(pool))
        run = [pool[(start + i) % len(pool)] for i in range(size)]
        out.append([s if rng.random() >= 0.3 else rng.choice(pool) for s in run])
    return out


def documents(n: int, seed: int = 0) -> list[dict[str, str]]:
    """``n`` short documents (one passage each under the default settings) as JSONL records."""
    return [
        {"id": f"synth{i:06d}", "title": f"Syntetiskt dokument {i}", "text": " ".join(sentences)}
        for i, sentences in enumerate(passages(n, seed))
    ]


def write_corpus(path: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` synthetic documents as a JSONL corpus for ``qa build --source``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for doc in documents(n, seed):
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "synth-2000.jsonl")
    args = parser.parse_args()
    write_corpus(args.out, args.docs, args.seed)
    print(f"{args.docs} documents from a pool of {len(sentence_pool())} sentences → {args.out}")


if __name__ == "__main__":
    main()
