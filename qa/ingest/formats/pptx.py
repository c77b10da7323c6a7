"""PowerPoint presentations (PPTX): each slide a section and a page, its notes with it.

python-pptx (MIT) reads the presentation. Each slide opens with a heading (level 1) made of
its number and title, ``"Bild 3: Avgifter"`` (``"Bild 3"`` when it has none), so a passage is
cited by the slide a listener saw; the slide is also the document's page of that number.
Its shapes follow in reading order (top to bottom, then left to right, as a reader scans a
slide; groups are read through): text in a body or content placeholder as list items at
their indent level (what such text is on a slide), other text (subtitles, text boxes) as
paragraphs, each table row one block (cells joined by ``" | "``). The speaker's notes
follow under a heading "Anteckningar" (level 2). Pictures, charts and media have no text of
their own here. Title and creation date come from the core properties (the first slide's
title when there is no title there).

The zip archive is checked (``zipped.check_zip``) before python-pptx opens it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.converted import Converted
from qa.ingest.formats.bounded import BoundedAssembler
from qa.ingest.formats.zipped import check_zip

if TYPE_CHECKING:
    from qa.ingest.formats import ReadOptions

SLIDE_HEADING = "Bild {number}"
NOTES_HEADING = "Anteckningar"


def read(path: Path, options: ReadOptions) -> Converted:
    """A PPTX file (see the module docstring)."""
    check_zip(path, options.max_unzipped_bytes, "PPTX")
    from pptx import Presentation

    presentation = Presentation(str(path))
    assembler = BoundedAssembler(options.max_chars)
    first_title = None
    for number, slide in enumerate(presentation.slides, start=1):
        assembler.start_page(number)
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        first_title = first_title or title or None
        heading = SLIDE_HEADING.format(number=number)
        assembler.add("heading", f"{heading}: {title}" if title else heading, 1)
        shapes = [shape for shape in slide.shapes
                  if title_shape is None or shape.shape_id != title_shape.shape_id]
        _shapes(shapes, assembler)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                assembler.add("heading", NOTES_HEADING, 2)
                for paragraph in notes.paragraphs:
                    assembler.add("paragraph", paragraph.text)
    assembler.end_page()
    core_title, date = _core(presentation)
    return assembler.result("pptx", title=core_title or first_title, date=date,
                            metadata={"slides": len(presentation.slides)})


def _reading_order(shapes):
    """Top to bottom, then left to right (shapes without a position keep their place last)."""
    def key(item):
        index, shape = item
        top, left = shape.top, shape.left
        return (top is None, top or 0, left or 0, index)
    return [shape for _, shape in sorted(enumerate(shapes), key=key)]


def _shapes(shapes, assembler: BoundedAssembler) -> None:
    from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

    listed = {PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT}
    for shape in _reading_order(shapes):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            _shapes(list(shape.shapes), assembler)
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                assembler.add("table_row", " | ".join(cell for cell in cells if cell))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            as_list = shape.is_placeholder and shape.placeholder_format.type in listed
            for paragraph in shape.text_frame.paragraphs:
                if as_list:
                    assembler.add("list_item", paragraph.text, min(paragraph.level + 1, 9))
                else:
                    assembler.add("paragraph", paragraph.text)


def _core(presentation) -> tuple[str | None, str | None]:
    """Title and creation date, when the file has core properties (python-pptx otherwise
    makes up a default title)."""
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        presentation.part.package.part_related_by(RT.CORE_PROPERTIES)
    except KeyError:
        return None, None
    core = presentation.core_properties
    title = " ".join((core.title or "").split()) or None
    return title, (core.created.date().isoformat() if core.created else None)
