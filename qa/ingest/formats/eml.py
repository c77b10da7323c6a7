"""Saved e-mail (``.eml``, RFC 5322/MIME): the message, its senders and its attachments.

Python's ``email`` package (``policy.default``) parses the message and decodes its encoded
headers and parts. The subject is the title and the first heading; the day of the ``Date``
header (in the sender's time zone, as the mail says it) is the document's date; From, To
and Cc are metadata (``from``; ``to`` and ``cc`` as lists, so that a metadata filter can ask
for one recipient) and also a line of the text ("Från: …"), so that a passage shows who
wrote to whom. The body is the text/plain part, its paragraphs split at blank lines and
its hard-wrapped lines joined (lines that start with a bullet or a number are list items;
the ``>`` marks of quoted text are dropped); a message with only an HTML body is read by the
project's HTML reader (``html.from_bytes``).

Attachments are listed under "Bilagor", each with its type. Those of a format this package
reads (a PDF, a Word file, another e-mail, ...) are converted with ``convert`` (every check
and limit applies) and follow as sections "Bilaga: <name>", their headings two levels
down; the others are listed as not read, with the reason also in a warning.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted, Skip
from qa.ingest.formats.bounded import BoundedAssembler

if TYPE_CHECKING:
    from email.message import EmailMessage

    from qa.ingest.formats import ReadOptions

_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "mime-version", "received")
_LIST_LINE = re.compile(r"^\s*(?:[-*•–]|\d{1,3}[.)])\s+\S")
_QUOTE = re.compile(r"^(?:\s*>)+ ?")
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


def read(path: Path, options: ReadOptions) -> Converted:
    """An .eml file (see the module docstring)."""
    from email import policy
    from email.parser import BytesParser

    with path.open("rb") as source:
        message = BytesParser(policy=policy.default).parse(source)
    if not any(message.get(name) for name in _HEADERS):
        raise Skip("corrupt", "not an e-mail message (no From, To, Subject or Date header)")
    assembler = BoundedAssembler(options.max_chars)
    subject = _header(message, "subject")
    if subject:
        assembler.add("heading", subject, 1)
    senders = {name: _addresses(message, name) for name in ("from", "to", "cc")}
    date = _date(message)
    line = [f"{label}: {', '.join(senders[name])}" for name, label in
            (("from", "Från"), ("to", "Till"), ("cc", "Kopia")) if senders[name]]
    if date:
        line.append(f"Datum: {date}")
    assembler.add("paragraph", ". ".join(line))
    _body(message, assembler, options)
    warnings = _attachments(message, assembler, options)
    metadata: dict = {"from": ", ".join(senders["from"])} if senders["from"] else {}
    metadata.update({name: senders[name] for name in ("to", "cc") if senders[name]})
    names = [_filename(part, n) for n, part in enumerate(message.iter_attachments(), start=1)]
    if names:
        metadata["attachments"] = names
    return assembler.result("eml", title=subject or None, date=date, metadata=metadata,
                            warnings=warnings)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # a header the parser cannot make sense of
        value = next((raw for key, raw in message.raw_items() if key.lower() == name), "")
    return " ".join(str(value or "").split())


def _addresses(message: EmailMessage, name: str) -> list[str]:
    try:
        header = message.get(name)
        addresses = getattr(header, "addresses", None)
    except (ValueError, TypeError, IndexError):
        header, addresses = None, None
    if addresses:
        return [" ".join(str(address).split()) for address in addresses]
    text = _header(message, name)
    return [text] if text else []


def _date(message: EmailMessage) -> str | None:
    try:
        header = message.get("date")
        moment = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return moment.date().isoformat() if moment is not None else None


def _text_of(part) -> str:
    """A text part's content, decoded by its charset (or, when that is unknown or wrong,
    by the plain-text reader's detection)."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        from qa.ingest.formats.text import decode

        return decode(part.get_payload(decode=True) or b"").text


def _body(message: EmailMessage, assembler: BoundedAssembler, options: ReadOptions) -> None:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return
    content = _text_of(body)
    if body.get_content_subtype() == "html":
        from qa.ingest.formats import html

        remaining = max(options.max_chars - assembler.length, 1)
        page = html.from_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"),  # the mark says UTF-8
                               replace(options, max_chars=remaining), navigation=False)
        _add_converted(page, assembler, shift=1)
    else:
        _plain_text(content, assembler)


def _plain_text(content: str, assembler: BoundedAssembler) -> None:
    """Paragraphs at blank lines, wrapped lines joined, bullet lines as list items."""
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            assembler.add("paragraph", " ".join(paragraph))
            paragraph.clear()

    for raw in content.splitlines():
        line = _QUOTE.sub("", raw).rstrip()
        if not line.strip():
            flush()
        elif _LIST_LINE.match(line):
            flush()
            assembler.add("list_item", re.sub(r"^\s*(?:[-*•–]|\d{1,3}[.)])\s+", "", line), 1)
        else:
            paragraph.append(line.strip())
    flush()


def _add_converted(converted: Converted, assembler: BoundedAssembler, shift: int) -> None:
    for block in converted.blocks:
        text = converted.text[block.start:block.end]
        level = min(block.level + shift, 6) if block.kind == "heading" else block.level
        assembler.add(block.kind, text, level, keep_lines=block.kind == "preformatted")
    if not converted.blocks and converted.text.strip():  # plain text: its paragraphs
        _plain_text(converted.text, assembler)


def _filename(part, number: int) -> str:
    name = " ".join((part.get_filename() or "").split())
    if not name and part.get_content_type() == "message/rfc822":
        name = f"meddelande-{number}.eml"
    return name or f"bilaga-{number}"


def _attachments(message: EmailMessage, assembler: BoundedAssembler, options: ReadOptions) -> list[str]:
    """List the attachments, then add those that can be read; warnings for the others."""
    from qa.ingest.formats import convert, format_of

    parts = list(message.iter_attachments())
    if not parts:
        return []
    warnings: list[str] = []
    read: list[tuple[str, Converted]] = []
    listed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="qa-eml-") as scratch:
        for number, part in enumerate(parts, start=1):
            name = _filename(part, number)
            kind = part.get_content_type()
            safe = _UNSAFE_NAME.sub("_", Path(name).name).strip(" .") or f"bilaga-{number}"
            if kind == "message/rfc822" and not safe.lower().endswith(".eml"):
                safe += ".eml"
            if format_of(Path(safe)) is None:
                listed.append(f"{name} ({kind}, inte läst: formatet läses inte)")
                warnings.append(f"attachment {name!r} not read (unsupported type: {kind})")
                continue
            target = Path(scratch) / f"{number}-{safe}"
            if kind == "message/rfc822":
                inner = part.get_content()
                target.write_bytes(inner.as_bytes() if isinstance(inner, Message) else bytes(inner))
            else:
                payload = part.get_payload(decode=True)  # bytes, or None when there is none
                target.write_bytes(payload if isinstance(payload, bytes) else b"")
            remaining = max(options.max_chars - assembler.length - sum(len(c.text) for _, c in read), 1)
            try:
                converted = convert(target, replace(options, max_chars=remaining))
            except Skip as skip:
                listed.append(f"{name} ({kind}, inte läst: {skip.reason})")
                warnings.append(f"attachment {name!r} not read ({skip})")
                continue
            listed.append(f"{name} ({kind})")
            read.append((name, converted))
    assembler.add("heading", "Bilagor", 2)
    for entry in listed:
        assembler.add("list_item", entry, 1)
    for name, converted in read:
        assembler.add("heading", f"Bilaga: {name}", 2)
        _add_converted(converted, assembler, shift=2)
    return warnings
