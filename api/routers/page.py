"""The chat page at ``/`` and its files under ``/static`` (``api/static/``: HTML, CSS, JavaScript).

A service of collections also serves the page at ``/c/{name}``: the same file, which reads the
collection from its address and asks only that collection's API (``collection_router``). The
page answers for any name: whether the collection exists, and whether the reader may see it, is
for its API to say.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def page() -> FileResponse:
    index_html = STATIC / "index.html"
    if not index_html.is_file():
        raise HTTPException(404, "the chat page is not installed")
    return FileResponse(index_html, media_type="text/html; charset=utf-8")


collection_router = APIRouter(include_in_schema=False)


@collection_router.get("/c/{collection}")
def collection_page() -> FileResponse:
    return page()


def mount_static(app: FastAPI) -> None:
    """Serve ``api/static/`` under ``/static`` (a mount, which a router cannot carry)."""
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
