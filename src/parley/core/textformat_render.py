"""Writing a text in the canonical file form, so parsing the result gives the same text back."""

from __future__ import annotations

import re
from collections.abc import Sequence

from parley.core.text import Bracket, Inline, Kind, Option, Provision, Run, Text, numbering
from parley.core.textformat_headings import label_kind, lettered_kind
from parley.core.textformat_source import MAX_DEPTH, SEPARATOR
from parley.errors import InvalidInputError

_RUN_ESCAPES = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}"})
_OPTION_ESCAPES = str.maketrans(
    {"\\": "\\\\", "[": "\\[", "]": "\\]", "{": "\\{", "}": "\\}", "|": "\\|"}
)
_LINE_START_HASH_RE = re.compile(r"^#", re.MULTILINE)


# --- render -------------------------------------------------------------------------------------


def render(text: Text) -> str:
    """The canonical file of a text: computed labels, one line per paragraph, LF, final newline."""
    blocks = [f"Title: {text.title}\nLanguage: {text.language}"]
    _render_provisions(text.provisions, None, 1, numbering(text), blocks)
    return "\n\n".join(blocks) + "\n"


def _render_provisions(
    provisions: tuple[Provision, ...],
    parent: Kind | None,
    depth: int,
    labels: dict[str, str],
    blocks: list[str],
) -> None:
    for provision in provisions:
        if depth > MAX_DEPTH:
            raise InvalidInputError(
                f"provision {provision.id!r} is nested deeper than {MAX_DEPTH} levels"
            )
        blocks.append(_heading_line(provision, labels[provision.id], depth, parent))
        if provision.body:
            blocks.append(render_body(provision.body))
        _render_provisions(provision.children, provision.kind, depth + 1, labels, blocks)


def _heading_line(provision: Provision, label: str, depth: int, parent: Kind | None) -> str:
    """The heading line of a provision; ``kind=`` only where the label leaves it ambiguous."""
    attributes = [f"#{provision.id}"]
    if provision.reservations:
        attributes.append("reserved=" + ",".join(provision.reservations))
    if (label_kind(label) or lettered_kind(parent)) is not provision.kind:
        attributes.append(f"kind={provision.kind.value}")
    heading = "" if provision.heading is None else SEPARATOR + provision.heading
    return f"{'#' * depth} {label}{heading} {{{' '.join(attributes)}}}"


def render_body(body: Sequence[Inline]) -> str:
    """A body in the file syntax: paragraphs on their own lines, separated by a blank line."""
    out = "".join(_render_inline(item) for item in body)
    return _LINE_START_HASH_RE.sub(r"\\#", out) if "#" in out else out


def _render_inline(item: Inline) -> str:
    if isinstance(item, Run):
        return item.text.translate(_RUN_ESCAPES).replace("\n", "\n\n")
    if isinstance(item, Bracket):
        return _render_bracket(item, _RUN_ESCAPES)
    return "[[" + " | ".join(_render_option(option) for option in item.options) + "]]"


def _render_bracket(bracket: Bracket, escapes: dict[int, str]) -> str:
    holders = "{" + ",".join(bracket.holders) + "}" if bracket.holders else ""
    return f"[{bracket.text.translate(escapes)}]{holders}"


def _render_option(option: Option) -> str:
    words = "".join(
        x.text.translate(_OPTION_ESCAPES)
        if isinstance(x, Run)
        else _render_bracket(x, _OPTION_ESCAPES)
        for x in option.body
    )
    return f"{option.proposer}: {words}" if words else f"{option.proposer}:"
