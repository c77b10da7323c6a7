"""Conversion throughput: PDF and DOCX pages per second, beside the embedding cost of the same text.

Makes a Swedish PDF of ``PAGES`` pages and a DOCX with the same paragraphs (the seed documents'
paragraphs, repeated; ``tests/ingest/make_files.py`` writes the files), then times, in this
process:

- conversion: ``qa.ingest.formats.convert`` on each file (median of ``RUNS``), as pages per
  second (a DOCX has no pages: its pages are the PDF's, the same text);
- a huge text: segmenting 10 million characters (the largest document ``qa build`` takes by
  default), its time and the memory it adds;
- embedding: what a build then does with that text, segmentation into passages and the
  passages' and sentences' vectors through the build encoder (``BuildEncoder``, the default
  runtimes), once, as seconds per page.

The ratio says how much of a build of real documents conversion takes. Scanned pages (OCR)
are timed too, on a few pages, since Tesseract is far slower than a text layer.

    python -m bench.conversion [--quick]
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    SEEDS,
    bench_parser,
    median_seconds,
    peak_rss_mb,
    print_rows,
    ratio,
    row,
    write_result,
)

PAGES = 60
RUNS = 5
OCR_PAGES = 3


def _paragraphs() -> list[str]:
    out: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        out += [" ".join(p.split()) for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
                if len(p.split()) >= 25]
    return out


def _pages(n: int) -> list[list[tuple[str, str]]]:
    paragraphs = _paragraphs()
    pages, i = [], 0
    for number in range(n):
        page: list[tuple[str, str]] = [("h2", f"Avsnitt {number + 1}")]
        for _ in range(3):
            page.append(("p", paragraphs[i % len(paragraphs)]))
            i += 1
        pages.append(page)
    return pages



def _segment_large(encoder: Any, settings: Any, text: str, chars: int) -> tuple[float, float, int]:
    """Time and peak memory (beyond what the process held) of segmenting one huge text: the
    converted report repeated to ``chars`` characters (plain text, analysed line by line)."""
    from qa.index.plan import segmentation_params
    from qa.ingest.documents import make_document
    from qa.ingest.passages import split_document

    big = (text + "\n\n") * (chars // (len(text) + 2) + 1)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    doc = make_document("stor", big[:chars])
    passages = split_document(doc, encoder.count_tokens, segmentation_params(settings, encoder))
    return time.perf_counter() - t0, peak_rss_mb() - before, len(passages)


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    from qa.embed.build_encoder import BuildEncoder
    from qa.index.plan import segmentation_params
    from qa.ingest.documents import make_document
    from qa.ingest.formats import ReadOptions, convert, ocr
    from qa.ingest.passages import sentence_spans, split_document
    from qa.settings import Settings
    from tests.ingest import make_files

    pages_n = 10 if args.quick else PAGES
    runs = 2 if args.quick else RUNS
    pages = _pages(pages_n)
    options = ReadOptions()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = make_files.make_pdf(Path(tmp) / "rapport.pdf", pages)
        docx = make_files.make_docx(Path(tmp) / "rapport.docx", [b for p in pages for b in p])
        pdf_s = median_seconds(lambda: convert(pdf, options), runs)
        docx_s = median_seconds(lambda: convert(docx, options), runs)
        converted = convert(pdf, options)
        ocr_s = None
        if ocr.available(options.ocr_language):
            scanned = make_files.make_scanned_pdf(
                Path(tmp) / "skannad.pdf", [[t for _, t in p] for p in pages[:OCR_PAGES]])
            ocr_s = median_seconds(lambda: convert(scanned, options), 1) / OCR_PAGES

    settings = Settings()
    encoder = BuildEncoder(settings.embed)  # the tokenizer only, until load()
    big_chars = 2_000_000 if args.quick else 10_000_000
    big_s, big_mb, big_passages = _segment_large(encoder, settings.index, converted.text, big_chars)
    encoder.load(sentences=settings.index.sentence_vectors)
    doc = make_document("rapport", converted.text, format="pdf", blocks=converted.blocks,
                        pages=converted.pages)
    t0 = time.perf_counter()
    passages = split_document(doc, encoder.count_tokens, segmentation_params(settings.index, encoder))
    segment_s = time.perf_counter() - t0
    sentences = [" ".join(doc.text[a:b].split()) for p in passages
                 for a, b in sentence_spans(doc.text, p.start, p.end)]
    t0 = time.perf_counter()
    encoder.embed_passages([p.embedding_text(False) for p in passages])
    encoder.embed_passages(sentences, kind="sentence")
    embed_s = time.perf_counter() - t0

    per_page_embed = (segment_s + embed_s) / pages_n
    rows = [
        row("PDF conversion (text layer)", pages_n / pdf_s, "pages/s", f"{pages_n} pages, median of {runs}"),
        row("DOCX conversion", pages_n / docx_s, "pages/s", "the same text as the PDF"),
        row("OCR (Tesseract, swe)", 1 / ocr_s if ocr_s else "n/a", "pages/s",
            f"{OCR_PAGES} scanned pages" if ocr_s else "tesseract-ocr-swe not installed"),
        row("segment + embed the same text", 1 / per_page_embed, "pages/s",
            f"{len(passages)} passages, {len(sentences)} sentences; {encoder.runtime('passage')} + "
            f"{encoder.runtime('sentence')}"),
        row(f"segmenting one {big_chars:,}-character text", big_s, "s",
            f"{big_passages} passages; memory {big_mb:+.0f} MB over the tokenizer's"),
        row("PDF conversion share of a build", ratio(pdf_s / pages_n, pdf_s / pages_n + per_page_embed),
            "", "conversion / (conversion + segmentation + embedding)"),
        row("DOCX conversion share of a build",
            ratio(docx_s / pages_n, docx_s / pages_n + per_page_embed), "", ""),
    ]
    print_rows("Conversion throughput", rows)
    write_result("conversion", {"pages": pages_n, "runs": runs, "pdf_s": pdf_s, "docx_s": docx_s,
                                "ocr_s_per_page": ocr_s, "segment_s": segment_s,
                                "embed_s": embed_s, "passages": len(passages),
                                "large_text": {"chars": big_chars, "segment_s": big_s,
                                               "memory_mb": big_mb, "passages": big_passages},
                                "sentences": len(sentences), "summary": rows}, args.quick)


if __name__ == "__main__":
    main()
