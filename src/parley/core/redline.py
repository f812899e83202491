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

from parley.core.redline_align import (
    ProvisionChange,
    Redline,
    Side,
    Summary,
    compare,
    count_words,
    summarize,
)
from parley.core.redline_body import diff_body
from parley.core.redline_segments import (
    OPTION_SEPARATOR,
    AtomChange,
    BracketDiff,
    Change,
    Op,
    OptionDiff,
    OptionsDiff,
    Segment,
    Words,
    after,
    atoms,
    before,
    flat,
    sides,
)

__all__ = [
    "OPTION_SEPARATOR",
    "AtomChange",
    "BracketDiff",
    "Change",
    "Op",
    "OptionDiff",
    "OptionsDiff",
    "ProvisionChange",
    "Redline",
    "Segment",
    "Side",
    "Summary",
    "Words",
    "after",
    "atoms",
    "before",
    "compare",
    "count_words",
    "diff_body",
    "flat",
    "sides",
    "summarize",
]
