"""The charter file a mediator writes to convene a negotiation (TOML), read strictly.

A misspelt key is an error that names it and the keys expected, never a silent default: a charter
is signed as written, and a participant left out by a typo would be left out of the agreement.
"""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parley.cli.files import read_bytes
from parley.core import charter as charters
from parley.core import text as text_model
from parley.core.charter import Charter, Participant, PenRule, Role
from parley.core.json_fields import read_object, read_string
from parley.core.keys import key_file_vkey, parse_vkey
from parley.errors import InvalidInputError, NotFoundError

EXAMPLE = """\
title = "Agreement on Ending Cross-Border Attacks"
pen = "mediator"          # or "alternating" (direct exchange)

[[participant]]
code = "PK"
name = "Islamic Republic of Pakistan"
roles = ["party"]

[[participant]]
code = "QA"
name = "State of Qatar"
roles = ["mediator", "witness", "guarantor"]
keys = ["QA+1a2b3c4d+…"]  # optional: else the public key of keys/QA.key
"""
"""A charter file, as ``parley negotiation open --help`` and docs/cli.md show it."""

Keys = tuple[tuple[str, ...], tuple[str, ...]]
"""A table's keys: those required, then those optional."""
_TOP: Keys = ("title", "participant"), ("pen", "nonce")
_PARTICIPANT: Keys = ("code", "roles"), ("name", "keys")


def _table(value: object, where: str, keys: Keys) -> dict[str, Any]:
    """``value`` as a TOML table with the ``keys`` (required, optional); a key outside them is
    named first, as it is most likely a misspelling of one that is then missing."""
    required, optional = keys
    if isinstance(value, dict):
        unexpected = sorted(set(value) - {*required, *optional})
        if unexpected:
            raise InvalidInputError(
                f"{where}: unexpected {', '.join(unexpected)} "
                f"(expected {', '.join(required)}, and optionally {', '.join(optional)})"
            )
    return read_object(value, where, required, optional)


def read_charter(path: Path, key_file: Callable[[str], Path]) -> Charter:
    """The charter in ``path``; a participant's key, where none is listed, from ``key_file(code)``.
    It names no log: the deployment that convenes it adds its own (``negotiation open``)."""
    data = read_bytes(path)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(f"{path}: not a readable TOML charter: {exc}") from exc
    top = _table(doc, str(path), _TOP)
    pen = read_string(top.get("pen", PenRule.MEDIATOR.value), f"{path}: pen")
    if pen not in PenRule._value2member_map_:
        raise InvalidInputError(f"{path}: pen must be 'mediator' or 'alternating', found {pen!r}")
    listed = top["participant"]
    if not isinstance(listed, list):
        raise InvalidInputError(f"{path}: participant must be tables ([[participant]])")
    participants = tuple(
        _participant(entry, f"{path}: participant {i}", key_file)
        for i, entry in enumerate(listed, start=1)
    )
    charter = Charter(
        title=read_string(top["title"], f"{path}: title"),
        nonce=read_string(top.get("nonce") or secrets.token_hex(16), f"{path}: nonce"),
        participants=participants,
        pen=PenRule(pen),
        policy=charters.default_policy(participants),
    )
    charters.check(charter)
    return charter


def _participant(entry: object, where: str, key_file: Callable[[str], Path]) -> Participant:
    d = _table(entry, where, _PARTICIPANT)
    code = read_string(d["code"], f"{where}: code")
    text_model.check_code(code, f"{where}: code")
    where = f"{where} ({code})"
    roles = _strings(d["roles"], f"{where}: roles")
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if not roles or unknown:
        raise InvalidInputError(
            f"{where}: roles must be some of {', '.join(r.value for r in Role)}, "
            f"found {', '.join(map(repr, unknown)) or 'none'}"
        )
    vkeys = _strings(d.get("keys", []), f"{where}: keys") or [_own_vkey(where, key_file(code))]
    name = read_string(d.get("name", code), f"{where}: name")
    keys = tuple(parse_vkey(v) for v in vkeys)
    return Participant(code, name, tuple(Role(r) for r in roles), keys)


def _own_vkey(where: str, path: Path) -> str:
    """The vkey of a key file in this home, for a participant whose charter entry lists none."""
    try:
        return key_file_vkey(path.read_bytes()).vkey()
    except OSError as exc:
        code = path.stem
        raise NotFoundError(
            f"{where}: no keys listed, and no key file {path} to take one from: list the "
            f"delegation's vkey in keys (on their own machine, `parley key new {code}` prints it, "
            f"or `parley key show {code}` once made)"
        ) from exc


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{where}: expected a list of strings, found {value!r}")
    return value
