"""A served process publishes checkpoints by itself when the log grows, for the log witnesses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from parley import services as svc
from parley.api.app import create_app
from parley.core.event import EventType
from parley.store import MemoryStore
from tests.api.conftest import Api, make_services, make_settings


def _log_size(services: svc.Services) -> int:
    with services.reading() as tx:
        return tx.log_size()


def _checkpoint_size(services: svc.Services, wanted: int) -> int | None:
    """The stored checkpoint's size once it reaches ``wanted`` (waiting up to 30 s for the
    server's clock), else what it was."""
    deadline = time.monotonic() + 30
    while True:
        stored = services.checkpoint()
        size = stored.size if stored else None
        if size == wanted or time.monotonic() > deadline:
            return size
        time.sleep(0.02)


@contextmanager
def _opened(services: svc.Services, home: Path, **settings: Any) -> Iterator[Api]:
    """A served app over ``services`` with a negotiation opened through it."""
    app = create_app(make_settings(home, **settings), services=services)
    with TestClient(app) as client:
        api = Api(app, services, client)
        api.open()
        yield api


def test_the_log_is_published_without_being_asked(tmp_path: Path) -> None:
    services = make_services()
    with _opened(services, tmp_path, publish_seconds=0.05) as api:
        size = _log_size(services)
        assert _checkpoint_size(services, size) == size
        api.play("QA", EventType.STATEMENT, {"text": "For the record."})
        assert _checkpoint_size(services, size + 1) == size + 1 == _log_size(services)


def test_without_a_clock_nothing_is_published_unasked(tmp_path: Path) -> None:
    services = make_services()
    with _opened(services, tmp_path):
        time.sleep(0.3)
        assert services.checkpoint() is None


def test_a_failing_publish_is_tried_again(tmp_path: Path) -> None:
    services = make_services(MemoryStore())
    calls: list[int] = []
    real = services.publish

    def flaky() -> object:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database is away")
        return real()

    services.publish = flaky  # type: ignore[method-assign]
    with _opened(services, tmp_path, publish_seconds=0.05):
        size = _log_size(services)
        assert _checkpoint_size(services, size) == size
    assert len(calls) >= 2
