"""Mounting the pages and their static files on the API's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from parley.web import move_pages, pages
from parley.web.demo import WebSettings
from parley.web.site import HERE, STATIC_URL, render, router


def mount(app: FastAPI, settings: object, *, demo_keys_dir: Path | None = None) -> None:
    """Add the pages and their static files to the API's app (``create_app`` calls this)."""
    folder = demo_keys_dir or getattr(settings, "demo_keys_dir", None)
    mounted = isinstance(getattr(app.state, "web", None), WebSettings)
    app.state.web = WebSettings(Path(folder) if folder else None)
    app.state.not_found_page = not_found_page
    if mounted:
        return
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="parley-web-static")


ROUTES = (pages, move_pages)
"""The modules whose pages the router holds (importing them adds their routes)."""


def not_found_page(request: Request) -> Response:
    """The page for an address that has none (the API answers its clients in JSON)."""
    message = f"there is no page at {request.url.path}"
    return render(request, "error.html", 404, message=message, code="not_found")
