"""Canonical bytes: the fast path equals RFC 8785, tags separate kinds, bad values are refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import canonical
from parley.errors import InvalidInputError

nfc_text = (
    st.text()
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | nfc_text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(nfc_text, inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_fast_path_is_byte_identical_to_rfc8785(value: canonical.JsonValue) -> None:
    assert canonical.canonical_json(value) == canonical.reference_json(value)


def test_known_answer() -> None:
    value = {"b": [1, "é", None, True], "a": {"z": '\u0001"\\', "y": -7}}
    expected = '{"a":{"y":-7,"z":"\\u0001\\"\\\\"},"b":[1,"é",null,true]}'.encode()
    assert canonical.canonical_json(value) == expected


def test_tags_separate_kinds() -> None:
    value = {"x": 1}
    assert canonical.digest(canonical.Tag.TEXT, value) != canonical.digest(
        canonical.Tag.EVENT, value
    )
    assert canonical.tagged(canonical.Tag.EVENT, value) == b'parley/v1/event\n{"x":1}'


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "floats are not allowed"),
        (2**60, "outside the safe range"),
        ("e\u0301", "NFC"),
        ({1: "x"}, "keys must be strings"),
        (b"bytes", "cannot appear"),
        ("\ud800", "surrogate"),
    ],
)
def test_refused_values(value: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        canonical.canonical_json(value)  # type: ignore[arg-type]
