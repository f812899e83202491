"""Log witnesses run by other organisations: each checkpoint goes to them (c2sp.org/tlog-witness),
their cosignatures make the proofs meet the charter's policy, and one that is down or lies is left
out without holding publishing up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from parley import services as svc
from parley.core import merkle, moves
from parley.core.charter import PenRule
from parley.core.cosignature import cosign
from parley.core.event import EventType as T
from parley.core.keys import COSIGNATURE_V1, SigningKey
from parley.core.note import Note, parse_note
from parley.core.tlogpolicy import PolicyWitness, parse_policy
from parley.core.tlogproof import verify_proof
from parley.core.witness import MemoryWitnessState, Witness, add_checkpoint
from parley.errors import InvalidInputError, VerificationError
from parley.remote_witnesses import RETRY_AFTER_SECONDS, RemoteWitnesses, read_remote_witnesses
from parley.store import MemoryStore
from tests.negotiation import LOG_KEY, WITNESS_KEYS, key_for, make_charter

REMOTE_KEY = SigningKey.from_seed("un.example/witness", b"un".ljust(32, b"r"), COSIGNATURE_V1)
URL = "https://witness.un.example/tlog"


class FakeWitness:
    """A witness on the other side of the network: the real add-checkpoint logic, a record of
    what it was asked, and switches to go down or answer with another key."""

    def __init__(self, key: SigningKey = REMOTE_KEY, url: str = URL) -> None:
        self.url = url
        self.service = Witness.create([key], {LOG_KEY.name: [LOG_KEY.public()]})
        self.state = MemoryWitnessState()
        self.asked: list[int] = []
        self.down = False
        self.key = key
        self.sign_other_text = False
        self.claims: int | None = None
        """A size to claim in a 409 whatever is asked (a witness that saw another history)."""
        self.before = ""
        """Lines to answer before the cosignatures (of keys the client does not know)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url == f"{self.url}/add-checkpoint"
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = request.content
        self.asked.append(int(body.split(b"\n", 1)[0].removeprefix(b"old ")))
        if self.claims is not None:
            headers = {"content-type": "text/x.tlog.size"}
            return httpx.Response(409, text=f"{self.claims}\n", headers=headers)
        outcome = add_checkpoint(self.service, self.state, body, 1_780_000_000)
        if outcome.status == 200 and self.before:
            return httpx.Response(200, content=self.before.encode() + outcome.body)
        if self.sign_other_text:  # the right key's line, over another checkpoint
            text = parse_note(body.split(b"\n\n", 1)[1]).text.replace("\n2\n", "\n1\n")
            return httpx.Response(200, text=cosign(text, self.key, 1_780_000_000))
        return httpx.Response(
            outcome.status, content=outcome.body, headers={"content-type": outcome.content_type}
        )


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _services(witness: FakeWitness, ticks: Callable[[], float] | None = None) -> svc.Services:
    remote = RemoteWitnesses(
        (PolicyWitness("un-witness", REMOTE_KEY.public(), URL),),
        transport=httpx.MockTransport(witness),
        clock=ticks or Ticks(),
    )
    local = [("QA-log-witness", WITNESS_KEYS["QA"])]
    clock = lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # noqa: E731
    return svc.Services(MemoryStore(), svc.LogSetup(LOG_KEY, local, remote), clock)


def _open(s: svc.Services) -> str:
    charter = make_charter(PenRule.MEDIATOR, with_log=True)
    nid = s.open_negotiation(charter, key_for("QA"), "QA").state.negotiation
    s.act(nid, "PK", key_for("PK"), T.JOIN, moves.join(s.state(nid)))
    return nid


def _verified(s: svc.Services, nid: str) -> None:
    """The first event's proof meets the log's witness policy, as a verifier would check it."""
    assert s.log_setup is not None
    first = s.events(nid)[0]
    leaf = merkle.leaf_hash(bytes.fromhex(first.hash))
    policy = parse_policy(s.log_setup.witness_policy())
    verify_proof(s.proof(first.hash).encode(), leaf, policy=policy)


def test_the_policy_requires_the_remote_witness_with_its_url() -> None:
    policy = parse_policy(_services(FakeWitness()).log_setup.witness_policy())  # type: ignore[union-attr]
    assert [(w.name, w.url) for w in policy.witnesses] == [
        ("QA-log-witness", None),
        ("un-witness", URL),
    ]
    assert policy.quorum == "witnesses"
    assert policy.groups[0].members == ("QA-log-witness", "un-witness")


def test_a_checkpoint_is_cosigned_remotely_and_the_proof_meets_the_policy() -> None:
    witness = FakeWitness()
    s = _services(witness)
    nid = _open(s)
    stored = s.publish()
    assert stored is not None and stored.size == 2
    names = [sig.name for sig in parse_note(stored.note).signatures]
    assert names == [LOG_KEY.name, WITNESS_KEYS["QA"].name, REMOTE_KEY.name]
    assert witness.asked == [0] and witness.state.latest(LOG_KEY.name).size == 2  # type: ignore[union-attr]
    _verified(s, nid)
    assert s.publish() == stored  # nothing new: the witness is not asked again
    assert witness.asked == [0]


def test_the_next_checkpoint_proves_consistency_from_what_the_witness_saw() -> None:
    witness = FakeWitness()
    s = _services(witness)
    nid = _open(s)
    s.publish()
    s.act(nid, "AF", key_for("AF"), T.JOIN, moves.join(s.state(nid)))
    assert s.publish().size == 3  # type: ignore[union-attr]
    assert witness.asked == [0, 2]


def _published_by_another_process(witness: FakeWitness, first: svc.Services, nid: str) -> None:
    """A process of the same deployment that has just started (same store, no memory of what
    the witness saw) publishes, after one more event."""
    other = _services(witness)
    other.store = first.store
    first.act(nid, "AF", key_for("AF"), T.JOIN, moves.join(first.state(nid)))
    stored = other.publish()
    assert stored is not None and REMOTE_KEY.name in stored.note


def test_a_process_that_has_just_started_asks_from_the_size_the_stored_checkpoint_shows() -> None:
    witness = FakeWitness()
    first = _services(witness)
    nid = _open(first)
    first.publish()
    _published_by_another_process(witness, first, nid)
    assert witness.asked == [0, 2]  # the proof from 2 at once: no 409 round trip


def test_a_witness_that_knows_more_than_this_deployment_stored_says_so_and_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    witness = FakeWitness()
    first = _services(witness)
    nid = _open(first)
    # the witness cosigns size 2, but the process stops before storing the checkpoint
    monkeypatch.setattr(first, "_keep", lambda checkpoint: checkpoint)
    first.publish()
    _published_by_another_process(witness, first, nid)
    assert witness.asked == [0, 0, 2]  # 409 with its size 2, then the proof from 2


def test_a_checkpoint_older_than_the_witness_has_seen_is_no_failure() -> None:
    witness = FakeWitness()
    s = _services(witness)
    nid = _open(s)
    older = parse_note(s.publish().note)  # type: ignore[union-attr]
    s.act(nid, "AF", key_for("AF"), T.JOIN, moves.join(s.state(nid)))
    s.publish()  # the witness is at 3 now
    stale = _services(witness)  # a process that publishes late what it signed at 2
    stale.store = s.store
    plain = Note(older.text, older.signatures[:1])
    remote = stale.log_setup.remote  # type: ignore[union-attr]
    assert remote.cosign(plain, lambda old: stale._witness_request(plain, old)) == plain
    assert witness.asked == [0, 2, 0] and remote.due(plain)  # not resting: it did not fail


def test_a_witness_that_is_down_is_left_out_then_asked_again_later() -> None:
    witness, ticks = FakeWitness(), Ticks()
    s = _services(witness, ticks)
    nid = _open(s)
    witness.down = True
    stored = s.publish()
    assert stored is not None and REMOTE_KEY.name not in stored.note
    with pytest.raises(VerificationError, match="witness"):
        _verified(s, nid)
    witness.down = False
    assert s.publish() == stored  # resting after the failure: publishing does not wait on it
    assert witness.asked == []
    ticks.now += RETRY_AFTER_SECONDS
    again = s.publish()
    assert again is not None and again.size == stored.size and REMOTE_KEY.name in again.note
    _verified(s, nid)


def test_a_witness_claiming_a_larger_log_than_this_one_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    witness = FakeWitness()
    witness.claims = 99
    s = _services(witness)
    _open(s)
    stored = s.publish()
    assert stored is not None and REMOTE_KEY.name not in stored.note
    reported = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(reported) == 1 and "cosigned size 99 of this log, which has 2 entries" in (
        reported[0].getMessage()
    )
    assert not s.log_setup.remote.due(parse_note(stored.note))  # type: ignore[union-attr]


def test_lines_the_client_cannot_read_do_not_hide_the_cosignature() -> None:
    witness = FakeWitness()
    witness.before = "— other.example/w+zz not-base64\n— \nnot a signature line\n"
    s = _services(witness)
    nid = _open(s)
    stored = s.publish()
    assert stored is not None and REMOTE_KEY.name in stored.note
    _verified(s, nid)


def test_a_cosignature_by_another_key_is_not_taken() -> None:
    impostor = SigningKey.from_seed("un.example/witness", b"x".ljust(32, b"x"), COSIGNATURE_V1)
    s = _services(FakeWitness(impostor))
    nid = _open(s)
    stored = s.publish()
    assert stored is not None and REMOTE_KEY.name not in stored.note
    with pytest.raises(VerificationError):
        _verified(s, nid)


def test_a_cosignature_of_another_checkpoint_is_not_taken() -> None:
    witness = FakeWitness()
    witness.sign_other_text = True
    s = _services(witness)
    nid = _open(s)
    stored = s.publish()
    assert witness.asked == [0]
    assert stored is not None and REMOTE_KEY.name not in stored.note
    with pytest.raises(VerificationError):
        _verified(s, nid)


def test_the_witnesses_are_asked_together_and_each_counts_alone() -> None:
    second_key = SigningKey.from_seed("eu.example/witness", b"eu".ljust(32, b"r"), COSIGNATURE_V1)
    first = FakeWitness(url="https://first.example")
    second = FakeWitness(second_key, "https://second.example")
    third = FakeWitness(url="https://third.example")
    third.down = True
    meet = threading.Barrier(2, timeout=10)  # the first two answer only once both are asked

    def route(request: httpx.Request) -> httpx.Response:
        witness = {"first.example": first, "second.example": second}.get(request.url.host)
        if witness is None:
            return third(request)
        meet.wait()
        return witness(request)

    listed = (
        PolicyWitness("first", REMOTE_KEY.public(), "https://first.example"),
        PolicyWitness("second", second_key.public(), "https://second.example"),
        PolicyWitness("third", REMOTE_KEY.public(), "https://third.example"),
    )
    remote = RemoteWitnesses(listed, transport=httpx.MockTransport(route))
    s = svc.Services(MemoryStore(), svc.LogSetup(LOG_KEY, [], remote))
    _open(s)
    stored = s.publish()
    assert stored is not None
    names = [sig.name for sig in parse_note(stored.note).signatures]
    assert names == [LOG_KEY.name, REMOTE_KEY.name, second_key.name]
    assert first.asked == second.asked == [0] and third.asked == []


def test_the_file_lists_witnesses_with_their_urls(tmp_path: Path) -> None:
    assert read_remote_witnesses(tmp_path) == ()
    vkey = REMOTE_KEY.public().vkey()
    (tmp_path / "remote-witnesses.policy").write_text(
        f"# the UN's witness\nwitness un {vkey} {URL}\n"
    )
    assert read_remote_witnesses(tmp_path) == (PolicyWitness("un", REMOTE_KEY.public(), URL),)


@pytest.mark.parametrize(
    "line, message",
    [
        ("witness un {vkey}", "witness un: expected its submission URL"),
        ("witness un {vkey} ftp://x", "witness un: expected its submission URL"),
        ("quorum none", "line 1: only 'witness <name> <vkey> <url>' lines belong here"),
        ("witness un {log} https://x", "line 1"),
    ],
)
def test_a_bad_file_is_refused_with_where(tmp_path: Path, line: str, message: str) -> None:
    text = line.format(vkey=REMOTE_KEY.public().vkey(), log=LOG_KEY.public().vkey())
    (tmp_path / "remote-witnesses.policy").write_text(text + "\n")
    with pytest.raises(InvalidInputError) as raised:
        read_remote_witnesses(tmp_path)
    assert message in str(raised.value) and "remote-witnesses.policy" in str(raised.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "remote-witnesses.policy").write_bytes(b"witness \xff\n")
    with pytest.raises(InvalidInputError, match=r"remote-witnesses.policy: not UTF-8 \(byte 8\)"):
        read_remote_witnesses(tmp_path)


def test_a_witness_cannot_be_both_local_and_remote() -> None:
    remote = RemoteWitnesses((PolicyWitness("QA-log-witness", REMOTE_KEY.public(), URL),))
    with pytest.raises(InvalidInputError, match="QA-log-witness is both local and remote"):
        svc.LogSetup(LOG_KEY, [("QA-log-witness", WITNESS_KEYS["QA"])], remote)
