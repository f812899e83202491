"""The add-checkpoint state machine: every status, atomic updates, and equivocation evidence."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import checkpoint, keys, merkle, note
from parley.core.checkpoint import Checkpoint
from parley.core.witness import (
    TEXT_CONTENT_TYPE,
    AddCheckpointRequest,
    Cosigned,
    Evidence,
    MemoryWitnessState,
    Witness,
    add_checkpoint,
    monitor_checkpoint,
    verify_evidence,
)
from parley.errors import InvalidInputError, SignatureError, VerificationError

ORIGIN = "example.com/log"
LOG = keys.SigningKey.from_seed(ORIGIN, bytes(range(32)))
STRANGER = keys.SigningKey.from_seed(ORIGIN, b"\x09" * 32)
WK = keys.SigningKey.from_seed("witness.example/w1", b"\x01" * 32, keys.COSIGNATURE_V1)
WITNESS = Witness.create([WK], {ORIGIN: [LOG.public()]})
NOW = 1_700_000_000


def tree(entries: Sequence[bytes]) -> merkle.MemoryHashes:
    hashes = merkle.MemoryHashes()
    hashes.extend(entries)
    return hashes


HONEST = tree([b"entry %d" % i for i in range(40)])


def signed_note(
    size: int, t: merkle.MemoryHashes = HONEST, key: keys.SigningKey = LOG
) -> note.Note:
    cp = Checkpoint(ORIGIN, size, merkle.tree_hash(size, t))
    return checkpoint.sign_checkpoint(cp, key)


def body(
    old: int,
    size: int,
    t: merkle.MemoryHashes = HONEST,
    proof: Sequence[bytes] | None = None,
    key: keys.SigningKey = LOG,
) -> bytes:
    if proof is None:
        proof = merkle.prove_consistency(old, size, t) if 0 < old < size else []
    return AddCheckpointRequest(old, tuple(proof), signed_note(size, t, key)).encode()


def fresh(*sizes: int) -> MemoryWitnessState:
    """A witness state that has cosigned the honest tree at each of ``sizes`` in turn."""
    state = MemoryWitnessState()
    old = 0
    for size in sizes:
        assert add_checkpoint(WITNESS, state, body(old, size), NOW).status == 200
        old = size
    return state


# --- 200 -----------------------------------------------------------------------------------------


def test_first_checkpoint_is_cosigned_and_recorded() -> None:
    state = MemoryWitnessState()
    outcome = add_checkpoint(WITNESS, state, body(0, 5), NOW)
    assert (outcome.status, outcome.evidence) == (200, None)
    lines = outcome.body.decode()
    assert lines.startswith("— witness.example/w1 ") and lines.endswith("\n")
    merged = signed_note(5).encode() + outcome.body
    opened = checkpoint.open_checkpoint(merged, LOG.public(), [WK.public()])
    assert [(c.name, c.timestamp) for c in opened.cosignatures] == [("witness.example/w1", NOW)]
    latest = state.latest(ORIGIN)
    assert latest is not None and (latest.size, latest.root_hash) == (
        5,
        merkle.tree_hash(5, HONEST),
    )


def test_consistent_growth_and_resubmission_are_cosigned() -> None:
    state = fresh(5)
    assert add_checkpoint(WITNESS, state, body(5, 17), NOW + 1).status == 200
    assert add_checkpoint(WITNESS, state, body(17, 17), NOW + 2).status == 200
    assert add_checkpoint(WITNESS, state, body(17, 32), NOW + 3).status == 200
    latest = state.latest(ORIGIN)
    assert latest is not None and latest.size == 32


def test_recorded_note_carries_the_log_signature_and_the_cosignature() -> None:
    state = fresh(8)
    latest = state.latest(ORIGIN)
    assert latest is not None
    opened = checkpoint.open_checkpoint(latest.note, LOG.public(), [WK.public()])
    assert opened.checkpoint.size == 8 and len(opened.cosignatures) == 1
    served = monitor_checkpoint(state, ORIGIN)
    assert (served.status, served.body) == (200, latest.note)
    assert monitor_checkpoint(state, "other.example/log").status == 404


def test_several_witness_keys_each_cosign() -> None:
    second = keys.SigningKey.from_seed("witness.example/w2", b"\x02" * 32, keys.COSIGNATURE_V1)
    witness = Witness.create([WK, second], {ORIGIN: [LOG.public()]})
    outcome = add_checkpoint(witness, MemoryWitnessState(), body(0, 3), NOW)
    merged = signed_note(3).encode() + outcome.body
    opened = checkpoint.open_checkpoint(merged, LOG.public(), witness.vkeys)
    assert len(opened.cosignatures) == 2


def test_size_zero_with_the_empty_root_is_cosigned() -> None:
    assert add_checkpoint(WITNESS, MemoryWitnessState(), body(0, 0), NOW).status == 200


# --- 4xx -----------------------------------------------------------------------------------------


def test_unknown_origin_is_404() -> None:
    other = keys.SigningKey.from_seed("other.example/log", bytes(range(32)))
    cp = Checkpoint("other.example/log", 1, merkle.tree_hash(1, HONEST))
    request = AddCheckpointRequest(0, (), checkpoint.sign_checkpoint(cp, other)).encode()
    assert add_checkpoint(WITNESS, MemoryWitnessState(), request, NOW).status == 404


def test_untrusted_or_bad_log_signature_is_403() -> None:
    state = MemoryWitnessState()
    assert add_checkpoint(WITNESS, state, body(0, 4, key=STRANGER), NOW).status == 403
    good = signed_note(4)
    sig = good.signatures[0]
    bad = note.Note(good.text, (note.Signature(sig.name, sig.key_id, bytes(64)),))
    outcome = add_checkpoint(WITNESS, state, AddCheckpointRequest(0, (), bad).encode(), NOW)
    assert outcome.status == 403 and "does not verify" in outcome.reason
    assert state.latest(ORIGIN) is None


ONE = signed_note(1).encode()
EMPTY_HASH = b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"old 0\n",
        b"old 00\n\n" + ONE,
        b"old +1\n\n" + ONE,
        b"Old 0\n\n" + ONE,
        b"old 0\nnot base64!\n\n" + ONE,
        b"old 0\nAAAA\n\n" + ONE,
        b"old 0\n" + EMPTY_HASH * 64 + b"\n" + ONE,
        b"old 0\n\nnot a note\n",
        b"old 0\n\nexample.com/log\n01\nAAAA\n\n" + "— x AAAAAAA=\n".encode(),
        b"old 0\r\n\n" + ONE,
        b"\xff",
    ],
)
def test_malformed_bodies_are_400(raw: bytes) -> None:
    outcome = add_checkpoint(WITNESS, MemoryWitnessState(), raw, NOW)
    assert outcome.status == 400 and outcome.reason.startswith("malformed request")


def test_old_size_beyond_the_checkpoint_is_400() -> None:
    outcome = add_checkpoint(WITNESS, fresh(5), body(9, 7, proof=[]), NOW)
    assert outcome.status == 400


def test_wrong_old_size_is_409_with_the_latest_size() -> None:
    state = fresh(5, 9)
    for old in (0, 5, 10):
        outcome = add_checkpoint(WITNESS, state, body(old, 12), NOW)
        assert (outcome.status, outcome.body) == (409, b"9\n")
        assert outcome.content_type == "text/x.tlog.size"
        assert outcome.evidence is None
    outcome = add_checkpoint(WITNESS, MemoryWitnessState(), body(3, 12), NOW)
    assert (outcome.status, outcome.body) == (409, b"0\n")


def test_size_zero_with_another_root_is_422() -> None:
    cp = Checkpoint(ORIGIN, 0, bytes(32))
    request = AddCheckpointRequest(0, (), checkpoint.sign_checkpoint(cp, LOG)).encode()
    assert add_checkpoint(WITNESS, MemoryWitnessState(), request, NOW).status == 422


def test_old_zero_with_a_proof_is_422() -> None:
    outcome = add_checkpoint(WITNESS, MemoryWitnessState(), body(0, 6, proof=[bytes(32)]), NOW)
    assert outcome.status == 422 and "empty consistency proof" in outcome.reason


def test_equal_sizes_with_a_proof_is_422() -> None:
    outcome = add_checkpoint(WITNESS, fresh(6), body(6, 6, proof=[bytes(32)]), NOW)
    assert outcome.status == 422 and outcome.evidence is None


def test_garbage_consistency_proof_is_422_without_evidence() -> None:
    """A wrong proof for an honest checkpoint proves nothing about the log."""
    state = fresh(6)
    proof = merkle.prove_consistency(6, 11, HONEST)
    proof[0] = bytes(32)
    outcome = add_checkpoint(WITNESS, state, body(6, 11, proof=proof), NOW)
    assert (outcome.status, outcome.evidence) == (422, None)
    short = add_checkpoint(WITNESS, state, body(6, 11, proof=proof[:-1]), NOW)
    assert (short.status, short.evidence) == (422, None)
    latest = state.latest(ORIGIN)
    assert latest is not None and latest.size == 6


def test_bad_clock_or_configuration_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        add_checkpoint(WITNESS, MemoryWitnessState(), body(0, 1), 0)
    with pytest.raises(InvalidInputError, match="0x04"):
        Witness.create([LOG], {ORIGIN: [LOG.public()]})
    with pytest.raises(InvalidInputError, match="0x01"):
        Witness.create([WK], {ORIGIN: [WK.public()]})
    with pytest.raises(InvalidInputError, match="twice"):
        Witness.create([WK], {ORIGIN: [LOG.public(), LOG.public()]})


# --- atomicity -----------------------------------------------------------------------------------


class RacingState(MemoryWitnessState):
    """Lets another request win between the witness's read and its write."""

    __slots__ = ("rival",)

    def __init__(self, rival: bytes) -> None:
        super().__init__()
        self.rival: bytes | None = rival

    def compare_and_set(self, origin: str, expected_old: int | None, new: Cosigned) -> bool:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            assert add_checkpoint(WITNESS, self, rival, NOW).status == 200
        return super().compare_and_set(origin, expected_old, new)


def test_a_concurrent_update_wins_and_the_loser_gets_no_cosignature() -> None:
    state = RacingState(rival=body(0, 20))
    outcome = add_checkpoint(WITNESS, state, body(0, 10), NOW)
    assert (outcome.status, outcome.body) == (409, b"20\n")
    assert not outcome.body.startswith("—".encode())
    latest = state.latest(ORIGIN)
    assert latest is not None and latest.size == 20  # no rollback to 10


def test_memory_state_compare_and_set() -> None:
    state = MemoryWitnessState()
    record = Cosigned(1, bytes(32), b"x")
    assert not state.compare_and_set(ORIGIN, 0, record)
    assert state.compare_and_set(ORIGIN, None, record)
    assert not state.compare_and_set(ORIGIN, None, record)
    assert state.compare_and_set(ORIGIN, 1, Cosigned(2, bytes(32), b"y"))


# --- equivocation evidence -----------------------------------------------------------------------


def fork(shared: int, size: int) -> merkle.MemoryHashes:
    """A second history that agrees with HONEST on the first ``shared`` entries only."""
    return tree([b"entry %d" % i if i < shared else b"forged %d" % i for i in range(size)])


def test_same_size_different_root_yields_evidence() -> None:
    state = fresh(9)
    outcome = add_checkpoint(WITNESS, state, body(9, 9, fork(4, 9)), NOW)
    # the spec's 409, without the size content type (asking again from size 9 cannot help)
    assert outcome.status == 409 and outcome.content_type == TEXT_CONTENT_TYPE
    assert outcome.evidence is not None
    report = verify_evidence(outcome.evidence.encode(), LOG.public())
    assert report.kind == "same-size"
    assert (report.first.size, report.second.size) == (9, 9)
    assert report.first.root_hash == merkle.tree_hash(9, HONEST)


def test_same_size_evidence_also_comes_with_a_409() -> None:
    state = fresh(5, 9)
    outcome = add_checkpoint(WITNESS, state, body(0, 9, fork(2, 9)), NOW)
    assert outcome.status == 409 and outcome.evidence is not None
    assert verify_evidence(outcome.evidence.encode()).kind == "same-size"


def test_fork_with_its_own_valid_proof_yields_evidence() -> None:
    state = fresh(6)
    forked = fork(3, 13)
    outcome = add_checkpoint(WITNESS, state, body(6, 13, forked), NOW)
    assert outcome.status == 422 and outcome.evidence is not None
    report = verify_evidence(outcome.evidence.encode(), LOG.public())
    assert report.kind == "inconsistent-proof"
    assert merkle.tree_hash(6, forked).hex() not in report.explanation  # explanation is base64
    assert report.second.root_hash == forked.root()


def test_fork_from_a_power_of_two_size_cannot_be_proven_from_the_request() -> None:
    """From size 2^k the proof starts at the old root itself, so never derives it (documented)."""
    state = fresh(8)
    outcome = add_checkpoint(WITNESS, state, body(8, 13, fork(5, 13)), NOW)
    assert (outcome.status, outcome.evidence) == (422, None)


@given(data=st.data())
def test_every_fork_is_refused_and_provable_unless_old_is_a_power_of_two(
    data: st.DataObject,
) -> None:
    old = data.draw(st.integers(1, 30), label="old")
    shared = data.draw(st.integers(0, old - 1), label="shared")
    new = data.draw(st.integers(old, 36), label="new")
    state = fresh(old)
    outcome = add_checkpoint(WITNESS, state, body(old, new, fork(shared, new)), NOW)
    assert outcome.status == (409 if new == old else 422)
    provable = new == old or old & (old - 1) != 0
    assert (outcome.evidence is not None) == provable
    if outcome.evidence is not None:
        report = verify_evidence(outcome.evidence.encode(), LOG.public())
        assert report.kind == ("same-size" if new == old else "inconsistent-proof")
    latest = state.latest(ORIGIN)
    assert latest is not None and latest.size == old


@given(steps=st.lists(st.tuples(st.integers(0, 40), st.integers(-2, 2)), min_size=1, max_size=8))
def test_honest_histories_never_produce_evidence(steps: list[tuple[int, int]]) -> None:
    state = MemoryWitnessState()
    for size, skew in steps:
        latest = state.latest(ORIGIN)
        current = latest.size if latest else 0
        old = max(0, current + skew)
        proof = merkle.prove_consistency(old, size, HONEST) if 0 < old < size else []
        outcome = add_checkpoint(WITNESS, state, body(old, size, proof=proof), NOW)
        assert outcome.evidence is None
        if old == current and size >= current:
            assert outcome.status == 200
        elif old != current and old <= size:
            assert outcome.status == 409


def _evidence(old: int = 6, new: int = 13, shared: int = 3) -> Evidence:
    state = fresh(old)
    outcome = add_checkpoint(WITNESS, state, body(old, new, fork(shared, new)), NOW)
    assert outcome.evidence is not None
    return outcome.evidence


def test_evidence_round_trips() -> None:
    for evidence in (_evidence(), _evidence(7, 7)):
        assert Evidence.from_bytes(evidence.encode()) == evidence


def test_evidence_about_another_key_is_refused() -> None:
    with pytest.raises(VerificationError, match="evidence is about key"):
        verify_evidence(_evidence().encode(), STRANGER.public())


def test_consistent_or_identical_pairs_prove_nothing() -> None:
    honest = [signed_note(n).encode() for n in (6, 13)]
    good = Evidence(
        LOG.public(), honest[0], honest[1], tuple(merkle.prove_consistency(6, 13, HONEST))
    )
    with pytest.raises(VerificationError, match="consistent"):
        verify_evidence(good.encode())
    same = Evidence(LOG.public(), honest[0], honest[0])
    with pytest.raises(VerificationError, match="same root"):
        verify_evidence(same.encode())
    empty = Evidence(LOG.public(), signed_note(0).encode(), honest[1])
    with pytest.raises(VerificationError, match="empty tree"):
        verify_evidence(empty.encode())


def test_a_missing_or_wrong_proof_proves_nothing_for_different_sizes() -> None:
    ev = _evidence()
    with pytest.raises(VerificationError, match="malformed"):
        verify_evidence(Evidence(ev.log_key, ev.first, ev.second).encode())
    broken = (bytes(32), *ev.proof[1:])
    with pytest.raises(VerificationError, match="does not lead to the second root"):
        verify_evidence(Evidence(ev.log_key, ev.first, ev.second, broken).encode())


def test_evidence_needs_both_notes_signed_by_the_key() -> None:
    ev = _evidence(7, 7)
    forged = checkpoint.sign_checkpoint(Checkpoint(ORIGIN, 7, bytes(32)), STRANGER).encode()
    with pytest.raises(SignatureError):
        verify_evidence(Evidence(ev.log_key, ev.first, forged).encode())
    other_origin = checkpoint.sign_checkpoint(Checkpoint("elsewhere", 7, bytes(32)), LOG).encode()
    with pytest.raises(VerificationError, match="different origins"):
        verify_evidence(Evidence(ev.log_key, ev.first, other_origin).encode())
    with pytest.raises(InvalidInputError, match="larger"):
        verify_evidence(Evidence(ev.log_key, signed_note(9).encode(), ev.first).encode())


GOOD_EVIDENCE = _evidence().encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        GOOD_EVIDENCE.replace(b"parley/tlog-equivocation@v1", b"parley/tlog-equivocation@v2"),
        GOOD_EVIDENCE.replace(b"\nlog ", b"\nlug "),
        GOOD_EVIDENCE + b"x",
        GOOD_EVIDENCE[:-1],
        GOOD_EVIDENCE.replace(b"\nnote ", b"\nnote 0", 1),
        GOOD_EVIDENCE.replace(b"\nnote ", b"\nNote ", 1),
        GOOD_EVIDENCE.replace(b"\nproof ", b"\nproof !", 1),
    ],
)
def test_malformed_evidence_is_invalid_input(raw: bytes) -> None:
    with pytest.raises(InvalidInputError):
        verify_evidence(raw)


# --- fuzzing -------------------------------------------------------------------------------------


@given(st.binary(max_size=400))
def test_arbitrary_bodies_get_an_outcome(raw: bytes) -> None:
    outcome = add_checkpoint(WITNESS, fresh(), raw, NOW)
    assert outcome.status in (400, 403, 404, 409, 422)


@given(st.data())
def test_mutated_requests_get_an_outcome(data: st.DataObject) -> None:
    raw = bytearray(body(5, 11))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    outcome = add_checkpoint(WITNESS, fresh(5), bytes(raw), NOW)
    assert outcome.status in (200, 400, 403, 404, 409, 422)


@given(st.data())
def test_mutated_evidence_raises_only_parley_errors(data: st.DataObject) -> None:
    raw = bytearray(GOOD_EVIDENCE)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(InvalidInputError, VerificationError):
        verify_evidence(bytes(raw))


@given(st.binary(max_size=300))
def test_arbitrary_evidence_bytes_raise_only_parley_errors(raw: bytes) -> None:
    with contextlib.suppress(InvalidInputError, VerificationError):
        verify_evidence(raw)
