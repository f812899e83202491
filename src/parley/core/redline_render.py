"""Redlines for people and programs: JSON, Markdown and HTML, built as plain strings.

Every renderer walks the same stream of ``pieces``: words and the marks of brackets and options,
each kept, inserted or deleted, with ``Open``/``Close`` around every bracket, options group and
option so that a renderer can wrap them (HTML) or ignore the wrapping (Markdown, the terminal).
Brackets and options are shown in the text format's own notation: ``[words]{AF,PK}`` and
``[[AF: one wording | PK: another]]``.

The JSON form (``to_json``, format ``parley/redline/v1``) is documented in ``docs/redline.md``.
"""

from __future__ import annotations

from parley.core.canonical import JsonValue
from parley.core.redline import (
    BracketDiff,
    OptionDiff,
    ProvisionChange,
    Redline,
    Segment,
    Side,
    Summary,
    Words,
)
from parley.core.redline_describe import BADGES, describe, details, headline, notes, summary_line
from parley.core.redline_html import STYLESHEET, html_body, to_html
from parley.core.redline_markdown import markdown_body, md_escape, runs, to_markdown
from parley.core.redline_pieces import Close, Event, Open, Piece, Role, pieces
from parley.core.text import Bracket

__all__ = [
    "BADGES",
    "REDLINE_FORMAT",
    "STYLESHEET",
    "Close",
    "Event",
    "Open",
    "Piece",
    "Role",
    "describe",
    "details",
    "headline",
    "html_body",
    "markdown_body",
    "md_escape",
    "notes",
    "pieces",
    "runs",
    "summary_line",
    "to_html",
    "to_json",
    "to_markdown",
]


REDLINE_FORMAT = "parley/redline/v1"


# --- JSON ---------------------------------------------------------------------------------------


def to_json(redline: Redline) -> dict[str, JsonValue]:
    """The redline as plain JSON data (see docs/redline.md for the schema)."""
    return {
        "format": REDLINE_FORMAT,
        "title": {"old": redline.old_title, "new": redline.new_title},
        "language": {"old": redline.old_language, "new": redline.new_language},
        "summary": _summary_json(redline.summary),
        "changes": [_change_json(c) for c in redline.changes],
    }


def _summary_json(summary: Summary) -> dict[str, JsonValue]:
    return {name: getattr(summary, name) for name in Summary.__dataclass_fields__}


def _change_json(change: ProvisionChange) -> dict[str, JsonValue]:
    return {
        "id": change.id,
        "changes": [c.value for c in change.changes],
        "old": _side_json(change.old),
        "new": _side_json(change.new),
        "reservations": {
            "added": list(change.reservations_added),
            "removed": list(change.reservations_removed),
        },
        "body": [_segment_json(s) for s in change.body],
    }


def _side_json(side: Side | None) -> JsonValue:
    if side is None:
        return None
    return {
        "kind": side.kind.value,
        "label": side.label,
        "citation": side.citation,
        "parent": side.parent,
        "heading": side.heading,
        "reservations": list(side.reservations),
    }


def _segment_json(segment: Segment) -> dict[str, JsonValue]:
    if isinstance(segment, Words):
        return {"type": "words", "op": segment.op.value, "text": segment.text}
    if isinstance(segment, BracketDiff):
        return {
            "type": "bracket",
            "change": segment.change.value,
            "old": _bracket_json(segment.old),
            "new": _bracket_json(segment.new),
            "holders": {
                "added": list(segment.holders_added),
                "removed": list(segment.holders_removed),
            },
            "words": [_segment_json(w) for w in segment.words],
        }
    return {
        "type": "options",
        "change": segment.change.value,
        "chosen": segment.chosen,
        "options": [_option_json(o) for o in segment.options],
    }


def _bracket_json(bracket: Bracket | None) -> JsonValue:
    if bracket is None:
        return None
    return {"text": bracket.text, "holders": list(bracket.holders)}


def _option_json(option: OptionDiff) -> dict[str, JsonValue]:
    return {
        "change": option.change.value,
        "proposer": option.proposer,
        "body": [_segment_json(s) for s in option.body],
    }
