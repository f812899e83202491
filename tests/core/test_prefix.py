"""Short hashes as people type them: one rule for the store and for a server's client."""

from __future__ import annotations

import pytest

from parley.core.prefix import complete_hash, negotiation_id
from parley.errors import InvalidInputError, NotFoundError

IDS = ["e6730" + "0" * 59, "e6731" + "1" * 59, "abcd" + "2" * 60]


def test_a_unique_prefix_completes_in_any_case_and_with_an_ellipsis() -> None:
    assert complete_hash(IDS, "ABCD", "version") == IDS[2]
    assert complete_hash(IDS, "e6731…", "version") == IDS[1]
    assert negotiation_id(IDS, IDS[1]) == IDS[1]


@pytest.mark.parametrize(
    ("typed", "error", "message"),
    [
        # too short, even where one candidate starts so
        ("abc", InvalidInputError, "negotiation must be a hash or at least 4 hex digits of one, "
                                   "found 'abc'"),
        ("PK", InvalidInputError, "found 'PK'"),  # as typed, not lowercased
        ("ffff", NotFoundError, "no negotiation ffff…"),
        ("e673", InvalidInputError, r"e673… is ambiguous \(2 matches\): give more digits"),
    ],
)  # fmt: skip
def test_what_cannot_be_completed_is_named(
    typed: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        negotiation_id(IDS, typed)
