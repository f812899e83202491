"""The amend page's edit operations, replayed on the base with ``parley.core.edit``.

The page carries the list of operations; every request checks and replays it again, so the
text signed is always the one the operations make.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from parley.core import (
    edit,
    protocol,
    textformat,
)
from parley.core.charter import Role
from parley.core.event import EventType
from parley.core.json_fields import parse_json
from parley.core.text import Kind, Provision, Text
from parley.errors import (
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    ParleyError,
)
from parley.web.caller import Room
from parley.web.forms import Form
from parley.web.rules import sent_to_me
from parley.web.views import current_version

MAX_OPS = 200


Op = dict[str, str]


OP_FIELDS = (
    "op",
    "id",
    "body",
    "heading",
    "index",
    "group",
    "option",
    "kind",
    "parent",
    "after",
    "code",
)


def parse_ops(raw: str) -> list[Op]:
    """The operations carried by the amend page (checked again here on every request)."""
    try:
        ops = parse_json(raw or "[]", "the list of changes")
    except LimitExceededError as exc:
        raise InvalidInputError(str(exc)) from None
    if not isinstance(ops, list) or len(ops) > MAX_OPS:
        raise InvalidInputError(f"the changes must be a list of at most {MAX_OPS} operations")
    for op in ops:
        if not isinstance(op, dict) or not all(
            k in OP_FIELDS and isinstance(v, str) for k, v in op.items()
        ):
            raise InvalidInputError("a change is malformed")
    return ops


def _int(op: Op, name: str) -> int:
    try:
        return int(op.get(name, "0"))
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a number") from exc


def _new_provision(op: Op) -> Provision:
    kind = op.get("kind", "")
    if kind not in Kind._value2member_map_:
        raise InvalidInputError(f"choose a kind of provision, found {kind!r}")
    return Provision(
        op.get("id", "").strip(),
        Kind(kind),
        op.get("heading", "").strip() or None,
        textformat.parse_body(op.get("body", "")),
    )


OPERATIONS: Mapping[str, Callable[[Text, Op, str], Text]] = {
    "body": lambda t, op, me: edit.set_body(t, op["id"], textformat.parse_body(op.get("body", ""))),
    "heading": lambda t, op, me: edit.set_heading(
        t, op["id"], op.get("heading", "").strip() or None
    ),
    "reserve": lambda t, op, me: edit.reserve(t, op["id"], me),
    "release": lambda t, op, me: edit.release(t, op["id"], op.get("code") or me),
    "agree": lambda t, op, me: edit.agree_bracket(t, op["id"], _int(op, "index")),
    "choose": lambda t, op, me: edit.choose_option(
        t, op["id"], _int(op, "option"), _int(op, "group")
    ),
    "insert": lambda t, op, me: edit.insert(
        t, _new_provision(op), parent=op.get("parent") or None, after=op.get("after") or None
    ),
    "remove": lambda t, op, me: edit.remove(t, op["id"]),
    "move": lambda t, op, me: edit.move(
        t, op["id"], parent=op.get("parent") or None, after=op.get("after") or None
    ),
}


def apply_op(text: Text, op: Op, me: str) -> Text:
    action = OPERATIONS.get(op.get("op", ""))
    if action is None or (op.get("op") != "insert" and not op.get("id")):
        raise InvalidInputError("unknown change, or no provision named")
    return action(text, op, me)


def apply_checked(room: Room, base: Text, text: Text, op: Op) -> Text:
    """``apply_op`` as the caller, the result judged against the version amended: what it
    attributes to others beyond what that version did must be the caller's to attribute (so
    putting back what an earlier edit took out is no attribution)."""
    changed = apply_op(text, op, room.me.code)
    check_as_author(room, [base], changed)
    return changed


def check_as_author(room: Room, befores: Sequence[Text], after: Text) -> None:
    """``edit.check_attribution`` for the caller, a mediator or not, against the version the
    text was drafted from (any of ``befores``, for a text that names none)."""
    edit.check_attribution_from_any(befores, after, room.me.code, room.state.charter.codes(),
                                    mediator=room.me.has(Role.MEDIATOR))  # fmt: skip


def working_text(room: Room, base: str, ops: list[Op]) -> Text:
    text = original = room.text(base)
    for n, op in enumerate(ops, 1):
        try:
            text = apply_checked(room, original, text, op)
        except ParleyError as exc:
            raise InvalidInputError(f"change {n} no longer applies: {exc}") from exc
    return text


def describe_op(op: Op, cites: Mapping[str, str]) -> str:
    where = cites.get(op.get("id", ""), op.get("id", ""))
    words = {
        "body": f"{where}: words changed",
        "heading": f"{where}: heading changed",
        "reserve": f"{where}: reservation entered",
        "agree": f"{where}: a bracket agreed",
        "release": f"{where}: {op.get('code') or 'your'} reservation lifted",
        "choose": f"{where}: one option kept",
        "remove": f"{where}: deleted",
        "move": f"{where}: moved",
        "insert": f"new provision {op.get('id', '')} inserted",
    }
    return words.get(op.get("op", ""), "a change")


def op_from_form(form: Form) -> Op:
    op = {k: form.get(k) for k in OP_FIELDS if form.get(k)}
    if "body" in form.fields:
        op["body"] = form.get("body")
    return op


def amend_base(room: Room, asked: str | None) -> str:
    if asked:
        room.text(asked)
        return asked
    waiting = sent_to_me(room)
    current = waiting[-1] if waiting else current_version(room.state)
    if current is None:
        raise NotFoundError("there is no version to amend yet")
    return current


def amend_move(room: Room, base: str) -> str:
    """Amend what you were sent; a pen holder proposes a new version instead."""
    if room.me.code in protocol.pen_holders(room.state):
        return EventType.PROPOSE.value
    return EventType.AMEND.value
