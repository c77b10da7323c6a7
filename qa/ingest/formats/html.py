"""Web pages: the main content with its structure, without navigation, banners and footers.

trafilatura (Apache-2.0) finds the main content of a page and drops menus, cookie banners,
"related links" boxes and footers; its XML output keeps the structure (``head`` with
``rend="h2"``, ``p``, ``list/item``, ``table/row/cell``), which becomes blocks. Title and date
come from its metadata (``<title>``, meta tags, dates in the markup; a year in the prose is
not taken for the page's date). Nothing is fetched: it is
given the page's text, never a URL. When it finds no main content (a very small page, or a
page it cannot make sense of), the visible text of the whole body is taken instead, so a page
with text is never lost.

Bytes are decoded by the page's own word first (byte-order mark, then ``<meta charset>``),
then by the plain-text decoder's detection.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.text import check_length, decode, too_long_for

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>", re.IGNORECASE)
# What browsers do: a page that says Latin-1 or ASCII is read as Windows-1252.
_WHATWG = {"latin_1": "cp1252", "iso8859_1": "cp1252", "ascii": "cp1252"}
SMALL_PAGE_CHARS = 250  # trafilatura's own threshold for "too little main content"
_CHROME = re.compile(r"cookie|consent|gdpr|banner|breadcrumb|skip-?link|menu|navigation", re.IGNORECASE)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "main", "nav", "ol",
    "p", "section", "summary", "table", "tbody", "thead", "tfoot", "ul", "br", "td", "th",
    "caption",
})


def read(path: Path, options: ReadOptions) -> Converted:
    """A web page file (see the module docstring)."""
    return from_bytes(path.read_bytes(), options)


def from_bytes(data: bytes, options: ReadOptions) -> Converted:
    """A web page from its bytes."""
    too_long_for(data, options.max_chars)
    page, encoding = decode_page(data)
    check_length(page, options.max_chars * 20)  # markup included: a page's text is far shorter
    page = _XML_DECLARATION.sub("", page, count=1)
    title = date = None
    assembler = BoundedAssembler(options.max_chars)
    extracted = _main_content(page, options)
    if extracted is not None:
        title = extracted.get("title") or None
        date = extracted.get("date") or None
        main = extracted.find("main")
        if main is not None:
            _xml_blocks(main, assembler, depth=0)
    how = "main content"
    if assembler.length < SMALL_PAGE_CHARS:
        # No main content, or so little that trafilatura only had its unstructured baseline:
        # the visible body, with its structure, minus navigation, footers and banners.
        whole = BoundedAssembler(options.max_chars)
        page_title = _visible_blocks(page, whole)
        if whole.blocks:
            assembler, how, title = whole, "whole page", title or page_title
    return assembler.result("html", title=title, date=date,
                            metadata={"encoding": encoding, "extracted": how})


def decode_page(data: bytes) -> tuple[str, str]:
    """The page's text and encoding: a byte-order mark, else the charset the page declares
    (when the bytes decode in it), else plain-text detection."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return decode(data).text, codec
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        try:
            name = codecs.lookup(declared.group(1).decode("ascii")).name.replace("-", "_")
            name = _WHATWG.get(name, name)
            return data.replace(b"\x00", b"").decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass
    decoded = decode(data)
    return decoded.text, decoded.encoding


def _main_content(page: str, options: ReadOptions):
    """trafilatura's XML of the main content as an element, or None when it finds none."""
    import trafilatura
    from lxml import etree
    from trafilatura.settings import set_date_params, use_config

    config = use_config()
    config.set("DEFAULT", "MAX_FILE_SIZE", str(max(options.max_bytes, 1)))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    xml = trafilatura.extract(page, output_format="xml", include_tables=True, include_comments=False,
                              include_formatting=False, include_links=False, include_images=False,
                              with_metadata=True, deduplicate=False, config=config,
                              # dates the page states in its markup, not years guessed from prose
                              date_extraction_params=set_date_params(extensive=False))
    if not xml:
        return None
    return etree.fromstring(xml)


def _inline_text(element, skip=("list", "table")) -> str:
    """The text of an element and its inline children (a line break becomes a space),
    leaving out nested blocks named in ``skip``."""
    parts = [element.text or ""]
    for child in element:
        if child.tag not in skip:
            parts.append(_inline_text(child, skip) if child.tag != "lb" else " ")
        parts.append(child.tail or "")
    return "".join(parts)


def _xml_blocks(elements, assembler: BoundedAssembler, depth: int) -> None:
    """Blocks of trafilatura's XML elements: ``head``, ``p``, ``list/item``, ``table/row``,
    ``code``; containers are walked."""
    for child in elements:
        tag = child.tag
        if tag == "head":
            level = _HEADINGS.get((child.get("rend") or "").lower(), 2)
            assembler.add("heading", _inline_text(child), level)
        elif tag == "list":
            for item in child:
                if item.tag == "item":
                    assembler.add("list_item", _inline_text(item), depth + 1)
                    nested = [sub for sub in item if sub.tag in ("list", "table")]
                    _xml_blocks(nested, assembler, depth + 1)
                else:
                    _xml_blocks(item, assembler, depth)
        elif tag == "table":
            for row in child.iter("row"):
                cells = [" ".join(_inline_text(cell).split()) for cell in row if cell.tag == "cell"]
                assembler.add("table_row", " | ".join(cell for cell in cells if cell))
        elif tag == "code":
            assembler.add("preformatted", "".join(child.itertext()), keep_lines=True)
        elif tag in ("quote", "div", "section"):
            assembler.add("paragraph", _inline_text(child, skip=("list", "table", "p", "head", "quote")))
            _xml_blocks(child, assembler, depth)
        elif any(sub.tag in ("p", "list", "head", "table") for sub in child):
            _xml_blocks(child, assembler, depth)
        else:
            assembler.add("paragraph", _inline_text(child))


def _visible_blocks(page: str, assembler: BoundedAssembler) -> str | None:
    """The visible text of the page's body as blocks; returns the page's ``<title>``."""
    import lxml.html

    root = lxml.html.document_fromstring(page)
    title_element = root.find(".//title")
    title = " ".join(title_element.text_content().split()) if title_element is not None else None
    for element in list(root.iter(*_INVISIBLE, "nav", "footer", "aside", "button")):
        element.drop_tree()
    for element in list(root.iter()):
        if element.getparent() is not None and isinstance(element.tag, str) and _CHROME.search(
                f"{element.get('id', '')} {element.get('class', '')} {element.get('role', '')}"):
            element.drop_tree()
    body = root.find("body")
    body = body if body is not None else root
    _visible(body, assembler, [body.text or ""], depth=0)
    return title or None


def _visible(element, assembler: BoundedAssembler, buffer: list[str], depth: int) -> None:
    """Walk the tree: headings, list items, table rows and preformatted text are blocks of
    their own; text between other block elements forms paragraphs."""

    def flush() -> None:
        if buffer:
            assembler.add("paragraph", "".join(buffer))
            buffer.clear()

    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""  # comments have no string tag
        if tag in _HEADINGS:
            flush()
            assembler.add("heading", child.text_content(), _HEADINGS[tag])
        elif tag == "li":
            flush()
            own = [child.text or ""] + [
                (sub.text_content() if sub.tag not in ("ul", "ol") else "") + (sub.tail or "")
                for sub in child if isinstance(sub.tag, str)]
            assembler.add("list_item", "".join(own), depth + 1)
            for sub in child:
                if sub.tag in ("ul", "ol"):
                    _visible(sub, assembler, [], depth + 1)
        elif tag == "tr":
            flush()
            cells = [" ".join(cell.text_content().split()) for cell in child if cell.tag in ("td", "th")]
            assembler.add("table_row", " | ".join(cell for cell in cells if cell))
        elif tag == "pre":
            flush()
            assembler.add("preformatted", child.text_content(), keep_lines=True)
        elif tag in _BLOCK_TAGS or tag in ("ul", "ol", "li"):
            flush()
            if child.text:
                buffer.append(child.text)
            _visible(child, assembler, buffer, depth)
            flush()
        elif tag:
            buffer.append(child.text_content())
        if child.tail:
            buffer.append(child.tail)
    if element.tag in _BLOCK_TAGS or element.tag == "body":
        flush()
