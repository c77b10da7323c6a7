"""The chat page at ``/``, the accessibility statement at ``/tillganglighet``, and the page's
files under ``/static`` (``api/static/``: HTML, CSS, JavaScript).

A service of collections also serves the page at ``/c/{name}``: the same file, which reads the
collection from its address and asks only that collection's API (``collection_router``). The
page answers for any name: whether the collection exists, and whether the reader may see it, is
for its API to say.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from markdown_it import MarkdownIt

from qa.settings import Settings

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parents[1] / "static"
#: The default statement (Swedish, after DIGG's model); QA_ACCESSIBILITY_STATEMENT replaces it.
DEFAULT_STATEMENT = STATIC / "tillganglighet.md"

router = APIRouter(include_in_schema=False)


@router.get("/")
def page() -> FileResponse:
    index_html = STATIC / "index.html"
    if not index_html.is_file():
        raise HTTPException(404, "the chat page is not installed")
    return FileResponse(index_html, media_type="text/html; charset=utf-8")


_PAGE = """<!doctype html>
<html lang="sv">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} – Fråga dokumenten</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/style.css">
</head>
<body class="statement-page">
  <a class="skip-link" href="#main">Hoppa till innehållet</a>
  <header class="site-header">
    <div class="wrap header-inner">
      <div class="brand">
        <p class="brand-title"><a href="/">Fråga dokumenten</a></p>
        <p class="brand-sub">Svar med exakta källhänvisningar</p>
      </div>
    </div>
  </header>
  <main id="main" class="wrap statement" tabindex="-1">
{body}
  </main>
  <footer class="site-footer wrap"><a href="/">Tillbaka till frågorna</a></footer>
</body>
</html>
"""


def render_statement(text: str) -> str:
    """The statement's text (Markdown: headings, paragraphs, lists, links; any HTML in it is
    shown as text, never run) as a whole HTML page."""
    markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})
    tokens = markdown.parse(text)
    title = next((tokens[i + 1].content for i, t in enumerate(tokens)
                  if t.type == "heading_open" and t.tag == "h1"), "Tillgänglighetsredogörelse")
    return _PAGE.format(title=html.escape(title), body=markdown.renderer.render(
        tokens, markdown.options, {}))


@router.get("/tillganglighet", response_class=HTMLResponse)
def accessibility_statement(request: Request) -> HTMLResponse:
    """The accessibility statement (tillgänglighetsredogörelse): QA_ACCESSIBILITY_STATEMENT's
    file when set, else the Swedish default. Rendered again only when the file changes; a
    configured file that cannot be read is logged and the default served meanwhile."""
    settings: Settings = request.app.state.settings  # the service's (no collection's)
    configured = settings.server.accessibility_statement
    for path in ([configured] if configured else []) + [DEFAULT_STATEMENT]:
        try:
            stat = path.stat()
            key = (str(path), stat.st_mtime_ns, stat.st_size)
            cached = getattr(request.app.state, "statement", None)
            if cached is None or cached[0] != key:
                cached = (key, render_statement(path.read_text(encoding="utf-8")))
                request.app.state.statement = cached
            return HTMLResponse(cached[1])
        except (OSError, UnicodeDecodeError) as exc:
            logger.error("accessibility statement %s cannot be read (%s)", path, exc)
    raise HTTPException(404, "the accessibility statement is not installed")


collection_router = APIRouter(include_in_schema=False)


@collection_router.get("/c/{collection}")
def collection_page() -> FileResponse:
    return page()


def mount_static(app: FastAPI) -> None:
    """Serve ``api/static/`` under ``/static`` (a mount, which a router cannot carry)."""
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
