"""The event hash, put together from the envelope's canonical bytes, is the canonical hash."""

from __future__ import annotations

import base64
import hashlib
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from parley.core import canonical
from parley.core.event import Envelope, EventType, event_hash

_TEXT = (
    st.text(max_size=12)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    audience = draw(st.none() | st.lists(_TEXT, max_size=3).map(lambda a: tuple(sorted(a))))
    return Envelope(
        negotiation=draw(_TEXT), seq=draw(st.integers(0, canonical.MAX_SAFE_INTEGER)),
        prev=draw(st.none() | _TEXT), type=draw(st.sampled_from(EventType)),
        author=draw(_TEXT), key=draw(_TEXT), time=draw(_TEXT), audience=audience,
        body=draw(_TEXT),
    )  # fmt: skip


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
