"""Three-way merge of negotiating texts: by provision id first, then word by word inside a body.

``merge(base, ours, theirs, ours_by, theirs_by)`` integrates two amended versions of ``base``.
Provisions are matched by their stable ids, so renumbering and moves are never mistaken for
deletions. Each provision's existence, place (parent and order among its siblings), kind, heading,
reservations and body are merged separately. A body is merged with ``diff3`` over the tokens of
``words.body_tokens`` (words, numbers, spaces, punctuation; a bracket or options group is one
token), aligned by ``word_diff`` on words: a space never anchors a match.

Rules (each chosen so that no edit is lost without a trace):

* An edit on one side only is applied; the same edit on both sides is applied once.
* Overlapping different edits in a body become an ``Options`` group, one option per side
  (``ours_by`` first), covering the clashing words only: runs both sides wrote identically at the
  start or end of the clash, or inside it when at least ``MIN_SHARED_WORDS`` words long, stay
  outside the options; the clash is then widened to whole words (``fox.`` against ``fox!``).
  Edits that touch without overlapping also clash, as in ``git merge-file`` on one word a
  line: with only a space between them (neighbouring words: ``may`` and ``shall not`` would
  make ``may not``), or inside one word (``well-known``, ``1,000,000``). So does a word one
  side moved and the other deleted (``merge_words.word_chunks``).
* An option never starts or ends with a space and never holds a line break: spaces at its edges
  move outside the group, and a clash spanning line breaks becomes one group per line.
* Brackets inside a clash stay inside the option bodies. Options cannot nest, so a clash holding an
  existing options group is flattened: a side whose clashing words are just that group contributes
  its alternatives unchanged (each keeps its proposer); a side that also changed words around
  groups contributes one option per alternative (the i-th alternative of each group in place),
  attributed to that side. Identical options (same proposer and words) are given once.
* A provision deleted on one side and untouched on the other is deleted. If the other side changed
  it (content, place, or anything below it), the whole subtree is kept as that side has it, each
  body turned into options (that side's body, and an empty one by the deleting side; ours first),
  and one ``edit/delete`` conflict names the subtree's root.
* A provision added on one side is placed after the same preceding sibling as on its side;
  additions by both sides at one place keep ours' first. Added on both sides under one id: merged
  with an empty base (options where the bodies differ).
* Heading, kind, title and language cannot hold options: different changes to a heading (or the
  title) are merged word by word when they do not clash; otherwise ours' value is kept and the
  conflict records both. Reservations: a code either side added is kept; a code removed by one
  side is removed (the other side can only have kept it or removed it too).
* Moves apply like renames in git (a move on one side and an edit on the other both apply); two
  different moves of one provision keep ours' place and record a ``move`` conflict. Moves on both
  sides that would nest provisions deeper than ``text.MAX_DEPTH`` lift what is too deep to the
  deepest level allowed (a ``depth`` conflict each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from parley.core.merge_options import BodyMerge, merge_inlines
from parley.core.merge_places import index_tree
from parley.core.merge_tree import ABSENT, Conflict, ConflictKind, Merger, MergeResult
from parley.core.merge_words import MIN_SHARED_WORDS, checked_sides, word_diff
from parley.core.text import Inline, Text

__all__ = [
    "ABSENT",
    "MIN_SHARED_WORDS",
    "BodyMerge",
    "Conflict",
    "ConflictKind",
    "MergeResult",
    "merge",
    "merge_body",
    "word_diff",
]


def merge(
    base: Text,
    ours: Text,
    theirs: Text,
    ours_by: str,
    theirs_by: str,
    ours_at: Mapping[str, str] | None = None,
) -> MergeResult:
    """Merge two amended versions of ``base``; options are attributed to ``ours_by``/``theirs_by``
    (``ours_at``: ours' author where a provision's words on ours' side are another's).

    The texts must be valid (as ``parse`` and ``from_json`` return them); so is the result.
    """
    trees = (index_tree(base), index_tree(ours), index_tree(theirs))
    return Merger(*trees, checked_sides(ours_by, theirs_by, ours_at)).run(base, ours, theirs)


def merge_body(
    base: Sequence[Inline],
    ours: Sequence[Inline],
    theirs: Sequence[Inline],
    ours_by: str,
    theirs_by: str,
) -> BodyMerge:
    """Merge two amended versions of one provision body, word by word."""
    return merge_inlines(tuple(base), tuple(ours), tuple(theirs), checked_sides(ours_by, theirs_by))
