"""E-books (EPUB 2 and 3): the chapters in reading order, their headings as sections.

An EPUB is a zip archive: ``META-INF/container.xml`` names the package document (OPF), whose
manifest lists the book's files, whose spine gives the reading order, and whose metadata
holds the title and date. Those small XML files are read here with lxml; each chapter is an
XHTML page, read by the project's HTML reader (``html.from_bytes``), which already turns
``h1``-``h6``, paragraphs, lists, tables and preformatted text into blocks and decodes what
the page declares. EbookLib, the usual Python EPUB library, is AGPL-licensed, a burden for
public bodies that redistribute; what it would add over the few lines of OPF reading here is
writing EPUBs, which we never do.

Headings: a chapter's own ``h1``-``h6``; and because some producers (LibreOffice's EPUB
export among them) write headings as styled paragraphs, a paragraph whose text is the label
the book's table of contents (EPUB 3 ``nav``, or the EPUB 2 NCX) gives for that chapter
becomes a heading at the depth of that entry. The table of contents itself is not read as a
chapter. Spine entries that are not (X)HTML (an SVG cover, an image) have no text here.

DRM-protected books (``META-INF/encryption.xml`` naming a chapter) are ``Skip("encrypted")``;
font obfuscation alone does not stop reading. The zip archive is checked
(``zipped.check_zip``) before anything is unzipped.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urldefrag

from qa.ingest.converted import Converted, Skip
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.zipped import check_zip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_CONTAINER = "META-INF/container.xml"
_HTML_TYPES = {"application/xhtml+xml", "text/html", "application/xml"}
_NCX_TYPE = "application/x-dtbncx+xml"
_XML_SUFFIXES = (".xhtml", ".html", ".htm", ".xml")


def read(path: Path, options: ReadOptions) -> Converted:
    """An EPUB file (see the module docstring)."""
    check_zip(path, options.max_unzipped_bytes, "EPUB")
    from qa.ingest.formats import html

    with zipfile.ZipFile(path) as archive:
        book = _Book(archive)
        assembler = BoundedAssembler(options.max_chars)
        warnings = []
        for href in book.chapters():
            try:
                data = archive.read(href)
            except KeyError:
                warnings.append(f"chapter {href} is listed but missing from the archive")
                continue
            remaining = max(options.max_chars - assembler.length, 1)
            chapter = html.from_bytes(data, replace(options, max_chars=remaining))
            _add_chapter(chapter, book.toc.get(href, []), assembler)
    return assembler.result("epub", title=book.title, date=book.date, warnings=warnings,
                            metadata={"chapters": len(book.chapters())})


def _add_chapter(chapter: Converted, toc_labels: list[tuple[str, int]],
                 assembler: BoundedAssembler) -> None:
    """The chapter's blocks, a paragraph that is one of its table-of-contents labels made a
    heading of that entry's depth."""
    labels = {" ".join(label.split()).casefold(): depth for label, depth in toc_labels}
    for block in chapter.blocks:
        text = chapter.text[block.start:block.end]
        kind, level = block.kind, block.level
        if kind == "paragraph" and text.casefold() in labels:
            kind, level = "heading", labels.pop(text.casefold())
        assembler.add(kind, text, level, keep_lines=kind == "preformatted")


class _Book:
    """The package document of an EPUB: title, date, reading order, table of contents."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        from lxml import etree

        self._archive = archive
        self._etree = etree
        names = set(archive.namelist())
        if _CONTAINER not in names:
            raise Skip("corrupt", "not an EPUB file (no META-INF/container.xml)")
        container = self._xml(_CONTAINER)
        rootfiles = container.xpath("//*[local-name()='rootfile']/@full-path")
        if not rootfiles or rootfiles[0] not in names:
            raise Skip("corrupt", "not an EPUB file (its package document is missing)")
        self.opf = rootfiles[0]
        package = self._xml(self.opf)
        base = posixpath.dirname(self.opf)
        self.manifest: dict[str, tuple[str, str, str]] = {}  # id → (path, media type, properties)
        for item in package.xpath("//*[local-name()='manifest']/*[local-name()='item']"):
            href = item.get("href")
            if item.get("id") and href:
                self.manifest[item.get("id")] = (_join(base, href), item.get("media-type") or "",
                                                 item.get("properties") or "")
        spine = package.xpath("//*[local-name()='spine']")
        refs = spine[0].xpath("./*[local-name()='itemref']") if spine else []
        self._spine = [ref.get("idref") for ref in refs]
        self.title = _first_text(package, "title")
        date = _first_text(package, "date") or ""
        self.date = date[:10] if len(date) >= 10 and date[4] == "-" and date[7] == "-" else None
        self._chapters: list[str] | None = None
        self._check_encryption(names)
        self.toc = self._toc(package, spine[0] if spine else None)

    def chapters(self) -> list[str]:
        """Archive paths of the chapters in spine order (the nav document left out)."""
        if self._chapters is None:
            self._chapters = []
            for idref in self._spine:
                path, media_type, properties = self.manifest.get(idref or "", ("", "", ""))
                if not path or "nav" in properties.split():
                    continue
                if media_type in _HTML_TYPES or (not media_type and path.lower().endswith(_XML_SUFFIXES)):
                    self._chapters.append(path)
        return self._chapters

    def _xml(self, name: str):
        parser = self._etree.XMLParser(resolve_entities=False, no_network=True, recover=True,
                                       huge_tree=False)
        root = self._etree.fromstring(self._archive.read(name), parser)
        if root is None:
            raise Skip("corrupt", f"not a readable EPUB file ({name} is not XML)")
        return root

    def _check_encryption(self, names: set[str]) -> None:
        if "META-INF/encryption.xml" not in names:
            return
        encrypted = set(self._xml("META-INF/encryption.xml").xpath(
            "//*[local-name()='CipherReference']/@URI"))
        chapters = set(self.chapters())
        if any(unquote(uri) in chapters or _join(posixpath.dirname(self.opf), uri) in chapters
               for uri in encrypted):
            raise Skip("encrypted", "the EPUB's chapters are encrypted (DRM)")

    def _toc(self, package, spine) -> dict[str, list[tuple[str, int]]]:
        """Chapter path → the (label, depth) of the table-of-contents entries that point to it."""
        toc: dict[str, list[tuple[str, int]]] = {}
        nav = next((path for path, _, properties in self.manifest.values()
                    if "nav" in properties.split()), None)
        ncx = self.manifest.get(spine.get("toc") or "", ("",))[0] if spine is not None else ""
        ncx = ncx or next((path for path, media_type, _ in self.manifest.values()
                           if media_type == _NCX_TYPE), "")
        try:
            if nav:
                root = self._xml(nav)
                navs = root.xpath("//*[local-name()='nav']")
                toc_navs = [n for n in navs if any("toc" in v.split()
                                                   for k, v in n.attrib.items() if k.endswith("type"))]
                lists = [ol for n in (toc_navs or navs) for ol in n.xpath("./*[local-name()='ol']")]
                if lists:
                    self._nav_entries(lists[0], posixpath.dirname(nav), 1, toc)
            elif ncx:
                root = self._xml(ncx)
                for point in root.xpath("//*[local-name()='navMap']/*[local-name()='navPoint']"):
                    self._ncx_entries(point, posixpath.dirname(ncx), 1, toc)
        except (KeyError, Skip):  # a broken table of contents costs the headings it would give
            return {}
        return toc

    def _nav_entries(self, ol, base: str, depth: int, toc) -> None:
        for li in ol.xpath("./*[local-name()='li']"):
            for link in li.xpath("./*[local-name()='a']"):
                label = " ".join("".join(link.itertext()).split())
                if link.get("href") and label:
                    toc.setdefault(_join(base, link.get("href")), []).append((label, min(depth, 6)))
            for sub in li.xpath("./*[local-name()='ol']"):
                self._nav_entries(sub, base, depth + 1, toc)

    def _ncx_entries(self, point, base: str, depth: int, toc) -> None:
        label = " ".join(" ".join(point.xpath("./*[local-name()='navLabel']//text()")).split())
        src = point.xpath("./*[local-name()='content']/@src")
        if src and label:
            toc.setdefault(_join(base, src[0]), []).append((label, min(depth, 6)))
        for sub in point.xpath("./*[local-name()='navPoint']"):
            self._ncx_entries(sub, base, depth + 1, toc)


def _join(base: str, href: str) -> str:
    """The archive path of ``href`` (relative to ``base``, URL-encoded, maybe with #fragment)."""
    return posixpath.normpath(posixpath.join(base, unquote(urldefrag(href)[0]))).lstrip("/")


def _first_text(package, name: str) -> str | None:
    found = package.xpath(f"//*[local-name()='metadata']/*[local-name()='{name}']")
    for element in found:
        text = " ".join("".join(element.itertext()).split())
        if text:
            return text
    return None
