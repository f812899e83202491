"""The negotiating text: a tree of provisions with stable ids, brackets, options and reservations.

Values are frozen; every change makes a new value. A text's identity is its version hash: the
SHA-256 of its canonical JSON (see ``to_json`` and ``parley.core.canonical``). Display numbers
("Article 3", "(b)") are computed from position and never stored.

Body invariants (checked by ``validate``), so that equal texts have equal values:

* a body is a tuple of ``Run``, ``Bracket`` and ``Options``; two runs are never adjacent;
* text is NFC, has no tabs or control characters, no double spaces, and no space at either end of
  a body, bracket or option; ``"\\n"`` inside a run separates paragraphs and has no space beside it;
* brackets and options never contain ``"\\n"``; a bracket is never empty; an option may be empty
  (a proposal to delete the words in that place).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from parley.core import canonical
from parley.core.json_fields import read_object, read_string
from parley.errors import InvalidInputError

CODE_RE = re.compile(r"[A-Z][A-Z0-9]{1,15}")
"""A participant code: 2–16 upper-case letters or digits, first a letter (``PK``, ``QA``)."""

ID_RE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")
"""A provision id: lower-case letters, digits, ``.``, ``_``, ``-`` (``art-3.2``, ``annex-1``)."""

LANGUAGE_RE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
"""A BCP 47 language tag in its common short form (``en``, ``fr``, ``ar``, ``pt-BR``)."""

TEXT_FORMAT = "parley/text/v1"
MAX_DEPTH = 8
"""Deepest nesting of provisions (annex > part > chapter > article > paragraph > … > point)."""


class Kind(StrEnum):
    """What a provision is; decides its display number and its place in the tree."""

    PREAMBLE = "preamble"
    RECITAL = "recital"
    PART = "part"
    CHAPTER = "chapter"
    SECTION = "section"
    ARTICLE = "article"
    PARAGRAPH = "paragraph"
    SUBPARAGRAPH = "subparagraph"
    POINT = "point"
    ANNEX = "annex"


@dataclass(frozen=True, slots=True)
class Run:
    """Plain text; ``"\\n"`` separates paragraphs inside one provision's body."""

    text: str


@dataclass(frozen=True, slots=True)
class Bracket:
    """Text not yet agreed, held open by the participants in ``holders`` (sorted, may be empty)."""

    text: str
    holders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Option:
    """One alternative wording and who proposed it; an empty body proposes deletion."""

    proposer: str
    body: tuple[Run | Bracket, ...] = ()


@dataclass(frozen=True, slots=True)
class Options:
    """Alternative wordings for the same place (at least two); unagreed by nature."""

    options: tuple[Option, ...]


Inline = Run | Bracket | Options


@dataclass(frozen=True, slots=True)
class Provision:
    """A preamble, article, paragraph, annex…: stable ``id``, content, and children."""

    id: str
    kind: Kind
    heading: str | None = None
    body: tuple[Inline, ...] = ()
    reservations: tuple[str, ...] = ()
    """Codes of the parties holding the whole provision (sorted, unique)."""
    children: tuple[Provision, ...] = ()


@dataclass(frozen=True, slots=True)
class Text:
    """A whole negotiating text: title, language and the provision tree."""

    title: str
    language: str = "en"
    provisions: tuple[Provision, ...] = ()


@dataclass(frozen=True, slots=True)
class Status:
    """How far a text is from clean: counts of what is still open, and where."""

    provisions: int
    brackets: int
    options: int
    reservations: int
    open_ids: tuple[str, ...] = field(default=())
    """Ids of provisions that hold a bracket, options or a reservation, in document order."""

    @property
    def clean(self) -> bool:
        """True when nothing is bracketed, optional or reserved anywhere."""
        return self.brackets == 0 and self.options == 0 and self.reservations == 0


# --- walking the tree ---------------------------------------------------------------------------


def walk(text: Text) -> Iterator[tuple[Provision, tuple[str, ...]]]:
    """Every provision in document order with the ids of its ancestors."""
    stack: list[tuple[Provision, tuple[str, ...]]] = [(p, ()) for p in reversed(text.provisions)]
    while stack:
        provision, ancestors = stack.pop()
        yield provision, ancestors
        inner = (*ancestors, provision.id)
        stack.extend((child, inner) for child in reversed(provision.children))


def provisions_by_id(text: Text) -> dict[str, Provision]:
    """Map every provision id to its provision."""
    return {p.id: p for p, _ in walk(text)}


def find(text: Text, provision_id: str) -> Provision | None:
    """The provision with this id, or None."""
    for provision, _ in walk(text):
        if provision.id == provision_id:
            return provision
    return None


def status(text: Text) -> Status:
    """Count the brackets, options and reservations left in ``text``."""
    count = brackets = options = reservations = 0
    open_ids: list[str] = []
    for provision, _ in walk(text):
        count += 1
        b, o = _count_open(provision.body)
        brackets += b
        options += o
        reservations += len(provision.reservations)
        if b or o or provision.reservations:
            open_ids.append(provision.id)
    return Status(count, brackets, options, reservations, tuple(open_ids))


def codes_named(text: Text) -> set[str]:
    """Every participant code the text names: bracket holders, option proposers, reservations."""
    named: set[str] = set()
    for provision, _ in walk(text):
        named.update(provision.reservations)
        _named_in(provision.body, named)
    return named


def _named_in(body: tuple[Inline, ...], named: set[str]) -> None:
    for item in body:
        if isinstance(item, Bracket):
            named.update(item.holders)
        elif isinstance(item, Options):
            for option in item.options:
                named.add(option.proposer)
                _named_in(option.body, named)


def is_clean(text: Text) -> bool:
    """True when the text has no brackets, no options and no reservations anywhere."""
    return status(text).clean


def _count_open(body: tuple[Inline, ...]) -> tuple[int, int]:
    brackets = options = 0
    for item in body:
        if isinstance(item, Bracket):
            brackets += 1
        elif isinstance(item, Options):
            options += 1
            for option in item.options:
                brackets += sum(isinstance(x, Bracket) for x in option.body)
    return brackets, options


def plain(body: tuple[Inline, ...]) -> str:
    """The words of a body with all markup dropped (options joined with " / ")."""
    parts: list[str] = []
    for item in body:
        if isinstance(item, Run | Bracket):
            parts.append(item.text)
        else:
            parts.append(" / ".join(plain(tuple(o.body)) for o in item.options))
    return "".join(parts)


# --- numbering ----------------------------------------------------------------------------------

_WORD = {
    Kind.PREAMBLE: "Preamble",
    Kind.RECITAL: "PP",
    Kind.PART: "Part",
    Kind.CHAPTER: "Chapter",
    Kind.SECTION: "Section",
    Kind.ARTICLE: "Article",
    Kind.ANNEX: "Annex",
}


def roman(n: int) -> str:
    """Upper-case Roman numeral for a positive integer."""
    out = []
    for value, letters in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def letters(n: int) -> str:
    """a, b, …, z, aa, bb, … as legal drafting counts sub-paragraphs."""
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def label(kind: Kind, n: int) -> str:
    """The display label of the ``n``-th provision of ``kind`` (1-based)."""
    if kind is Kind.PREAMBLE:
        return "Preamble"
    if kind is Kind.RECITAL:
        return f"PP{n}"
    if kind in (Kind.PART, Kind.ANNEX):
        return f"{_WORD[kind]} {roman(n)}"
    if kind in (Kind.CHAPTER, Kind.SECTION, Kind.ARTICLE):
        return f"{_WORD[kind]} {n}"
    if kind is Kind.PARAGRAPH:
        return f"{n}."
    if kind is Kind.SUBPARAGRAPH:
        return f"({letters(n)})"
    return f"({roman(n).lower()})"


def numbering(text: Text) -> dict[str, str]:
    """Display label of every provision, computed from position.

    Articles count on through the whole text (across parts and chapters) and restart inside each
    annex; every other kind counts among its siblings of the same kind.
    """
    labels: dict[str, str] = {}
    _number(text.provisions, labels, article_counter=[0])
    return labels


def _number(
    siblings: tuple[Provision, ...], labels: dict[str, str], article_counter: list[int]
) -> None:
    counts: dict[Kind, int] = {}
    for provision in siblings:
        if provision.kind is Kind.ARTICLE:
            article_counter[0] += 1
            n = article_counter[0]
        else:
            n = counts[provision.kind] = counts.get(provision.kind, 0) + 1
        labels[provision.id] = label(provision.kind, n)
        inner = [0] if provision.kind is Kind.ANNEX else article_counter
        _number(provision.children, labels, inner)


def citations(text: Text) -> dict[str, str]:
    """How a lawyer cites each provision: "Article 3(2)(b)", "Annex I, Article 2", "PP3"."""
    labels, kinds = numbering(text), provisions_by_kind(text)
    return {p.id: cite([*ancestors, p.id], labels, kinds) for p, ancestors in walk(text)}


def provisions_by_kind(text: Text) -> dict[str, Kind]:
    """Map every provision id to its kind."""
    return {p.id: p.kind for p, _ in walk(text)}


def cite(path: list[str], labels: dict[str, str], kinds: dict[str, Kind]) -> str:
    """The citation of the provision at the end of ``path`` (its ancestors' ids, then its own)."""
    head = ""
    for pid in path:
        kind, lab = kinds[pid], labels[pid]
        if kind is Kind.PARAGRAPH:
            head += f"({lab[:-1]})" if head else lab
        elif kind in (Kind.SUBPARAGRAPH, Kind.POINT):
            head += lab
        elif kind is Kind.ANNEX:
            head = lab
        else:
            head = f"{head}, {lab}" if head.startswith("Annex") else lab
    return head


# --- validation ---------------------------------------------------------------------------------


def validate(text: Text) -> Text:
    """Return ``text`` if it keeps every invariant; raise InvalidInputError naming the fault."""
    _check_line(text.title, "title", allow_empty=False)
    if not LANGUAGE_RE.fullmatch(text.language):
        raise InvalidInputError(
            f"language must be a tag like 'en' or 'pt-BR', found {text.language!r}"
        )
    seen: set[str] = set()
    for provision, ancestors in walk(text):
        if len(ancestors) >= MAX_DEPTH:
            raise InvalidInputError(
                f"provision {provision.id!r} is nested deeper than {MAX_DEPTH} levels"
            )
        _check_provision(provision, seen)
    return text


RIGHT_TO_LEFT = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "nqo", "ps", "sd", "syr", "ug",
                           "ur", "yi"})  # fmt: skip
"""Languages (primary subtags) written from right to left."""


def direction(language: str) -> str:
    """``rtl`` for a language written from right to left, else ``ltr`` (HTML's ``dir``)."""
    return "rtl" if language.split("-")[0].lower() in RIGHT_TO_LEFT else "ltr"


def check_code(code: str, what: str) -> None:
    """Raise InvalidInputError unless ``code`` is a participant code."""
    if not CODE_RE.fullmatch(code):
        raise InvalidInputError(
            f"{what} must be a participant code (2–16 upper-case letters or digits, e.g. 'PK'), "
            f"found {code!r}"
        )


def _check_provision(provision: Provision, seen: set[str]) -> None:
    where = f"provision {provision.id!r}"
    if not provision.id:
        raise InvalidInputError("provision id is empty")
    if not ID_RE.fullmatch(provision.id):
        raise InvalidInputError(
            f"provision id {provision.id!r} must be lower-case letters, digits, '.', '_' or '-' "
            "(at most 64, starting and ending with a letter or digit)"
        )
    if provision.id in seen:
        raise InvalidInputError(f"duplicate provision id {provision.id!r}")
    seen.add(provision.id)
    if not isinstance(provision.kind, Kind):
        raise InvalidInputError(f"{where}: unknown kind {provision.kind!r}")
    if provision.heading is not None:
        _check_line(provision.heading, f"{where}: heading", allow_empty=False)
        if any(c in provision.heading for c in "[]{}"):
            raise InvalidInputError(f"{where}: a heading cannot hold brackets or braces")
    _check_codes(provision.reservations, f"{where}: reservation")
    _check_body(provision.body, where)


def _check_codes(codes: tuple[str, ...], what: str) -> None:
    for code in codes:
        check_code(code, what)
    if list(codes) != sorted(set(codes)):
        raise InvalidInputError(f"{what}s must be sorted and unique, found {list(codes)}")


def _check_body(body: tuple[Inline, ...], where: str, *, in_option: bool = False) -> None:
    previous: Inline | None = None
    for item in body:
        if isinstance(item, Run):
            if isinstance(previous, Run):
                raise InvalidInputError(f"{where}: two adjacent runs must be joined into one")
            if not item.text:
                raise InvalidInputError(f"{where}: empty run")
            _check_words(item.text, where, allow_newline=not in_option)
        elif isinstance(item, Bracket):
            if not item.text:
                raise InvalidInputError(f"{where}: empty bracket")
            _check_words(item.text, f"{where}: bracket", allow_newline=False)
            _check_edges(item.text, f"{where}: bracket")
            _check_codes(item.holders, f"{where}: bracket holder")
        elif in_option:
            raise InvalidInputError(f"{where}: options cannot nest inside an option")
        else:
            _check_options(item, where)
        previous = item
    if body:
        first, last = body[0], body[-1]
        head = first.text[:1] if isinstance(first, Run) else ""
        tail = last.text[-1:] if isinstance(last, Run) else ""
        _check_edges(head + tail, where)


def _check_options(item: Options, where: str) -> None:
    if len(item.options) < 2:
        raise InvalidInputError(f"{where}: options need at least two alternatives")
    for option in item.options:
        check_code(option.proposer, f"{where}: option proposer")
        _check_body(option.body, f"{where}: option by {option.proposer}", in_option=True)


def _check_edges(s: str, where: str) -> None:
    if s[:1].isspace() or s[-1:].isspace():
        raise InvalidInputError(f"{where}: text must not start or end with a space or line break")


_FORBIDDEN_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


_HIDDEN_RE = re.compile(
    "[\u00ad\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
"""Characters a reader cannot see that change what is read or compared: the soft hyphen,
zero-width spaces and joiners of words, invisible operators, and the direction embeddings,
overrides and isolates that can show ``081`` as ``180``. The joiners scripts need (ZWJ, ZWNJ)
and the direction marks (LRM, RLM, ALM) are allowed."""


def check_visible(text: Text, where: str = "the text") -> None:
    """Raise InvalidInputError if ``text`` holds a character of ``_HIDDEN_RE``: a new version
    may not (versions already on record are read as they are)."""
    places = [("title", text.title)]
    for provision, _ in walk(text):
        here = f"provision {provision.id!r}"
        places.append((f"{here}: heading", provision.heading or ""))
        places.extend((here, words) for words in _strings(provision.body))
    for place, words in places:
        hidden = _HIDDEN_RE.search(words)
        if hidden:
            char = hidden.group()
            name = unicodedata.name(char, "unnamed")
            raise InvalidInputError(
                f"{place}: invisible character U+{ord(char):04X} ({name}) is not allowed in "
                f"{where}: it would hide or reorder words in what is read and signed"
            )


def _strings(body: tuple[Inline, ...]) -> Iterator[str]:
    for item in body:
        if isinstance(item, Options):
            for option in item.options:
                yield from _strings(option.body)
        else:
            yield item.text


def _check_words(s: str, where: str, *, allow_newline: bool) -> None:
    if not unicodedata.is_normalized("NFC", s):
        raise InvalidInputError(f"{where}: text must be Unicode NFC")
    if "\n" in s and not allow_newline:
        raise InvalidInputError(f"{where}: a line break cannot appear inside a bracket or option")
    bad = _FORBIDDEN_RE.search(s)
    if bad:
        raise InvalidInputError(
            f"{where}: control character U+{ord(bad.group()):04X} is not allowed"
        )
    if "  " in s or " \n" in s or "\n " in s or "\n\n" in s:
        raise InvalidInputError(f"{where}: double spaces or spaces beside a line break")


def _check_line(s: str, what: str, *, allow_empty: bool) -> None:
    if not s and not allow_empty:
        raise InvalidInputError(f"{what} is empty")
    _check_words(s, what, allow_newline=False)
    _check_edges(s, what)


# --- canonical JSON -----------------------------------------------------------------------------


def to_json(text: Text) -> dict[str, canonical.JsonValue]:
    """The canonical JSON object of a text; its tagged RFC 8785 bytes are what is hashed."""
    return {
        "format": TEXT_FORMAT,
        "title": text.title,
        "language": text.language,
        "provisions": [_provision_json(p) for p in text.provisions],
    }


def _provision_json(p: Provision) -> dict[str, canonical.JsonValue]:
    obj: dict[str, canonical.JsonValue] = {"id": p.id, "kind": p.kind.value}
    if p.heading is not None:
        obj["heading"] = p.heading
    if p.body:
        obj["body"] = [_inline_json(x) for x in p.body]
    if p.reservations:
        obj["reservations"] = list(p.reservations)
    if p.children:
        obj["children"] = [_provision_json(c) for c in p.children]
    return obj


def _inline_json(item: Inline) -> canonical.JsonValue:
    if isinstance(item, Run):
        return {"text": item.text}
    if isinstance(item, Bracket):
        return {"bracket": item.text, "holders": list(item.holders)}
    return {
        "options": [
            {"proposer": o.proposer, "body": [_inline_json(x) for x in o.body]}
            for o in item.options
        ]
    }


def from_json(obj: object) -> Text:
    """Build and validate a text from its JSON object; raise InvalidInputError naming the fault."""
    reader = _Reader()
    d = reader.obj(obj, "$", required={"format", "title", "provisions"}, optional={"language"})
    if d["format"] != TEXT_FORMAT:
        raise InvalidInputError(f"$.format: expected {TEXT_FORMAT!r}, found {d['format']!r}")
    text = Text(
        title=reader.string(d["title"], "$.title"),
        language=reader.string(d.get("language", "en"), "$.language"),
        provisions=tuple(
            reader.provision(p, f"$.provisions[{i}]")
            for i, p in enumerate(reader.array(d["provisions"], "$.provisions"))
        ),
    )
    return validate(text)


class _Reader:
    """Typed access to untrusted JSON with paths in every error."""

    def obj(
        self,
        value: object,
        path: str,
        *,
        required: set[str],
        optional: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, object]:
        return read_object(value, path, required, optional)

    def string(self, value: object, path: str) -> str:
        return read_string(value, path)

    def array(self, value: object, path: str) -> list[object]:
        if not isinstance(value, list):
            raise InvalidInputError(f"{path}: expected an array, found {type(value).__name__}")
        return value

    def strings(self, value: object, path: str) -> tuple[str, ...]:
        return tuple(self.string(v, f"{path}[{i}]") for i, v in enumerate(self.array(value, path)))

    def provision(self, value: object, path: str) -> Provision:
        d = self.obj(
            value, path, required={"id", "kind"},
            optional={"heading", "body", "reservations", "children"},
        )  # fmt: skip
        kind = self.string(d["kind"], f"{path}.kind")
        if kind not in Kind._value2member_map_:
            raise InvalidInputError(f"{path}.kind: unknown kind {kind!r}")
        heading = d.get("heading")
        return Provision(
            id=self.string(d["id"], f"{path}.id"),
            kind=Kind(kind),
            heading=None if heading is None else self.string(heading, f"{path}.heading"),
            body=self.body(d.get("body", []), f"{path}.body"),
            reservations=self.strings(d.get("reservations", []), f"{path}.reservations"),
            children=tuple(
                self.provision(c, f"{path}.children[{i}]")
                for i, c in enumerate(self.array(d.get("children", []), f"{path}.children"))
            ),
        )

    def body(self, value: object, path: str) -> tuple[Inline, ...]:
        return tuple(self.inline(v, f"{path}[{i}]") for i, v in enumerate(self.array(value, path)))

    def inline(self, value: object, path: str) -> Inline:
        if isinstance(value, dict) and "text" in value:
            d = self.obj(value, path, required={"text"})
            return Run(self.string(d["text"], f"{path}.text"))
        if isinstance(value, dict) and "bracket" in value:
            d = self.obj(value, path, required={"bracket", "holders"})
            return Bracket(
                self.string(d["bracket"], f"{path}.bracket"), self.strings(d["holders"], path)
            )
        d = self.obj(value, path, required={"options"})
        options = []
        for i, o in enumerate(self.array(d["options"], f"{path}.options")):
            od = self.obj(o, f"{path}.options[{i}]", required={"proposer", "body"})
            body = self.body(od["body"], f"{path}.options[{i}].body")
            if any(isinstance(x, Options) for x in body):
                raise InvalidInputError(f"{path}.options[{i}]: options cannot nest")
            options.append(
                Option(self.string(od["proposer"], f"{path}.options[{i}].proposer"), body)  # type: ignore[arg-type]
            )
        return Options(tuple(options))


def version_hash(text: Text) -> str:
    """The identity of a version: lowercase hex SHA-256 of its tagged canonical JSON."""
    return canonical.hex_digest(canonical.Tag.TEXT, to_json(text))


def normalize_body(body: tuple[Inline, ...] | list[Inline]) -> tuple[Inline, ...]:
    """Join adjacent runs and drop empty ones, so equal content has equal values."""
    out: list[Inline] = []
    for item in body:
        if isinstance(item, Run):
            if not item.text:
                continue
            if out and isinstance(out[-1], Run):
                out[-1] = Run(out[-1].text + item.text)
                continue
        out.append(item)
    return tuple(out)
