"""The one place that produces signed or hashed bytes.

Every payload is RFC 8785 canonical JSON (via ``rfc8785``) prefixed by a domain-separation tag and a
newline, so a signature or hash made for one kind of payload can never be taken for another. Strings
must already be NFC and floats are refused: signed bytes must mean one thing forever.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from enum import StrEnum
from typing import Any

import rfc8785

from parley.errors import InvalidInputError

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]
"""What may appear in a canonical payload: no floats, ever."""

MAX_SAFE_INTEGER = 2**53 - 1


class Tag(StrEnum):
    """Domain-separation tags, one per kind of signed or hashed payload."""

    TEXT = "parley/v1/text"
    CHARTER = "parley/v1/charter"
    EVENT = "parley/v1/event"
    SIGNED_EVENT = "parley/v1/signed-event"
    BODY = "parley/v1/body"
    LOGIN = "parley/v1/login"


def canonical_json(value: JsonValue) -> bytes:
    """RFC 8785 bytes of ``value``; raises InvalidInputError on floats, big ints or non-NFC text.

    When every object key is ASCII (all of Parley's schemas), the standard library's sorted,
    compact, non-ASCII-preserving JSON is byte-identical to RFC 8785 for the values allowed here
    (no floats) and much faster; ``tests/core/test_canonical.py`` proves the two agree.
    """
    ascii_keys = _check(value, "$")
    try:
        if ascii_keys:
            return json.dumps(
                value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"cannot canonicalize value: {exc}") from exc


def reference_json(value: JsonValue) -> bytes:
    """RFC 8785 bytes from the ``rfc8785`` package alone (the reference for the fast path)."""
    _check(value, "$")
    return rfc8785.dumps(value)


def tagged(tag: Tag, value: JsonValue) -> bytes:
    """The exact bytes that are signed or hashed for a payload of kind ``tag``."""
    return prefix(tag) + canonical_json(value)


def prefix(tag: Tag) -> bytes:
    """What comes before a payload's canonical JSON: its tag and a newline."""
    return tag.value.encode("ascii") + b"\n"


def digest(tag: Tag, value: JsonValue) -> bytes:
    """SHA-256 of the tagged canonical bytes."""
    return hashlib.sha256(tagged(tag, value)).digest()


def hex_digest(tag: Tag, value: JsonValue) -> str:
    """Lowercase hex SHA-256 of the tagged canonical bytes."""
    return digest(tag, value).hex()


def _check(value: Any, path: str) -> bool:
    """Refuse what canonical JSON cannot carry unambiguously; True when every key is ASCII."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInputError(f"{path}: integer {value} is outside the safe range ±2^53-1")
        return True
    if isinstance(value, float):
        raise InvalidInputError(f"{path}: floats are not allowed in signed data, found {value!r}")
    if isinstance(value, str):
        _check_string(value, path)
        return True
    if isinstance(value, list | tuple):
        ascii_keys = True  # check every item: no short cut past a bad value
        for i, item in enumerate(value):
            ascii_keys = _check(item, f"{path}[{i}]") and ascii_keys
        return ascii_keys
    if isinstance(value, dict):
        return _check_object(value, path)
    raise InvalidInputError(f"{path}: {type(value).__name__} cannot appear in signed data")


def _check_object(value: dict[Any, Any], path: str) -> bool:
    ascii_keys = True
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidInputError(f"{path}: object keys must be strings, found {key!r}")
        _check_string(key, path)
        ascii_keys = _check(item, f"{path}.{key}") and ascii_keys and key.isascii()
    return ascii_keys


def _check_string(value: str, path: str) -> None:
    if value.isascii():
        return
    if not unicodedata.is_normalized("NFC", value):
        raise InvalidInputError(f"{path}: text must be Unicode NFC")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{path}: text holds an unpaired surrogate") from exc
