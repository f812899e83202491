"""The event hash, put together from the envelope's canonical bytes, is the canonical hash."""

from __future__ import annotations

import base64
import hashlib
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import canonical
from parley.core.event import Envelope, EventType, event_from_json, event_hash, sign_event
from parley.core.keys import SigningKey
from parley.errors import InvalidInputError

_TEXT = (
    st.text(max_size=12)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
)


_PLAIN = st.text("0123456789abcdefAZ:.-T", max_size=12)
"""Strings like those of a well-formed envelope (hex, codes, times), written without escapes."""


@st.composite
def envelopes(draw: st.DrawFn, text: st.SearchStrategy[str] = _TEXT) -> Envelope:
    audience = draw(st.none() | st.lists(text, max_size=3).map(lambda a: tuple(sorted(a))))
    return Envelope(
        negotiation=draw(text), seq=draw(st.integers(0, canonical.MAX_SAFE_INTEGER)),
        prev=draw(st.none() | text), type=draw(st.sampled_from(EventType)),
        author=draw(text), key=draw(text), time=draw(text), audience=audience,
        body=draw(text),
    )  # fmt: skip


@given(envelopes(_PLAIN | _PLAIN | _TEXT))
def test_an_envelope_written_directly_is_its_reference_canonical_json(envelope: Envelope) -> None:
    assert envelope.canonical() == canonical.reference_json(envelope.to_json())


@given(envelopes(), st.binary(min_size=64, max_size=64))
def test_the_event_hash_is_the_hash_of_the_canonical_signed_event(
    envelope: Envelope, signature: bytes
) -> None:
    whole = {"envelope": envelope.to_json(), "signature": base64.b64encode(signature).decode()}
    expected = canonical.prefix(canonical.Tag.SIGNED_EVENT) + canonical.reference_json(whole)
    assert event_hash(envelope, signature) == hashlib.sha256(expected).hexdigest()
    assert envelope.signed_bytes() == canonical.prefix(canonical.Tag.EVENT) + (
        canonical.reference_json(envelope.to_json())
    )
    assert envelope.canonical() is envelope.canonical()  # made once


@given(st.dictionaries(_TEXT, st.integers(-1000, 1000) | _TEXT | st.none(), max_size=5))
def test_a_parsed_event_keeps_the_canonical_body_it_checked(body: dict[str, object]) -> None:
    key = SigningKey.from_seed("PK", b"event body".ljust(32, b"\x00"))
    signed = sign_event(key, negotiation="a" * 64, seq=1, prev="b" * 64, type=EventType.STATEMENT,
                        author="PK", time="2026-11-29T09:30:00Z", body=body)  # fmt: skip
    parsed = event_from_json(signed.to_json())
    assert parsed == signed
    assert parsed.canonical_body() == canonical.reference_json(body)  # type: ignore[arg-type]
    tampered = signed.to_json()
    tampered["body"] = {**body, "extra": 1}
    with pytest.raises(InvalidInputError, match="does not match"):
        event_from_json(tampered)
