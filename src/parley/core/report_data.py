"""The verifier's findings as data, for whoever writes them up: each act that decides the
outcome with its event, hash, author, key and time, and the checkpoint the proofs rest on.

The report's lines say the same in words (``bundle._report``); these records let a formal
finding cite exact events and keys without parsing prose. Times are as their authors wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley import __version__
from parley.core import protocol
from parley.core.charter import Role
from parley.core.checkpoint import SignedCheckpoint
from parley.core.event import SignedEvent
from parley.core.report import human_time

REPORT_FORMAT = "parley/verify-report/v1"
VERIFIER = f"parley {__version__}"
"""What checked the file, as a finding names it."""


def acts(state: protocol.State, events: Sequence[SignedEvent]) -> list[dict[str, Any]]:
    """The acceptances of the final text, signatures, witness attestations and endorsements, in
    the order of the record (a confirmation or ratification as the ``confirmed_by`` or
    ``ratified_by`` event of the act it completes)."""
    by_hash = {event.hash: event for event in events}

    def seq(event_hash: str | None) -> int | None:
        return None if event_hash is None else by_hash[event_hash].envelope.seq

    out: list[dict[str, Any]] = []
    final = state.final or ""
    for party in state.charter.codes(Role.PARTY):
        acc = state.acceptances.get(party, {}).get(final)
        if acc is not None:
            out.append(_act(by_hash[acc.event], mode=acc.mode.value, firm=acc.firm,
                            confirmed_by=seq(acc.confirmed_by)))  # fmt: skip
    for sig in state.signatures.values():
        out.append(_act(by_hash[sig.event], mode=sig.mode.value, ratified_by=seq(sig.ratified_by)))
        for att in state.witnesses.get(sig.event, {}).values():
            out.append(_act(by_hash[att.event], of_event=seq(sig.event)))
    for att in state.endorsements.values():
        out.append(_act(by_hash[att.event]))
    return sorted(out, key=lambda act: int(act["event"]))


def _act(event: SignedEvent, **facts: Any) -> dict[str, Any]:
    env = event.envelope
    return {
        "event": env.seq, "hash": event.hash, "type": env.type.value, "by": env.author,
        "key": env.key, "time": env.time, "time_words": human_time(env.time),
        **{name: value for name, value in facts.items() if value is not None},
    }  # fmt: skip


def checkpoint(signed: SignedCheckpoint) -> dict[str, Any]:
    """The checkpoint every proof leads to, its log key and its cosignatures."""
    cp = signed.checkpoint
    return {
        "origin": cp.origin,
        "size": cp.size,
        "root": cp.root_hash.hex(),
        "log_key": signed.log_key.vkey(),
        "cosignatures": [
            {"witness": c.name, "key": c.key.vkey(), "time": c.timestamp}
            for c in signed.cosignatures
        ],
    }
