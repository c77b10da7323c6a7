"""Training pairs mined from a collection's own structure: no labels, no generator model.

Four kinds, each a (query, positive) pair taken from the passage store of a published
generation; the query is what a reader might ask or look for, the positive the text that
answers it:

- ``heading``: a section heading (or the document's title where there is no section) to the
  body of a passage under it, the heading taken off the passage (else the pair is trivial);
- ``question``: a question-shaped heading ("Hur ansöker jag …?", an FAQ entry) to the body of
  the first passage under it: the closest thing to a labelled question a collection holds;
- ``cloze``: a sentence to its passage with that sentence taken out (inverse cloze task);
- ``list``: a list's lead-in line to the items that follow it.

e5 was pre-trained on (title, passage) and (section, passage) pairs, so these pairs teach it the
collection's own vocabulary in the shape it already knows. Each pair is held out from training
or not by a hash of its query, so the same collection always gives the same split.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from qa.index.store import PassageStore
from qa.ingest.passages import Passage, collapse, sentence_spans

PairKind = Literal["heading", "question", "cloze", "list"]
PAIR_KINDS: tuple[PairKind, ...] = ("heading", "question", "cloze", "list")

# Swedish question words and the verbs an FAQ heading starts with ("Kan jag …", "Får man …").
_QUESTION_START = re.compile(
    r"^(hur|vad|vem|vems|vilka|vilken|vilket|när|var|vart|varför|varifrån|kan|får|måste|ska|"
    r"skall|behöver|finns|gäller|är|har|bör)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_HEADING_PASSAGES = 3  # passages per heading: a long section must not crowd out the others
_CLOZE_PER_PASSAGE = 1
_MIN_QUERY_WORDS = 2
_MIN_CLOZE_WORDS = 6
_MAX_CLOZE_WORDS = 40
_MIN_POSITIVE_WORDS = 8
_LEAD_IN_MAX_WORDS = 30


@dataclass(frozen=True)
class Pair:
    """A query and the text that answers it, mined from passage ``row`` of the store."""

    kind: PairKind
    query: str
    positive: str
    row: int
    document_id: str

    @property
    def held_out(self) -> bool:
        return is_held_out(self.kind, self.query)


def is_held_out(kind: str, query: str, share: float = 0.2) -> bool:
    """Whether a pair belongs to the held-out share: a stable hash of its kind and query, so a
    query is never trained on under one pair and checked under another."""
    digest = hashlib.sha256(f"{kind}\n{query.casefold()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") < share * 2**32


def is_question(heading: str) -> bool:
    """A heading shaped as a question: it ends with '?' or opens with a question word."""
    text = heading.strip()
    return text.endswith("?") or bool(_QUESTION_START.match(text))


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _row_span(starts: Sequence[tuple[int, int, int]], start: int, end: int
              ) -> Iterable[tuple[int, int, int]]:
    """The passages of one document overlapping ``[start, end)``: ``(row, from, to)``, the
    overlap of each, in order. ``starts``: the document's passages as ``(start, end, row)``."""
    for p_start, p_end, row in starts:
        lo, hi = max(start, p_start), min(end, p_end)
        if lo < hi:
            yield row, lo, hi


def _passages_by_document(passages: Sequence[Passage]) -> dict[str, list[tuple[int, int, int]]]:
    out: dict[str, list[tuple[int, int, int]]] = {}
    for row, p in enumerate(passages):
        out.setdefault(p.document_id, []).append((p.start, p.end, row))
    return out


def _body(text: str, start: int, end: int, head: str) -> str:
    """``text[start:end]`` without the heading line it may open with."""
    chunk = text[start:end]
    first, _, rest = chunk.lstrip().partition("\n")
    if head.casefold() in first.casefold() and len(first) <= len(head) + 8:
        chunk = rest
    return collapse(chunk)


def heading_pairs(passages: Sequence[Passage], sections: dict[str, list[tuple[int, int, str]]],
                  texts: dict[str, str]) -> list[Pair]:
    """Headings → the text under them (``heading``), question-shaped headings → the text that
    answers them (``question``); the document's title → its opening text (``heading``).

    ``sections``: each document's titled sections (``PassageStore.section_spans``), ``texts``
    the documents' texts. The text under a heading is cut at each passage boundary (a pair's
    positive is never longer than a passage) and taken from at most the first few passages of
    a long section; a question's answer from the first only, where the answer is.
    """
    by_doc = _passages_by_document(passages)
    pairs: list[Pair] = []
    for doc, starts in by_doc.items():
        text = texts.get(doc, "")
        spans = list(sections.get(doc, ()))
        title = next((passages[row].title for _, _, row in starts), "")
        if title and _words(title) >= _MIN_QUERY_WORDS:
            first_section = min((a for a, _, _ in spans), default=len(text))
            spans.append((0, first_section if first_section > 0 else len(text), title))
        for start, end, head in spans:
            head = head.strip()
            if _words(head) < _MIN_QUERY_WORDS and not is_question(head):
                continue
            kind: PairKind = "question" if is_question(head) else "heading"
            taken = 0
            for row, lo, hi in _row_span(starts, start, end):
                body = _body(text, lo, hi, head) if lo == start else collapse(text[lo:hi])
                if _words(body) < _MIN_POSITIVE_WORDS:
                    continue
                pairs.append(Pair(kind, head, body, row, doc))
                taken += 1
                if taken >= (1 if kind == "question" else _HEADING_PASSAGES):
                    break
    return pairs


def cloze_pairs(passages: Sequence[Passage]) -> list[Pair]:
    """A sentence → its passage (heading first, as the index embeds it) without that sentence.

    The sentence chosen is the passage's longest of a usable length, which is most often the
    one that carries its content; a passage whose rest would be too short gives none.
    """
    pairs: list[Pair] = []
    for row, p in enumerate(passages):
        spans = sentence_spans(p.text, 0, len(p.text))
        usable = [(a, b) for a, b in spans
                  if _MIN_CLOZE_WORDS <= _words(p.text[a:b]) <= _MAX_CLOZE_WORDS]
        usable.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
        for a, b in usable[:_CLOZE_PER_PASSAGE]:
            rest = collapse(p.text[:a] + " " + p.text[b:])
            if _words(rest) < _MIN_POSITIVE_WORDS:
                continue
            context = f"{p.head}\n{rest}" if p.head else rest
            pairs.append(Pair("cloze", collapse(p.text[a:b]), context, row, p.document_id))
    return pairs


def list_pairs(passages: Sequence[Passage], items: dict[str, list[tuple[int, int]]],
               texts: dict[str, str]) -> list[Pair]:
    """A list's lead-in (the line before its first item) → its items, one a line.

    ``items``: each document's list-item spans (``PassageStore.list_items``), ``texts`` the
    documents' texts. A list is a run of items with only whitespace between them; its pair
    points at the passage that holds its first item.
    """
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for row, p in enumerate(passages):
        by_doc.setdefault(p.document_id, []).append((p.start, row))
    pairs: list[Pair] = []
    for doc, spans in items.items():
        text = texts.get(doc)
        if text is None or doc not in by_doc:
            continue
        for run_items in _runs(spans, text):
            first = run_items[0][0]
            lead = _line_before(text, first)
            body = "\n".join(collapse(text[a:b]) for a, b in run_items)
            if not (_MIN_QUERY_WORDS <= _words(lead) <= _LEAD_IN_MAX_WORDS) \
                    or _words(body) < _MIN_POSITIVE_WORDS:
                continue
            row = _row_at(by_doc[doc], first)
            pairs.append(Pair("list", lead.rstrip(":").strip(), body, row, doc))
    return pairs


def _line_before(text: str, offset: int) -> str:
    """The last non-blank line before ``offset`` (whitespace collapsed); "" if none."""
    for line in reversed(text[:offset].split("\n")[-6:]):
        if line.strip():
            return collapse(line)
    return ""


def _runs(spans: Sequence[tuple[int, int]], text: str) -> Iterable[list[tuple[int, int]]]:
    """Consecutive list items (only whitespace between them), each run as its items' spans."""
    run: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if run and text[run[-1][1]:start].strip():
            yield run
            run = []
        run.append((start, end))
    if run:
        yield run


def _row_at(starts: Sequence[tuple[int, int]], offset: int) -> int:
    """The row of the last passage starting at or before ``offset`` (passages in order)."""
    row = starts[0][1]
    for start, r in starts:
        if start > offset:
            break
        row = r
    return row


def mine_pairs(store: PassageStore, kinds: Iterable[PairKind] = PAIR_KINDS) -> list[Pair]:
    """Every pair of the requested kinds the store's collection yields, duplicates dropped."""
    wanted = set(kinds)
    passages = store.passages
    found: list[Pair] = []
    texts = store.document_texts()
    if wanted & {"heading", "question"}:
        found += [p for p in heading_pairs(passages, store.section_spans(), texts)
                  if p.kind in wanted]
    if "cloze" in wanted:
        found += cloze_pairs(passages)
    if "list" in wanted:
        found += list_pairs(passages, store.list_items(), texts)
    unique: dict[tuple[str, str], Pair] = {}
    for pair in found:
        unique.setdefault((pair.query.casefold(), pair.positive), pair)
    return list(unique.values())


def counts(pairs: Iterable[Pair]) -> dict[str, int]:
    """Pairs per kind, every kind named (0 where none was found)."""
    found = Counter(p.kind for p in pairs)
    return {kind: found.get(kind, 0) for kind in PAIR_KINDS}
