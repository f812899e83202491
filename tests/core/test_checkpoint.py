"""Checkpoints: strict text form, golden vectors, signing and opening with cosignatures."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import checkpoint, cosignature, keys, merkle, note
from parley.core.checkpoint import Checkpoint
from parley.errors import InvalidInputError, SignatureError, VerificationError

# golang.org/x/mod sumdb/tlog note_test.go: FormatTree golden, root = RecordHash("hello world").
GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"
# c2sp.org/tlog-checkpoint example text.
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
EMPTY = "example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
ROOT8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")

LOG = keys.SigningKey.from_seed("example.com/log", bytes(range(32)))
W1 = keys.SigningKey.from_seed("witness.example/w1", b"\x01" * 32, keys.COSIGNATURE_V1)
W2 = keys.SigningKey.from_seed("witness.example/w2", b"\x02" * 32, keys.COSIGNATURE_V1)
W3 = keys.SigningKey.from_seed("witness.example/w3", b"\x03" * 32, keys.COSIGNATURE_V1)
CP8 = Checkpoint("example.com/log", 8, ROOT8)


def cosigned(cp: Checkpoint, *witnesses: keys.SigningKey, when: int = 1_700_000_000) -> bytes:
    """A log-signed checkpoint note with cosignatures from ``witnesses``."""
    signed = checkpoint.sign_checkpoint(cp, LOG)
    lines = [cosignature.cosign(cp.to_text(), w, when + i) for i, w in enumerate(witnesses)]
    return signed.encode() + "".join(lines).encode()


def test_go_format_tree_golden_round_trips() -> None:
    cp = Checkpoint.from_text(GO_TREE)
    assert (cp.origin, cp.size) == ("go.sum database tree", 123456789012)
    assert cp.root_hash == merkle.leaf_hash(b"hello world")
    assert cp.to_text() == GO_TREE


def test_spec_example_and_empty_tree_parse() -> None:
    assert Checkpoint.from_text(SOFA).size == 20852163
    empty = Checkpoint.from_text(EMPTY)
    assert (empty.size, empty.root_hash) == (0, merkle.EMPTY_ROOT)


def test_extension_lines_are_preserved() -> None:
    text = SOFA + "Timestamp: 1689748607742585419\nanother line\n"
    cp = Checkpoint.from_text(text)
    assert cp.extensions == ("Timestamp: 1689748607742585419", "another line")
    assert cp.to_text() == text


def test_origins_with_spaces_are_accepted() -> None:
    """Clients must not assume the origin is a URL (spec); Rekor origins contain spaces."""
    text = "rekor.sigstore.dev - 2605736670972794746\n1\n" + SOFA.split("\n")[2] + "\n"
    assert Checkpoint.from_text(text).to_text() == text


BAD_SIZES = ["012", "+12", " 12", "12 ", "1_2", "-1", "", "0x1", "9223372036854775808", "1" * 40]


@pytest.mark.parametrize("size", [*BAD_SIZES, "\u0661\u0662"])
def test_sizes_are_strict_decimals(size: str) -> None:
    with pytest.raises(InvalidInputError, match="tree size") as caught:
        Checkpoint.from_text(f"o\n{size}\n{SOFA.split(chr(10))[2]}\n")
    assert caught.value.line == 2


def test_largest_size_is_accepted() -> None:
    root = SOFA.split("\n")[2]
    assert Checkpoint.from_text(f"o\n9223372036854775807\n{root}\n").size == 2**63 - 1


@pytest.mark.parametrize(
    ("root", "reason"),
    [
        ("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=", "canonical"),
        ("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I", "base64"),
        ("CsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=", "base64"),
        ("AAAA", "32 bytes"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", "32 bytes"),
        ("", "32 bytes"),
    ],
)
def test_roots_are_canonical_32_byte_base64(root: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        Checkpoint.from_text(f"o\n1\n{root}\n")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("o\n1\n", "at least 3 lines"),
        (SOFA[:-1], "end with a newline"),
        ("\n1\n" + SOFA.split("\n")[2] + "\n", "origin must not be empty"),
        (SOFA + "\n", "extension line must not be empty"),
        (SOFA + "ext\n\nmore\n", "extension line must not be empty"),
        ("o\r\n1\nx\n", "control character"),
    ],
)
def test_malformed_checkpoint_texts(text: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        Checkpoint.from_text(text)


def test_constructor_checks_fields() -> None:
    with pytest.raises(InvalidInputError):
        Checkpoint("o", -1, ROOT8)
    with pytest.raises(InvalidInputError):
        Checkpoint("o", 1, ROOT8[:31])
    with pytest.raises(InvalidInputError):
        Checkpoint("two\nlines", 1, ROOT8)
    with pytest.raises(InvalidInputError):
        Checkpoint("o", 1, ROOT8, ("",))


def test_open_reports_verified_cosignatures_with_times() -> None:
    data = cosigned(CP8, W1, W2, W3)
    signed = checkpoint.open_checkpoint(data, LOG.public(), [W1.public(), W2.public()])
    assert signed.checkpoint == CP8
    assert signed.log_key == LOG.public()
    assert [(c.name, c.timestamp) for c in signed.cosignatures] == [
        ("witness.example/w1", 1_700_000_000),
        ("witness.example/w2", 1_700_000_001),
    ]
    assert signed.witness_keys == (W1.public(), W2.public())
    assert signed.note.encode() == data


def test_log_signature_is_required() -> None:
    only_witness = CP8.to_text() + "\n" + cosignature.cosign(CP8.to_text(), W1, 5)
    with pytest.raises(SignatureError, match="not signed by the log"):
        checkpoint.open_checkpoint(only_witness, LOG.public(), [W1.public()])
    other = keys.SigningKey.from_seed("example.com/log", b"\x09" * 32)
    with pytest.raises(SignatureError):
        checkpoint.open_checkpoint(cosigned(CP8), other.public())


def test_bad_known_cosignature_rejects_the_checkpoint() -> None:
    forged = cosignature.cosign(Checkpoint("example.com/log", 9, ROOT8).to_text(), W1, 7)
    data = checkpoint.sign_checkpoint(CP8, LOG).encode() + forged.encode()
    with pytest.raises(SignatureError, match=r"witness\.example/w1"):
        checkpoint.open_checkpoint(data, LOG.public(), [W1.public()])
    assert checkpoint.open_checkpoint(data, LOG.public()).cosignatures == ()


def test_log_key_must_be_ed25519() -> None:
    with pytest.raises(InvalidInputError, match="0x01"):
        checkpoint.open_checkpoint(cosigned(CP8), W1.public())


def test_several_log_keys_any_may_sign() -> None:
    other = keys.SigningKey.from_seed("example.com/log2", b"\x07" * 32)
    signed = checkpoint.open_checkpoint(cosigned(CP8), [other.public(), LOG.public()])
    assert signed.log_key == LOG.public()


ORIGINS = st.from_regex(r"[a-z][a-z0-9.\-/ ]{0,30}[a-z]", fullmatch=True)
EXTENSIONS = st.lists(st.from_regex(r"[!-~][ -~]{0,20}", fullmatch=True), max_size=3)


@given(
    origin=ORIGINS,
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    ext=EXTENSIONS,
)
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.from_text(cp.to_text()) == cp
    opened = checkpoint.open_checkpoint(checkpoint.sign_checkpoint(cp, LOG).encode(), LOG.public())
    assert opened.checkpoint == cp


@given(st.text(max_size=120))
def test_arbitrary_text_raises_only_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInputError):
        Checkpoint.from_text(text)


@given(st.data())
def test_mutated_signed_checkpoints_raise_only_parley_errors(data: st.DataObject) -> None:
    raw = bytearray(cosigned(CP8, W1, W2))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    with contextlib.suppress(InvalidInputError, VerificationError):
        checkpoint.open_checkpoint(bytes(raw), LOG.public(), [W1.public(), W2.public()])


def test_note_level_errors_surface_unchanged() -> None:
    with pytest.raises(InvalidInputError, match="blank line"):
        checkpoint.open_checkpoint(CP8.to_text(), LOG.public())
    assert isinstance(note.parse_note(cosigned(CP8)), note.Note)
