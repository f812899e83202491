"""The site: the router, the templates, security headers, and errors shown in words."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import jinja2
from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from parley.api.context import address_of
from parley.api.errors import details_of, rate_limited, status_of
from parley.core import text as text_model
from parley.core.event import parse_time
from parley.core.report import human_time
from parley.errors import ParleyError
from parley.web import convene
from parley.web.caller import context_of, session_key
from parley.web.demo import demo_dir


async def spend(request: Request) -> None:
    """Every page costs a rate token, as every API request does: the key's when logged in,
    else the address's (``api.context``), so no page can be asked for without bound."""
    ctx = context_of(request)
    key = session_key(request)
    who = f"key:{key.vkey()}" if key is not None else address_of(request)
    wait = ctx.limiter.take(who)
    if wait > 0:
        raise rate_limited(wait)


router = APIRouter(include_in_schema=False, dependencies=[Depends(spend)])


HERE = Path(__file__).resolve().parent
STATIC_URL = "/static/web"


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def short(value: str | None) -> str:
    return f"{value[:8]}…" if value else "—"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


_env.filters["when"] = human_time


def due(deadline: str, now: str) -> str:
    """A reply-by time as a reader needs it: still to come, or already missed (at ``now``, the
    server's clock)."""
    if parse_time(deadline) <= parse_time(now):
        return f"overdue: was due {human_time(deadline)}"
    return f"by {human_time(deadline)}"


_env.filters["due"] = due


_env.filters["short"] = short


_env.filters["day"] = lambda t: f"{parse_time(t):%d %b %Y %H:%M}"


_env.filters["phase"] = lambda p: "in force" if p == "in_force" else str(p)


def sentence(message: object) -> str:
    """A message as a sentence: a capital first (codes such as PK left as they are), a stop."""
    said = str(message)
    said = said[:1].upper() + said[1:]
    return said if said.endswith((".", "!", "?", ")", "…")) else said + "."


_env.filters["sentence"] = sentence
_env.filters["direction"] = text_model.direction


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    page = _env.get_template(name).render(site=_site(request), **values)
    return HTMLResponse(page, status, headers=SECURITY_HEADERS)


def _site(request: Request) -> dict[str, Any]:
    key = session_key(request)
    return {
        "static": STATIC_URL,
        "path": request.url.path,
        "vkey": key.vkey() if key else None,
        "signed_in": key.name if key else None,
        "demo": demo_dir(request) is not None,
        "now": context_of(request).services.now(),
    }


Page = Callable[..., Awaitable[Response]]
T = TypeVar("T")
LOG = logging.getLogger("parley.web")


def guarded(handler: Page | Callable[..., Response]) -> Page:
    """Show a Parley error as a page in words, with the status the API would give.

    A handler written as a plain function runs in a worker thread: a page reads the store and
    renders, and a long negotiation's page done on the event loop held up every other request of
    the process (its state reads and submissions) for as long."""

    @functools.wraps(handler)
    async def run(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            if inspect.iscoroutinefunction(handler):
                return await cast(Page, handler)(request, *args, **kwargs)
            plain = cast(Callable[..., Response], handler)
            return await off_the_loop(request, functools.partial(plain, request, *args, **kwargs))
        except ParleyError as exc:
            status, code = status_of(exc)
            return render(request, "error.html", status, message=str(exc), code=code)
        except Exception:  # nobody foresaw it: logged, and a page in words, not the API's JSON
            LOG.exception("%s %s: unexpected error", request.method, request.url.path)
            return render(request, "error.html", 500, message=UNEXPECTED, code="internal")

    return run


PAGE_THREADS = 8
"""Pages built at once in one process: a pool of their own, so that many slow pages never take
the threads the submissions, state reads and live streams are answered in."""


async def off_the_loop(request: Request, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in one of the pages' threads: reading the store, merging, rendering."""
    return await to_thread.run_sync(functools.partial(work, *args), limiter=_page_threads(request))


def _page_threads(request: Request) -> CapacityLimiter:
    """The pages' limiter of this app (made on its first page, on its event loop)."""
    limiter = getattr(request.app.state, "page_threads", None)
    if limiter is None:
        limiter = request.app.state.page_threads = CapacityLimiter(PAGE_THREADS)
    return cast(CapacityLimiter, limiter)


UNEXPECTED = (
    "something went wrong on the server, and nothing was recorded by this page: try again, and "
    "if it happens again, tell the server's operator (the error is in the server's log)"
)


def json_error(exc: ParleyError) -> JSONResponse:
    status, code = status_of(exc)
    details = details_of(exc)
    if isinstance(exc, convene.FieldError):
        details = {**details, "field": exc.field}
    error = {"code": code, "message": str(exc), "details": details}
    return JSONResponse({"error": error}, status, headers=SECURITY_HEADERS)
