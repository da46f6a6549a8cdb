"""The dashboard: one static HTML page with its scripts and styles, served from the package."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIRECTORY = Path(__file__).resolve().parent / "static"
PAGE = STATIC_DIRECTORY / "index.html"


async def dashboard(request: Request) -> Response:
    """The page; everything it shows it fetches from the API."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8")


def page_routes() -> list[BaseRoute]:
    """`/` and `/static/...`."""
    return [
        Route("/", dashboard, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static"),
    ]
