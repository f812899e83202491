"""Who may see and do what through the API, given a session's public key.

* A caller is a participant of a negotiation when its key is one of the keys its charter lists.
  To anyone else the negotiation does not exist: every refusal is the same 404 as for an id
  that was never used, so a stranger cannot even learn that an id is taken.
* A participant reads the events with the bodies its audience allows (``Services.events`` with
  ``viewer``), and every derived view (the state, the versions it can read, redlines) is computed
  from that same redacted copy, folded here, so nothing derived from a withheld body leaks.
* A write is authorised by the event's own signature; the session only has to be the author's.

Negotiation ids are taken in full (64 hex digits): a short prefix would let a stranger probe.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from parley.cli.records import status_json
from parley.core import charter as charters
from parley.core import protocol
from parley.core import text as text_model
from parley.core.charter import Charter
from parley.core.event import EventType, SignedEvent
from parley.core.keys import PublicKey
from parley.errors import InvalidInputError, NotFoundError, ParleyError, PermissionDeniedError
from parley.services import Services, events_seen
from parley.store import Transaction

NEGOTIATION_ID = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]{4,64}")


@dataclass(frozen=True, slots=True)
class Seat:
    """A caller's place in one negotiation: the codes its key holds there (the first reads)."""

    negotiation: str
    codes: tuple[str, ...]

    @property
    def code(self) -> str:
        """The participant the caller reads as."""
        return self.codes[0]


def missing(negotiation: str) -> NotFoundError:
    """The one answer for an unknown negotiation and for a stranger's look at a real one."""
    return NotFoundError(f"no negotiation {negotiation}")


def codes_for(charter: Charter, key: PublicKey) -> tuple[str, ...]:
    """The participants whose keys in ``charter`` include ``key``."""
    return tuple(p.code for p in charter.participants if key in p.keys)


def check_author(seat: Seat, event: SignedEvent) -> None:
    """A submitted event must belong to this negotiation and be authored by the caller."""
    env = event.envelope
    if env.negotiation != seat.negotiation:
        raise InvalidInputError(
            f"this event belongs to negotiation {env.negotiation[:12]}…, "
            f"not {seat.negotiation[:12]}…"
        )
    if env.author not in seat.codes:
        raise PermissionDeniedError(
            f"you are logged in as {', '.join(seat.codes)}: an event by {env.author} must be "
            f"submitted by {env.author}"
        )


def check_convener(event: SignedEvent, key: PublicKey) -> None:
    """A new negotiation is a charter event, submitted by the participant who signed it."""
    env = event.envelope
    if env.type is not EventType.CHARTER or event.body is None:
        raise InvalidInputError(
            f"a negotiation starts with its charter event, found a {env.type} event: post other "
            "events to /api/negotiations/{id}/events"
        )
    charter = charters.from_json(event.body)
    if env.author not in codes_for(charter, key):
        raise PermissionDeniedError(
            f"you are logged in with {key.name} ({key.id_hex}), which is not a key of {env.author} "
            "in this charter"
        )


def find_hash(candidates: Iterable[str], ref: str, what: str) -> str:
    """The one hash among ``candidates`` that ``ref`` names in full or by a unique prefix."""
    prefix = ref.rstrip("…").lower()
    if not _HEX.fullmatch(prefix):
        raise InvalidInputError(
            f"{what} is a hash or at least 4 hex digits of one, found {ref[:80]!r}"
        )
    matches = [h for h in candidates if h.startswith(prefix)]
    if not matches:
        raise NotFoundError(f"no {what} {prefix} that you can read in this negotiation")
    if len(matches) > 1:
        raise InvalidInputError(f"{prefix}… is ambiguous ({len(matches)} of them): give more")
    return matches[0]


class Views:
    """Charters (which never change), each caller's seat in them and each viewer's folded state,
    kept between requests.

    A viewer's state is brought up to date from the events after the one it has seen, so a read
    costs one small query; the cache holds at most ``size`` viewer states, and beside each the
    last document rendered from it (a viewer's state at a given sequence number never changes,
    so neither does its rendering).
    """

    def __init__(self, services: Services, size: int = 2048) -> None:
        self.services = services
        self._size = size
        self._charters: dict[str, Charter] = {}
        self._seats: dict[tuple[str, PublicKey], Seat] = {}
        self._states: OrderedDict[tuple[str, str], protocol.State] = OrderedDict()
        self._documents: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    def seat(self, negotiation: str, key: PublicKey) -> Seat:
        """The caller's seat, or the 404 a stranger gets (kept: a charter never changes).

        A caller not seated yet always costs one read of the negotiation's row, so that a
        stranger's 404 takes as long for a real negotiation, its charter at hand, as for an
        unknown id. Only the first look at a negotiation the process has not loaded reads its
        charter event too.
        """
        seat = self._seats.get((negotiation, key))
        if seat is not None:
            return seat
        if not NEGOTIATION_ID.fullmatch(negotiation):
            raise missing(negotiation)
        with self.services.reading() as tx:
            if tx.negotiation(negotiation) is None:
                raise missing(negotiation)
        codes = codes_for(self.charter(negotiation), key)
        if not codes:
            raise missing(negotiation)
        if len(self._seats) >= self._size:
            self._seats.clear()  # a crude bound, rarely reached: the next requests look again
        seat = self._seats[negotiation, key] = Seat(negotiation, codes)
        return seat

    async def seat_async(self, negotiation: str, key: PublicKey) -> Seat:
        """``seat`` for the event loop: the store is read in a worker thread, once per caller
        (a stranger, never seated, is read for every time, known negotiation or not)."""
        seat = self._seats.get((negotiation, key))
        if seat is not None:
            return seat
        from anyio import to_thread

        return await to_thread.run_sync(self.seat, negotiation, key)

    def charter(self, negotiation: str) -> Charter:
        """A negotiation's charter (loaded once: it never changes), from the store's own charter
        event (checked when the store accepted it)."""
        charter = self._charters.get(negotiation)
        if charter is None:
            with self.services.reading() as tx:
                first = tx.charter_event(negotiation)
            if first is None or first.event.body is None:
                raise missing(negotiation)
            charter = self._charters[negotiation] = charters.from_json(first.event.body)
        return charter

    def state(self, seat: Seat) -> protocol.State:
        """The state folded from the events as this caller may read them."""
        with self.services.reading() as tx:
            return self._state_in(tx, seat)

    def state_document(self, seat: Seat) -> bytes:
        """The caller's state as the API serves it (JSON)."""
        found = self.state_documents([seat])[0]
        if isinstance(found, ParleyError):
            raise found
        return found

    def state_documents(self, seats: Sequence[Seat]) -> list[bytes | ParleyError]:
        """``state_document`` for many callers at once: one transaction, one query for all the
        negotiations' positions, and more only for those that moved since last seen."""
        answers: list[bytes | ParleyError] = []
        with self.services.reading() as tx:
            tx.prefetch({seat.negotiation for seat in seats})
            for seat in seats:
                try:
                    answers.append(self._document_in(tx, seat))
                except ParleyError as exc:
                    answers.append(exc)
        return answers

    def _document_in(self, tx: Transaction, seat: Seat) -> bytes:
        key = (seat.negotiation, seat.code)
        state = self._state_in(tx, seat)
        with self._lock:
            held = self._documents.get(key)
        if held is not None and held[0] == state.seq:
            return held[1]
        document = json.dumps(status_json(state), ensure_ascii=False, separators=(",", ":"))
        data = document.encode()
        with self._lock:
            if key in self._states:
                self._documents[key] = (state.seq, data)
        return data

    def _state_in(self, tx: Transaction, seat: Seat) -> protocol.State:
        key = (seat.negotiation, seat.code)
        with self._lock:
            cached = self._states.get(key)
        row = tx.negotiation(seat.negotiation)
        if cached is not None and row is not None and row.seq == cached.seq:
            state = cached  # nothing new: no query for events
        else:
            since = 0 if cached is None else cached.seq
            # the store's own events, their signatures verified when it accepted them
            state = protocol.replay(cached, events_seen(tx, seat.negotiation, seat.code, since))
        with self._lock:
            held = self._states.get(key)
            if held is None or held.seq <= state.seq:
                self._states[key] = state
            self._states.move_to_end(key)
            while len(self._states) > self._size:
                self._documents.pop(self._states.popitem(last=False)[0], None)
        return state

    def events(self, seat: Seat, since: int, limit: int | None = None) -> list[SignedEvent]:
        """The events from ``since`` on (the first ``limit`` of them; None: all), bodies
        withheld where the caller is not in the audience."""
        return self.services.events_of(seat.negotiation, seat.code, since, limit)

    def text(self, seat: Seat, ref: str) -> tuple[str, text_model.Text]:
        """A version the caller may read (its body reached the caller): hash and text."""
        texts = self.state(seat).texts
        version = find_hash(texts, ref, "version")
        return version, texts[version]

    def event(self, seat: Seat, ref: str) -> str:
        """The full hash of an event of this negotiation, from its hash or a unique prefix
        (looked up by the prefix, not by reading every event of a long negotiation)."""
        prefix = ref.rstrip("…").lower()
        found = (
            self.services.event_hashes(seat.negotiation, prefix) if _HEX.fullmatch(prefix) else []
        )
        return find_hash(found, ref, "event")
