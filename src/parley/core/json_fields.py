"""Reading untrusted JSON strictly, with errors that say what was expected, what was found, where.

``parse_json`` turns the text of a document from outside (a bundle, a request body, a key file)
into values: it refuses what reads two ways (a key given twice in one object, where a person's
editor shows the first value and a parser keeps the last) and what JSON does not allow (NaN,
Infinity), and says what is wrong in words. Every parser of a signed or stored JSON document
(texts, charters, events) then reads its objects through ``read_object`` and ``read_string``, so
they all refuse the same things in the same words.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from parley.errors import InvalidInputError, LimitExceededError

BOM = "\ufeff"
"""A byte-order mark: RFC 8259 lets a parser ignore one at the start, and editors add it."""


def parse_json(text: str, what: str) -> Any:
    """The JSON value of ``text``; InvalidInputError (LimitExceededError when nested too deep
    to read) naming ``what`` and, for a syntax error, the line and column."""
    text = text.removeprefix(BOM)
    if not text.strip():
        raise InvalidInputError(f"{what} is empty")
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{what} is not valid JSON: {exc.msg.lower().removesuffix(' at')} at line "
            f"{exc.lineno}, column {exc.colno}"
        ) from None
    except InvalidInputError as exc:
        raise InvalidInputError(f"{what}: {exc}") from None
    except RecursionError:
        raise LimitExceededError(f"{what} nests too deeply to be read") from None
    except ValueError:  # Python's limit on the digits of an integer it reads
        raise InvalidInputError(f"{what} holds a number too long to read") from None


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object, unless a key appears in it twice (it would read two ways)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidInputError(f"the key {key[:80]!r} appears twice in one object")
            seen.add(key)
    return found


def _no_constant(name: str) -> None:
    raise InvalidInputError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_no_constant)


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
