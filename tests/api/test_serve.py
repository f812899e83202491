"""``parley serve`` as a real process: two uvicorn workers on one SQLite file answer requests."""

from __future__ import annotations

from pathlib import Path

import httpx

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
