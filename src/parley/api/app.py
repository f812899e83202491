"""The application factory: ``create_app(settings)`` builds one API process; importing does nothing.

``parley serve`` runs ``create_app`` through uvicorn's factory mode, once per worker process, with
the settings read from the environment. Tests pass their own settings, and may pass ready-made
services (an in-memory store, deterministic keys and clock). The delegations' web pages
(``parley.web``) are mounted on the same app, so one server answers the API, the log and the
browser.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from parley import __version__, web
from parley.api import errors, logroutes, routes
from parley.api.access import Views
from parley.api.auth import Sessions
from parley.api.context import Context
from parley.api.intake import Intake
from parley.api.limits import BodyLimits, RateLimiter
from parley.api.publishing import publish_every
from parley.api.settings import Settings
from parley.core.keys import PublicKey
from parley.core.witness import Witness
from parley.services import Services

DESCRIPTION = """\
Mediated negotiation of written agreements. Every move is an Ed25519-signed event made by its
author on the author's own device; this server relays, checks, orders and stores events, and keeps
a transparency log of event hashes. Log in by signing a challenge (see docs/api.md); errors have
the body `{"error": {"code", "message", "details"}}`.
"""


class ParleyAPI(FastAPI):
    """FastAPI with the fast lane (``Intake``) in front of all of FastAPI's own layers.

    The lane's requests are the busiest, and FastAPI's layers (telemetry, error and body-size
    middleware, routing) cost more per request than a state read's own work. What the lane does
    not take goes through those layers unchanged (``framework``).
    """

    intake: Intake | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.intake is not None and scope["type"] == "http":
            await self.intake(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application behind the fast lane: FastAPI as it is."""
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """One API process: settings from the environment unless given; services over the store."""
    settings = settings if settings is not None else Settings.from_env()
    if services is None:
        services = open_services(settings)
    logins = settings.limits.logins_per_minute
    ctx = Context(
        settings=settings,
        services=services,
        sessions=Sessions(
            settings.secret,
            settings.origin,
            session_seconds=settings.session_seconds,
            challenge_seconds=settings.challenge_seconds,
        ),
        limiter=RateLimiter(settings.limits.rate_per_second, settings.limits.rate_burst),
        logins=RateLimiter(logins / 60, logins),
        views=Views(services),
        witness=_witness(settings),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        every = settings.publish_seconds if services.log_setup is not None else None
        publishing = asyncio.create_task(publish_every(services, every)) if every else None
        yield
        if publishing is not None:
            publishing.cancel()
            with suppress(asyncio.CancelledError):
                await publishing
        ctx.services.store.close()

    # No /docs or /redoc pages: they load scripts from a CDN. The document is at /openapi.json.
    app = ParleyAPI(
        title="Parley",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = ctx
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(logroutes.router)
    web.mount(app, settings)
    app.add_middleware(BodyLimits, limits=settings.limits)
    app.intake = Intake(app.framework, ctx)  # before everything: the busiest requests, first
    return app


def served_app() -> FastAPI:
    """``create_app`` for a long-running server process (``parley serve``).

    The objects built so far (modules, routes, schemas) live as long as the process, so they are
    moved out of the garbage collector's way (``gc.freeze``): otherwise every full collection
    walks them all, a pause of 50 to 90 ms under load, felt by every request then in flight.
    A request allocates a few thousand objects and frees nearly all of them itself (reference
    counting), so young collections are made rarer (``GC_THRESHOLDS``; measured: 6 to 8 % less
    CPU per submission in the worker threads).
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app


GC_THRESHOLDS = (20_000, 20, 20)
"""Allocations before a young collection, and young (then middle) collections before an older
one; Python's defaults are (700, 10, 10)."""


def open_services(settings: Settings) -> Services:
    """The services over the configured store (migrated on first use) and the home's log."""
    from parley.log_setup import load_log_setup
    from parley.storage import open_store

    store = open_store(settings.database_url, home=settings.home)
    try:
        return Services(store, load_log_setup(settings.home, store))
    except BaseException:
        store.close()
        raise


def _witness(settings: Settings) -> Witness | None:
    if not settings.witness_keys:
        return None
    logs: dict[str, list[PublicKey]] = {}
    for key in settings.witness_logs:
        logs.setdefault(key.name, []).append(key)
    return Witness.create(settings.witness_keys, logs)
