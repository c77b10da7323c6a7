"""Joining the lines of a paragraph that layout wrapped (PDF text, OCR output).

A line break in a PDF is layout, not structure: the lines of a paragraph are joined with a
space, and a word split by a hyphen at the end of a line is joined again only when that is
safe. Swedish writes "kommun- och regionförbund" (a hyphen that stays, with its space),
"e-post", "EU-medel" and "2020-talet" (hyphens that belong to the word); only a hyphen after
two or more lower-case letters, followed by a lower-case word that is not a conjunction, is
a hyphen of wrapping and goes; any other stays, without a space ("Göteborg-Stockholm").
"""

from __future__ import annotations

import re

_HYPHENATED = re.compile(r"(\w+)[-\u00ad\u2010\x02]$")
# Words after which a line-end hyphen is the hyphen of an elided compound ("kommun- och").
_CONJUNCTIONS = frozenset({"och", "eller", "samt", "respektive", "resp", "till", "som", "men",
                           "utan", "liksom", "and", "or", "to"})


def join_lines(lines: list[str]) -> str:
    """The lines of one paragraph as one line (see the module docstring)."""
    out = ""
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            continue
        out = join_two(out, line) if out else line
    return out


def join_two(first: str, second: str) -> str:
    """``first`` and the line after it, joined."""
    match = _HYPHENATED.search(first)
    if not match:
        return f"{first} {second}"
    word = match.group(1)
    stem = first[:-1]
    if not second[:1].islower():  # "Göteborg-Stockholm", "EU-2020"
        return f"{stem}-{second}"
    next_word = second.split()[0].strip(".,;:!?)")
    if next_word in _CONJUNCTIONS:
        return f"{stem}- {second}"
    if len(word) < 2 or not word[-1].isalpha() or not word[-1].islower() or any(c.isdigit() for c in word):
        return f"{stem}-{second}"
    return stem + second
