"""Signed notes against the x/mod and C2SP vectors, the malformed-note cases, and fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import cosignature, keys, note
from parley.errors import InvalidInputError, SignatureError, VerificationError

# golang.org/x/mod sumdb/note vectors (research/tlog.md §2.4 B).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6"
    "KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WW"
    "d1RvMc+QQ=\n"
)
# c2sp.org/signed-note example (research/tlog.md §1.1).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONn"
    "cAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

PETER = keys.parse_vkey(PETER_VKEY)
ENOCH = keys.parse_vkey(ENOCH_VKEY)
NOTE_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"], exclude_characters=[chr(c) for c in range(32) if c != 10]
    ),
    max_size=60,
).map(lambda s: s + "\n")


def _mangle(sig_line: str) -> str:
    """The x/mod 'invalid signature' mangling: four base64 characters spliced in."""
    return sig_line[:60] + "ABCD" + sig_line[60:]


def test_signing_reproduces_the_x_mod_vector() -> None:
    signed = note.sign_note(TEXT, [keys.parse_skey(PETER_SKEY)])
    assert signed.to_text() == TEXT + "\n" + PETER_SIG


def test_open_one_known_one_unknown_signature() -> None:
    opened = note.open_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(), [PETER])
    assert opened.text == TEXT
    assert [(s.name, s.key_id_hex) for s in opened.verified] == [("PeterNeumann", "c74f20a3")]
    assert [(s.name, s.key_id_hex) for s in opened.unverified] == [("EnochRoot", "af0cfe78")]


def test_open_with_both_keys_verifies_the_second_signature() -> None:
    opened = note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER, ENOCH])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    assert opened.unverified == ()


def test_c2sp_example_note_verifies() -> None:
    opened = note.open_note(C2SP_NOTE, [keys.parse_vkey(C2SP_VKEY)])
    assert opened.text == "This is an example message.\n"
    assert opened.verified[0].key_id_hex == "530d903a"


def test_no_known_key_is_a_signature_error() -> None:
    with pytest.raises(SignatureError, match="no signature by a trusted key"):
        note.open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    with pytest.raises(SignatureError):
        note.open_note(C2SP_NOTE, [PETER])


def test_a_known_keys_bad_signature_rejects_the_note() -> None:
    with pytest.raises(SignatureError, match=r"PeterNeumann\+c74f20a3"):
        note.open_note(TEXT + "\n" + _mangle(PETER_SIG), [PETER])
    with pytest.raises(SignatureError, match="EnochRoot"):
        note.open_note(TEXT + "\n" + PETER_SIG + _mangle(ENOCH_SIG), [PETER, ENOCH])


def test_ambiguous_verifiers_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"ambiguous key EnochRoot\+af0cfe78"):
        note.open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, ENOCH])


def test_duplicate_signatures_are_counted_once() -> None:
    msg = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + _mangle(ENOCH_SIG)
    opened = note.open_note(msg, [PETER])
    assert len(opened.verified) == 1
    assert len(opened.unverified) == 2
    assert len(opened.note.signatures) == 5  # kept as written


@pytest.mark.parametrize(
    ("msg", "reason"),
    [
        (TEXT, "no blank line"),
        (TEXT + "\n", "no signature lines"),
        (TEXT + "\n" + PETER_SIG[:-1], "end with a newline"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "control character U\\+0001"),
        (TEXT + "\r\n" + PETER_SIG, "control character U\\+000D"),
        (TEXT + "\t\n\n" + PETER_SIG, "control character U\\+0009"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"), "base64"),
        (TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"), r"'\+'"),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "must start with"),
        (TEXT + "\n" + "— PeterNeumann\n", "expected"),
        (TEXT + "\n" + "— PeterNeumann x08gow==\n", "at least 5"),
        (TEXT + "\n" + "— PeterNeumann x08go/Z=\n", "canonical|base64"),
        (TEXT + "\n" + "-- PeterNeumann x08go/ZJ\n", "must start with"),
        (TEXT + "\n" + PETER_SIG.replace("=", ""), "base64"),
        (TEXT + "\n" + PETER_SIG.replace("x08go", "x08g\u00e9"), "base64"),
        (TEXT + "\n" + "—  x08go/ZJkuBS9U\n", "empty"),
    ],
)
def test_malformed_notes_name_the_fault(msg: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        note.open_note(msg, [PETER])


def test_invalid_utf8_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="UTF-8"):
        note.open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [PETER])
    with pytest.raises(InvalidInputError, match="Unicode"):
        note.open_note("\ud800" + TEXT + "\n" + PETER_SIG, [PETER])


def test_signature_count_limit() -> None:
    with pytest.raises(InvalidInputError, match="101 signatures"):
        note.open_note(TEXT + "\n" + PETER_SIG * 101, [PETER])
    with pytest.raises(InvalidInputError, match="101 signatures"):
        note.open_note(TEXT + "\n" + ENOCH_SIG * 101, [])
    opened = note.open_note(TEXT + "\n" + ENOCH_SIG * 99 + PETER_SIG, [PETER])
    assert len(opened.note.signatures) == note.MAX_SIGNATURES


def test_sixteen_distinct_signatures_are_accepted() -> None:
    signers = [keys.SigningKey.from_seed(f"signer{i}", bytes([i]) * 32) for i in range(16)]
    signed = note.sign_note(TEXT, signers)
    opened = note.open_note(signed.encode(), [s.public() for s in signers])
    assert len(opened.verified) == 16


def test_errors_carry_the_line_number() -> None:
    with pytest.raises(InvalidInputError) as caught:
        note.open_note(TEXT + "\n" + PETER_SIG + "— Bad\u3000Name AAAAAAA=\n", [PETER])
    assert caught.value.line == 5


def test_every_mangled_vkey_fails_to_parse_or_to_verify() -> None:
    msg = TEXT + "\n" + PETER_SIG
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        try:
            key = keys.parse_vkey(mangled)
        except InvalidInputError:
            continue
        with pytest.raises(SignatureError):
            note.open_note(msg, [key])


def test_text_may_contain_blank_lines_and_signature_like_lines() -> None:
    text = "a\n\n— PeterNeumann AAAAAAA=\n\nb\n"
    signer = keys.parse_skey(PETER_SKEY)
    opened = note.open_note(note.sign_note(text, [signer]).encode(), [PETER])
    assert opened.text == text


def test_sign_note_refuses_bad_text_and_keys() -> None:
    signer = keys.parse_skey(PETER_SKEY)
    with pytest.raises(InvalidInputError, match="newline"):
        note.sign_note("no newline", [signer])
    with pytest.raises(InvalidInputError, match="control"):
        note.sign_note("bell\a\n", [signer])
    with pytest.raises(InvalidInputError, match="at least one signer"):
        note.sign_note(TEXT, [])
    with pytest.raises(InvalidInputError, match="0x01"):
        note.sign_note(TEXT, [signer.with_type(keys.COSIGNATURE_V1)])


def test_cosignatures_verify_through_the_same_open() -> None:
    cosigner = keys.SigningKey.from_seed(
        "witness.example/w1", bytes(range(32)), keys.COSIGNATURE_V1
    )
    line = cosignature.cosign(TEXT, cosigner, 1_700_000_000)
    msg = TEXT + "\n" + PETER_SIG + line
    opened = note.open_note(msg, [PETER, cosigner.public()])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "witness.example/w1"]
    tampered = msg.replace("If you", "If we")
    with pytest.raises(SignatureError):
        note.open_note(tampered, [cosigner.public()])


def test_a_custom_verifier_plugs_in() -> None:
    class AcceptAll:
        name = "EnochRoot"
        key_id = ENOCH.id

        def verify(self, text: bytes, signature: bytes) -> bool:
            return text == TEXT.encode()

    opened = note.open_note(TEXT + "\n" + ENOCH_SIG, [AcceptAll()])
    assert opened.verified[0].name == "EnochRoot"


@given(text=NOTE_TEXT, count=st.integers(1, 3))
def test_signed_notes_round_trip(text: str, count: int) -> None:
    signers = [keys.SigningKey.from_seed(f"k{i}", bytes([i + 1]) * 32) for i in range(count)]
    signed = note.sign_note(text, signers)
    assert note.parse_note(signed.to_text()) == signed
    assert note.parse_note(signed.encode()) == signed
    opened = note.open_note(signed.encode(), [signers[-1].public()])
    assert opened.text == text


def _only_parley_errors(data: bytes | str) -> None:
    with contextlib.suppress(InvalidInputError, VerificationError):
        note.open_note(data, [PETER, ENOCH])


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_parley_errors(data: bytes) -> None:
    _only_parley_errors(data)


@given(st.data())
def test_mutated_notes_raise_only_parley_errors(data: st.DataObject) -> None:
    raw = bytearray((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if op == "flip":
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "insert":
            raw.insert(at, data.draw(st.integers(0, 255)))
        elif len(raw) > 1:
            del raw[at]
    _only_parley_errors(bytes(raw))


def test_unsupported_key_types_are_refused() -> None:
    odd = keys.PublicKey("odd", PETER.key, 0x02)
    with pytest.raises(InvalidInputError, match="0x02"):
        note.open_note(TEXT + "\n" + PETER_SIG, [odd])
