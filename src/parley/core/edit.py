"""Editing a text: every change a drafter makes, as a pure function returning a new text.

Each function finds provisions by stable id, changes one thing, and returns a validated text, so an
amendment built from these steps is always a valid version. A missing id is a NotFoundError; a
change that would break the text (a duplicate id, a bad body) is an InvalidInputError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from typing import TypeVar

from parley.core import text as text_model
from parley.core.text import Bracket, Inline, Options, Provision, Run, Text, normalize_body
from parley.errors import InvalidInputError, NotFoundError

Change = Callable[[Provision], Provision]
T = TypeVar("T")


def update(text: Text, provision_id: str, change: Change) -> Text:
    """Apply ``change`` to one provision, wherever it is in the tree."""
    found = [False]

    def visit(siblings: tuple[Provision, ...]) -> tuple[Provision, ...]:
        out = []
        for p in siblings:
            if p.id == provision_id:
                found[0] = True
                p = change(p)
            out.append(replace(p, children=visit(p.children)) if p.children else p)
        return tuple(out)

    result = replace(text, provisions=visit(text.provisions))
    if not found[0]:
        raise NotFoundError(f"no provision {provision_id!r} in this text")
    return text_model.validate(result)


def set_body(text: Text, provision_id: str, body: tuple[Inline, ...]) -> Text:
    """Replace a provision's body."""
    return update(text, provision_id, lambda p: replace(p, body=normalize_body(body)))


def set_words(text: Text, provision_id: str, words: str) -> Text:
    """Replace a provision's body with plain words (no brackets)."""
    return set_body(text, provision_id, (Run(words),) if words else ())


def replace_words(text: Text, provision_id: str, old: str, new: str) -> Text:
    """Replace the first occurrence of ``old`` in a plain run of the provision's body."""

    def change(p: Provision) -> Provision:
        for i, item in enumerate(p.body):
            if isinstance(item, Run) and old in item.text:
                body = (*p.body[:i], Run(item.text.replace(old, new, 1)), *p.body[i + 1 :])
                return replace(p, body=normalize_body(body))
        raise InvalidInputError(f"{provision_id}: {old!r} does not appear in its plain text")

    return update(text, provision_id, change)


def set_heading(text: Text, provision_id: str, heading: str | None) -> Text:
    """Change or remove a provision's heading."""
    return update(text, provision_id, lambda p: replace(p, heading=heading))


def reserve(text: Text, provision_id: str, code: str) -> Text:
    """A party places a reservation on a whole provision."""
    text_model.check_code(code, "reservation")
    return update(text, provision_id, lambda p: replace(p, reservations=_add(p.reservations, code)))


def release(text: Text, provision_id: str, code: str) -> Text:
    """A party lifts its reservation on a provision."""
    return update(
        text, provision_id,
        lambda p: replace(p, reservations=tuple(c for c in p.reservations if c != code)),
    )  # fmt: skip


def agree_bracket(text: Text, provision_id: str, index: int = 0) -> Text:
    """Agree the ``index``-th bracket of a provision: its words stay, the brackets go."""

    def change(p: Provision) -> Provision:
        positions = [i for i, x in enumerate(p.body) if isinstance(x, Bracket)]
        pos = _nth(positions, index, provision_id, "bracket")
        bracket = p.body[pos]
        assert isinstance(bracket, Bracket)
        return replace(
            p, body=normalize_body((*p.body[:pos], Run(bracket.text), *p.body[pos + 1 :]))
        )

    return update(text, provision_id, change)


def choose_option(text: Text, provision_id: str, option: int, group: int = 0) -> Text:
    """Settle the ``group``-th options group on its ``option``-th wording."""

    def change(p: Provision) -> Provision:
        positions = [i for i, x in enumerate(p.body) if isinstance(x, Options)]
        pos = _nth(positions, group, provision_id, "options group")
        options = p.body[pos]
        assert isinstance(options, Options)
        chosen = _nth(list(options.options), option, provision_id, "option")
        body = (*p.body[:pos], *chosen.body, *p.body[pos + 1 :])
        return replace(p, body=_tidy(body))

    return update(text, provision_id, change)


def insert(text: Text, provision: Provision, *, parent: str | None = None,
           after: str | None = None) -> Text:  # fmt: skip
    """Insert under ``parent`` (None: top level), after sibling ``after`` (None: first)."""

    def place(siblings: tuple[Provision, ...]) -> tuple[Provision, ...]:
        if after is None:
            return (provision, *siblings)
        idx = next((i for i, p in enumerate(siblings) if p.id == after), None)
        if idx is None:
            raise NotFoundError(f"no provision {after!r} under {parent or 'the top level'}")
        return (*siblings[: idx + 1], provision, *siblings[idx + 1 :])

    if parent is None:
        return text_model.validate(replace(text, provisions=place(text.provisions)))
    return update(text, parent, lambda p: replace(p, children=place(p.children)))


def remove(text: Text, provision_id: str) -> Text:
    """Delete a provision and its children."""
    if text_model.find(text, provision_id) is None:
        raise NotFoundError(f"no provision {provision_id!r} in this text")

    def prune(siblings: tuple[Provision, ...]) -> tuple[Provision, ...]:
        return tuple(
            replace(p, children=prune(p.children)) if p.children else p
            for p in siblings
            if p.id != provision_id
        )

    return text_model.validate(replace(text, provisions=prune(text.provisions)))


def move(text: Text, provision_id: str, *, parent: str | None = None,
         after: str | None = None) -> Text:  # fmt: skip
    """Move a provision (with its children) to a new place; its id, and so its identity, stay."""
    provision = text_model.find(text, provision_id)
    if provision is None:
        raise NotFoundError(f"no provision {provision_id!r} in this text")
    return insert(remove(text, provision_id), provision, parent=parent, after=after)


def check_attribution(
    before: Text, after: Text, author: str, codes: Collection[str], *, mediator: bool
) -> None:
    """Refuse a text that attributes something ``before`` did not (a bracket to its holders, an
    option to its proposer, a reservation to its party, each in its provision) to a code outside
    the charter, or, made by a delegation that is not a mediator, to anyone but itself, or that
    drops another's reservation from a provision it keeps: a bracket held by nobody can never be
    lifted, and a party may not put words in another's mouth, nor take back another's position
    on a provision (the mediators attribute positions when they integrate). What ``before``
    attributed may stay, and move with its provision."""
    was, now = Counter(_attributed(before)), Counter(_attributed(after))
    new = {code for code, _, _ in now - was}
    strangers = sorted(new - set(codes))
    if strangers:
        raise InvalidInputError(
            f"{', '.join(strangers)}: not in the charter ({', '.join(codes)}): a bracket, an "
            "option or a reservation is held by a participant"
        )
    if mediator:
        return
    others = sorted(new - {author})
    if others:
        raise InvalidInputError(
            f"a bracket, option or reservation you add is yours ({author}), not "
            f"{', '.join(others)}'s: only the mediators attribute wording to others"
        )
    kept = {provision.id for provision, _ in text_model.walk(after)}
    lifted = sorted({code for code, where, what in was - now
                     if what == RESERVED and where in kept and code != author})  # fmt: skip
    if lifted:
        raise InvalidInputError(
            f"a delegation lifts its own reservations, not {', '.join(lifted)}'s (the mediators "
            "may lift any)"
        )


RESERVED = "a reservation"


def check_attribution_from_any(
    befores: Sequence[Text], after: Text, author: str, codes: Collection[str], *, mediator: bool
) -> None:
    """``check_attribution`` for a text drafted from any of ``befores`` (a proposal that names
    no parent): it passes if it passes against one of them, else fails as against the last."""
    for before in befores[:-1]:
        try:
            check_attribution(before, after, author, codes, mediator=mediator)
            return
        except InvalidInputError:
            continue
    last = befores[-1] if befores else replace(after, provisions=())
    check_attribution(last, after, author, codes, mediator=mediator)


def _attributed(text: Text) -> Iterator[tuple[str, str, str]]:
    """Each thing the text attributes to a code, as (code, provision id, what): a bracket's
    words, an option's words, a reservation of the provision (its words may be amended under
    it)."""
    for provision, _ in text_model.walk(text):
        yield from ((code, provision.id, RESERVED) for code in provision.reservations)
        yield from ((code, provision.id, what) for code, what in _attributed_in(provision.body))


def _attributed_in(body: tuple[Inline, ...]) -> Iterator[tuple[str, str]]:
    for item in body:
        if isinstance(item, Bracket):
            yield from ((code, f"[{item.text}]") for code in item.holders)
        elif isinstance(item, Options):
            for option in item.options:
                yield option.proposer, f"option: {text_model.plain(option.body)}"
                yield from _attributed_in(option.body)


def _add(codes: tuple[str, ...], code: str) -> tuple[str, ...]:
    return tuple(sorted({*codes, code}))


def _nth(items: list[T], n: int, provision_id: str, what: str) -> T:
    if not 0 <= n < len(items):
        raise NotFoundError(f"{provision_id} has no {what} number {n + 1} ({len(items)} there)")
    return items[n]


def _tidy(body: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Join runs and fold the double or edge spaces that choosing an empty option leaves."""
    items = list(normalize_body(body))
    for i, item in enumerate(items):
        if isinstance(item, Run):
            words = item.text
            while "  " in words:
                words = words.replace("  ", " ")
            words = words.replace(" \n", "\n").replace("\n ", "\n")
            if i == 0:
                words = words.lstrip(" ")
            if i == len(items) - 1:
                words = words.rstrip(" ")
            items[i] = Run(words)
    return normalize_body(items)
