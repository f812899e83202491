"""Report lines: what a verifier is told, one statement at a time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Line:
    """One statement of a report: what, whether it holds, and the detail; a ``caution`` holds,
    but limits what the report proves (a reader must weigh it)."""

    text: str
    holds: bool = True
    detail: str = ""
    depth: int = 0
    caution: bool = False


def human_time(moment: str | int) -> str:
    """An RFC 3339 time or POSIX seconds as a reader writes it: ``1 March 2026, 09:13 UTC``."""
    from datetime import UTC, datetime

    from parley.core.event import parse_time

    when = datetime.fromtimestamp(moment, UTC) if isinstance(moment, int) else parse_time(moment)
    return f"{when.day} {when:%B %Y, %H:%M} UTC"
