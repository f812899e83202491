"""The JSON depth limit measures what json.loads built, exactly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.api.limits import depth, openings, read_json

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=30,
)


def _reference(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_reference(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_reference(v) for v in value), default=0)
    return 0


@given(_JSON)
def test_depth_is_the_nesting_depth(value: Any) -> None:
    assert depth(value) == _reference(value)


@given(_JSON, st.integers(0, 6))
def test_a_body_is_refused_exactly_when_its_value_is_too_deep(value: Any, limit: int) -> None:
    body = json.dumps(value).encode()
    assert openings(body) >= _reference(value)  # the bound that lets most bodies skip the walk
    refused = read_json(body, limit)[1] is not None
    assert refused == (_reference(value) > limit)


def test_a_body_too_deep_is_refused_and_one_at_the_limit_is_not() -> None:
    assert read_json(b"[" * 5 + b"]" * 5, 5) == ([[[[[]]]]], None)
    assert read_json(b"[" * 6 + b"]" * 6, 5)[1] == (
        413,
        "the JSON body is nested deeper than 5 levels",
    )


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"a": 1, "a": 2}', "the body: the key 'a' appears twice in one object"),
        (b'{"a": NaN}', "the body: NaN is not a JSON value"),
        (b"[" + b"9" * 5000 + b"]", "the body holds a number too long to read"),
        (b'{"a": ', "the body is not valid JSON: expecting value at line 1, column 7"),
    ],
)
def test_a_body_that_reads_two_ways_or_not_at_all_is_refused_in_words(
    body: bytes, said: str
) -> None:
    assert read_json(body, 5) == (None, (400, said))
