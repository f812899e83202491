"""``RemoteServices`` trusts the server with nothing it can check: it folds the events itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley import errors
from parley.api.app import create_app
from parley.client import RemoteServices
from parley.core import moves
from parley.core import text as text_model
from parley.core.event import EventType
from tests.api.conftest import TestClient, make_services, make_settings
from tests.negotiation import clean_text, key_for, make_charter

Tamper = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Tampering(httpx.BaseTransport):
    """Passes requests to the app and lets a test change the answers."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.tamper: Tamper | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.tamper is None:
            return response
        response.read()
        return self.tamper(request, response)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[RemoteServices, Tampering]]:
    services = make_services()
    app = create_app(make_settings(tmp_path, origin="http://testserver"), services=services)
    with TestClient(app) as client:
        transport = Tampering(client._transport)
        yield RemoteServices("http://testserver", transport=transport), transport


def _open(remote: RemoteServices) -> str:
    nid = remote.open_negotiation(make_charter(with_log=True), key_for("QA"), "QA").state
    for code in ("PK", "AF", "QA", "TR"):
        remote.act(nid.negotiation, code, key_for(code), EventType.JOIN, moves.join(nid))
    return nid.negotiation


def test_the_client_folds_what_it_fetched(remote: tuple[RemoteServices, Tampering]) -> None:
    client, _ = remote
    nid = _open(client)
    text = clean_text()
    receipt = client.act(nid, "QA", key_for("QA"), EventType.PROPOSE, moves.propose(text))
    assert receipt.state.seq == 6 and receipt.log_index == 5
    assert client.state(nid).versions.keys() == {text_model.version_hash(text)}
    assert client.version(nid, text_model.version_hash(text)[:8]) == text
    assert [r.id for r in client.negotiations()] == [nid]
    assert client.resolve(nid[:6]) == nid
    assert client.log_setup is not None
    assert client.publish() is not None


def _rewrite(path_part: str, change: Callable[[dict[str, Any]], None]) -> Tamper:
    def tamper(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if path_part not in request.url.path or request.method != "GET":
            return response
        doc = response.json()
        change(doc)
        return httpx.Response(response.status_code, json=doc, request=request)

    return tamper


def test_an_altered_body_is_caught(remote: tuple[RemoteServices, Tampering]) -> None:
    client, transport = remote
    nid = _open(client)
    client.act(nid, "PK", key_for("PK"), EventType.STATEMENT, moves.statement("we agree"))

    def change(doc: dict[str, Any]) -> None:
        for event in doc["events"]:
            if event.get("body", {}).get("text") == "we agree":
                event["body"]["text"] = "we refuse"

    transport.tamper = _rewrite("/events", change)
    fresh = RemoteServices("http://testserver", transport=transport, key=key_for("PK"))
    with pytest.raises(errors.InvalidInputError, match="does not match"):
        fresh.state(nid)


def test_a_dropped_event_is_caught(remote: tuple[RemoteServices, Tampering]) -> None:
    client, transport = remote
    nid = _open(client)

    def change(doc: dict[str, Any]) -> None:
        del doc["events"][2]

    transport.tamper = _rewrite("/events", change)
    fresh = RemoteServices("http://testserver", transport=transport, key=key_for("PK"))
    with pytest.raises(errors.ConflictError):
        fresh.state(nid)


def test_a_wrong_text_is_caught(remote: tuple[RemoteServices, Tampering]) -> None:
    client, transport = remote
    nid = _open(client)
    text = clean_text()
    client.act(nid, "QA", key_for("QA"), EventType.PROPOSE, moves.propose(text))
    other = text_model.to_json(clean_text("Something else entirely."))
    transport.tamper = _rewrite("/versions/", lambda doc: doc.__setitem__("text", other))
    with pytest.raises(errors.VerificationError):
        client.version(nid, text_model.version_hash(text))


def test_a_server_under_another_name_is_refused(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, origin="https://parley.example"),
                     services=make_services())  # fmt: skip
    with TestClient(app) as client:
        remote = RemoteServices("http://testserver", transport=client._transport, key=key_for("PK"))
        with pytest.raises(errors.PermissionDeniedError, match=r"parley\.example"):
            remote.negotiations()


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        (502, errors.StorageError, "the Parley server behind it is not answering"),
        (504, errors.StorageError, "the Parley server behind it is not answering"),
        (413, errors.LimitExceededError, "client_max_body_size"),
        (404, errors.ParleyError, "not as a Parley server does"),
    ],
)
def test_a_proxys_own_answer_is_named_for_what_it_means(
    remote: tuple[RemoteServices, Tampering], status: int, error: type[Exception], said: str
) -> None:
    """nginx answers for a server that is down (502, 504) or a body over its own limit (413) in
    HTML: the command says what happened (exit 7: unreachable; 2: too large), not that the
    address may be wrong."""
    transport = remote[1]
    client = RemoteServices("http://testserver", transport=transport, key=key_for("PK"))
    transport.tamper = lambda request, _: httpx.Response(
        status, html="<html><body>nginx</body></html>", request=request
    )
    with pytest.raises(error, match=said) as raised:
        client.negotiations()
    assert type(raised.value) is error


def test_a_proxys_502_to_a_move_says_it_may_be_recorded(
    remote: tuple[RemoteServices, Tampering],
) -> None:
    """A submission cut off behind the proxy may still have been stored: resending blindly
    would sign and record the move twice."""
    transport = remote[1]
    client = RemoteServices("http://testserver", transport=transport, key=key_for("QA"))
    transport.tamper = lambda request, response: (
        httpx.Response(502, html="<html>nginx</html>", request=request)
        if request.method == "POST" and request.url.path == "/api/negotiations"
        else response
    )
    with pytest.raises(errors.StorageError, match="may or may not be recorded"):
        client.open_negotiation(make_charter(with_log=True), key_for("QA"), "QA")
