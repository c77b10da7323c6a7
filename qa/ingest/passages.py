"""Passages: sentence-aware, paragraph-respecting pieces of a document with exact offsets.

A passage's ``text`` is exactly ``document.text[start:end]``, line breaks included, so a
span of the document (a highlight) cuts the same characters out of either; only what the
model reads (``embedding_text``) has its whitespace collapsed. A passage never
crosses site furniture or a dated post, keeps a heading with the text it
introduces, and stays within the model's token window (prompt included).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import blingfire

from qa.ingest.dates import WRITTEN_DATE
from qa.ingest.documents import Document
from qa.ingest.structure import Line, Section

TokenCounter = Callable[[Sequence[str]], list[int]]
"""Counts the model tokens of passage texts, prompt and special tokens included."""

_INTRO_MAX_WORDS = 12
# Sentences counted per call of the token counter: memory stays bounded for any document size.
_COUNT_CHUNK = 2048


@dataclass(frozen=True)
class Passage:
    """One retrievable unit of a document, with its citation."""

    id: str
    document_id: str
    title: str
    section: str | None
    date: str | None
    start: int
    end: int
    text: str
    page: int | None = None  # first page the passage lies on (documents with pages)
    page_end: int | None = None  # last page, when it runs over a page break

    @property
    def head(self) -> str:
        """Title and section as one line ("Title – Section"), or the title alone."""
        return self.title if not self.section or self.section == self.title else (
            f"{self.title} – {self.section}"
        )

    def embedding_text(self, with_context: bool) -> str:
        """What the embedder sees: the text with its whitespace collapsed, optionally after
        title and section."""
        body = collapse(self.text)
        if not with_context:
            return body
        return f"{self.head}\n{body}" if self.head else body

    def sectioned_text(self) -> str:
        """What the embedder sees of a passage of a long document: the title of its section,
        then its text (collapsed); the text alone when it lies in no section of its own."""
        body = collapse(self.text)
        return f"{self.section}\n{body}" if self.section and self.section != self.title else body

    def sentence_in_context(self, sentence: str, before: str) -> str:
        """What the embedder sees of one of its sentences read in context: the title and
        section, the sentence ``before`` it in this passage ("" for the first) and the sentence.

        An answer often leans on what precedes it ("Gunnel Gustavsson, projektledare" answers
        who leads the project named before), so a sentence read alone misses questions that
        its context makes it answer.
        """
        body = f"{before} {sentence}" if before else sentence
        return f"{self.head}\n{body}" if self.head else body


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    line_start: bool  # first sentence of a line
    paragraph_start: bool  # first sentence after a blank line
    barrier: bool  # furniture or a new dated post lies before it
    sticky: bool  # heading or lead-in that must stay with what follows
    group: int


@dataclass(frozen=True)
class SegmentationParams:
    max_tokens: int = 160
    min_tokens: int = 48
    overlap_tokens: int = 40
    model_max_tokens: int = 512
    whole_document_tokens: int = 0


def collapse(text: str) -> str:
    """``text`` with every run of whitespace (line breaks included) made one space, and none
    at either end: what the model reads of a passage or a sentence."""
    return " ".join(text.split())


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` in document coordinates, split at line breaks too."""
    spans: list[tuple[int, int]] = []
    pos = start
    for line in text[start:end].split("\n"):
        stripped = line.strip()
        if stripped:
            lead = pos + len(line) - len(line.lstrip())
            _, offsets = blingfire.text_to_sentences_and_offsets(stripped)
            pieces = [(a, b) for a, b in offsets if stripped[a:b].strip()]
            # A list number ("1.") split off by the sentence splitter belongs to its item.
            merged: list[tuple[int, int]] = []
            for a, b in pieces:
                if merged and len(stripped[merged[-1][0] : merged[-1][1]].strip()) <= 3:
                    merged[-1] = (merged[-1][0], b)
                else:
                    merged.append((a, b))
            spans.extend((lead + a, lead + b) for a, b in merged)
        pos += len(line) + 1
    return spans or [(start, end)]


def _sentences(line: Line) -> list[tuple[int, int]]:
    _, offsets = blingfire.text_to_sentences_and_offsets(line.text)
    spans = [(line.start + a, line.start + b) for a, b in offsets if line.text[a:b].strip()]
    return spans or [(line.start, line.end)]


def _is_intro(line: Line, next_line: Line | None, structured: bool) -> bool:
    """A heading, a lead-in ending in ':' or a lone short line: it belongs with what follows.

    In a ``structured`` document (a reader marked its blocks) a short paragraph is just that.
    """
    short = len(line.text.split()) <= _INTRO_MAX_WORDS
    lone = (not structured and line.paragraph_start and next_line is not None
            and next_line.paragraph_start)
    return line.role in ("heading", "dateline") or (short and (line.text.endswith(":") or lone))


def _post_of(posts: list[Section], starts: list[int], offset: int) -> int:
    """Index of the dated post (sorted, not nested) holding ``offset``, or -1."""
    i = bisect.bisect_right(starts, offset) - 1
    return i if i >= 0 and offset < posts[i].end else -1


def _count_all(texts: list[str], count: TokenCounter) -> list[int]:
    counts: list[int] = []
    for i in range(0, len(texts), _COUNT_CHUNK):
        counts.extend(count(texts[i:i + _COUNT_CHUNK]))
    return counts


def _units(doc: Document, count: TokenCounter, overhead: int) -> list[_Unit]:
    assert doc.layout is not None
    posts = [s for s in doc.sections if s.title and WRITTEN_DATE.fullmatch(s.title)]
    post_starts = [p.start for p in posts]
    raw: list[tuple[int, int, bool, bool, bool, bool, int]] = []
    barrier = False
    lines = doc.layout.lines
    for n, line in enumerate(lines):
        if line.role == "furniture":
            barrier = True
            continue
        group = _post_of(posts, post_starts, line.start)
        if raw and raw[-1][6] != group:
            barrier = True
        sticky = _is_intro(line, lines[n + 1] if n + 1 < len(lines) else None, bool(doc.blocks))
        for i, (a, b) in enumerate(_sentences(line)):
            raw.append((a, b, i == 0, i == 0 and line.paragraph_start, barrier and i == 0,
                        sticky, group))
        barrier = False
    counts = _count_all([doc.text[a:b] for a, b, *_ in raw], count)
    return [
        _Unit(a, b, max(n - overhead, 1), ls, ps, br, st, g)
        for (a, b, ls, ps, br, st, g), n in zip(raw, counts, strict=True)
    ]


def _hard_split(doc: Document, unit: _Unit, budget: int, count: TokenCounter,
                overhead: int) -> list[_Unit]:
    """Cut an over-long sentence at word boundaries into pieces within budget."""
    pieces: list[_Unit] = []
    text = doc.text
    words: list[tuple[int, int]] = []
    i = unit.start
    while i < unit.end:
        while i < unit.end and text[i].isspace():
            i += 1
        j = i
        while j < unit.end and not text[j].isspace():
            j += 1
        if j > i:
            words.append((i, j))
        i = j
    lo = 0
    while lo < len(words):
        hi = lo + 1
        step = 64
        while hi < len(words):
            trial = min(len(words), hi + step)
            if count([text[words[lo][0]:words[trial - 1][1]]])[0] - overhead <= budget:
                hi = trial
            elif step > 1:
                step //= 2
            else:
                break
        a, b = words[lo][0], words[hi - 1][1]
        n = count([text[a:b]])[0] - overhead
        pieces.append(_Unit(a, b, n, lo == 0 and unit.line_start, lo == 0 and unit.paragraph_start,
                            lo == 0 and unit.barrier, False, unit.group))
        lo = hi
    return pieces


def _section_of(doc: Document, units: list[_Unit]) -> Section | None:
    """The section of the passage's first real sentence: lead-in lines belong to what follows."""
    if doc.layout is None:
        return None
    body = next((u for u in units if not u.sticky), units[-1])
    found = doc.layout.section_at(body.start)
    if found is None:
        found = next((s for s in doc.sections if units[0].start <= s.start < units[-1].end), None)
    return found


def split_document(doc: Document, count: TokenCounter,
                   params: SegmentationParams | None = None) -> list[Passage]:
    """Cut a document into passages; see the module docstring for the rules."""
    p = params or SegmentationParams()
    overhead = count([""])[0]
    budget = max(p.max_tokens - overhead, 8)
    window = p.model_max_tokens - overhead
    units = _units_within(doc, count, overhead, min(budget, window))
    if not _has_parts(doc) and _stays_whole(units, min(p.whole_document_tokens, window)):
        groups = [units]  # a document that fits the window is one passage: an answer is not cut in two
    else:
        groups = _group(units, budget, p, frozenset(page.start for page in doc.pages[1:]))
    return [_passage(doc, n, g) for n, g in enumerate(groups)]


def _units_within(doc: Document, count: TokenCounter, overhead: int, limit: int) -> list[_Unit]:
    """The document's sentences, an over-long one cut at word boundaries into pieces within ``limit``."""
    units: list[_Unit] = []
    for u in _units(doc, count, overhead):
        units.extend(_hard_split(doc, u, limit, count, overhead) if u.tokens > limit else [u])
    return units


def _has_parts(doc: Document) -> bool:
    """Pages that a reader marked: each passage is cited by its own page, so such a document is
    not kept as one passage however short it is. Headings alone do not split a short document:
    cut at every heading, a one-screen page (a help page, a FAQ entry) became passages of a
    heading and a sentence or two, which outranked the passage holding the answer (on the
    LibreOffice help set, tune half, Hit@1 0.688 → 0.812 kept whole: design record
    2026-12-06-html-reader); a longer document is still cut at its headings."""
    return len(doc.pages) > 1


def _stays_whole(units: list[_Unit], whole_tokens: int) -> bool:
    return bool(units) and _size(units) <= whole_tokens and not any(u.barrier for u in units[1:])


def _size(units: list[_Unit]) -> int:
    return sum(u.tokens for u in units)


@dataclass(frozen=True)
class _Break:
    """Why a passage ends before a unit: a barrier, a soft boundary, or the budget."""

    barrier: bool
    soft: bool
    overflow: bool

    def __bool__(self) -> bool:
        return self.barrier or self.soft or self.overflow


def _break_before(cur: list[_Unit], u: _Unit, budget: int, p: SegmentationParams,
                  page_starts: frozenset[int]) -> _Break:
    has_body = any(not c.sticky for c in cur)
    soft = has_body and (
        u.start in page_starts  # a passage keeps to its page where it can
        or (u.paragraph_start and _size(cur) >= p.min_tokens)
        or (u.line_start and _size(cur) >= (p.min_tokens + budget) // 2)
        or (u.sticky and not cur[-1].sticky and u.paragraph_start)
    )
    return _Break(u.barrier, soft, _size(cur) + u.tokens > budget)


def _group(units: list[_Unit], budget: int, p: SegmentationParams,
           page_starts: frozenset[int] = frozenset()) -> list[list[_Unit]]:
    """Units gathered into passages: paragraphs kept together, lead-ins carried forward."""
    groups: list[list[_Unit]] = []
    cur: list[_Unit] = []
    for u in units:
        if cur:
            why = _break_before(cur, u, budget, p, page_starts)
            if why:
                cur = _close(groups, cur, u, why, budget, p.overlap_tokens)
        cur.append(u)
    if cur:
        _close_last(groups, cur, budget)
    return groups


def _close(groups: list[list[_Unit]], cur: list[_Unit], u: _Unit, why: _Break, budget: int,
           overlap_tokens: int) -> list[_Unit]:
    """End the passage ``cur`` before ``u``; returns what the next passage starts with.

    Trailing lead-in lines move to the next passage (they introduce it); a passage
    cut only by the budget inside a paragraph repeats its last sentences as overlap.
    """
    has_body = any(not c.sticky for c in cur)
    carry: list[_Unit] = []
    while has_body and cur and cur[-1].sticky and not why.barrier:
        carry.insert(0, cur.pop())
    if cur:
        groups.append(cur)
    if why.overflow and not (why.barrier or why.soft or u.paragraph_start) and not carry:
        return _overlap(cur, u, budget, overlap_tokens)
    return carry


def _overlap(cur: list[_Unit], u: _Unit, budget: int, overlap_tokens: int) -> list[_Unit]:
    """The last sentences of ``cur`` (up to ``overlap_tokens``) to repeat before ``u``."""
    overlap: list[_Unit] = []
    for prev in reversed(cur):
        if _size(overlap) + prev.tokens > overlap_tokens or prev.sticky:
            break
        overlap.insert(0, prev)
    if _size(overlap) + u.tokens > budget or len(overlap) == len(cur):
        return []
    return overlap


def _close_last(groups: list[list[_Unit]], cur: list[_Unit], budget: int) -> None:
    """The final passage; a trailing heading with nothing after it joins the passage before it."""
    if all(c.sticky for c in cur) and groups and groups[-1][-1].group == cur[0].group \
            and not cur[0].barrier and _size(groups[-1]) + _size(cur) <= budget:
        groups[-1].extend(cur)
    else:
        groups.append(cur)


def _passage(doc: Document, n: int, units: list[_Unit]) -> Passage:
    start, end = units[0].start, units[-1].end
    section = _section_of(doc, units)
    pages = doc.pages_of(start, end)
    return Passage(
        id=f"{doc.id}#{n}",
        document_id=doc.id,
        title=doc.title,
        section=section.title if section else None,
        date=(section.date if section and section.date else doc.date),
        start=start,
        end=end,
        text=doc.text[start:end],
        page=pages[0] if pages else None,
        page_end=pages[1] if pages and pages[1] != pages[0] else None,
    )
