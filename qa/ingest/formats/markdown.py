"""Markdown: its structure as blocks, its markup gone.

markdown-it-py (MIT, CommonMark with tables) parses the file; its tokens become blocks:
headings with their level, paragraphs, list items with their nesting depth, table rows (cells
joined by ``" | "``), code blocks kept line by line. Inline markup is dropped: emphasis
markers go, a link keeps its text, an image its alt text, inline HTML tags go. A YAML front
matter block at the very start gives ``title`` and ``date`` and is not part of the text.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.text import decode_within, reject_binary

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)",
                           re.DOTALL)
_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def read(path: Path, options: ReadOptions) -> Converted:
    """A Markdown file (see the module docstring)."""
    data = path.read_bytes()
    reject_binary(data)
    return from_bytes(data, options)


def from_bytes(data: bytes, options: ReadOptions) -> Converted:
    """Markdown from the bytes of a file."""
    from markdown_it import MarkdownIt

    decoded = decode_within(data, options.max_chars)  # before the parser builds its tokens
    source, meta = split_front_matter(decoded.text)
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    assembler = BoundedAssembler(options.max_chars)
    depth = 0  # nesting of lists
    item_open: list[bool] = []  # per open list item: its first paragraph not yet taken
    row: list[str] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            assembler.add("heading", inline_text(tokens[i + 1]), int(token.tag[1]))
            i += 2
        elif kind in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif kind == "list_item_open":
            item_open.append(True)
        elif kind == "list_item_close":
            item_open.pop()
        elif kind == "inline" and tokens[i - 1].type == "paragraph_open":
            if item_open and item_open[-1]:
                assembler.add("list_item", inline_text(token), depth)
                item_open[-1] = False
            elif item_open:
                assembler.add("list_item", inline_text(token), depth)
            else:
                assembler.add("paragraph", inline_text(token))
        elif kind == "tr_open":
            row = []
        elif kind == "inline" and row is not None:
            row.append(" ".join(inline_text(token).split()))
        elif kind == "tr_close" and row is not None:
            assembler.add("table_row", " | ".join(cell for cell in row if cell))
            row = None
        elif kind in ("fence", "code_block"):
            assembler.add("preformatted", token.content, keep_lines=True)
        elif kind == "html_block":
            assembler.add("paragraph", _TAG.sub(" ", token.content))
        i += 1
    warnings = [f"{decoded.removed_nuls} NUL bytes removed"] if decoded.removed_nuls else []
    return assembler.result("md", title=meta.get("title"), date=meta.get("date"),
                            metadata={"encoding": decoded.encoding}, warnings=warnings)


def inline_text(token) -> str:
    """The reader's text of an inline token: markup dropped, link text and image alt kept."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)  # the alt text
    return "".join(parts)


def split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    """The text without a leading YAML front matter block, and its ``title``/``date``.

    A block that is not a YAML mapping is not front matter (a horizontal rule, say), and
    stays. The front matter is replaced by as many blank lines, which Markdown ignores.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return text, {}
    import yaml

    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return text, {}
    if not isinstance(data, dict):
        return text, {}
    meta: dict[str, str] = {}
    title = data.get("title")
    if isinstance(title, str | int | float) and str(title).strip():
        meta["title"] = " ".join(str(title).split())
    date = data.get("date")
    if isinstance(date, dt.date):
        meta["date"] = date.isoformat()[:10]
    elif isinstance(date, str) and _ISO_DATE.match(date.strip()):
        meta["date"] = date.strip()[:10]
    return "\n" * match.group().count("\n") + text[match.end():], meta
