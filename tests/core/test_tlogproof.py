"""tlog-proof files: strict parsing, round trips, and verification with and without a policy."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import checkpoint, cosignature, keys, merkle
from parley.core.checkpoint import Checkpoint
from parley.core.note import parse_note
from parley.core.tlogpolicy import parse_policy
from parley.core.tlogproof import TlogProof, verify_proof
from parley.errors import InvalidInputError, ProofError, SignatureError, VerificationError

LOG = keys.SigningKey.from_seed("example.com/log", bytes(range(32)))
W1 = keys.SigningKey.from_seed("witness.example/w1", b"\x01" * 32, keys.COSIGNATURE_V1)
W2 = keys.SigningKey.from_seed("witness.example/w2", b"\x02" * 32, keys.COSIGNATURE_V1)
ENTRIES = [b"event %d" % i for i in range(13)]
TREE = merkle.MemoryHashes()
TREE.extend(ENTRIES)
CP = Checkpoint("example.com/log", TREE.size, TREE.root())
NOTE = parse_note(
    checkpoint.sign_checkpoint(CP, LOG).encode()
    + cosignature.cosign(CP.to_text(), W1, 1_700_000_000).encode()
    + cosignature.cosign(CP.to_text(), W2, 1_700_000_001).encode()
)
POLICY = parse_policy(
    f"log {LOG.public().vkey()}\n"
    f"witness A {W1.public().vkey()}\nwitness B {W2.public().vkey()}\n"
    "group both all A B\nquorum both\n"
)


def proof_for(index: int, extra: bytes | None = None) -> TlogProof:
    hashes = tuple(merkle.prove_inclusion(index, TREE.size, TREE))
    return TlogProof(index, hashes, NOTE, extra)


def test_every_entry_verifies_with_the_log_key() -> None:
    for index, entry in enumerate(ENTRIES):
        report = verify_proof(proof_for(index).encode(), merkle.leaf_hash(entry), LOG.public())
        assert (report.index, report.checkpoint) == (index, CP)
        assert report.quorum is None


def test_policy_quorum_is_checked_and_reported() -> None:
    leaf = merkle.leaf_hash(ENTRIES[5])
    report = verify_proof(proof_for(5).encode(), leaf, policy=POLICY)
    assert report.quorum is not None and report.quorum.satisfied
    assert [c.timestamp for c in report.cosignatures] == [1_700_000_000, 1_700_000_001]
    assert any("quorum both met" in line for line in report.lines())


def test_unmet_quorum_is_a_verification_error() -> None:
    only_log = TlogProof(
        5, proof_for(5).hashes, parse_note(checkpoint.sign_checkpoint(CP, LOG).encode())
    )
    with pytest.raises(VerificationError, match="quorum both not met"):
        verify_proof(only_log.encode(), merkle.leaf_hash(ENTRIES[5]), policy=POLICY)


def test_wrong_leaf_index_or_proof_fails() -> None:
    proof = proof_for(3)
    with pytest.raises(ProofError):
        verify_proof(proof.encode(), merkle.leaf_hash(b"other"), LOG.public())
    leaf = merkle.leaf_hash(ENTRIES[3])
    flipped = (bytes([proof.hashes[0][0] ^ 1]) + proof.hashes[0][1:], *proof.hashes[1:])
    for index, hashes in ((4, proof.hashes), (13, proof.hashes), (3, flipped), (3, ())):
        with pytest.raises(ProofError):
            verify_proof(TlogProof(index, hashes, NOTE).encode(), leaf, LOG.public())


def test_wrong_log_key_or_origin_fails() -> None:
    leaf = merkle.leaf_hash(ENTRIES[0])
    stranger = keys.SigningKey.from_seed("example.com/log", b"\x05" * 32)
    with pytest.raises(SignatureError):
        verify_proof(proof_for(0).encode(), leaf, stranger.public())
    renamed = keys.SigningKey.from_seed("other.example/log", bytes(range(32)))
    note = parse_note(checkpoint.sign_checkpoint(CP, renamed).encode())
    with pytest.raises(VerificationError, match="origin"):
        verify_proof(TlogProof(0, proof_for(0).hashes, note).encode(), leaf, renamed.public())


def test_a_log_key_is_needed() -> None:
    with pytest.raises(InvalidInputError, match="no log key"):
        verify_proof(proof_for(0).encode(), merkle.leaf_hash(ENTRIES[0]))
    with pytest.raises(InvalidInputError, match="32 bytes"):
        verify_proof(proof_for(0).encode(), b"short", LOG.public())


def test_format_matches_the_spec_layout() -> None:
    text = proof_for(2, extra=b"hello").to_text()
    lines = text.split("\n")
    assert lines[:3] == ["c2sp.org/tlog-proof@v1", "extra aGVsbG8=", "index 2"]
    assert lines[3 + 4] == ""
    assert text.endswith(NOTE.to_text())
    assert TlogProof.from_bytes(text) == proof_for(2, extra=b"hello")


def test_single_entry_tree_has_no_proof_lines() -> None:
    one = merkle.MemoryHashes()
    one.append(b"only")
    cp = Checkpoint("example.com/log", 1, one.root())
    proof = TlogProof(0, (), parse_note(checkpoint.sign_checkpoint(cp, LOG).encode()))
    assert "index 0\n\nexample.com/log\n1\n" in proof.to_text()
    verify_proof(proof.encode(), merkle.leaf_hash(b"only"), LOG.public())


GOOD = proof_for(1).to_text()
HEAD, _, REST = GOOD.partition("\n\n")
TOO_MANY = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n" * 64


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "ends early"),
        (GOOD.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), "must start with"),
        (GOOD.replace("index 1", "index 01"), "leading zeros"),
        (GOOD.replace("index 1", "index -1"), "leading zeros"),
        (GOOD.replace("index 1", "index  1"), "leading zeros"),
        (GOOD.replace("index 1", "Index 1"), "expected 'index"),
        (GOOD.replace("index 1\n", ""), "expected 'index"),
        (GOOD.replace("index 1", "extra !!\nindex 1"), "base64"),
        (GOOD.replace("index 1", "index 1\nextra AA=="), "base64|32 bytes"),
        (HEAD + "\n" + REST, "32 bytes|base64|ends early|blank"),
        (HEAD + "\nAAAA\n\n" + REST, "32 bytes"),
        (HEAD + "\n\n" + "x\n" + REST, "at least 3 lines|tree size|blank line"),
        (GOOD + "trailing\n", "must start with"),
        (GOOD.replace("\n", "\r\n"), "control character"),
        (HEAD + "\n" + TOO_MANY + "\n" + REST, "more than 63"),
    ],
)
def test_malformed_proofs(text: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        TlogProof.from_bytes(text)


def test_constructor_checks() -> None:
    with pytest.raises(InvalidInputError):
        TlogProof(-1, (), NOTE)
    with pytest.raises(InvalidInputError):
        TlogProof(0, (b"x",), NOTE)
    with pytest.raises(InvalidInputError):
        TlogProof(0, (bytes(32),) * 64, NOTE)


@given(
    index=st.integers(0, 2**63 - 1),
    hashes=st.lists(st.binary(min_size=32, max_size=32), max_size=8),
    extra=st.none() | st.binary(max_size=40),
)
def test_proofs_round_trip(index: int, hashes: list[bytes], extra: bytes | None) -> None:
    proof = TlogProof(index, tuple(hashes), NOTE, extra)
    assert TlogProof.from_bytes(proof.to_text()) == proof
    assert TlogProof.from_bytes(proof.encode()).encode() == proof.encode()


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_parley_errors(data: bytes) -> None:
    with contextlib.suppress(InvalidInputError, VerificationError):
        verify_proof(data, merkle.leaf_hash(ENTRIES[1]), LOG.public())


@given(st.data())
def test_mutated_proofs_raise_only_parley_errors(data: st.DataObject) -> None:
    raw = bytearray(proof_for(6).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(InvalidInputError, VerificationError):
        verify_proof(bytes(raw), merkle.leaf_hash(ENTRIES[6]), policy=POLICY)
