"""Reading untrusted JSON strictly, with errors that say what was expected, what was found, where.

Every parser of a signed or stored JSON document (texts, charters, events) reads its objects
through these two functions, so they all refuse the same things in the same words.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from parley.errors import InvalidInputError


def read_object(
    value: object,
    path: str,
    required: Collection[str],
    optional: Collection[str] | None = (),
) -> dict[str, Any]:
    """``value`` as an object holding every ``required`` key and, unless ``optional`` is None
    (any further key allowed), no key outside ``required`` and ``optional``."""
    if not isinstance(value, dict):
        raise InvalidInputError(f"{path}: expected an object, found {type(value).__name__}")
    missing = set(required) - value.keys()
    if missing:
        raise InvalidInputError(f"{path}: missing {', '.join(sorted(missing))}")
    if optional is not None:
        extra = value.keys() - set(required) - set(optional)
        if extra:
            raise InvalidInputError(f"{path}: unexpected {', '.join(sorted(map(str, extra)))}")
    return value


def read_string(value: object, path: str) -> str:
    """``value`` as a string."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{path}: expected a string, found {type(value).__name__}")
    return value
