"""A table of four delegations for protocol tests: two parties, two mediators who also witness
and guarantee. Deterministic keys and a clock that ticks a minute per move."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from parley.core import charter as charters
from parley.core import moves, protocol
from parley.core import text as text_model
from parley.core.charter import Charter, LogConfig, Participant, PenRule, Role
from parley.core.event import EventType, SignedEvent, format_time
from parley.core.keys import COSIGNATURE_V1, SigningKey
from parley.core.log import LocalWitness, MemoryLog

NAMES = {
    "PK": "Islamic Republic of Pakistan",
    "AF": "Islamic Emirate of Afghanistan",
    "QA": "State of Qatar",
    "TR": "Republic of Türkiye",
}


def key_for(code: str) -> SigningKey:
    seed = code.encode().ljust(32, b"\x00")
    return SigningKey.from_seed(code, seed)


LOG_KEY = SigningKey.from_seed("log.parley.example", b"log".ljust(32, b"\x00"))
WITNESS_KEYS = {
    code: SigningKey.from_seed(
        f"{code.lower()}.witness.example", code.encode().ljust(32, b"w"), COSIGNATURE_V1
    )
    for code in ("QA", "TR")
}


def witness_policy() -> str:
    lines = [f"log {LOG_KEY.public().vkey()}"]
    lines += [f"witness {code}-log-witness {k.public().vkey()}" for code, k in WITNESS_KEYS.items()]
    lines += ["group mediators all QA-log-witness TR-log-witness", "quorum mediators"]
    return "\n".join(lines) + "\n"


def make_log() -> MemoryLog:
    origin, log_key = LOG_KEY.name, LOG_KEY.public()
    witnesses = [LocalWitness.for_log(k, origin, log_key) for k in WITNESS_KEYS.values()]
    return MemoryLog(LOG_KEY, witnesses)


def make_charter(
    pen: PenRule = PenRule.MEDIATOR, nonce: str = "test-nonce-0001", *, with_log: bool = False
) -> Charter:
    roles = {
        "PK": (Role.PARTY,),
        "AF": (Role.PARTY,),
        "QA": (Role.MEDIATOR, Role.WITNESS, Role.GUARANTOR),
        "TR": (Role.MEDIATOR, Role.WITNESS, Role.GUARANTOR),
    }
    participants = tuple(
        Participant(code, NAMES[code], roles[code], (key_for(code).public(),)) for code in roles
    )
    return Charter(
        "Agreement on Ending Cross-Border Attacks",
        nonce,
        participants,
        pen,
        charters.default_policy(participants),
        LogConfig(LOG_KEY.public().vkey(), witness_policy()) if with_log else None,
    )


def clean_text(
    words: str = "The Parties shall refrain from cross-border attacks.",
) -> text_model.Text:
    return text_model.Text(
        "Agreement on Ending Cross-Border Attacks",
        "en",
        (
            text_model.Provision(
                "art-1", text_model.Kind.ARTICLE, "Cessation", (text_model.Run(words),)
            ),
        ),
    )


@dataclass
class Table:
    """Plays moves against the real fold; keeps every accepted event."""

    charter: Charter = field(default_factory=make_charter)
    events: list[SignedEvent] = field(default_factory=list)
    clock: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    state: protocol.State | None = None

    def __post_init__(self) -> None:
        event = moves.convene(self.charter, key_for("QA"), "QA", self.tick())
        self.state = protocol.start(event)
        self.events.append(event)

    def tick(self) -> str:
        self.clock += timedelta(minutes=1)
        return format_time(self.clock)

    def build(self, author: str, move: EventType, body: dict, audience=None) -> SignedEvent:
        assert self.state is not None
        return moves.make(self.state, key_for(author), author, move, body, self.tick(), audience)

    def play(self, author: str, move: EventType, body: dict, audience=None) -> SignedEvent:
        event = self.build(author, move, body, audience)
        assert self.state is not None
        self.state = protocol.apply(self.state, event)
        self.events.append(event)
        return event

    def open(self) -> Table:
        assert self.state is not None
        for code in self.charter.codes():
            self.play(code, EventType.JOIN, moves.join(self.state))
        return self

    @property
    def s(self) -> protocol.State:
        assert self.state is not None
        return self.state
