"""The guard in front of PDF: a decompression bomb is refused before PDFium inflates it.

A PDF's content and object streams are mostly Flate-compressed, and PDFium inflates a page's
streams in full when it reads the page: a stream of a few hundred kilobytes can inflate to
gigabytes. Before the PDF is opened, every stream marked ``/FlateDecode`` is inflated here
once, incrementally and without keeping the output, and the file is refused when one would
inflate past ``max_inflated_bytes`` (``QA_MAX_UNZIPPED_MB``, as for DOCX and ODT), or more than a
thousandfold beyond 10 MiB (``zipped``'s rule: scanned pages inflate a few times, a bomb of
zeros a thousandfold). Streams
that do not inflate as plain zlib (encrypted, other filters, damaged) are left to PDFium, which
decodes or rejects them itself.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from qa.ingest.converted import Skip
from qa.ingest.formats.zipped import MAX_RATIO, RATIO_FLOOR

_STREAM = re.compile(rb"stream\r?\n")
_END = b"endstream"
_DICT_BEFORE = 2048  # how far before "stream" its dictionary is looked for
_CHUNK = 1 << 20


def check_streams(path: Path, max_inflated_bytes: int) -> None:
    """Raise ``Skip("too large")`` when a Flate stream of the PDF inflates past the limit, or
    inflates implausibly far for a document (as ``zipped`` judges a zip member)."""
    data = path.read_bytes()  # the file is within QA_MAX_FILE_MB (checked before)
    pos = 0
    while (found := _STREAM.search(data, pos)) is not None:
        start = found.end()
        end = data.find(_END, start)
        if end < 0:
            break
        head = data[max(found.start() - _DICT_BEFORE, 0):found.start()]
        head = head[head.rfind(b"obj") + 1:] if b"obj" in head else head
        if b"/FlateDecode" in head or b"/Fl " in head or b"/Fl]" in head:
            size = _inflated_size(data, start, end, max_inflated_bytes)
            if size > max_inflated_bytes or (size > RATIO_FLOOR
                                             and size > MAX_RATIO * max(end - start, 1)):
                raise Skip("too large", f"a compressed stream of {end - start:,} bytes inflates "
                           f"to more than {size / 2**20:,.0f} MiB (a decompression bomb?)")
        pos = end + len(_END)


def _inflated_size(data: bytes, start: int, end: int, room: int) -> int:
    """How far ``data[start:end]`` inflates, counting no further than just past ``room``.

    Ends on every input: at the end of the zlib stream (bytes after it, such as the line end
    before ``endstream``, are ignored: once the inflater is at its end it takes no more input,
    and they would stay in ``unconsumed_tail`` for ever), when a call makes no progress (no
    output and no input taken), or when the input runs out.
    """
    inflater = zlib.decompressobj()
    size = 0
    view = memoryview(data)[start:end]
    try:
        for offset in range(0, len(view), _CHUNK):
            pending = view[offset:offset + _CHUNK].tobytes()
            while pending and not inflater.eof:
                out = inflater.decompress(pending, _CHUNK)
                size += len(out)
                if size > room:
                    return size
                tail = inflater.unconsumed_tail
                if not out and len(tail) >= len(pending):
                    break  # stuck: leave the stream to PDFium
                pending = tail
            if inflater.eof:
                break
    except zlib.error:
        pass  # not plain zlib: PDFium decodes it, or refuses it, itself
    return size
