"""Web pages: the text a reader sees, with its structure, without navigation, banners and footers.

The page is parsed by lxml's HTML parser (the same tree a browser would build for the common
cases: upper-case tags, unclosed ``<p>``, missing ``<body>``) and walked by our own reader:

* **What is not content is pruned first**: invisible elements (scripts, styles, ``hidden``,
  ``display: none``), form controls, ``nav``/``aside``/``footer``, a ``header`` outside the
  article, ARIA landmarks for navigation, banners and footers, and containers whose class or
  id names site furniture as a whole word (``cookie-banner``, ``breadcrumbs``, ``main-menu``,
  ``toc``, ``related``, ...). Inline elements are never pruned by their class: DocBook's
  ``span.guimenu`` is content, however much it says "menu".
* **The main content** is ``<main>`` (or ``role="main"``, or the page's only ``<article>``)
  when the page marks it, else the pruned body.
* **The walk** makes a block of every heading (``h1``-``h6`` at any depth, however a generator
  wraps them: DocBook's ``div.titlepage``, Sphinx, MkDocs, LibreOffice's help), paragraph,
  list item (with its nesting depth), table row (``cell | cell``; a table used for layout is
  walked as containers) and preformatted block. Inline elements (links, menu and button names,
  emphasis, code, abbreviations) are kept in reading order; a block element met inside inline
  content is set off by spaces, never glued to its neighbours. A run of link-only paragraphs
  or list items that ends the page ("related topics", "see also") is dropped with its label.

trafilatura (Apache-2.0) was the reader before; its XML output drops inline elements it does
not know and headings inside generator wrappers (see ``bench/html_fidelity.py`` for the
measured difference). It is still used for what it does well and we do not: the page's
metadata (the date the page states in its markup, not a year guessed from its prose; the
site's name).

The title is the page's declared title unless that is a placeholder (see ``choose_title``);
then it is the page's first top heading. A page that is only navigation (an index of terms,
a table of contents, a list of links: see ``navigation_only``) is ``Skip("navigation only")``:
it would answer no question and crowd out the pages it links to.

Nothing is fetched: the reader is given the page's bytes, never a URL. Bytes are decoded by
the page's own word first (byte-order mark, then ``<meta charset>``), then by the plain-text
decoder's detection.
"""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.ingest.converted import Converted, Skip
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.text import check_length, decode, too_long_for

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

logger = logging.getLogger(__name__)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>", re.IGNORECASE)
# What browsers do: a page that says Latin-1 or ASCII is read as Windows-1252.
_WHATWG = {"latin_1": "cp1252", "iso8859_1": "cp1252", "ascii": "cp1252"}

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_INVISIBLE = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object",
              "embed", "canvas", "audio", "video", "map", "datalist", "dialog")
_CONTROLS = ("button", "select", "input", "textarea", "option")
_CHROME_TAGS = ("nav", "aside", "footer")
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search",
                           "menubar", "menu", "toolbar", "alertdialog", "dialog"})
# Whole words of a class or id (split at "-" and "_") that name site furniture.
_CHROME_WORDS = frozenset({
    "cookie", "cookies", "consent", "gdpr", "banner", "breadcrumb", "breadcrumbs", "crumbs",
    "skiplink", "skiplinks", "skip", "menu", "mainmenu", "megamenu", "navbar", "nav",
    "navheader", "navfooter", "navlinks", "navbox", "navmenu", "sitenav", "topnav", "subnav",
    "navigation", "sidebar", "sidenav", "toc", "footer", "share", "sharing", "social",
    "related", "pagination", "pager", "toolbar", "newsletter", "advert",
    "advertisement", "ads", "debug", "searchbox", "searchform",
})
# Inline elements that are furniture whatever their place: heading permalinks ("¶", "#") of
# Sphinx, MkDocs and static site generators, shown on hover only.
_PERMALINK_CLASSES = frozenset({"headerlink", "anchorjs-link", "anchor-link", "header-anchor",
                                "permalink"})
_CHROME_CLASS_WORDS = re.compile(r"[\s_-]+")
_INLINE = frozenset({
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em",
    "font", "i", "img", "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby", "s", "samp",
    "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr", "blink",
})
_LISTS = ("ul", "ol", "menu", "dir")
# DocBook's title page sets subtitle and authors in h2/h3: lines of the title page, not sections.
_CREDITS = frozenset({"subtitle", "author", "corpauthor", "editor", "othercredit", "pubdate"})
_NESTED = frozenset({*_LISTS, "dl", "table", "pre", *_HEADINGS})  # blocks of their own in an li
_MAIN_XPATHS = ("//main", "//*[@role='main']", "//*[@itemprop='articleBody']")
_SYSTEMS = frozenset({"MAC", "WIN", "UNIX", "LINUX"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

# A declared title is a placeholder (see choose_title) when it is one of these words,
# a file name, or a single short word the page's headings and opening never use.
_PLACEHOLDER_TITLES = frozenset({
    "untitled", "untitled document", "utan titel", "namnlös", "namnlöst dokument", "document",
    "dokument", "new page", "ny sida", "page", "sida", "home", "index", "start", "startsida",
    "hem", "title", "titel", "no title", "default", "welcome", "välkommen",
})
_TITLE_PARTS = re.compile(r"\s+[|–—:-]{1,2}\s+")
_FILE_NAME = re.compile(r"^[\w.-]+\.(?:x?html?|php|aspx?|jsp|cgi|docx?|odt|pdf|txt|md)$",
                        re.IGNORECASE)

# Navigation-only pages (see navigation_only).
NAV_MIN_LINKS = 8
NAV_LINK_SHARE = 0.4
NAV_ENTRY_WORDS = 10
NAV_PROSE_SHARE = 0.15
NAV_LONG_LIST = 25
NAV_LONG_LIST_PROSE = 600
NAV_LINK_BLOCKS = 0.7
_SENTENCE_END = re.compile(r"[.!?:;…]$")


def read(path: Path, options: ReadOptions) -> Converted:
    """A web page file (see the module docstring)."""
    return from_bytes(path.read_bytes(), options)


def from_bytes(data: bytes, options: ReadOptions, *, navigation: bool = True) -> Converted:
    """A web page from its bytes; ``Skip("navigation only")`` for a page that is only links,
    unless ``navigation`` is False (an e-mail's HTML body is the message, whatever its links)."""
    import lxml.html
    from lxml import etree

    too_long_for(data, options.max_chars)
    page, encoding = decode_page(data)
    check_length(page, options.max_chars * 20)  # markup included: a page's text is far shorter
    page = _XML_DECLARATION.sub("", page, count=1)
    if not page.strip():
        raise Skip("empty", "no text")
    meta = _metadata(page)
    # huge_tree: libxml2 otherwise drops what lies deeper than 255 elements (unclosed tags)
    try:
        root = lxml.html.document_fromstring(page, parser=lxml.html.HTMLParser(huge_tree=True))
    except etree.ParserError:  # nothing but comments or a doctype
        raise Skip("empty", "no text") from None
    title_element = root.find(".//title")
    page_title = " ".join(title_element.text_content().split()) if title_element is not None else ""
    _prune(root)
    content, how = _main_content(root)
    assembler = BoundedAssembler(options.max_chars)
    try:
        _Walker(assembler).container(content, depth=0)
    except RecursionError:
        raise Skip("corrupt", "block elements nested too deep to read (hundreds of levels)") from None
    converted = assembler.result("html", date=meta.get("date") or None,
                                 metadata={"encoding": encoding, "extracted": how})
    nav = navigation_only(content, converted) if navigation else None
    if nav is not None:
        raise Skip("navigation only", nav)
    converted = drop_trailing_links(content, converted)
    headings = [converted.text[b.start:b.end] for b in converted.blocks if b.kind == "heading"]
    top = min((b.level for b in converted.blocks if b.kind == "heading"), default=0)
    first_top = next((converted.text[b.start:b.end] for b in converted.blocks
                      if b.kind == "heading" and b.level == top), None)
    converted.title = choose_title(page_title, first_top, headings,
                                   converted.text[:1000], meta.get("sitename"))
    return converted


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


def choose_title(declared: str | None, first_heading: str | None, headings: list[str],
                 opening: str, sitename: str | None = None) -> str | None:
    """The page's title: the declared one (``<title>``), unless it is a placeholder and the page
    has a top heading to take instead.

    A declared title of parts ("Sophämtning | Exempelby kommun") keeps the part that is one of
    the page's headings, else loses a part that is the site's name. A declared title is a
    placeholder when it is empty, a generic word ("Untitled", "Index", "Startsida", ...), a file
    name (``rapport.html``), the site's name alone, or a single word of at most 12 characters
    that neither any heading nor the page's opening text uses (a generator's or a project's
    tag such as "tech"). A one-word title the page does use ("Avfall" over a page about avfall)
    is a real title. (trafilatura's metadata prefers a page's only ``h1`` to its ``<title>``,
    and a book of many ``h1`` got its placeholder ``<title>``: neither is this rule.)
    """
    declared = " ".join((declared or "").split())
    first_heading = " ".join((first_heading or "").split()) or None
    site = " ".join((sitename or "").split()).casefold()
    parts = [p for p in _TITLE_PARTS.split(declared) if p]
    if len(parts) > 1:
        known = {" ".join(h.split()).casefold() for h in headings}
        named = [p for p in parts if p.casefold() in known]
        rest = [p for p in parts if p.casefold() != site]
        if named:
            declared = named[0]
        elif site and len(rest) == 1:
            declared = rest[0]
    if not declared:
        return first_heading
    folded = declared.casefold()
    placeholder = (
        folded in _PLACEHOLDER_TITLES
        or bool(_FILE_NAME.match(declared))
        or (bool(site) and folded == site)
        or (" " not in declared and len(declared) <= 12
            and folded not in " ".join([*headings, opening]).casefold())
    )
    return first_heading if placeholder and first_heading else declared


def navigation_only(content: Any, converted: Converted) -> str | None:
    """Why a page is only navigation, or None when it has content.

    A page is navigation when it has at least ``NAV_MIN_LINKS`` links, they carry
    ``NAV_LINK_SHARE`` or more of its text, and ``NAV_LINK_BLOCKS`` or more of its paragraphs,
    list items and table rows are links and little else, or index entries (a term and its
    links: see ``_link_only``), and the prose among them (other blocks of six words or more)
    is at most ``NAV_PROSE_SHARE`` of the link text (or ``NAV_LONG_LIST_PROSE`` characters
    before a list of ``NAV_LONG_LIST`` entries or more): an index of terms, a table of contents,
    a list of links, with at most a line or two of introduction. A page with a paragraph that
    answers something and a list of related links is content (its closing links are dropped).
    A page of prose with many links inside its sentences, a glossary (each term a link with its
    explanation), or a short page that links to a few others is content.
    """
    text_chars = _chars(converted.text)
    links = _links(content)
    if len(links) < NAV_MIN_LINKS or not text_chars:
        return None
    link_chars = sum(_chars(a.text_content()) for a in links)
    if link_chars < NAV_LINK_SHARE * text_chars:
        return None
    flags = _link_only(links, converted, entries=True)
    blocks = [(converted.text[b.start:b.end], only)
              for b, only in zip(converted.blocks, flags, strict=True) if b.kind != "heading"]
    entries = sum(only for _, only in blocks)
    if not blocks or entries < NAV_LINK_BLOCKS * len(blocks):
        return None
    prose = sum(_chars(body) for body, only in blocks if not only and len(body.split()) >= 6)
    long_list = entries >= NAV_LONG_LIST  # a table of contents with its paragraph or two of intro
    if prose > max(NAV_PROSE_SHARE * link_chars, NAV_LONG_LIST_PROSE if long_list else 0):
        return None
    return (f"{entries} of {len(blocks)} blocks are links, {len(links)} links hold "
            f"{link_chars / text_chars:.0%} of the text")


def drop_trailing_links(content: Any, converted: Converted) -> Converted:
    """``converted`` without the run of link-only blocks that ends it ("related topics", "see
    also", "next page"), nor the short label before the run ("Närliggande ämnen"). Such a run
    answers nothing and would join the page's last passage."""
    flags = _link_only(_links(content), converted)
    blocks = converted.blocks
    keep = len(blocks)
    # paragraphs and list items only: a table's rows of links (documents to download) stay
    while keep and flags[keep - 1] and blocks[keep - 1].kind in ("paragraph", "list_item"):
        keep -= 1
    if keep == len(blocks):
        return converted
    label = blocks[keep - 1] if keep else None
    if label is not None and label.kind in ("heading", "paragraph"):
        body = converted.text[label.start:label.end]
        if len(body.split()) <= 4 and not _SENTENCE_END.search(body):
            keep -= 1
    if keep == 0:  # the page is nothing but links: keep it, navigation_only judges it
        return converted
    converted.text = converted.text[:blocks[keep - 1].end]
    converted.blocks = blocks[:keep]
    return converted


def _links(content: Any) -> list[Any]:
    return [a for a in content.iter("a") if a.get("href") is not None]


def _chars(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _link_only(links: list[Any], converted: Converted, *, entries: bool = False) -> list[bool]:
    """For each block: whether it is a link and little else (at most 20 % of its characters
    outside the texts of the page's links). With ``entries``, also an index entry: a short
    block (at most ``NAV_ENTRY_WORDS`` words) that holds a link and is not a sentence ("Beskära,
    Verktyget Beskär")."""
    if not links:
        return [False] * len(converted.blocks)
    texts = sorted({" ".join(a.text_content().split()) for a in links}, key=len, reverse=True)
    flags = []
    for block in converted.blocks:
        body = rest = converted.text[block.start:block.end]
        for link in texts:
            if link and link in rest:
                rest = rest.replace(link, "")
        only = _chars(rest) <= 0.2 * _chars(body)
        entry = (entries and rest != body and len(body.split()) <= NAV_ENTRY_WORDS
                 and not _SENTENCE_END.search(body))
        flags.append(only or entry)
    return flags


def _metadata(page: str) -> dict[str, str | None]:
    """Date and site name from trafilatura's metadata extraction."""
    from trafilatura.metadata import extract_metadata
    from trafilatura.settings import set_date_params

    try:
        # dates the page states in its markup, not years guessed from prose
        found = extract_metadata(page, date_config=set_date_params(extensive=False),
                                 extensive=False)
    except Exception:  # metadata is a bonus: a page trafilatura trips on is read all the same
        logger.debug("no metadata from trafilatura", exc_info=True)
        return {}
    return {"date": found.date, "sitename": found.sitename}


def _prune(root: Any) -> None:
    """Remove what a reader does not see or does not read as content (module docstring)."""
    for switch in root.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' switchinline ')"
                             " or contains(concat(' ', normalize-space(@class), ' '), ' switch ')]"):
        # LibreOffice's help: one variant per operating system or per module, all hidden until
        # its script shows one. Of a system switch the default variant is what readers on
        # Linux and Windows see (Ctrl, not the Mac's Command); which module a page is read in,
        # the file does not say, so a module switch shows nothing, as without the script.
        variants = [c for c in switch if isinstance(c.tag, str)]
        others = {word for c in variants if not (c.get("id") or "").startswith("default")
                  for word in (c.get("class") or "").upper().split()}
        if others and others <= _SYSTEMS:
            for child in variants:
                if (child.get("id") or "").startswith("default"):
                    child.attrib.pop("hidden", None)
    doomed = []
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments, processing instructions
            doomed.append(element)
            continue
        if _not_content(element, element.tag.lower()):
            doomed.append(element)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the element's tail text


def _not_content(element: Any, tag: str) -> bool:
    """Whether ``element`` is invisible, a form control or site furniture (module docstring)."""
    return (tag in _INVISIBLE or tag in _CONTROLS or tag in _CHROME_TAGS
            or element.get("hidden") is not None
            or bool(_HIDDEN_STYLE.search(element.get("style") or ""))
            or (element.get("role") or "").lower() in _CHROME_ROLES
            or (tag == "header" and not _inside_content(element))
            or (tag == "a" and not _PERMALINK_CLASSES.isdisjoint((element.get("class") or "").split()))
            or (tag not in _INLINE and tag not in ("html", "body", "main")
                and _chrome_named(element)))


def _inside_content(element: Any) -> bool:
    return any(a.tag in ("main", "article") or a.get("role") == "main"
               for a in element.iterancestors() if isinstance(a.tag, str))


def _chrome_named(element: Any) -> bool:
    words = _CHROME_CLASS_WORDS.split(f"{element.get('class', '')} {element.get('id', '')}".lower())
    return any(word in _CHROME_WORDS for word in words if word)


def _main_content(root: Any) -> tuple[Any, str]:
    """The element holding the page's main content, and how it was found."""
    for xpath in _MAIN_XPATHS:
        found = [e for e in root.xpath(xpath) if _has_text(e)]
        if found:
            return found[0], "main content"
    articles = [e for e in root.iter("article") if _has_text(e)]
    if len(articles) == 1:
        return articles[0], "main content"
    body = root.find("body")
    return (body if body is not None else root), "whole page"


def _has_text(element: Any) -> bool:
    return bool(element.text_content().strip())


class _Walker:
    """Turns the pruned tree into blocks (see the module docstring)."""

    def __init__(self, assembler: BoundedAssembler) -> None:
        self.out = assembler

    def container(self, element: Any, depth: int) -> None:
        """A block container: each block child is a block of its own; inline text between
        them forms paragraphs (a ``<br>`` ends one)."""
        buffer = [element.text or ""]

        def flush() -> None:
            if buffer:
                self.out.add("paragraph", "".join(buffer))
                buffer.clear()

        for child in element:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag in _INLINE:
                buffer.append(inline_text(child))
            elif tag == "br":
                flush()
            elif tag:
                flush()
                self.block(child, tag, depth)
            buffer.append(child.tail or "")
        flush()

    def block(self, element: Any, tag: str, depth: int) -> None:
        if tag in _HEADINGS:
            credit = _CREDITS.intersection((element.get("class") or "").lower().split())
            self.out.add("paragraph" if credit else "heading", inline_text(element),
                         0 if credit else _HEADINGS[tag])
        elif tag == "p":
            self.out.add("paragraph", inline_text(element))
        elif tag in _LISTS:
            self.list(element, depth + 1)
        elif tag == "dl":
            for child in element:
                ctag = child.tag.lower() if isinstance(child.tag, str) else ""
                if ctag == "dt":
                    self.out.add("paragraph", inline_text(child))
                elif ctag:
                    self.container(child, depth)
        elif tag == "table":
            self.table(element, depth)
        elif tag in ("pre", "listing", "xmp", "plaintext"):
            self.out.add("preformatted", _preformatted(element), keep_lines=True)
        elif tag == "hr":
            pass
        else:
            self.container(element, depth)

    def list(self, element: Any, depth: int) -> None:
        """Each ``li`` is a list item at ``depth``: its text without its nested blocks,
        which follow it (nested lists one level deeper)."""
        for child in element:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag != "li":
                if tag:
                    self.block(child, tag, depth - 1)
                continue
            nested = [sub for sub in child if isinstance(sub.tag, str) and sub.tag in _NESTED]
            self.out.add("list_item", inline_text(child, skip=set(nested)), depth)
            for sub in nested:
                self.block(sub, sub.tag.lower(), depth)

    def table(self, element: Any, depth: int) -> None:
        """A data table as rows (``cell | cell``); a layout table (a cell holding headings,
        lists or another table) as the containers its cells are."""
        rows = [row for row in element.iter("tr") if _nearest_table(row) is element]
        cells = [[c for c in row if isinstance(c.tag, str) and c.tag in ("td", "th")] for row in rows]
        layout = any(sub.tag in _HEADINGS or sub.tag in ("table", "ul", "ol", "dl", "pre")
                     for row in cells for cell in row for sub in cell.iter() if sub is not cell)
        for caption in element.iter("caption"):
            self.out.add("paragraph", inline_text(caption))
        for row in cells:
            if layout:
                for cell in row:
                    self.container(cell, depth)
            else:
                texts = [" ".join(inline_text(cell).split()) for cell in row]
                self.out.add("table_row", " | ".join(t for t in texts if t))


def _nearest_table(element: Any) -> Any:
    return next((a for a in element.iterancestors() if a.tag == "table"), None)


def inline_text(element: Any, skip: set[Any] | frozenset[Any] = frozenset()) -> str:
    """The text of ``element`` in reading order: inline children as they are, a line break
    and any block child set off by spaces, children in ``skip`` left out (their tails kept).

    Iterative, not recursive: pages of unclosed ``<font>`` or ``<b>`` tags nest thousands deep."""
    from lxml import etree

    parts: list[str] = []
    walk = etree.iterwalk(element, events=("start", "end"))
    for event, node in walk:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if node is element:
            parts.append(node.text or "" if event == "start" else "")
            continue
        left_out = node in skip or not tag  # comments and processing instructions have no tag
        if event == "start":
            if left_out:
                walk.skip_subtree()  # its "end" event still comes
            else:
                parts.append(("" if tag in _INLINE else " ") + (node.text or ""))
        else:
            if not left_out and tag not in _INLINE:
                parts.append(" ")
            parts.append(node.tail or "")
    return "".join(parts)


def _preformatted(element: Any) -> str:
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append("\n" if child.tag == "br" else _preformatted(child))
        parts.append(child.tail or "")
    return "".join(parts)
