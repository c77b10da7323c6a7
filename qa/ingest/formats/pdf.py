"""PDF: the text layer page by page, lines joined into paragraphs, page furniture dropped.

pypdfium2 (Apache-2.0/BSD-3-Clause; Google's PDFium) reads the text layer. PDFium gives the
text of a page line by line; each line's position and font size come from its characters.
From them:

- running headers and footers (a line in the top or bottom margin that recurs, digits aside,
  on at least half of the pages, or that carries a number running with the page number) and
  bare page numbers there ("3", "Sida 3 av 12", "- 3 -") are dropped;
- lines are joined into paragraphs: a new paragraph starts after a gap larger than the usual
  line spacing, after a short line that ends a sentence, at a first-line indent, at a change
  of font size, at a bullet or a number that starts a list item; words hyphenated at a line
  end are joined again only when that is safe (``lines.join_lines``);
- lines in a font clearly larger than the body text are headings, the largest size level 1.

Each page's blocks are one ``PageSpan``. A page with (almost) no text that holds an image is a
scanned page: it is recognised by Tesseract when ``options.ocr == "auto"`` and Tesseract with
the language's model is installed (``ocr.py``); otherwise the file is ``Skip("no text layer")``
when no page has text, and indexed with a warning naming the pages left out when some do. A
PDF that needs a password is ``Skip("encrypted")``; one with an empty user password opens. A PDF
of more than ``options.max_pages`` pages is ``Skip("too large")`` before any page is read, and so
is one whose compressed streams inflate past ``options.max_unzipped_bytes`` (``pdf_streams``).
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest import isolation
from qa.ingest.converted import BlockKind, Converted, Skip
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.lines import join_lines
from qa.ingest.formats.pdf_streams import check_streams

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

logger = logging.getLogger(__name__)

MIN_TEXT_CHARS = 16  # fewer non-space characters than this: the page has no text layer
MARGIN_SHARE = 0.12  # top and bottom share of the page where headers and footers sit
HEADING_RATIO = 1.15  # a font this much larger than the body text's is a heading's
OCR_PROGRESS_EVERY = 10  # pages

_PAGE_NUMBER = re.compile(
    r"^(?:(?:sida|sid\.?|s\.|page|p\.)\s*)?[-–—(]?\s*(?:\d{1,4}|[ivxlcdm]{1,7})\s*[-–—)]?"
    r"(?:\s*(?:av|of|/|\()\s*\d{1,4}\s*\)?)?$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^(?:[•●▪■◦‣∙·○□➢►✓\-–*]\s+|\(?\d{1,3}[.)]\s+|[a-zA-Z][.)]\s+)")
_BULLET_SYMBOL = re.compile(r"^[•●▪■◦‣∙·○□➢►✓\-–*]\s+")
_TERMINAL = re.compile(r"[.!?:;)”\"»]$")
_BLANK_TITLES = {"", "untitled", "(unspecified)", "(anonymous)", "unknown"}
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})")


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    y: float  # baseline, PDF units from the bottom
    size: float
    bold: bool = False


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_Line] = field(default_factory=list)
    ocr: list[str] | None = None  # paragraphs read by OCR
    scanned: bool = False  # no text layer, but an image


def read(path: Path, options: ReadOptions) -> Converted:
    """A PDF file (see the module docstring)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    check_streams(path, options.max_unzipped_bytes)
    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise Skip("encrypted", "the PDF needs a password to open") from None
        if exc.err_code == pdfium_c.FPDF_ERR_SECURITY:
            raise Skip("encrypted", "the PDF's encryption is not supported") from None
        raise
    try:
        if len(pdf) > options.max_pages:
            raise Skip("too large", f"{len(pdf):,} pages, the limit is {options.max_pages:,} "
                       "(QA_MAX_PDF_PAGES)")
        pages = _read_pages(pdf, options)
        title, date = _metadata(pdf)
    finally:
        pdf.close()
    return _assemble(pages, options, title, date)


def _read_pages(pdf, options: ReadOptions) -> list[_Page]:
    """Every page's lines (or OCR paragraphs), stopping once the text passes ``max_chars``."""
    from qa.ingest.formats import ocr

    pages: list[_Page] = []
    total = 0
    scanned = []
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            record = _Page(number=index + 1, height=_page_height(page))
            textpage = page.get_textpage()
            try:
                record.lines = _lines(textpage)
            finally:
                textpage.close()
            chars = sum(len(line.text) - line.text.count(" ") for line in record.lines)
            if chars < MIN_TEXT_CHARS and _has_image(page):
                record.scanned = True
                scanned.append(index)
            total += chars
            if total > options.max_chars:
                raise Skip("too large", f"more than {options.max_chars:,} characters of text")
            pages.append(record)
        finally:
            page.close()
    if scanned and options.ocr == "auto":
        # Run in a worker (qa.ingest.isolation), the file's time budget grows by each page's.
        isolation.more_time(len(scanned) * options.ocr_seconds_per_page)
    if scanned and options.ocr == "auto" and ocr.available(options.ocr_language):
        for done, index in enumerate(scanned, start=1):
            if done % OCR_PROGRESS_EVERY == 0:
                logger.info("OCR: page %d of %d scanned pages", done, len(scanned))
            page = pdf[index]
            try:
                pages[index].ocr = ocr.recognise(page, options.ocr_language, options.ocr_dpi,
                                                 options.ocr_seconds_per_page)
            except ocr.OcrError as exc:
                logger.warning("page %d: %s", index + 1, exc)
            finally:
                page.close()
    return pages


def _page_height(page) -> float:
    _, bottom, _, top = page.get_cropbox()
    return float(top - bottom) or float(page.get_height())


def _has_image(page) -> bool:
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3))


def _lines(textpage) -> list[_Line]:
    """The page's lines as PDFium orders them, with position, font size and boldness."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    text = textpage.get_text_range()
    lines: list[_Line] = []
    x, y = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    # PDFium joins a word hyphenated at a line end into one line, the hyphen turned into
    # U+FFFE (U+0002 in older versions): such a line is split again, the joining is ours.
    for match in re.finditer(r"[^\r\n\ufffe\x02]+[\ufffe\x02]?", text):
        raw = match.group()
        stripped = raw.strip()
        if not stripped:
            continue
        first = match.start() + (len(raw) - len(raw.lstrip()))
        last = match.start() + len(raw.rstrip()) - 1
        letter = next((first + i for i, ch in enumerate(stripped) if ch.isalnum()), first)
        first_char = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, first)
        last_char = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, last)
        letter_char = pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage, letter)
        if min(first_char, last_char, letter_char) < 0:
            continue  # PDFium cannot place it: not text of the page's content
        pdfium_c.FPDFText_GetCharOrigin(textpage, first_char, x, y)
        x0, baseline = x.value, y.value
        pdfium_c.FPDFText_GetCharBox(textpage, last_char, left, right, bottom, top)
        size = pdfium_c.FPDFText_GetFontSize(textpage, letter_char)
        line = _Line(re.sub(r"[\ufffe\x02]$", "-", stripped), x0, max(right.value, x0), baseline,
                     round(size * 2) / 2, _is_bold(textpage, letter_char) and _is_bold(textpage, last_char))
        previous = lines[-1] if lines else None
        if previous and abs(previous.y - line.y) < 0.3 * line.size and line.x0 >= previous.x1 - 1:
            previous.text += " " + line.text  # the same line, split by PDFium
            previous.x1 = line.x1
        else:
            lines.append(line)
    return lines


def _is_bold(textpage, index: int) -> bool:
    import ctypes

    import pypdfium2.raw as pdfium_c

    if pdfium_c.FPDFText_GetFontWeight(textpage, index) >= 600:
        return True
    flags = ctypes.c_int()
    size = pdfium_c.FPDFText_GetFontInfo(textpage, index, None, 0, flags)
    if size <= 0:
        return False
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFText_GetFontInfo(textpage, index, buffer, size, flags)
    name = buffer.value.decode("utf-8", errors="ignore").lower()
    return "bold" in name or "black" in name or "heavy" in name


def _metadata(pdf) -> tuple[str | None, str | None]:
    """Title and creation date (ISO) from the PDF's document information, where present."""
    info = pdf.get_metadata_dict(skip_empty=True)
    title = " ".join(str(info.get("Title", "")).split())
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - |\.docx?$", "", title).strip()
    match = _PDF_DATE.match(str(info.get("CreationDate", "")).strip())
    date = None
    if match:
        year, month, day = map(int, match.groups())
        if 1 <= month <= 12 and 1 <= day <= 31:
            date = f"{year:04d}-{month:02d}-{day:02d}"
    return (title if title.lower() not in _BLANK_TITLES else None), date


def _assemble(pages: list[_Page], options: ReadOptions, title: str | None, date: str | None) -> Converted:
    from qa.ingest.formats import ocr

    furniture = _furniture(pages)
    _drop_ocr_furniture(pages)
    body_lines = [line for page in pages for line in page.lines if id(line) not in furniture]
    body_size = _body_size(body_lines)
    heading_levels = _heading_levels(body_lines, body_size)
    pitch = _line_pitch(body_lines, body_size)
    assembler = BoundedAssembler(options.max_chars)
    ocr_pages: list[int] = []
    ocr_empty: list[int] = []
    unread: list[int] = []
    for page in pages:
        assembler.start_page(page.number)
        if page.ocr is not None:
            for paragraph in page.ocr:
                assembler.add("paragraph", paragraph)
            (ocr_pages if page.ocr else ocr_empty).append(page.number)
        elif page.scanned:
            unread.append(page.number)
        else:
            lines = [line for line in page.lines if id(line) not in furniture]
            _page_blocks(lines, assembler, heading_levels, body_size, pitch)
        assembler.end_page()
    metadata: dict = {"page_count": len(pages)}
    if ocr_pages:
        metadata["ocr_pages"] = ocr_pages
    warnings = []
    if ocr_empty and not assembler.blocks and not unread:
        raise Skip("no text layer", f"OCR found no text on {len(ocr_empty)} scanned pages")
    if ocr_empty:
        warnings.append(f"OCR found no text on pages {_ranges(ocr_empty)}")
    if unread:
        why = "OCR is off" if options.ocr == "off" else ocr.install_hint(options.ocr_language)
        if not assembler.blocks:
            raise Skip("no text layer", f"{len(unread)} pages need OCR: {why}")
        which = f"pages {_ranges(unread)} have" if len(unread) > 1 else f"page {_ranges(unread)} has"
        warnings.append(f"{which} no text layer and {'were' if len(unread) > 1 else 'was'} not "
                        f"indexed ({why})")
    return assembler.result("pdf", title=title, date=date, metadata=metadata, warnings=warnings)


def _furniture(pages: list[_Page]) -> set[int]:
    """``id``s of the header and footer lines, among the two outermost lines in the top and
    bottom margins of each page: a bare page number; a line that recurs (digits aside) on
    half the pages; a line that starts or ends with a number that runs with the page number
    on half the pages ("Kapitel 2: Avgifter 14" on page 16, "... 15" on page 17)."""
    edges: dict[int, list[_Line]] = {}
    keys: Counter[str] = Counter()
    offsets: Counter[int] = Counter()
    text_pages = [page for page in pages if page.lines]
    for page in text_pages:
        ordered = sorted(page.lines, key=lambda line: -line.y)
        top = [line for line in ordered[:2] if line.y > page.height * (1 - MARGIN_SHARE)]
        bottom = [line for line in ordered[-2:] if line.y < page.height * MARGIN_SHARE]
        edge = top + [line for line in bottom if line not in top]
        edges[page.number] = edge
        keys.update({_furniture_key(line.text) for line in edge})
        offsets.update({number - page.number for line in edge
                        for number in _edge_numbers(line.text)})
    needed = max(2, math.ceil(len(text_pages) / 2))
    repeated = {key for key, count in keys.items() if count >= needed}
    running = {offset for offset, count in offsets.items() if count >= needed}
    return {id(line) for number, edge in edges.items() for line in edge
            if _PAGE_NUMBER.match(line.text) or _furniture_key(line.text) in repeated
            or any(value - number in running for value in _edge_numbers(line.text))}


def _edge_numbers(text: str) -> set[int]:
    """The numbers a line starts or ends with (where a printed page number sits)."""
    found = re.findall(r"^\d{1,4}\b|\b\d{1,4}$", text.strip())
    return {int(value) for value in found}


def _drop_ocr_furniture(pages: list[_Page]) -> None:
    """The same for OCR'd pages, whose first and last paragraphs are the margins' lines."""
    scanned = [page for page in pages if page.ocr]
    keys: Counter[str] = Counter()
    for paragraphs in [page.ocr for page in scanned if page.ocr]:
        keys.update({_furniture_key(paragraphs[0]), _furniture_key(paragraphs[-1])})
    needed = max(2, math.ceil(len(scanned) / 2))
    for page in scanned:
        for index in (-1, 0):
            if page.ocr and (_PAGE_NUMBER.match(page.ocr[index])
                             or keys[_furniture_key(page.ocr[index])] >= needed):
                del page.ocr[index]


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _body_size(lines: list[_Line]) -> float:
    """The font size most of the text is set in."""
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _heading_levels(lines: list[_Line], body_size: float) -> dict[float, int]:
    """Font size → heading level for sizes clearly above the body's (largest is level 1)."""
    sizes = sorted({line.size for line in lines if line.size >= body_size * HEADING_RATIO
                    and len(line.text) < 200}, reverse=True)
    return {size: min(level, 6) for level, size in enumerate(sizes, start=1)}


def _line_pitch(lines: list[_Line], body_size: float) -> float:
    """The usual distance between the baselines of two lines of one body paragraph."""
    gaps = [a.y - b.y for a, b in itertools.pairwise(lines)
            if a.size == b.size == body_size and body_size * 0.9 < a.y - b.y < body_size * 2.5]
    return statistics.median(gaps) if gaps else body_size * 1.2


def _page_blocks(lines: list[_Line], assembler: BoundedAssembler, heading_levels: dict[float, int],
                 body_size: float, pitch: float) -> None:
    """One page's lines into heading, paragraph and list-item blocks."""
    if not lines:
        return
    body = [line for line in lines if line.size not in heading_levels]
    left = min((line.x0 for line in body), default=min(line.x0 for line in lines))
    right = _percentile([line.x1 for line in body] or [line.x1 for line in lines], 0.9)
    block: list[_Line] = []
    kind: BlockKind = "paragraph"
    level = 0

    def flush() -> None:
        if not block:
            return
        if kind == "heading":
            assembler.add("heading", " ".join(line.text for line in block), level)
        else:
            texts = [line.text for line in block]
            if kind == "list_item":
                texts[0] = _BULLET_SYMBOL.sub("", texts[0])
            assembler.add(kind, join_lines(texts), level)
        block.clear()

    for line in lines:
        size = line.size
        heading = heading_levels.get(size, 0)
        previous = block[-1] if block else None
        gap = previous.y - line.y if previous else 0.0
        if heading:
            if not (kind == "heading" and level == heading and previous and 0 < gap < 2 * size):
                flush()
                kind, level = "heading", heading
        elif _BULLET.match(line.text) and len(line.text) > 2:
            flush()
            kind = "list_item"
            level = 1 + max(0, min(5, round((line.x0 - left) / max(2 * size, 1))))
        elif (previous is None or kind == "heading" or abs(previous.size - size) > 0.6
              or gap < -0.5 * size or gap > pitch * 1.35 + 0.5
              or (previous.x1 < right - 3 * size and _TERMINAL.search(previous.text))
              or (kind == "paragraph" and line.x0 > previous.x0 + size and line.x0 > left + size)):
            flush()
            kind, level = "paragraph", 0
        block.append(line)
    flush()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` → ``"1-3, 5"``."""
    parts: list[str] = []
    start = prev = numbers[0]
    for number in [*numbers[1:], None]:
        if number is not None and number == prev + 1:
            prev = number
            continue
        parts.append(f"{start}-{prev}" if prev > start else str(start))
        if number is not None:
            start = prev = number
    return ", ".join(parts)
