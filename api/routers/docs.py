"""The API documentation, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline.

FastAPI's own pages load Swagger UI, ReDoc and fonts from public CDNs, so they are blank on a
machine without internet, and they carry an inline script, which the Content-Security-Policy
(``api.headers``) forbids. These pages are files in ``api/static/`` that load the scripts from
this service: Swagger UI's and ReDoc's bundles as the package ``fastapi-offline`` installs them
(MIT; it vendors exactly these files from the npm registry and follows their releases), under
``/docs/assets``; Swagger UI's start-up script is ``/static/docs.js``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api.routers.page import STATIC

router = APIRouter(include_in_schema=False)


def _assets() -> Path:
    """Where fastapi-offline keeps swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js."""
    return Path(str(files("fastapi_offline") / "static"))


@router.get("/docs")
def swagger_ui() -> FileResponse:
    return FileResponse(STATIC / "docs.html", media_type="text/html; charset=utf-8")


@router.get("/redoc")
def redoc() -> FileResponse:
    return FileResponse(STATIC / "redoc.html", media_type="text/html; charset=utf-8")


def mount_assets(app: FastAPI) -> None:
    """Serve the Swagger UI and ReDoc bundles under ``/docs/assets``."""
    app.mount("/docs/assets", StaticFiles(directory=_assets()), name="docs-assets")
