"""Optical character recognition of PDF pages without a text layer (Tesseract).

pytesseract (Apache-2.0) runs the Tesseract program on a page rendered by pypdfium2. It is
used only when Tesseract and the language's model are installed (``available``); Debian's
packages are ``tesseract-ocr`` and ``tesseract-ocr-swe``. Tesseract separates paragraphs by
blank lines; the lines of each paragraph are joined as in a PDF's text layer. Each page is
bounded in time: a page Tesseract does not finish is reported, not waited for.
"""

from __future__ import annotations

import functools
import logging
import re
import shutil

from qa.ingest.formats.lines import join_lines

logger = logging.getLogger(__name__)

PAGE_TIMEOUT_S = 120
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v]*\n")


class OcrError(Exception):
    """Tesseract failed or timed out on one page."""


@functools.cache
def available(language: str) -> bool:
    """Whether the ``tesseract`` program and every model in ``language`` (``"swe"``,
    ``"swe+eng"``) are installed. Asked once per process."""
    if shutil.which("tesseract") is None:
        return False
    try:
        import pytesseract

        installed = set(pytesseract.get_languages(config=""))
    except Exception:  # pytesseract missing or tesseract not runnable
        logger.debug("tesseract is not usable", exc_info=True)
        return False
    return all(part in installed for part in language.split("+"))


def install_hint(language: str) -> str:
    packages = " and ".join(f"tesseract-ocr-{part}" for part in language.split("+"))
    return f"install tesseract-ocr and {packages}"


def recognise(page, language: str, dpi: int, timeout: float = PAGE_TIMEOUT_S) -> list[str]:
    """The paragraphs Tesseract reads on a pypdfium2 page rendered at ``dpi``, within
    ``timeout`` seconds."""
    import pytesseract

    image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    try:
        text = pytesseract.image_to_string(image, lang=language, timeout=timeout)
    except RuntimeError as exc:  # pytesseract's timeout
        raise OcrError(f"Tesseract did not finish within {timeout:g} s") from exc
    except pytesseract.TesseractError as exc:
        raise OcrError(f"Tesseract failed ({' '.join(str(exc).split())[:120]})") from exc
    finally:
        image.close()
    paragraphs = (join_lines(part.splitlines()) for part in _PARAGRAPH_BREAK.split(text))
    return [paragraph for paragraph in paragraphs if paragraph]
