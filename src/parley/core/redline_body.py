"""Diffing one body: words by words, with brackets and options groups compared as whole units."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from parley.core import words
from parley.core.redline_segments import (
    AtomChange,
    BracketDiff,
    Op,
    OptionDiff,
    OptionsDiff,
    Segment,
    Words,
)
from parley.core.text import Bracket, Inline, Option, Options
from parley.core.words import Token

# --- diffing one body ---------------------------------------------------------------------------


def diff_body(old: Sequence[Inline], new: Sequence[Inline]) -> tuple[Segment, ...]:
    """Word diff of two bodies; brackets and options groups are compared as whole tokens."""
    return tuple(_diff_tokens(words.body_tokens(old), words.body_tokens(new)))


def _diff_tokens(a: Sequence[Token], b: Sequence[Token]) -> list[Segment]:
    """Diff token lists; the common head and tail are cut off first, since edits are local and
    the matcher's cost grows with the square of what it is given."""
    head, tail = _common_ends(a, b)
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    out: list[Segment] = whole_segments(a[:head], Op.EQUAL)
    for tag, i1, i2, j1, j2 in _merge_gaps(words.diff(a_mid, b_mid), a_mid):
        if tag == "equal":
            out.extend(whole_segments(a_mid[i1:i2], Op.EQUAL))
        else:
            out.extend(_region(a_mid[i1:i2], b_mid[j1:j2]))
    out.extend(whole_segments(a[len(a) - tail :], Op.EQUAL))
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
    """Fold a kept stretch of mere white space, or a lone joiner inside a word, between two
    changes into one change.

    "the quick fox" → "a slow fox" then reads "~~the quick~~ **a slow** fox", not word by word,
    and "seventy-two" → "forty-eight" "~~seventy-two~~ **forty-eight**", not "~~seventy~~-~~two~~".
    """
    out: list[words.Opcode] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        gap = tag == "equal" and 0 < k < len(ops) - 1 and _glue(a[i1:i2])
        if tag == "equal" and not gap:
            out.append((tag, i1, i2, j1, j2))
        elif out and out[-1][0] == "replace":
            out[-1] = ("replace", out[-1][1], i2, out[-1][3], j2)
        else:
            out.append(("replace", i1, i2, j1, j2))
    return out


JOINERS = frozenset("-\u2010\u2011'\u2019/")
"""Marks that join two words into one ("seventy-two", "Parties'", "and/or")."""


def _glue(tokens: Sequence[Token]) -> bool:
    """White space only, or one joiner alone: nothing a reader would read as kept."""
    if len(tokens) == 1 and tokens[0] in JOINERS:
        return True
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


def whole_segments(tokens: Sequence[Token], op: Op) -> list[Segment]:
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
    body = whole_segments(words.body_tokens(option.body), op)
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
            *whole_segments(a[:head], Op.EQUAL),
            *whole_segments(a[head : len(a) - tail], Op.DELETE),
            *whole_segments(b[head : len(b) - tail], Op.INSERT),
            *whole_segments(a[len(a) - tail :], Op.EQUAL),
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
