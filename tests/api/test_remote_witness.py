"""Two real servers of two organisations: one's log is witnessed by the other, over HTTP
(c2sp.org/tlog-witness), as docs/deployment.md sets it up."""

from __future__ import annotations

from pathlib import Path

import httpx

from parley.core import moves
from parley.core.checkpoint import open_checkpoint
from parley.core.keys import COSIGNATURE_V1, SigningKey, key_file_bytes
from parley.core.tlogpolicy import evaluate, parse_policy
from tests.api.conftest import login
from tests.api.servers import start
from tests.negotiation import key_for, make_charter

LOG_KEY = SigningKey.from_seed("a.example/parley-log", b"a-log".ljust(32, b"\x00"))
WITNESS_KEY = SigningKey.from_seed("b.example/witness", b"b-w".ljust(32, b"\x00"), COSIGNATURE_V1)


def _convene(url: str, nonce: str) -> None:
    charter = make_charter(nonce=nonce)
    with httpx.Client(base_url=url, timeout=30) as http:
        event = moves.convene(charter, key_for("QA"), "QA", "2026-12-07T09:00:00Z")
        headers = login(http, key_for("QA"))
        answer = http.post("/api/negotiations", json=event.to_json(), headers=headers)
        assert answer.status_code == 201, answer.text


def _checkpoint(url: str) -> tuple[int, set[str]]:
    """The published checkpoint's size and the witnesses whose cosignatures verify in it, checked
    against the log's own witness policy as a verifier would."""
    policy = parse_policy(httpx.get(f"{url}/api/log/setup").json()["witness_policy"])
    note = httpx.get(f"{url}/log/checkpoint").text
    opened = open_checkpoint(note, [LOG_KEY.public()], policy.witness_keys)
    names = policy.witness_names(opened.witness_keys)
    assert evaluate(policy, names).satisfied == (names == {"b-witness"})
    return opened.checkpoint.size, set(names)


def test_a_server_cosigns_another_servers_checkpoints(tmp_path: Path) -> None:
    a_home, b_home = tmp_path / "a", tmp_path / "b"
    (a_home / "log").mkdir(parents=True)
    (a_home / "log" / "log.key").write_bytes(key_file_bytes(LOG_KEY))
    (b_home / "witness").mkdir(parents=True)
    (b_home / "witness" / "b.key").write_bytes(key_file_bytes(WITNESS_KEY))
    (b_home / "witness" / "logs.policy").write_text(f"log {LOG_KEY.public().vkey()}\nquorum none\n")
    witness = start(b_home, f"sqlite:///{b_home / 'b.db'}")
    try:
        line = f"witness b-witness {WITNESS_KEY.public().vkey()} {witness.url}\n"
        (a_home / "log" / "remote-witnesses.policy").write_text(line)
        log = start(a_home, f"sqlite:///{a_home / 'a.db'}")
        try:
            _convene(log.url, "first-negotiation")
            assert _checkpoint(log.url) == (1, {"b-witness"})
            _convene(log.url, "second-negotiation")
            assert _checkpoint(log.url) == (2, {"b-witness"})  # proved consistent with 1
            witness.stop()
            _convene(log.url, "third-negotiation")
            assert _checkpoint(log.url) == (3, set())  # published without it, quorum not met
        finally:
            log.stop()
    finally:
        witness.stop()
