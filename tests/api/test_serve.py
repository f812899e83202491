"""``parley serve`` as a real process: two uvicorn workers on one SQLite file answer requests; a
served process sets its garbage collector up for a long life; stopping waits little for streams."""

from __future__ import annotations

import gc
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from parley.api.app import GC_THRESHOLDS, served_app
from parley.cli.serve import STOP_GRACE_SECONDS
from parley.core import moves
from parley.core.event import format_time
from tests.api.conftest import login
from tests.api.servers import servers
from tests.negotiation import key_for, make_charter


def test_parley_serve_with_two_workers(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'parley.db'}"
    with (
        servers(tmp_path / "home", database, 1, workers=2) as (server,),
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        schema = http.get("/openapi.json").json()
        assert "/api/negotiations/{negotiation}/events" in schema["paths"]
        assert "/add-checkpoint" in schema["paths"]
        headers = login(http, key_for("PK"))
        # whichever worker answers, the session made by one is good at the other
        for _ in range(8):
            assert http.get("/api/negotiations", headers=headers).json() == {"negotiations": []}
        assert http.get("/log/checkpoint").text.splitlines()[1] == "0"
    assert (tmp_path / "home" / "session.secret").exists()
    assert (tmp_path / "home" / "log" / "log.key").exists()


def test_a_served_process_keeps_its_startup_objects_and_young_garbage_out_of_the_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path))
    monkeypatch.delenv("PARLEY_DATABASE_URL", raising=False)
    thresholds = gc.get_threshold()
    try:
        app = served_app()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
        app.state.context.services.store.close()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_stopped_server_does_not_wait_for_its_live_streams(tmp_path: Path) -> None:
    """A live stream lasts up to ten minutes; a stopping ``parley serve`` cuts it after a short
    grace instead of serving on beside its successor (the browser reconnects by itself)."""
    database = f"sqlite:///{tmp_path / 'parley.db'}"
    with (
        servers(tmp_path / "home", database, 1) as (server,),
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        charter = make_charter()
        qa = login(http, key_for("QA"))
        event = moves.convene(charter, key_for("QA"), "QA", format_time(datetime.now(UTC)))
        assert http.post("/api/negotiations", json=event.to_json(), headers=qa).is_success
        path = f"/api/negotiations/{charter.id}/stream"
        with http.stream("GET", path, headers=qa) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")  # the stream is open
            os.killpg(server.process.pid, signal.SIGTERM)
            # well under the stream's ten minutes: it is cut at the grace period
            # (uvicorn stops, then ends by the signal it was sent, as a shell expects)
            assert server.process.wait(timeout=STOP_GRACE_SECONDS * 6) == -signal.SIGTERM
