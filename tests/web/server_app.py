"""The application the browser tests serve with uvicorn: the API with the web pages mounted."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from parley.api.app import create_app
from parley.api.settings import Settings
from parley.web import mount


def app() -> FastAPI:
    """``uvicorn --factory tests.web.server_app:app``; demo keys from PARLEY_TEST_DEMO_KEYS."""
    settings = Settings.from_env()
    application = create_app(settings)
    demo = os.environ.get("PARLEY_TEST_DEMO_KEYS")
    mount(application, settings, demo_keys_dir=Path(demo) if demo else None)
    return application
