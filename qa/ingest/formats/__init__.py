"""Format readers: one file (PDF, DOCX, ODT, HTML, Markdown, plain text) into one ``Converted``.

``convert(path, options)`` is the one entry point. It checks what can be checked without a
library (size, emptiness, suffix, what the first bytes say), picks the reader of the format,
and turns whatever a reader's library raises into ``Skip("corrupt", ...)``: a bad file never
stops a build with a traceback. Each reader lives in its own module and imports its library
there, so importing this package costs nothing and a missing optional library only affects
files of its format.

Limits (``ReadOptions``) bound time and memory whatever the input: the file size is checked
before a byte is read, the unzipped size of DOCX/ODT before anything is unzipped, and the text
length while it is assembled.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from qa.ingest.converted import Converted, Skip

logger = logging.getLogger(__name__)

#: Suffix (lower case) → format name (``Converted.format``).
SUFFIXES: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".odt": "odt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".epub": "epub",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".ods": "ods",
    ".rtf": "rtf",
    ".eml": "eml",
}

_MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "html": "text/html",
    "md": "text/markdown",
    "txt": "text/plain",
    "epub": "application/epub+zip",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "rtf": "application/rtf",
    "eml": "message/rfc822",
}

_READERS: dict[str, str] = {  # format → module of this package
    "pdf": "pdf", "docx": "docx", "odt": "odt", "html": "html", "md": "markdown", "txt": "text",
    "epub": "epub", "pptx": "pptx", "xlsx": "xlsx", "ods": "ods", "rtf": "rtf", "eml": "eml",
}

_TEXT_FORMATS = ("txt", "md", "html")  # formats whose content is sniffed before reading


@dataclass(frozen=True)
class ReadOptions:
    """How far a reader may go.

    ``max_bytes``: larger files are skipped unread. ``max_chars``: a document whose text grows
    past this is skipped as soon as it does. ``max_unzipped_bytes``: a DOCX/ODT whose members
    would inflate past this is skipped before anything is unzipped (a zip bomb). ``max_pages``:
    a PDF with more pages is skipped before any page is read (each page costs time, a scanned
    one seconds of OCR, whatever its text). ``ocr``:
    ``"auto"`` recognises pages without a text layer when Tesseract with ``ocr_language`` is
    installed, ``"off"`` never does; ``ocr_dpi`` is the resolution pages are rendered at.

    Read through ``qa.ingest.sources`` (``read_files``), each file is converted in a worker
    process (``qa.ingest.isolation``) that is stopped after ``max_seconds_per_file`` seconds
    (plus ``ocr_seconds_per_page`` for each page it recognises, also Tesseract's limit per
    page) or once it holds more than ``max_convert_memory_mb`` MiB; ``convert_workers`` files
    are converted at once (0 = one per CPU).
    """

    max_bytes: int = 100 * 2**20
    max_chars: int = 10_000_000
    max_unzipped_bytes: int = 200 * 2**20
    max_pages: int = 5000
    ocr: Literal["auto", "off"] = "auto"
    ocr_language: str = "swe"
    ocr_dpi: int = 300
    max_seconds_per_file: float = 120.0
    ocr_seconds_per_page: float = 120.0
    max_convert_memory_mb: float = 2048.0
    convert_workers: int = 0


def format_of(path: Path) -> str | None:
    """The format a file's suffix names, or None when the suffix is not one we read."""
    return SUFFIXES.get(path.suffix.lower())


def media_type(fmt_or_path: str | Path) -> str:
    """The content type of an original file, from its format name (``"pdf"``), its suffix
    (``".pdf"``) or its path; ``application/octet-stream`` when unknown."""
    key = fmt_or_path
    if isinstance(key, Path) or "." in key:
        key = SUFFIXES.get(Path(str(key)).suffix.lower() or str(key).lower(), "")
    return _MEDIA_TYPES.get(key, "application/octet-stream")


# Python codec names → the labels browsers know (WHATWG Encoding); codecs they lack get none.
_CHARSETS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "utf-16": "utf-16", "utf-16-le": "utf-16le",
             "utf-16-be": "utf-16be", "cp1252": "windows-1252", "latin-1": "iso-8859-1",
             "iso8859-15": "iso-8859-15", "mac-roman": "macintosh"}


def content_type(fmt_or_path: str | Path, encoding: str | None = None) -> str:
    """``media_type`` with ``; charset=…`` for text read in ``encoding`` (a Python codec name),
    so that a browser shows a downloaded Latin-1 text file with its å, ä and ö."""
    media = media_type(fmt_or_path)
    charset = _CHARSETS.get((encoding or "").lower().replace("_", "-"))
    if charset and media.startswith("text/"):
        return f"{media}; charset={charset}"
    return media


def convert(path: Path, options: ReadOptions | None = None) -> Converted:
    """Read one file into a ``Converted``, or raise ``Skip`` with the reason it is not indexed.

    Checks, in order: the file exists and its size is within ``max_bytes`` (before reading),
    it is not empty, its suffix is one we read; then text formats are sniffed (an HTML page
    saved as ``.txt`` is read as HTML, a binary file with a text suffix is ``Skip("binary")``),
    and the reader of the format converts it. Any exception of a reader's library becomes
    ``Skip("corrupt", <short reason>)`` (the traceback is logged at debug level).
    """
    options = options or ReadOptions()
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Skip("unreadable", exc.strerror or type(exc).__name__) from None
    if not path.is_file():
        raise Skip("unreadable", "not a regular file")
    if size > options.max_bytes:
        raise Skip("too large", f"{_mb(size)}, the limit is {_mb(options.max_bytes)}")
    if size == 0:
        raise Skip("empty", "0 bytes")
    fmt = format_of(path)
    if fmt is None:
        raise Skip("unsupported type", path.suffix.lower() or "(no suffix)")
    try:
        if fmt in _TEXT_FORMATS:
            converted = _convert_text(path, fmt, options)
        else:
            converted = _reader(fmt).read(path, options)
    except (Skip, MemoryError):  # a MemoryError is no sign of a corrupt file
        raise
    except ImportError as exc:
        raise Skip("unreadable", _install_hint(fmt, exc)) from None
    except Exception as exc:  # a library's error on a bad file: the file is skipped, not the build
        logger.debug("cannot read %s as %s", path, fmt, exc_info=True)
        raise Skip("corrupt", _short_reason(fmt, exc)) from None
    if len(converted.text) > options.max_chars:
        raise Skip("too large", f"more than {options.max_chars:,} characters of text")
    if not converted.text.strip():
        raise Skip("empty", "no text")
    return converted


def _convert_text(path: Path, fmt: str, options: ReadOptions) -> Converted:
    """Text formats: read the bytes once, sniff what they are, hand them to the right reader."""
    from qa.ingest.formats import text

    data = path.read_bytes()
    text.reject_binary(data)
    if fmt != "html" and text.looks_like_html(data):
        fmt = "html"
    return _reader(fmt).from_bytes(data, options)


def _reader(fmt: str):
    return importlib.import_module(f"{__name__}.{_READERS[fmt]}")


_PACKAGES = {"pdf": "pypdfium2", "docx": "python-docx", "odt": "odfpy", "html": "trafilatura",
             "md": "markdown-it-py", "txt": "charset-normalizer",
             "epub": "lxml", "pptx": "python-pptx", "xlsx": "openpyxl", "ods": "lxml",
             "rtf": "striprtf", "eml": "trafilatura"}


def _install_hint(fmt: str, exc: ImportError) -> str:
    return (f"reading .{fmt} files needs the {_PACKAGES.get(fmt, exc.name)!s} package "
            f"({exc.name} is missing): pip install {_PACKAGES.get(fmt, exc.name)}")


def _short_reason(fmt: str, exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"not a readable {fmt.upper()} file ({type(exc).__name__}{': ' + message if message else ''})"


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"
