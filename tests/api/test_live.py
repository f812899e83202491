"""Server-sent events from a real uvicorn server: a message per change, heartbeats, and changes
made through another API process (another app over the same database) seen too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from parley.api.app import create_app
from parley.api.live import changes, message
from parley.api.settings import Live
from parley.core import moves, protocol
from parley.core.event import EventType
from parley.storage import open_store
from tests.api.conftest import (
    FAST_LIVE,
    TestClient,
    login,
    make_services,
    make_settings,
    serving,
)
from tests.negotiation import key_for, make_charter


def _messages(lines: Iterator[str]) -> Iterator[dict[str, object] | str]:
    """Parsed data messages, and 'heartbeat' for each heartbeat comment."""
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[len("data: ") :])
        elif line.startswith(": heartbeat"):
            yield "heartbeat"


def test_a_stream_reports_each_change_made_through_another_process(tmp_path: Path) -> None:
    url_db = f"sqlite:///{tmp_path / 'shared.db'}"
    writer_services = make_services(open_store(url_db))
    reader_services = make_services(open_store(url_db))
    writer_app = create_app(make_settings(tmp_path / "a"), services=writer_services)
    charter = make_charter()
    nid = charter.id
    with TestClient(writer_app) as writer:
        qa = login(writer, key_for("QA"))
        event = moves.convene(charter, key_for("QA"), "QA", writer_services.now())
        assert writer.post("/api/negotiations", json=event.to_json(), headers=qa).status_code == 201
        state = protocol.start(event)

        def build(url: str) -> object:
            settings = make_settings(tmp_path / "b", origin=url, live=FAST_LIVE)
            return create_app(settings, services=reader_services)

        with serving(build) as url, httpx.Client(base_url=url, timeout=10) as http:
            headers = login(http, key_for("PK"))
            path = f"/api/negotiations/{nid}/stream"
            with http.stream("GET", path, headers=headers) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                messages = _messages(stream.iter_lines())
                assert next(messages) == {"negotiation": nid, "seq": 1, "head": event.hash}
                for code in ("PK", "AF"):
                    join = moves.make(state, key_for(code), code, EventType.JOIN,
                                      moves.join(state), writer_services.now())  # fmt: skip
                    who = login(writer, key_for(code))
                    answer = writer.post(f"/api/negotiations/{nid}/events", json=join.to_json(),
                                         headers=who)  # fmt: skip
                    assert answer.status_code == 201
                    state = protocol.apply(state, join)
                    found = next(m for m in messages if m != "heartbeat")
                    assert found == {"negotiation": nid, "seq": state.seq, "head": state.head}
                assert next(messages) == "heartbeat"


def test_a_reconnecting_client_is_not_told_again_and_streams_end(tmp_path: Path) -> None:
    services = make_services()
    live = Live(poll_seconds=0.05, heartbeat_seconds=0.1, max_seconds=0.6)

    def build(url: str) -> object:
        return create_app(make_settings(tmp_path, origin=url, live=live), services=services)

    with serving(build) as url, httpx.Client(base_url=url, timeout=10) as http:
        headers = login(http, key_for("QA"))
        event = moves.convene(make_charter(), key_for("QA"), "QA", services.now())
        assert http.post("/api/negotiations", json=event.to_json(), headers=headers).is_success
        path = f"/api/negotiations/{event.envelope.negotiation}/stream"
        resumed = {**headers, "Last-Event-ID": "1"}
        with http.stream("GET", path, headers=resumed) as stream:
            seen = list(_messages(stream.iter_lines()))  # ends by itself after max_seconds
        assert seen and all(m == "heartbeat" for m in seen)
        assert http.get(path).status_code == 401
        for odd in ("\u00b2".encode(), b"9" * 5000):  # a 500 once: isdigit() takes more than 0-9
            with http.stream("GET", path, headers={**headers, "Last-Event-ID": odd}) as stream:
                assert stream.status_code == 200


def test_the_streams_of_a_process_look_together(tmp_path: Path) -> None:
    services = make_services()
    looks: list[int] = []
    real = services.positions

    def counted(negotiations: Any) -> Any:
        looks.append(len(negotiations))
        return real(negotiations)

    services.positions = counted  # type: ignore[method-assign]
    live = Live(poll_seconds=0.05, heartbeat_seconds=10, max_seconds=0.4)
    app = create_app(make_settings(tmp_path, live=live), services=services)
    ctx = app.state.context
    event = moves.convene(make_charter(), key_for("QA"), "QA", services.now())
    services.submit(event)
    nid = event.envelope.negotiation

    async def watch() -> list[bytes]:
        return [m async for m in changes(ctx, nid, None, live.max_seconds)]

    async def main() -> list[list[bytes]]:
        return await asyncio.gather(*(watch() for _ in range(20)))

    streams = asyncio.run(main())
    assert all(s[1] == message(nid, 1, event.hash) for s in streams)
    assert sum(looks) >= 20 * 4  # every stream looked, tick after tick
    assert len(looks) * 5 <= sum(looks), f"looks were not shared: {looks}"
