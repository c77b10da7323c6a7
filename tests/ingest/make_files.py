"""Real files of every format the ingest stage reads, written by the tests themselves.

Each generator writes one file with a real library (reportlab for PDF, python-docx, odfpy,
Pillow) and returns its path. Content is given as blocks: ``(kind, text)`` with ``kind`` one of
``"h1"``, ``"h2"``, ``"h3"``, ``"p"``, ``"li"`` (and ``"row"``: a table row whose cells are
separated by ``" | "``, where the format has tables). Used by the format readers' tests and by
end-to-end tests of a build over a folder of mixed files.
"""

from __future__ import annotations

import html
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

Blocks = Sequence[tuple[str, str]]

HEADER_TEXT = "Exempelkommunen – kommunledningskontoret"
NAV_LINKS = ("Startsida", "Kommun och politik", "Bygga och bo", "Kontakta oss")
COOKIE_TEXT = "Vi använder kakor (cookies) för att webbplatsen ska fungera. Godkänn alla kakor"
FOOTER_TEXT = "Exempelkommunen, Storgatan 1, 123 45 Exempelstad. Telefon 0123-45 67 89"
RELATED_TEXT = "Relaterade länkar"
RELATED_LINKS = ("Avfallstaxa för hushåll", "Parkeringstillstånd för rörelsehindrade")


def _cells(text: str) -> list[str]:
    return [cell.strip() for cell in text.split("|")]


def make_pdf(path: Path, pages: list[list[tuple[str, str]]], title: str | None = None) -> Path:
    """A text PDF: one list of blocks per page, headings in a larger bold font, paragraphs
    wrapped over several lines, consecutive ``row`` blocks as a ruled table (the first row in
    bold), a running header and a ``Sida N av M`` footer on each page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    by_kind = {"h1": styles["Heading1"], "h2": styles["Heading2"], "h3": styles["Heading3"],
               "p": styles["BodyText"], "li": styles["BodyText"]}
    total = len(pages)

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(2 * cm, A4[1] - 1.2 * cm, HEADER_TEXT)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"Sida {doc.page} av {total}")
        canvas.restoreState()

    table_style = TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 10),
                              ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 10),
                              ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                              ("VALIGN", (0, 0), (-1, -1), "TOP")])
    story: list = []
    rows: list[list[str]] = []

    def end_table() -> None:
        if rows:
            story.extend([Table([*rows], hAlign="LEFT", style=table_style), Spacer(1, 6)])
            rows.clear()

    for number, blocks in enumerate(pages):
        if number:
            end_table()
            story.append(PageBreak())
        for kind, text in blocks:
            if kind != "row":
                end_table()
            if kind == "row":
                rows.append(_cells(text))
            elif kind == "li":
                story.append(Paragraph(html.escape(text), by_kind["li"], bulletText="•"))
            else:
                story.append(Paragraph(html.escape(text), by_kind.get(kind, by_kind["p"])))
    end_table()
    doc = SimpleDocTemplate(str(path), pagesize=A4, title=title or "", author="Exempelkommunen",
                            leftMargin=2.5 * cm, rightMargin=2.5 * cm,
                            topMargin=2.5 * cm, bottomMargin=2.5 * cm)
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return path


def make_scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """An image-only PDF (no text layer): each page's paragraphs typeset, rendered to a
    200 dpi greyscale image, and the images saved as a PDF, as a scanner would."""
    import pypdfium2 as pdfium

    text_pdf = path.with_suffix(".typeset.pdf")
    make_pdf(text_pdf, [[("p", para) for para in page] for page in pages])
    images = []
    pdf = pdfium.PdfDocument(text_pdf)
    try:
        for page in pdf:
            images.append(page.render(scale=200 / 72, grayscale=True).to_pil().convert("L"))
    finally:
        pdf.close()
        text_pdf.unlink()
    images[0].save(path, "PDF", resolution=200.0, save_all=True, append_images=images[1:])
    return path


def make_encrypted_pdf(path: Path, text: str) -> Path:
    """A PDF that opens only with a user password."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4, encrypt="hemligt-lösenord")
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return path


def make_corrupt_pdf(path: Path) -> Path:
    """A file that starts like a PDF and then is no PDF at all."""
    junk = bytes((i * 151 + 7) % 256 for i in range(4096))
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R" + junk)
    return path


def make_docx(path: Path, blocks: Blocks, title: str | None = None,
              created: datetime | None = None) -> Path:
    """A Word document: headings in the built-in Heading styles, list items in List Bullet,
    ``row`` blocks as the rows of a table, ``break`` a page break."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    doc = Document()
    table = None
    for kind, text in blocks:
        if kind != "row":
            table = None
        if kind in ("h1", "h2", "h3"):
            doc.add_heading(text, level=int(kind[1]))
        elif kind == "li":
            doc.add_paragraph(text, style="List Bullet")
        elif kind == "row":
            cells = _cells(text)
            if table is None:
                table = doc.add_table(rows=0, cols=len(cells))
            row = table.add_row()
            for cell, value in zip(row.cells, cells, strict=False):
                cell.text = value
        elif kind == "break":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        else:
            doc.add_paragraph(text)
    if title is not None:
        doc.core_properties.title = title
    doc.core_properties.created = created or datetime.now(UTC).replace(microsecond=0)
    doc.save(str(path))
    return path


def make_zip_bomb_docx(path: Path, inflated_bytes: int = 210 * 2**20) -> Path:
    """A DOCX whose ``word/document.xml`` inflates to ``inflated_bytes`` (past the default
    200 MB limit) from a file of a few hundred kilobytes."""
    source = make_docx(path.with_suffix(".source.docx"), [("p", "Liten text.")])
    chunk = b" " * 2**20
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item))
                continue
            body = src.read(item)
            info = zipfile.ZipInfo(item.filename, date_time=item.date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as out:
                out.write(body[:-len(b"</w:document>")])
                for _ in range(inflated_bytes // len(chunk)):
                    out.write(chunk)
                out.write(b"</w:document>")
    source.unlink()
    return path


def make_odt(path: Path, blocks: Blocks, title: str | None = None) -> Path:
    """An OpenDocument text: ``text:h`` with its outline level for headings, ``text:list``
    for list items, a table for ``row`` blocks."""
    from odf import dc, text
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow

    doc = OpenDocumentText()
    current_list = None
    table = None
    for kind, value in blocks:
        if kind != "li":
            current_list = None
        if kind != "row":
            table = None
        if kind in ("h1", "h2", "h3"):
            doc.text.addElement(text.H(outlinelevel=int(kind[1]), text=value))
        elif kind == "li":
            if current_list is None:
                current_list = text.List()
                doc.text.addElement(current_list)
            item = text.ListItem()
            item.addElement(text.P(text=value))
            current_list.addElement(item)
        elif kind == "row":
            cells = _cells(value)
            if table is None:
                table = Table()
                table.addElement(TableColumn(numbercolumnsrepeated=len(cells)))
                doc.text.addElement(table)
            row = TableRow()
            for cell_text in cells:
                cell = TableCell()
                cell.addElement(text.P(text=cell_text))
                row.addElement(cell)
            table.addElement(row)
        else:
            doc.text.addElement(text.P(text=value))
    if title is not None:
        doc.meta.addElement(dc.Title(text=title))
    doc.save(str(path))
    return path


def make_html(path: Path, title: str, blocks: Blocks, chrome: bool = True) -> Path:
    """A UTF-8 web page: the title as ``h1`` and the blocks in ``<main><article>``; with
    ``chrome`` also a navigation menu, a cookie banner, "Relaterade länkar" and a footer with
    contact details, as a municipality's page has."""
    parts: list[str] = []
    list_open = False
    table_open = False
    for kind, text in blocks:
        if list_open and kind != "li":
            parts.append("</ul>")
            list_open = False
        if table_open and kind != "row":
            parts.append("</table>")
            table_open = False
        escaped = html.escape(text)
        if kind in ("h1", "h2", "h3"):
            parts.append(f"<{kind}>{escaped}</{kind}>")
        elif kind == "li":
            if not list_open:
                parts.append("<ul>")
                list_open = True
            parts.append(f"<li>{escaped}</li>")
        elif kind == "row":
            if not table_open:
                parts.append("<table>")
                table_open = True
            cells = "".join(f"<td>{html.escape(c)}</td>" for c in _cells(text))
            parts.append(f"<tr>{cells}</tr>")
        else:
            parts.append(f"<p>{escaped}</p>")
    if list_open:
        parts.append("</ul>")
    if table_open:
        parts.append("</table>")
    body = "\n".join(parts)
    nav = cookie = aside = footer = ""
    if chrome:
        links = "".join(f'<li><a href="/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(NAV_LINKS))
        nav = f'<header><nav class="main-menu"><ul>{links}</ul></nav></header>'
        cookie = (f'<div id="cookie-banner" class="cookie-consent"><p>{html.escape(COOKIE_TEXT)}</p>'
                  '<button>Godkänn</button></div>')
        related = "".join(f'<li><a href="/r{i}">{html.escape(t)}</a></li>'
                          for i, t in enumerate(RELATED_LINKS))
        aside = f'<aside class="related"><h2>{RELATED_TEXT}</h2><ul>{related}</ul></aside>'
        footer = f'<footer class="site-footer"><p>{html.escape(FOOTER_TEXT)}</p></footer>'
    page = f"""<!DOCTYPE html>
<html lang="sv">
<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body>
{cookie}
{nav}
<main><article>
<h1>{html.escape(title)}</h1>
{body}
</article>
{aside}
</main>
{footer}
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def make_markdown(path: Path, blocks: Blocks) -> Path:
    """A Markdown file: ``#`` headings, ``-`` list items, pipe tables for ``row`` blocks."""
    out: list[str] = []
    previous = None
    for kind, text in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(kind[1])} {text}\n")
        elif kind == "li":
            if previous != "li":
                out.append("")
            out[-1] += f"- {text}\n"
        elif kind == "row":
            cells = _cells(text)
            if previous != "row":
                out.append("| " + " | ".join(cells) + " |\n" + "|---" * len(cells) + "|\n")
            else:
                out[-1] += "| " + " | ".join(cells) + " |\n"
        else:
            out.append(f"{text}\n")
        previous = kind
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def make_text(path: Path, text: str, encoding: str) -> Path:
    """``text`` encoded as ``encoding`` (``"utf-16"`` writes a byte-order mark, ``"utf-16-le"``
    none, ``"utf-8-sig"`` a UTF-8 one)."""
    path.write_bytes(text.encode(encoding))
    return path

