"""The agreement bundle and its verifier: in force, not yet, and every kind of cheat caught."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable

import pytest

from parley import __version__
from parley.core import bundle, log_evidence, moves
from parley.core import text as text_model
from parley.core.bundle import Verdict
from parley.core.charter import PenRule
from parley.core.event import EventType as T
from parley.core.event import SignedEvent, sign_event
from parley.core.keys import SigningKey
from parley.core.protocol import Mode
from tests.core.test_protocol import concluded
from tests.negotiation import (
    LOG_KEY,
    WITNESS_KEYS,
    Table,
    clean_text,
    key_for,
    make_charter,
    make_log,
    witness_policy,
)


def _bundle(events: list[SignedEvent]) -> bytes:
    log = make_log()
    for event in events:
        log.append(bytes.fromhex(event.hash))
    log.publish(now=1_780_000_000)
    return bundle.build_bundle(events, [log.proof(i) for i in range(len(events))])


@pytest.fixture(scope="module")
def table() -> Table:
    table = Table(charter=make_charter(PenRule.MEDIATOR, with_log=True)).open()
    table.play("AF", T.STATEMENT, moves.statement("We shall never let our soil be used."))
    return concluded(table)


@pytest.fixture(scope="module")
def good(table: Table) -> bytes:
    return _bundle(table.events)


def test_a_complete_bundle_is_in_force(good: bytes) -> None:
    report = bundle.check_bundle(good)
    assert report.verdict is Verdict.IN_FORCE, report.problem
    assert all(line.holds for line in report.requirements)
    assert any("not binding" in s.detail for s in report.statements)
    assert any("quorum" in line.text and line.holds for line in report.log)


def test_drafts_are_not_in_the_bundle(good: bytes) -> None:
    doc = json.loads(good)
    kinds_with_body = {e["envelope"]["type"] for e in doc["events"] if "body" in e}
    assert "propose" not in kinds_with_body
    assert {"charter", "finalize", "sign", "witness", "endorse"} <= kinds_with_body


def _finalized(nonce: str) -> tuple[Table, str]:
    """Talks in which both parties accepted the clean text and the mediator finalized it."""
    table = Table(charter=make_charter(PenRule.MEDIATOR, with_log=True, nonce=nonce)).open()
    text = clean_text()
    v = text_model.version_hash(text)
    table.play("QA", T.PROPOSE, moves.propose(text))
    table.play("PK", T.ACCEPT, moves.accept(v))
    table.play("AF", T.ACCEPT, moves.accept(v))
    table.play("QA", T.FINALIZE, moves.finalize(text))
    return table, v


def test_without_the_last_witness_attestation_it_is_not_in_force(table: Table) -> None:
    events = list(table.events)
    assert events[-1].envelope.type is T.ENDORSE
    short, v = _finalized("nonce-short")
    pk = short.play("PK", T.SIGN, moves.sign(v)).hash
    af = short.play("AF", T.SIGN, moves.sign(v)).hash
    for g in ("QA", "TR"):
        short.play(g, T.ENDORSE, moves.endorse(v, [pk, af]))
    short.play("QA", T.WITNESS, moves.witness(pk))
    last = short.play("TR", T.WITNESS, moves.witness(af))
    assert bundle.check_bundle(_bundle(short.events)).verdict is Verdict.IN_FORCE
    report = bundle.check_bundle(_bundle(short.events[:-1]))
    assert report.verdict is Verdict.NOT_IN_FORCE
    assert report.as_of.startswith(f"The file holds the record up to event {report.events - 1} (")
    assert report.problem is not None and report.problem.startswith("not yet met: AF's signature")
    failing = [line.text for line in report.requirements if not line.holds]
    assert any("AF's signature is witnessed" in t for t in failing)
    assert last.envelope.type is T.WITNESS


def test_swapping_the_final_text_for_one_word_different_is_invalid(good: bytes) -> None:
    doc = json.loads(good)
    for e in doc["events"]:
        if e["envelope"]["type"] == "finalize":
            other = clean_text("The Parties may refrain from cross-border attacks.")
            e["body"] = moves.finalize(other)
    report = bundle.check_bundle(json.dumps(doc).encode())
    assert report.verdict is Verdict.INVALID
    finalize, by = next(
        (i, e["envelope"]["author"])
        for i, e in enumerate(doc["events"])
        if e["envelope"]["type"] == "finalize"
    )
    assert report.problem == (
        f"malformed or altered: event {finalize} (finalize by {by}): the body does not match the "
        "hash its envelope signs"
    )


def test_reusing_a_witness_attestation_for_another_signature_is_invalid(good: bytes) -> None:
    doc = json.loads(good)
    signs = [e for e in doc["events"] if e["envelope"]["type"] == "sign"]
    witness = next(e for e in doc["events"] if e["envelope"]["type"] == "witness")
    hashes = [bundle.event_from_json(s).hash for s in signs]
    witness["body"]["sign"] = next(h for h in hashes if h != witness["body"]["sign"])
    assert bundle.check_bundle(json.dumps(doc).encode()).verdict is Verdict.INVALID


def test_a_statement_never_puts_anything_in_force() -> None:
    table = Table(charter=make_charter(PenRule.MEDIATOR, with_log=True, nonce="nonce-stmt")).open()
    table.play("PK", T.STATEMENT, moves.statement("We hereby guarantee everything."))
    report = bundle.check_bundle(_bundle(table.events))
    assert report.verdict is Verdict.NOT_IN_FORCE  # an authentic record, of talks not concluded
    assert report.problem == "no text has been finalized: this record holds no agreement (yet)"
    assert report.statements and report.parties


def test_a_sample_of_byte_flips_is_always_caught(good: bytes) -> None:
    rng = random.Random(20261129)
    positions = sorted(rng.sample(range(len(good)), 250))
    for pos in positions:
        bit = 1 << rng.randrange(8)
        tampered = good[:pos] + bytes([good[pos] ^ bit]) + good[pos + 1 :]
        report = bundle.check_bundle(tampered)
        assert report.verdict is Verdict.INVALID, f"flip at byte {pos} went unnoticed"
        assert report.problem


def test_the_witness_policy_can_be_given_by_the_verifier(good: bytes) -> None:
    strict = witness_policy().replace("quorum mediators", "quorum QA-log-witness")
    assert bundle.check_bundle(good, witness_policy=strict).verdict is Verdict.IN_FORCE
    none_known = "\n".join(line for line in witness_policy().splitlines() if line.startswith("log"))
    assert (
        bundle.check_bundle(good, witness_policy=none_known + "\nquorum none\n").verdict
        is Verdict.IN_FORCE
    )


def test_the_log_line_says_when_other_negotiations_share_the_span() -> None:
    assert log_evidence._entries(0, 26, 27, 27) == "entries 0 to 26"
    assert log_evidence._entries(3, 46, 36, 47) == (
        "entries 3 to 46, in order, among other negotiations'"
    )


def test_the_log_line_says_how_far_the_checkpoint_reaches_without_guessing_why() -> None:
    """A checkpoint beyond a file's last event is as likely other negotiations' entries as a
    later event of this one: the line says only what the file shows."""
    assert log_evidence._entries(0, 20, 21, 27) == (
        "entries 0 to 20; the checkpoint reaches entry 26 (entries of any negotiation)"
    )
    assert log_evidence._entries(21, 21, 1, 22) == "entry 21"


def test_a_cut_file_says_it_cannot_rule_out_later_events(table: Table) -> None:
    report = bundle.check_bundle(_bundle(table.events[:-3]))
    assert report.verdict is Verdict.NOT_IN_FORCE
    assert "cannot show that no later event exists" in report.as_of
    assert "exported later" in report.as_of


def test_an_altered_event_is_blamed_not_the_one_after_it(good: bytes) -> None:
    """A flipped signature changes its event's hash, so the next event no longer follows it:
    the report must name the altered event, not the next one."""
    doc = json.loads(good)
    n = next(i for i, e in enumerate(doc["events"]) if e["envelope"]["type"] == "sign")
    signed = doc["events"][n]
    flipped = "A" if signed["signature"][0] != "A" else "B"
    signed["signature"] = flipped + signed["signature"][1:]
    report = bundle.check_bundle(json.dumps(doc).encode())
    assert report.verdict is Verdict.INVALID
    author = signed["envelope"]["author"]
    assert report.problem is not None and f"signature by {author}" in report.problem
    assert "does not verify" in report.problem


def test_an_event_altered_where_it_names_its_predecessor_is_blamed_itself(table: Table) -> None:
    """Its own signature no longer verifies: it is named, not its validly signed predecessor."""
    doc = json.loads(_bundle(table.events))
    doc["events"][5]["envelope"]["prev"] = "ab" * 32
    report = bundle.check_bundle(json.dumps(doc).encode())
    author = doc["events"][5]["envelope"]["author"]
    assert report.problem is not None and report.problem.startswith(
        f"a signature does not verify: event 5 ({doc['events'][5]['envelope']['type']} by {author})"
    )


def test_a_crafted_body_of_a_wrong_type_is_a_verdict_not_a_crash(table: Table) -> None:
    """A sign event whose mode is a list, validly signed by a key of the charter, had the
    verifier raise TypeError (a traceback on the command line, a 500 from the API)."""
    signed = next(e for e in table.events if e.envelope.type is T.SIGN)
    env = signed.envelope
    odd = sign_event(key_for(env.author), negotiation=env.negotiation, seq=env.seq, prev=env.prev,
                     type=env.type, author=env.author, time=env.time,
                     body={**(signed.body or {}), "mode": []})  # fmt: skip
    report = bundle.check_bundle(_bundle([*table.events[: env.seq], odd]))
    assert report.verdict is Verdict.INVALID
    assert report.problem is not None and "mode must be 'firm' or 'ad_referendum'" in report.problem


def test_a_replaced_event_is_named_with_the_one_it_should_follow(table: Table) -> None:
    """The last event re-signed by its own author on another history: every signature holds,
    only the link is wrong, and the report says which two events it joins."""
    last = table.events[-1].envelope
    body = table.events[-1].body
    assert body is not None
    other = sign_event(key_for(last.author), negotiation=last.negotiation, seq=last.seq,
                       prev="ab" * 32, type=last.type, author=last.author, time=last.time,
                       body=body)  # fmt: skip
    report = bundle.check_bundle(_bundle([*table.events[:-1], other]))
    before = table.events[-2].envelope
    assert report.problem == (
        f"malformed or altered: event {last.seq} ({last.type} by {last.author}) follows another "
        f"event {last.seq - 1} than the file's ({before.type} by {before.author}, validly "
        "signed): one of the two was replaced"
    )


def test_an_unratified_ad_referendum_signature_is_said_to_be_there() -> None:
    table, v = _finalized("nonce-adref")
    table.play("PK", T.SIGN, moves.sign(v))
    af = table.play("AF", T.SIGN, moves.sign(v, Mode.AD_REFERENDUM))
    table.play("TR", T.WITNESS, moves.witness(af.hash))
    report = bundle.check_bundle(_bundle(table.events))
    details = {line.text: line.detail for line in report.requirements}
    key = af.envelope.key
    assert details["AF signs the final text"] == (
        f"signed ad referendum with key {key}, not yet ratified"
    )
    witnessed = next(d for t, d in details.items() if t.startswith("AF's signature is witnessed"))
    assert witnessed == f"signed ad referendum with key {key}, not yet ratified; witnessed by TR"
    # the headline asks for what is missing: the ratification, not a witness TR already is
    assert report.problem == (
        "not yet met: AF ratifies its ad referendum signature; PK's signature is witnessed by "
        "at least 1 of QA, TR; QA endorses the agreement; TR endorses the agreement"
    )


def test_a_log_no_witness_vouches_for_is_a_caution_not_a_tick(good: bytes) -> None:
    """With ``quorum none`` the operator alone signs the checkpoint: it could sign another
    history, so the report must not let the log pass for independent evidence."""
    logs = "\n".join(line for line in witness_policy().splitlines() if line.startswith("log"))
    report = bundle.check_bundle(good, witness_policy=logs + "\nquorum none\n")
    cautions = [line for line in report.log if line.caution]
    assert [line.text for line in cautions] == ["no log witness vouches for this checkpoint"]
    assert "operator alone" in cautions[0].detail
    assert report.to_json()["log"][-1]["caution"] is True
    strict = witness_policy().replace("quorum mediators", "quorum QA-log-witness")
    assert not any(line.caution for line in bundle.check_bundle(good, witness_policy=strict).log)


def _proofs_edited(good: bytes, edit: Callable[[str], str]) -> bytes:
    doc = json.loads(good)
    doc["proofs"] = [edit(p) for p in doc["proofs"]]
    return json.dumps(doc).encode()


def test_an_altered_cosignature_of_a_listed_witness_is_invalid_not_missing(good: bytes) -> None:
    def flip(proof: str) -> str:
        lines = proof.split("\n")
        i = next(i for i, line in enumerate(lines) if line.startswith("— qa.witness.example"))
        name, blob = lines[i].rsplit(" ", 1)
        lines[i] = f"{name} {blob[:-6]}{'A' if blob[-6] != 'A' else 'B'}{blob[-5:]}"
        return "\n".join(lines)

    report = bundle.check_bundle(_proofs_edited(good, flip))
    assert report.verdict is Verdict.INVALID
    key_id = WITNESS_KEYS["QA"].public().id_hex
    assert report.problem == (
        "a signature does not verify: the checkpoint, or its cosignature by "
        f"qa.witness.example+{key_id}, was altered"
    )


def test_the_verifiers_policy_decides_which_log_is_trusted(good: bytes) -> None:
    other = SigningKey.from_seed("log.parley.example", b"other".ljust(32, b"\x00"))
    policy = f"log {other.public().vkey()}\nquorum none\n"
    report = bundle.check_bundle(good, witness_policy=policy)
    assert report.verdict is Verdict.INVALID
    assert "not signed by the log key your policy names" in (report.problem or "")
    mine = f"log {LOG_KEY.public().vkey()}\nquorum none\n"
    trusted = bundle.check_bundle(good, witness_policy=mine)
    assert trusted.verdict is Verdict.IN_FORCE
    assert any("the key your policy names" in line.detail for line in trusted.log)


def test_an_empty_policy_of_the_verifier_is_refused_not_ignored(good: bytes) -> None:
    report = bundle.check_bundle(good, witness_policy="")
    assert report.verdict is Verdict.INVALID
    assert report.problem == "your witness policy cannot be used: policy has no quorum line"


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda t: t.replace('"seq": 1,', '"seq": ' + "9" * 5000 + ",", 1), "number too long"),
        (lambda t: t.replace('"seq": 1,', '"seq": 1, "seq": 1,', 1), "appears twice"),
        (lambda t: "\ufeff" + t, None),
        (lambda t: "", "the bundle is empty"),
        (lambda t: t[: len(t) // 2], "not valid JSON: "),
    ],
)
def test_unreadable_json_is_said_in_words(
    good: bytes, edit: Callable[[str], str], said: str | None
) -> None:
    report = bundle.check_bundle(edit(good.decode()).encode())
    if said is None:  # a byte-order mark is allowed (RFC 8259)
        assert report.verdict is Verdict.IN_FORCE
        return
    assert report.verdict is Verdict.INVALID
    assert said in (report.problem or ""), report.problem


def test_the_report_says_whose_word_the_log_key_is(good: bytes) -> None:
    """A verifier's policy without 'log' lines trusts the charter's log key: the report must not
    claim the policy named it."""
    without_logs = "\n".join(
        line for line in witness_policy().splitlines() if not line.startswith("log")
    )
    assert _signed_by(good, without_logs).endswith("the key the charter names")
    assert _signed_by(good, witness_policy()).endswith("the key your policy names")


def _signed_by(good: bytes, policy: str) -> str:
    report = bundle.check_bundle(good, witness_policy=policy)
    return next(line.detail for line in report.log if line.text.startswith("checkpoint of"))


def test_the_report_as_data_names_the_file_every_act_and_the_checkpoint(
    good: bytes, table: Table
) -> None:
    """What a formal finding cites: the file by its hash, each decisive act by its event, hash,
    author and key, and the checkpoint the proofs lead to."""
    data = bundle.check_bundle(good).to_json()
    assert data["format"] == "parley/verify-report/v1"
    assert data["verifier"] == f"parley {__version__}"
    assert data["bundle"] == {"sha256": hashlib.sha256(good).hexdigest(), "bytes": len(good)}
    by_seq = {e.envelope.seq: e for e in table.events}
    acts = data["acts"]
    assert [a["event"] for a in acts] == sorted(a["event"] for a in acts)
    for act in acts:
        event = by_seq[act["event"]]
        assert (act["hash"], act["type"], act["by"], act["key"], act["time"]) == (
            event.hash, event.envelope.type.value, event.envelope.author, event.envelope.key,
            event.envelope.time,
        )  # fmt: skip
    kinds = [a["type"] for a in acts]
    assert kinds.count("sign") == 2 and kinds.count("witness") == 2 and kinds.count("endorse") == 2
    af_accept = next(a for a in acts if a["type"] == "accept" and a["by"] == "AF")
    assert (
        af_accept["mode"] == "ad_referendum"
        and by_seq[af_accept["confirmed_by"]].envelope.type is T.CONFIRM
    )
    witness = next(a for a in acts if a["type"] == "witness")
    assert by_seq[witness["of_event"]].envelope.type is T.SIGN
    checkpoint = data["checkpoint"]
    assert checkpoint["size"] == len(table.events) and len(checkpoint["root"]) == 64
    assert {c["witness"] for c in checkpoint["cosignatures"]} == {
        k.name for k in WITNESS_KEYS.values()
    }
    invalid = bundle.check_bundle(good[:-5]).to_json()
    assert invalid["verdict"] == "invalid" and invalid["bundle"]["bytes"] == len(good) - 5
