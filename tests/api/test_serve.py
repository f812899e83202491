"""``parley serve`` as a real process: two uvicorn workers on one SQLite file answer requests; a
served process sets its garbage collector up for a long life."""

from __future__ import annotations

import gc
from pathlib import Path

import httpx
import pytest

from parley.api.app import GC_THRESHOLDS, served_app
from tests.api.conftest import login
from tests.api.servers import servers
from tests.negotiation import key_for


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
