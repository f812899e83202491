"""``parley serve``: run the HTTP API with uvicorn, one or several worker processes.

With several workers, ``parley.api.workers`` runs them and balances their connections. Each worker
builds its own application with ``parley.api.app.served_app`` from the environment
(PARLEY_HOME, PARLEY_DATABASE_URL, PARLEY_SERVER_ORIGIN, …; see ``parley.api.settings``). The
session secret and the log key are made here, before the workers start, so they all share them.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from parley.cli.errors import reported
from parley.cli.home import Home

if TYPE_CHECKING:
    from parley.api.settings import Settings


STOP_GRACE_SECONDS = 10
"""How long a stopping process lets its requests finish. A live stream (server-sent events)
would otherwise hold it for up to ``Live.max_seconds``, serving with the old settings beside
its successor; cut, its browser reconnects to whichever process now serves."""


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes; with more than one, use PostgreSQL or a SQLite file.",
)
@click.option(
    "--origin",
    envvar="PARLEY_SERVER_ORIGIN",
    help="The URL clients use (signed at login); default http://HOST:PORT.",
)
@click.pass_obj
def serve(home: Home, host: str, port: int, workers: int, origin: str | None) -> None:
    """Serve the web pages, the API (OpenAPI at /openapi.json) and the transparency log."""
    run_server(home, host, port, workers, origin)


def run_server(home: Home, host: str, port: int, workers: int, origin: str | None) -> None:
    """Prepare the shared secret and log key, then run uvicorn with the app factory."""
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    from parley.api.settings import Settings

    with reported():
        os.environ["PARLEY_HOME"] = str(home.path)
        if home.database_url:
            os.environ["PARLEY_DATABASE_URL"] = home.database_url
        shown = "localhost" if host in ("0.0.0.0", "::") else host
        os.environ["PARLEY_SERVER_ORIGIN"] = origin or f"http://{shown}:{port}"
        settings = Settings.from_env()
        data = _ready(settings)
        click.echo(
            f"Parley serves {settings.origin}/, listening on http://{host}:{port} "
            f"({workers} worker{'s' if workers != 1 else ''}); data: {data}; Ctrl-C stops it"
        )
    config = uvicorn.Config(
        "parley.api.app:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=STOP_GRACE_SECONDS,
    )
    if workers == 1:
        server = uvicorn.Server(config)
        with reported():  # the store cannot be opened, say
            server.run()
        sys.exit(0 if server.started else STARTUP_FAILURE)
    from parley.api.workers import Supervisor

    sys.exit(Supervisor(config, workers).run())


def _ready(settings: Settings) -> str:
    """Check, before any worker starts, what every worker needs: the schema at its revision and
    the home's log key the one the database records (made and recorded on a first start).
    Where the data is, for people."""
    from parley.log_setup import load_log_setup
    from parley.storage import open_store, where

    store = open_store(settings.database_url, home=settings.home)
    try:
        load_log_setup(settings.home, store)
        return where(store.engine)
    finally:
        store.close()


COMMANDS: list[click.Command] = [serve]
