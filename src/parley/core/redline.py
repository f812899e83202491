"""Redlines: what changed between two versions of a text, provision by provision, word by word.

Provisions are aligned by stable id, so renumbering and moves are recognised instead of being shown
as a deletion plus an insertion. A move is reported minimally: among the provisions that kept their
parent, only those outside a longest run kept in the old order count as moved, so inserting one
provision moves none of its siblings.

Bodies are compared by equality first and only bodies that differ are diffed, one provision at a
time, so the cost grows with the size of the change, not the size of the text. Inside a body,
brackets and options groups are atomic tokens; when they differ the change is reported as what it
means to a negotiator: a bracket added, removed, resolved (brackets gone, words kept), opened
(existing words put in brackets), or its words or holders changed; an option added, removed or
changed; a set of options resolved into one wording.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from parley.core import words
from parley.core.text import (
    Bracket,
    Inline,
    Kind,
    Option,
    Options,
    Provision,
    Text,
    cite,
    numbering,
    walk,
)
from parley.core.words import Token


class Op(StrEnum):
    """What happened to a stretch of words."""

    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


class Change(StrEnum):
    """What happened to a provision; one provision may show several of these."""

    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"
    """Its parent changed, or it left the longest run of siblings kept in their old order."""
    RENUMBERED = "renumbered"
    """Its display label changed ("Article 4" became "Article 5")."""
    KIND = "kind"
    HEADING = "heading"
    RESERVATIONS = "reservations"
    BODY = "body"


class AtomChange(StrEnum):
    """What happened to a bracket, to a group of options, or to one option in a group."""

    UNCHANGED = "unchanged"
    ADDED = "added"
    """New, with new words."""
    REMOVED = "removed"
    """Gone, with its words."""
    OPENED = "opened"
    """Existing words were put in brackets, or offered as one of a new group of options."""
    RESOLVED = "resolved"
    """The brackets (or the other options) are gone and the words (one wording) are kept."""
    CHANGED = "changed"
    """Its words or holders changed; for options, some alternatives changed."""


# --- segments of a body diff --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Words:
    """Words, spaces and punctuation kept, inserted or deleted, as they read in the text."""

    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class BracketDiff:
    """A bracket in either version and what happened to it."""

    change: AtomChange
    old: Bracket | None
    new: Bracket | None
    words: tuple[Words, ...]
    """Its words from old to new (all kept when resolved, opened or only the holders changed)."""

    @property
    def holders_added(self) -> tuple[str, ...]:
        """Participants who hold the bracket open now and did not before."""
        return _minus(_holders(self.new), _holders(self.old))

    @property
    def holders_removed(self) -> tuple[str, ...]:
        """Participants who held the bracket open before and no longer do."""
        return _minus(_holders(self.old), _holders(self.new))


@dataclass(frozen=True, slots=True)
class OptionDiff:
    """One alternative wording in a group of options and what happened to it."""

    change: AtomChange
    """UNCHANGED, ADDED, REMOVED or CHANGED."""
    old: Option | None
    new: Option | None
    body: tuple[Words | BracketDiff, ...]

    @property
    def proposer(self) -> str:
        """Who proposed this wording (the new proposer when there is one)."""
        option = self.new or self.old
        assert option is not None
        return option.proposer


@dataclass(frozen=True, slots=True)
class OptionsDiff:
    """A group of options in either version and what happened to it."""

    change: AtomChange
    old: Options | None
    new: Options | None
    options: tuple[OptionDiff, ...]
    chosen: int | None = None
    """Index in ``options`` of the wording kept (RESOLVED) or of the existing words (OPENED)."""


Segment = Words | BracketDiff | OptionsDiff


# --- provision changes --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Side:
    """A provision as it stands in one version: what it is called and where it is."""

    kind: Kind
    label: str
    citation: str
    parent: str | None
    heading: str | None
    reservations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProvisionChange:
    """Everything that changed about one provision (matched by id across the two versions)."""

    id: str
    changes: tuple[Change, ...]
    """In the order of ``Change``; never empty."""
    old: Side | None
    """None when the provision was added."""
    new: Side | None
    """None when the provision was removed."""
    body: tuple[Segment, ...] = ()
    """The word diff of the body; empty when the body did not change."""

    @property
    def added(self) -> bool:
        return Change.ADDED in self.changes

    @property
    def removed(self) -> bool:
        return Change.REMOVED in self.changes

    @property
    def moved(self) -> bool:
        return Change.MOVED in self.changes

    @property
    def renumbered(self) -> bool:
        return Change.RENUMBERED in self.changes

    @property
    def kind_changed(self) -> bool:
        return Change.KIND in self.changes

    @property
    def heading_changed(self) -> bool:
        return Change.HEADING in self.changes

    @property
    def body_changed(self) -> bool:
        return Change.BODY in self.changes

    @property
    def reservations_added(self) -> tuple[str, ...]:
        """Parties who entered a reservation on the provision."""
        return _minus(_reservations(self.new), _reservations(self.old))

    @property
    def reservations_removed(self) -> tuple[str, ...]:
        """Parties who lifted their reservation on the provision."""
        return _minus(_reservations(self.old), _reservations(self.new))


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for the top of a redline."""

    added: int = 0
    removed: int = 0
    moved: int = 0
    renumbered: int = 0
    changed: int = 0
    """Provisions in both versions whose kind, heading, reservations or words changed."""
    words_inserted: int = 0
    words_deleted: int = 0
    brackets_added: int = 0
    """Brackets added or opened over existing words."""
    brackets_removed: int = 0
    """Brackets removed with their words, or resolved (words kept)."""
    options_added: int = 0
    """Alternative wordings added (each alternative of a new group counts)."""
    options_removed: int = 0
    """Alternative wordings removed (each dropped alternative of a resolved group counts)."""


@dataclass(frozen=True, slots=True)
class Redline:
    """The differences between two versions of a text."""

    old_title: str
    new_title: str
    old_language: str
    new_language: str
    changes: tuple[ProvisionChange, ...]
    """In reading order of the new text; removed provisions stand where they were."""
    summary: Summary

    @property
    def title_changed(self) -> bool:
        return self.old_title != self.new_title

    @property
    def language_changed(self) -> bool:
        return self.old_language != self.new_language

    @property
    def unchanged(self) -> bool:
        """True when the two versions say exactly the same thing."""
        return not self.changes and not self.title_changed and not self.language_changed


def _holders(bracket: Bracket | None) -> tuple[str, ...]:
    return bracket.holders if bracket else ()


def _reservations(side: Side | None) -> tuple[str, ...]:
    return side.reservations if side else ()


def _minus(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(x for x in a if x not in b)


# --- comparing two texts ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tree:
    """Where every provision of one version stands, for aligning the versions by id."""

    provisions: dict[str, Provision]
    parents: dict[str, str | None]
    order: dict[str, int]
    children: dict[str | None, list[str]]
    labels: dict[str, str]

    @classmethod
    def of(cls, text: Text) -> _Tree:
        provisions: dict[str, Provision] = {}
        parents: dict[str, str | None] = {}
        children: dict[str | None, list[str]] = {}
        for provision, ancestors in walk(text):
            parent = ancestors[-1] if ancestors else None
            provisions[provision.id] = provision
            parents[provision.id] = parent
            children.setdefault(parent, []).append(provision.id)
        order = {pid: i for i, pid in enumerate(provisions)}
        return cls(provisions, parents, order, children, numbering(text))

    def side(self, pid: str) -> Side:
        """The provision's label, citation and attributes in this version."""
        provision = self.provisions[pid]
        path = [pid]
        while (parent := self.parents[path[-1]]) is not None:
            path.append(parent)
        path.reverse()
        kinds = {x: self.provisions[x].kind for x in path}
        return Side(
            kind=provision.kind,
            label=self.labels[pid],
            citation=cite(path, self.labels, kinds),
            parent=self.parents[pid],
            heading=provision.heading,
            reservations=provision.reservations,
        )


_Key = tuple[int, int, int]


def compare(old: Text, new: Text) -> Redline:
    """The redline from ``old`` to ``new``; provisions unchanged in every respect are left out."""
    a, b = _Tree.of(old), _Tree.of(new)
    moved = _moved(a, b)
    entries = [*_present(a, b, moved), *_gone(a, b)]
    entries.sort(key=lambda entry: entry[0])
    changes = tuple(change for _, change in entries)
    return Redline(old.title, new.title, old.language, new.language, changes, summarize(changes))


def _present(a: _Tree, b: _Tree, moved: set[str]) -> Iterator[tuple[_Key, ProvisionChange]]:
    """Changes of the provisions in the new text: added ones and changed ones."""
    for pid, position in b.order.items():
        if pid not in a.provisions:
            body = tuple(_whole(words.body_tokens(b.provisions[pid].body), Op.INSERT))
            yield (position, 0, 0), ProvisionChange(pid, (Change.ADDED,), None, b.side(pid), body)
            continue
        change = _changed(pid, a, b, moved)
        if change is not None:
            yield (position, 0, 0), change


def _changed(pid: str, a: _Tree, b: _Tree, moved: set[str]) -> ProvisionChange | None:
    """What changed about a provision found in both versions, or None if nothing did."""
    old, new = a.provisions[pid], b.provisions[pid]
    found = tuple(
        change
        for change, differs in (
            (Change.MOVED, pid in moved),
            (Change.RENUMBERED, a.labels[pid] != b.labels[pid]),
            (Change.KIND, old.kind is not new.kind),
            (Change.HEADING, old.heading != new.heading),
            (Change.RESERVATIONS, old.reservations != new.reservations),
            (Change.BODY, old.body is not new.body and old.body != new.body),
        )
        if differs
    )
    if not found:
        return None
    body = diff_body(old.body, new.body) if Change.BODY in found else ()
    return ProvisionChange(pid, found, a.side(pid), b.side(pid), body)


def _gone(a: _Tree, b: _Tree) -> Iterator[tuple[_Key, ProvisionChange]]:
    """Removed provisions, each placed after the last old provision before it that survived."""
    if all(pid in b.order for pid in a.order):
        return
    anchor = -1
    for pid, position in a.order.items():
        if pid in b.order:
            anchor = b.order[pid]
            continue
        body = tuple(_whole(words.body_tokens(a.provisions[pid].body), Op.DELETE))
        change = ProvisionChange(pid, (Change.REMOVED,), a.side(pid), None, body)
        yield (anchor, 1, position), change


def _moved(a: _Tree, b: _Tree) -> set[str]:
    """Ids whose parent changed, or which left the longest run of siblings kept in old order."""
    moved: set[str] = set()
    for parent, ids in b.children.items():
        stayed: list[str] = []
        for pid in ids:
            if pid not in a.parents:
                continue
            if a.parents[pid] == parent:
                stayed.append(pid)
            else:
                moved.add(pid)
        positions = [a.order[pid] for pid in stayed]
        moved.update(stayed[k] for k in _out_of_order(positions))
    return moved


def _out_of_order(values: list[int]) -> list[int]:
    """Indexes of the values outside one longest increasing subsequence (patience sorting)."""
    if all(x < y for x, y in pairwise(values)):
        return []
    tails: list[int] = []
    tail_at: list[int] = []
    back = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[k], tail_at[k] = value, i
        back[i] = tail_at[k - 1] if k else -1
    kept: set[int] = set()
    i = tail_at[-1]
    while i >= 0:
        kept.add(i)
        i = back[i]
    return [i for i in range(len(values)) if i not in kept]


# --- diffing one body ---------------------------------------------------------------------------


def diff_body(old: Sequence[Inline], new: Sequence[Inline]) -> tuple[Segment, ...]:
    """Word diff of two bodies; brackets and options groups are compared as whole tokens."""
    return tuple(_diff_tokens(words.body_tokens(old), words.body_tokens(new)))


def _diff_tokens(a: Sequence[Token], b: Sequence[Token]) -> list[Segment]:
    """Diff token lists; the common head and tail are cut off first, since edits are local and
    the matcher's cost grows with the square of what it is given."""
    head, tail = _common_ends(a, b)
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    out: list[Segment] = _whole(a[:head], Op.EQUAL)
    for tag, i1, i2, j1, j2 in _merge_gaps(words.diff(a_mid, b_mid), a_mid):
        if tag == "equal":
            out.extend(_whole(a_mid[i1:i2], Op.EQUAL))
        else:
            out.extend(_region(a_mid[i1:i2], b_mid[j1:j2]))
    out.extend(_whole(a[len(a) - tail :], Op.EQUAL))
    return _coalesce(out)


def _common_ends(a: Sequence[Token], b: Sequence[Token]) -> tuple[int, int]:
    """Lengths of the common head and of the common tail (not overlapping)."""
    limit = min(len(a), len(b))
    head = 0
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def _word_diff(old: str, new: str) -> tuple[Words, ...]:
    """Word diff of two strings of plain words (a bracket's text)."""
    return tuple(
        s for s in _diff_tokens(words.split(old), words.split(new)) if isinstance(s, Words)
    )


def _merge_gaps(ops: list[words.Opcode], a: Sequence[Token]) -> list[words.Opcode]:
    """Fold a kept stretch of mere white space between two changes into one change.

    "the quick fox" → "a slow fox" then reads "~~the quick~~ **a slow** fox", not word by word.
    """
    out: list[words.Opcode] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        gap = tag == "equal" and 0 < k < len(ops) - 1 and _blank(a[i1:i2])
        if tag == "equal" and not gap:
            out.append((tag, i1, i2, j1, j2))
        elif out and out[-1][0] == "replace":
            out[-1] = ("replace", out[-1][1], i2, out[-1][3], j2)
        else:
            out.append(("replace", i1, i2, j1, j2))
    return out


def _blank(tokens: Sequence[Token]) -> bool:
    return all(isinstance(t, str) and t.isspace() for t in tokens)


def _coalesce(segments: Iterable[Segment]) -> list[Segment]:
    """Join neighbouring word segments with the same op."""
    out: list[Segment] = []
    for segment in segments:
        last = out[-1] if out else None
        if isinstance(segment, Words) and isinstance(last, Words) and last.op is segment.op:
            out[-1] = Words(segment.op, last.text + segment.text)
        elif not isinstance(segment, Words) or segment.text:
            out.append(segment)
    return out


def _whole(tokens: Sequence[Token], op: Op) -> list[Segment]:
    """Tokens all kept, all inserted or all deleted; neighbouring words joined."""
    out: list[Segment] = []
    text: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            text.append(token)
            continue
        if text:
            out.append(Words(op, "".join(text)))
            text = []
        if isinstance(token, Bracket):
            out.append(_whole_bracket(token, op))
        else:
            out.append(_whole_options(token, op))
    if text:
        out.append(Words(op, "".join(text)))
    return out


_WHOLE = {
    Op.EQUAL: AtomChange.UNCHANGED,
    Op.INSERT: AtomChange.ADDED,
    Op.DELETE: AtomChange.REMOVED,
}


def _whole_bracket(bracket: Bracket, op: Op) -> BracketDiff:
    old = None if op is Op.INSERT else bracket
    new = None if op is Op.DELETE else bracket
    return BracketDiff(_WHOLE[op], old, new, (Words(op, bracket.text),))


def _whole_options(group: Options, op: Op) -> OptionsDiff:
    old = None if op is Op.INSERT else group
    new = None if op is Op.DELETE else group
    return OptionsDiff(_WHOLE[op], old, new, tuple(_whole_option(o, op) for o in group.options))


def _whole_option(option: Option, op: Op) -> OptionDiff:
    old = None if op is Op.INSERT else option
    new = None if op is Op.DELETE else option
    body = _whole(words.body_tokens(option.body), op)
    return OptionDiff(
        _WHOLE[op], old, new, tuple(s for s in body if not isinstance(s, OptionsDiff))
    )


# --- a stretch that differs ---------------------------------------------------------------------

_Pivot = tuple[tuple[int, int, int, int], Segment]


def _region(a: Sequence[Token], b: Sequence[Token]) -> list[Segment]:
    """A stretch that differs: find brackets and options resolved, opened or changed in it.

    Each such atom splits the stretch in two; what is left is words deleted, then words inserted.
    """
    pivot = _resolved(a, b) or _opened(a, b) or _paired(a, b)
    if pivot is None:
        return _plain_region(a, b)
    (i1, i2, j1, j2), segment = pivot
    return [*_region(a[:i1], b[:j1]), segment, *_region(a[i2:], b[j2:])]


def _plain_region(a: Sequence[Token], b: Sequence[Token]) -> list[Segment]:
    """Deleted then inserted, keeping white space common to both ends out of the change."""
    head, tail = _common_ends(a, b)
    return _coalesce(
        [
            *_whole(a[:head], Op.EQUAL),
            *_whole(a[head : len(a) - tail], Op.DELETE),
            *_whole(b[head : len(b) - tail], Op.INSERT),
            *_whole(a[len(a) - tail :], Op.EQUAL),
        ]
    )


def _contents(token: Token) -> list[tuple[list[Token], int | None]]:
    """The words an atom could be resolved into: a bracket's text, or each option's body."""
    if isinstance(token, Bracket):
        return [(list(words.split(token.text)), None)]
    if isinstance(token, Options):
        return [(words.body_tokens(o.body), k) for k, o in enumerate(token.options)]
    return []


def _locate(
    atom: Token, other: Sequence[Token], *, empty: bool
) -> tuple[int, int, int | None] | None:
    """Where the words of ``atom`` (or of one of its options) stand in ``other``.

    An empty option (a proposal to delete) matches only when ``empty`` is set and ``other`` is
    empty: a group of options that left nothing behind was resolved by deleting the words.
    """
    for content, chosen in _contents(atom):
        if not content:
            if empty and not other:
                return 0, 0, chosen
            continue
        at = _find(other, content)
        if at >= 0:
            return at, at + len(content), chosen
    return None


def _find(seq: Sequence[Token], sub: Sequence[Token]) -> int:
    """Index of the first occurrence of ``sub`` in ``seq``, or -1."""
    n, first = len(sub), sub[0]
    for j in range(len(seq) - n + 1):
        if seq[j] == first and all(seq[j + k] == sub[k] for k in range(1, n)):
            return j
    return -1


def _resolved(a: Sequence[Token], b: Sequence[Token]) -> _Pivot | None:
    """An old bracket or options group whose words (one wording) now stand as plain text."""
    for i, token in enumerate(a):
        found = _locate(token, b, empty=True)
        if found is not None:
            j1, j2, chosen = found
            return (i, i + 1, j1, j2), _settled(token, chosen, AtomChange.RESOLVED)
    return None


def _opened(a: Sequence[Token], b: Sequence[Token]) -> _Pivot | None:
    """A new bracket or options group made over words that stood as plain text before."""
    for j, token in enumerate(b):
        found = _locate(token, a, empty=False)
        if found is not None:
            i1, i2, chosen = found
            return (i1, i2, j, j + 1), _settled(token, chosen, AtomChange.OPENED)
    return None


def _settled(token: Token, chosen: int | None, change: AtomChange) -> Segment:
    """A bracket or options group resolved into its words, or opened over existing words."""
    resolved = change is AtomChange.RESOLVED
    if isinstance(token, Bracket):
        old, new = (token, None) if resolved else (None, token)
        return BracketDiff(change, old, new, (Words(Op.EQUAL, token.text),))
    assert isinstance(token, Options) and chosen is not None
    others = Op.DELETE if resolved else Op.INSERT
    options = tuple(
        _whole_option(o, Op.EQUAL if k == chosen else others) for k, o in enumerate(token.options)
    )
    old_group, new_group = (token, None) if resolved else (None, token)
    return OptionsDiff(change, old_group, new_group, options, chosen)


def _paired(a: Sequence[Token], b: Sequence[Token]) -> _Pivot | None:
    """The first old and the first new atom of the same sort: one bracket (or group) changed."""
    for i, x in enumerate(a):
        if isinstance(x, str):
            continue
        for j, y in enumerate(b):
            if isinstance(x, Bracket) and isinstance(y, Bracket):
                return (i, i + 1, j, j + 1), BracketDiff(
                    AtomChange.CHANGED, x, y, _word_diff(x.text, y.text)
                )
            if isinstance(x, Options) and isinstance(y, Options):
                return (i, i + 1, j, j + 1), _options_changed(x, y)
    return None


def _options_changed(old: Options, new: Options) -> OptionsDiff:
    """Alternatives matched by proposer: each kept, changed, added or removed."""
    out: list[OptionDiff] = []
    old_proposers = [o.proposer for o in old.options]
    new_proposers = [o.proposer for o in new.options]
    for tag, i1, i2, j1, j2 in words.diff(old_proposers, new_proposers):
        if tag == "equal":
            pairs = zip(old.options[i1:i2], new.options[j1:j2], strict=True)
            out.extend(_option_changed(x, y) for x, y in pairs)
            continue
        out.extend(_whole_option(x, Op.DELETE) for x in old.options[i1:i2])
        out.extend(_whole_option(y, Op.INSERT) for y in new.options[j1:j2])
    return OptionsDiff(AtomChange.CHANGED, old, new, tuple(out))


def _option_changed(old: Option, new: Option) -> OptionDiff:
    if old == new:
        return _whole_option(old, Op.EQUAL)
    body = _diff_tokens(words.body_tokens(old.body), words.body_tokens(new.body))
    kept = tuple(s for s in body if not isinstance(s, OptionsDiff))
    return OptionDiff(AtomChange.CHANGED, old, new, kept)


# --- reading a body diff back -------------------------------------------------------------------


def before(segments: Iterable[Segment]) -> tuple[Inline, ...]:
    """The old body a diff was made from."""
    return words.body_from_tokens([t for s in segments for t in _side_tokens(s, old=True)])


def after(segments: Iterable[Segment]) -> tuple[Inline, ...]:
    """The new body a diff was made to."""
    return words.body_from_tokens([t for s in segments for t in _side_tokens(s, old=False)])


def _side_tokens(segment: Segment, *, old: bool) -> list[Token]:
    if isinstance(segment, Words):
        shown = segment.op is Op.EQUAL or segment.op is (Op.DELETE if old else Op.INSERT)
        return [segment.text] if shown else []
    atom = segment.old if old else segment.new
    if atom is not None:
        return [atom]
    settled = AtomChange.OPENED if old else AtomChange.RESOLVED
    if segment.change is not settled:
        return []
    if isinstance(segment, BracketDiff):
        return ["".join(w.text for w in segment.words)]
    assert segment.chosen is not None
    option = segment.options[segment.chosen].new or segment.options[segment.chosen].old
    assert option is not None
    return words.body_tokens(option.body)


OPTION_SEPARATOR = " / "
"""How ``text.plain`` joins alternatives, and so how ``flat`` does."""


def flat(segments: Iterable[Segment]) -> Iterator[Words]:
    """The diff as words only: brackets dissolved into their words, options joined by " / ".

    Joining the kept and deleted words gives ``text.plain`` of the old body; the kept and inserted
    words give that of the new body.
    """
    for segment in segments:
        if isinstance(segment, Words):
            yield segment
        elif isinstance(segment, BracketDiff):
            yield from segment.words
        else:
            yield from _flat_options(segment.options)


_IN_OLD = frozenset({AtomChange.UNCHANGED, AtomChange.REMOVED, AtomChange.CHANGED})
_IN_NEW = frozenset({AtomChange.UNCHANGED, AtomChange.ADDED, AtomChange.CHANGED})


def sides(option: OptionDiff) -> tuple[bool, bool]:
    """Whether an option's words read in the old version, and in the new one."""
    return option.change in _IN_OLD, option.change in _IN_NEW


def _flat_options(options: Iterable[OptionDiff]) -> Iterator[Words]:
    old_seen = new_seen = False
    for option in options:
        in_old, in_new = sides(option)
        sep_old, sep_new = in_old and old_seen, in_new and new_seen
        if sep_old or sep_new:
            op = Op.EQUAL if sep_old and sep_new else Op.DELETE if sep_old else Op.INSERT
            yield Words(op, OPTION_SEPARATOR)
        yield from flat(option.body)
        old_seen, new_seen = old_seen or in_old, new_seen or in_new


def atoms(segments: Iterable[Segment]) -> Iterator[BracketDiff | OptionDiff]:
    """Every bracket and every single option in a diff, including brackets inside options."""
    for segment in segments:
        if isinstance(segment, BracketDiff):
            yield segment
        elif isinstance(segment, OptionsDiff):
            for option in segment.options:
                yield option
                yield from atoms(option.body)


# --- the summary --------------------------------------------------------------------------------

_CONTENT = frozenset({Change.KIND, Change.HEADING, Change.RESERVATIONS, Change.BODY})
_BRACKET_ADDED = frozenset({AtomChange.ADDED, AtomChange.OPENED})
_BRACKET_REMOVED = frozenset({AtomChange.REMOVED, AtomChange.RESOLVED})


def summarize(changes: Iterable[ProvisionChange]) -> Summary:
    """Counts of provisions, words, brackets and options added, removed and changed."""
    counts = dict.fromkeys(Summary.__dataclass_fields__, 0)
    for change in changes:
        for what in (Change.ADDED, Change.REMOVED, Change.MOVED, Change.RENUMBERED):
            counts[what.value] += what in change.changes
        counts["changed"] += bool(change.old and change.new and _CONTENT & set(change.changes))
        _count_body(change.body, counts)
    return Summary(**counts)


def _count_body(body: tuple[Segment, ...], counts: dict[str, int]) -> None:
    for w in flat(body):
        if w.op is not Op.EQUAL and w.text != OPTION_SEPARATOR:
            key = "words_inserted" if w.op is Op.INSERT else "words_deleted"
            counts[key] += count_words(w.text)
    for atom in atoms(body):
        prefix = "brackets" if isinstance(atom, BracketDiff) else "options"
        counts[f"{prefix}_added"] += atom.change in _BRACKET_ADDED
        counts[f"{prefix}_removed"] += atom.change in _BRACKET_REMOVED


def count_words(text: str) -> int:
    """Words in ``text`` as a reader counts them (punctuation and spaces are not words)."""
    return sum(1 for token in words.split(text) if token[0].isalnum() or token[0] == "_")
