"""Plain text in any common encoding, decoded so that Swedish å, ä, ö come out right.

Decoding goes from certain to inferred: a byte-order mark (UTF-8, UTF-16, UTF-32) decides;
else the UTF-16 pattern of NUL bytes (UTF-16 without a mark); else strict UTF-8 (which
almost never decodes text of another encoding); else one of the single-byte encodings Swedish
text is written in (Windows-1252, ISO 8859-15, Latin-1, Mac Roman, code pages 850 and 437).
Between those, charset-normalizer's ranking is not enough on its own: code page 850 text
decodes as Windows-1252 without a single error (``ö`` becomes ``”``), so every candidate is
also scored for Swedish: letters such as å, ä, ö count for it, symbols inside words, control
characters and letters foreign to Swedish count against it. The encoding used is recorded.

A ``.txt`` file's text is returned exactly as decoded (the byte-order mark and stray NUL bytes
aside) with no blocks: the downstream line heuristics analyse plain text as it is.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from qa.ingest.converted import Converted, Skip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

_BOMS: tuple[tuple[bytes, str, str], ...] = (  # (mark, codec, recorded name); UTF-32 first
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

# Single-byte encodings plausible for Swedish text, in order of preference on a tie.
SINGLE_BYTE = ("cp1252", "iso8859_15", "mac_roman", "cp850", "cp437", "latin_1")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF file"), (b"PK\x03\x04", "a zip archive (DOCX, ODT, ...)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc, .xls)"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed data"), (b"\x7fELF", "a program"), (b"MZ", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"), (b"{\\rtf", "an RTF document"),
)
# Control bytes that text does not contain (tab, line feed, form feed, carriage return and
# escape aside); more than this share of them makes a file binary.
_CONTROL = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])
_BINARY_SHARE = 0.05
_SAMPLE_BYTES = 256 * 1024

_SWEDISH = frozenset("åäöÅÄÖéÉ")
_LATIN = frozenset("üÜæÆøØáàèëíóúçñßÁÀÈÍÓÚÇ")  # in Swedish names and loanwords
_PUNCTUATION = frozenset("“”‘’„–—…•€«»§°")
_HTML_START = re.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_NON_ASCII_LINE = re.compile(rb"[^\n]{0,200}[\x80-\xff][^\n]{0,200}")


class Decoded(NamedTuple):
    text: str
    encoding: str  # Python codec name, "utf-8-sig"/"utf-16"/"utf-32" when a mark decided
    removed_nuls: int


def read(path: Path, options: ReadOptions) -> Converted:
    """A plain-text file (see the module docstring)."""
    data = path.read_bytes()
    reject_binary(data)
    return from_bytes(data, options)


def from_bytes(data: bytes, options: ReadOptions) -> Converted:
    """Plain text from the bytes of a file already checked by ``reject_binary``."""
    decoded = decode_within(data, options.max_chars)
    warnings = []
    if decoded.removed_nuls:
        warnings.append(f"{decoded.removed_nuls} NUL bytes removed")
    return Converted(text=decoded.text, format="txt",
                     metadata={"encoding": decoded.encoding}, warnings=warnings)


def decode_within(data: bytes, max_chars: int) -> Decoded:
    """``decode``, with ``Skip("too large")`` for text over ``max_chars`` (checked on the bytes
    first, so a huge file is not decoded at all)."""
    too_long_for(data, max_chars)
    decoded = decode(data)
    check_length(decoded.text, max_chars)
    return decoded


def check_length(text: str, max_chars: int) -> None:
    """``Skip("too large")`` when decoded text is already longer than ``max_chars``."""
    if len(text) > max_chars:
        raise Skip("too large", f"more than {max_chars:,} characters of text")


def too_long_for(data: bytes, max_chars: int) -> None:
    """``Skip("too large")`` before decoding when even four bytes a character (UTF-8's most,
    UTF-32's always) would make more than ``max_chars`` characters."""
    if len(data) // 4 > max_chars:
        raise Skip("too large", f"more than {max_chars:,} characters of text")


def reject_binary(data: bytes) -> None:
    """``Skip("binary")`` unless ``data`` looks like text in some encoding.

    Binary means a known file signature at the start, or (outside UTF-16/UTF-32) more than a
    twentieth of the bytes being control bytes. A few stray NUL bytes in a text file do not
    make it binary; they are removed by ``decode``.
    """
    if any(data.startswith(bom) for bom, _, _ in _BOMS):
        return
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise Skip("binary", f"the content is {what}, not text")
    if _utf16_without_bom(data):
        return
    controls = len(data) - len(data.translate(None, _CONTROL))
    if controls > _BINARY_SHARE * len(data):
        raise Skip("binary", f"{controls:,} of {len(data):,} bytes are control bytes")


def looks_like_html(data: bytes) -> bool:
    """Whether the bytes start like an HTML page (whatever the file is called)."""
    head = data[:2048]
    for bom, codec, _ in _BOMS:
        if head.startswith(bom):
            return bool(_HTML_START.match(head[len(bom):].decode(codec, errors="ignore")))
    utf16 = _utf16_without_bom(head)
    return bool(_HTML_START.match(head.decode(utf16 or "latin_1", errors="ignore")))


def decode(data: bytes) -> Decoded:
    """The text of ``data`` and the encoding it was read in (see the module docstring)."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data[len(bom):].decode(codec), name, 0)
            except UnicodeDecodeError:
                if name != "utf-8-sig":
                    return Decoded(data[len(bom):].decode(codec, errors="replace"), name, 0)
                data = data[len(bom):]  # a UTF-8 mark before text of another encoding
                break
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return Decoded(data.decode(utf16), utf16, 0)
        except UnicodeDecodeError:
            pass
    nuls = data.count(0)
    if nuls:
        data = data.replace(b"\x00", b"")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", nuls)
    except UnicodeDecodeError:
        pass
    for encoding in _single_byte_candidates(data):
        try:
            return Decoded(data.decode(encoding), encoding, nuls)
        except UnicodeDecodeError:
            continue
    return Decoded(data.decode("latin_1"), "latin_1", nuls)  # never reached: latin_1 decodes all


def _single_byte_candidates(data: bytes) -> list[str]:
    """The single-byte encodings, most plausible for Swedish first.

    Ranked on a sample of the lines that hold non-ASCII bytes by ``swedish_score``, then by
    whether charset-normalizer proposes the encoding (finds its decoding not garbled), then by
    the order of ``SINGLE_BYTE``.
    """
    from charset_normalizer import from_bytes as detect

    sample = bytearray()
    for match in _NON_ASCII_LINE.finditer(data):
        sample += match.group() + b"\n"
        if len(sample) > _SAMPLE_BYTES:
            break
    proposed = {match.encoding for match in detect(bytes(sample), cp_isolation=list(SINGLE_BYTE))}
    if "cp437" in proposed:  # the same letters å, ä, ö; 850 is the one of Western Europe
        proposed.add("cp850")
    scored = []
    for preference, encoding in enumerate(SINGLE_BYTE):
        try:
            text = bytes(sample).decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((swedish_score(text), encoding in proposed, -preference, encoding))
    ranked = [entry[-1] for entry in sorted(scored, reverse=True)]
    return ranked + [encoding for encoding in SINGLE_BYTE if encoding not in ranked]


def swedish_score(text: str) -> int:
    """How Swedish the non-ASCII characters of ``text`` look: higher is more plausible."""
    score = 0
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        if ch in _SWEDISH:
            score += 2
        elif ch in _LATIN:
            score += 1
        elif ch.isalpha():
            score -= 2
        elif ch < "\xa0" or ch == "\x7f":
            score -= 5  # a C1 control: this encoding does not fit
        elif 0 < i < last and text[i - 1].isalpha() and text[i + 1].isalpha():
            score -= 3  # a symbol inside a word
        elif ch == "¤":
            score -= 1  # the euro sign of ISO 8859-15 read as Windows-1252
        elif ch in _PUNCTUATION and (i == 0 or i == last or not text[i - 1].isalnum()
                                     or not text[i + 1].isalnum()):
            score += 1  # typographic quotes and dashes where they belong
    return score


def _utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when NUL bytes alternate as in mostly-Latin UTF-16."""
    sample = data[:4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.3 * half and even < 0.02 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.02 * half:
        return "utf-16-be"
    return None
