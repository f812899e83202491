"""Random sequences of legal and illegal moves by random participants.

Whatever is tried, an accepted event always respected the rules table, a refused one raised a
ParleyError and changed nothing, and folding the accepted events from scratch gives the same state.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from parley.core import moves, protocol
from parley.core import text as text_model
from parley.core.event import EventType as T
from parley.core.protocol import RULES, Mode
from parley.errors import ParleyError
from tests.negotiation import Table, clean_text

CODES = ["PK", "AF", "QA", "TR", "XX"]
WORDINGS = [
    "The Parties shall refrain from cross-border attacks.",
    "Each Party shall refrain from cross-border attacks.",
    "The Parties shall [refrain]{AF} from attacks.",
]


def _text(i: int) -> text_model.Text:
    words = WORDINGS[i % len(WORDINGS)]
    if "[" in words:
        body = (
            text_model.Run("The Parties shall "),
            text_model.Bracket("refrain", ("AF",)),
            text_model.Run(" from attacks."),
        )
        return text_model.Text(
            "T", "en", (text_model.Provision("art-1", text_model.Kind.ARTICLE, None, body),)
        )
    return clean_text(words)


class Negotiating(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.table = Table()
        self.refused = 0

    def _try(self, author: str, move: T, body: dict, audience=None) -> None:
        before = self.table.s
        phase = before.phase
        try:
            event = self.table.build(author, move, body, audience)
            self.table.state = protocol.apply(before, event)
        except ParleyError:
            assert self.table.s == before
            self.refused += 1
            return
        self.table.events.append(event)
        rule = RULES[move]
        assert phase in rule.phases
        me = before.charter.participant(author)
        assert me is not None
        assert rule.roles is None or any(me.has(r) for r in rule.roles)

    def _versions(self) -> list[str]:
        return [*self.table.s.versions, "0" * 64]

    def _signs(self) -> list[str]:
        return [a.event for a in self.table.s.signatures.values()] + ["1" * 64]

    @rule(author=st.sampled_from(CODES))
    def join(self, author: str) -> None:
        self._try(author, T.JOIN, moves.join(self.table.s))

    @rule(author=st.sampled_from(CODES), i=st.integers(0, 5))
    def propose(self, author: str, i: int) -> None:
        self._try(author, T.PROPOSE, moves.propose(_text(i)))

    @rule(author=st.sampled_from(CODES), data=st.data())
    def send(self, author: str, data: st.DataObject) -> None:
        version = data.draw(st.sampled_from(self._versions()))
        to = data.draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))
        self._try(author, T.SEND, moves.send(version, to))

    @rule(author=st.sampled_from(CODES), data=st.data(), i=st.integers(0, 5))
    def amend(self, author: str, data: st.DataObject, i: int) -> None:
        base = data.draw(st.sampled_from(self._versions()))
        self._try(author, T.AMEND, moves.amend(base, _text(i)), ("AF", "PK", "QA", "TR"))

    @rule(author=st.sampled_from(CODES), data=st.data(), mode=st.sampled_from(list(Mode)))
    def accept(self, author: str, data: st.DataObject, mode: Mode) -> None:
        self._try(
            author, T.ACCEPT, moves.accept(data.draw(st.sampled_from(self._versions())), mode)
        )

    @rule(author=st.sampled_from(CODES), data=st.data())
    def confirm_or_reject(self, author: str, data: st.DataObject) -> None:
        version = data.draw(st.sampled_from(self._versions()))
        if data.draw(st.booleans()):
            self._try(author, T.CONFIRM, moves.confirm(version))
        else:
            self._try(
                author, T.REJECT, moves.reject(version, data.draw(st.sampled_from(["", "no"])))
            )

    @rule(author=st.sampled_from(CODES), move=st.sampled_from([T.SUSPEND, T.RESUME, T.TERMINATE]))
    def pause(self, author: str, move: T) -> None:
        body = {
            T.SUSPEND: moves.suspend("walk-out"),
            T.RESUME: moves.resume(),
            T.TERMINATE: moves.terminate("x"),
        }
        self._try(author, move, body[move])

    @rule(author=st.sampled_from(CODES), i=st.integers(0, 5))
    def finalize(self, author: str, i: int) -> None:
        self._try(author, T.FINALIZE, moves.finalize(_text(i)))

    @rule(author=st.sampled_from(CODES), data=st.data())
    def attest(self, author: str, data: st.DataObject) -> None:
        final = self.table.s.final or "0" * 64
        kind = data.draw(st.sampled_from([T.SIGN, T.RATIFY, T.WITNESS, T.ENDORSE]))
        sign = data.draw(st.sampled_from(self._signs()))
        body = {
            T.SIGN: moves.sign(final, data.draw(st.sampled_from(list(Mode)))),
            T.RATIFY: moves.ratify(sign),
            T.WITNESS: moves.witness(sign),
            T.ENDORSE: moves.endorse(final, self._signs()[:-1]),
        }[kind]
        self._try(author, kind, body)

    @rule(author=st.sampled_from(CODES), caucus=st.booleans())
    def talk(self, author: str, caucus: bool) -> None:
        audience = (author, "QA", "TR") if caucus else None
        self._try(author, T.STATEMENT, moves.statement("for the record"), audience)

    @rule(i=st.integers(0, 1))
    def progress(self, i: int) -> None:
        """A legal stride forward, so random play also reaches signing and in force."""
        for code in ("PK", "AF", "QA", "TR"):
            self._try(code, T.JOIN, moves.join(self.table.s))
        text = _text(i)
        version = text_model.version_hash(text)
        self._try("QA", T.PROPOSE, moves.propose(text))
        for party in ("PK", "AF"):
            self._try(party, T.ACCEPT, moves.accept(version))
        self._try("TR", T.FINALIZE, moves.finalize(text))
        for party in ("PK", "AF"):
            self._try(party, T.SIGN, moves.sign(version))

    @invariant()
    def fold_is_deterministic(self) -> None:
        assert protocol.fold(self.table.events) == self.table.s


Negotiating.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestNegotiating = Negotiating.TestCase
