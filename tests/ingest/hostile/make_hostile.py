"""Writes the hostile files of this folder (see README.md here). Run from the repository root:

    python -m tests.ingest.hostile.make_hostile

Needs Ghostscript (``gs``) and ``qpdf`` (Debian packages ``ghostscript`` and ``qpdf``), reportlab,
python-docx and odfpy. The files are committed; this script records how they were made.
"""

from __future__ import annotations

import io
import struct
import subprocess
import tempfile
import zipfile
from pathlib import Path

from tests.ingest.make_files import make_docx, make_odt

HERE = Path(__file__).resolve().parent

TEXT = ("Kommunfullmäktige beslutar om budgeten för nästa år. Nämnderna ansvarar för att "
        "verksamheten bedrivs inom de ekonomiska ramar som fullmäktige har fastställt.")
BLOCKS = [("h1", "Budget och ansvar"), ("p", TEXT), ("p", TEXT.replace("nästa", "kommande"))]

# PostScript for Ghostscript: Helvetica re-encoded to ISO Latin-1, so that å, ä and ö print.
POSTSCRIPT = """%!PS
/Helvetica findfont dup length dict begin {1 index /FID ne {def} {pop pop} ifelse} forall
/Encoding ISOLatin1Encoding def currentdict end /Helvetica-Latin1 exch definefont pop
/Helvetica-Latin1 findfont 12 scalefont setfont
"""


def ghostscript_pdf(path: Path, lines: list[str]) -> Path:
    """A text PDF written by Ghostscript's pdfwrite device (compressed streams)."""
    body = "".join(f"72 {760 - 16 * i} moveto ({line}) show\n" for i, line in enumerate(lines))
    with tempfile.TemporaryDirectory() as tmp:
        ps = Path(tmp) / "in.ps"
        ps.write_bytes((POSTSCRIPT + body + "showpage\n").encode("latin-1"))
        subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite",
                        f"-sOutputFile={path}", str(ps)], check=True)
    return path


def lines_of_text(n: int) -> list[str]:
    """``n`` lines of Swedish prose, about 60 characters each."""
    words = TEXT.split()
    return [" ".join(words[(i * 5) % len(words):(i * 5) % len(words) + 9]) for i in range(n)]


def long_pdf(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` copies of one dense Ghostscript page (qpdf joins them): small on
    disk, slow to read (every page's text is extracted)."""
    with tempfile.TemporaryDirectory() as tmp:
        one = ghostscript_pdf(Path(tmp) / "one.pdf", lines_of_text(45))
        subprocess.run(["qpdf", "--empty", "--pages", *([str(one)] * pages), "--", str(path)],
                       check=True)
    return path


def _truncated(source: Path, target: Path, share: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[:int(len(data) * share)])
    return target


def flate_trailing_bytes_pdf(path: Path, inflated: int = 3 * 2**20) -> Path:
    """A PDF whose page content stream inflates to exactly ``inflated`` bytes (a multiple of
    the guard's 1 MiB chunk), compressed by qpdf; as in every PDF, the stream's data is
    followed by an end of line before ``endstream``. The old bomb guard looped for ever on it."""
    text = b"BT /F1 14 Tf 72 720 Td (Kommunens budget antas av fullm\\344ktige i juni.) Tj ET\n"
    padding = inflated - len(text)
    line = b"%" + b" " * 1022 + b"\n"  # comment lines: a content stream may hold any number
    body = line * (padding // len(line))
    content = text + body + b"%" + b" " * (padding - len(body) - 2) + b"\n"
    assert len(content) == inflated
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body_ in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body_ + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.pdf"
        plain.write_bytes(out.getvalue())
        subprocess.run(["qpdf", "--compress-streams=y", "--recompress-flate",
                        "--compression-level=9", "--newline-before-endstream", str(plain),
                        str(path)], check=True)
    return path


def bad_central_directory(source: Path, target: Path) -> Path:
    """The zip's end-of-central-directory record points past the end of the file."""
    data = bytearray(source.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<I", data, end + 16, len(data) + 4096)  # offset of the central directory
    target.write_bytes(bytes(data))
    return target


def garbage_document_xml(source: Path, target: Path) -> Path:
    """A valid zip (a DOCX as python-docx wrote it) whose word/document.xml is binary junk."""
    junk = bytes((i * 151 + 7) % 256 for i in range(8192))
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item, junk if item.filename == "word/document.xml" else old.read(item))
    return target


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        good_pdf = ghostscript_pdf(work / "good.pdf", lines_of_text(40))
        _truncated(good_pdf, HERE / "truncated-pdf.pdf", 0.5)
        subprocess.run(["qpdf", "--encrypt", "hemligt", "ägare", "256", "--", str(good_pdf),
                        str(HERE / "encrypted.pdf")], check=True)
        good_docx = make_docx(work / "good.docx", BLOCKS, title="Budget")
        _truncated(good_docx, HERE / "truncated-docx.docx", 0.6)
        bad_central_directory(good_docx, HERE / "bad-central-directory.docx")
        garbage_document_xml(good_docx, HERE / "garbage-inside.docx")
        good_odt = make_odt(work / "good.odt", BLOCKS, title="Budget")
        _truncated(good_odt, HERE / "truncated-odt.odt", 0.6)
        flate_trailing_bytes_pdf(HERE / "flate-trailing-bytes.pdf")


if __name__ == "__main__":
    main()
