"""The negotiation from the command line: every move a delegation or mediator makes.

Each command acts ``--as CODE`` with that participant's key (keys/CODE.key under PARLEY_HOME, or
``--key FILE``), on the negotiation named by ``-n`` (an id or its first digits; optional when there
is only one). Moves are signed here, with the participant's own key, then checked and stored by
the services.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from parley.cli.charter_file import EXAMPLE, read_charter
from parley.cli.errors import reported
from parley.cli.files import read_text
from parley.cli.home import Home
from parley.core import edit, integration, moves, policy, textformat, tlogpolicy
from parley.core import text as text_model
from parley.core.charter import Role
from parley.core.event import EventType
from parley.core.integration import Return
from parley.core.prefix import hex_prefix
from parley.core.protocol import Mode, State
from parley.core.textformat_headings import NewIds
from parley.errors import InvalidInputError, NotFoundError, PreconditionError
from parley.services import Receipt

pass_home = click.make_pass_decorator(Home, ensure=True)


def negotiation_option(f: Any) -> Any:
    """``-n/--negotiation``: which negotiation (default: the only one)."""
    return click.option("-n", "--negotiation", "negotiation", envvar="PARLEY_NEGOTIATION",
                        help="Negotiation id or its first digits.")(f)  # fmt: skip


def actor_options(f: Any) -> Any:
    """``--as CODE`` and ``--key FILE``."""
    f = click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Key file (default: keys/CODE.key in PARLEY_HOME).")(f)  # fmt: skip
    return click.option("--as", "code", required=True, help="Act as this participant.")(f)


def reader_option(f: Any) -> Any:
    """``--as CODE`` on a command that only reads: through a server, whose key logs in."""
    return click.option(
        "--as", "code",
        help="Through a server: read as this participant (default: PARLEY_AS, else the one "
        "that logged in last).",
    )(f)  # fmt: skip


def current(home: Home, negotiation: str | None) -> str:
    """The negotiation to act on."""
    services = home.services()
    if negotiation:
        try:
            return services.resolve(negotiation)
        except NotFoundError as exc:
            raise NotFoundError(f"{exc}{_where(home, services.negotiations())}") from exc
    rows = services.negotiations()
    if len(rows) == 1:
        return rows[0].id
    if not rows:
        raise NotFoundError(
            f"no negotiation yet{_where(home, rows)}: start one with `parley negotiation open`"
        )
    raise InvalidInputError(
        "several negotiations: say which with -n ID (see `parley negotiation list`)"
    )


def _where(home: Home, rows: list[Any]) -> str:
    """Where was looked: a local store that holds nothing, or a server, which shows a
    negotiation only to the keys its charter lists."""
    if home.server_url:
        return (
            f" on {home.server_url} for this key (a server shows a negotiation only to the "
            "keys its charter lists: compare yours, `parley key show CODE`)"
        )
    if rows:
        return ""
    return f" in the local store ({home.path}; to work through a server: --server URL)"


def act(
    home: Home,
    negotiation: str | None,
    code: str,
    key_file: Path | None,
    move: EventType,
    body: dict[str, Any],
    audience: tuple[str, ...] | None = None,
) -> Receipt:
    """Sign ``move`` as ``code`` and submit it; print what was recorded."""
    nid = current(home, negotiation)
    charter = home.services().state(nid).charter
    if charter.participant(code) is None:  # before asking for a key file it could never need
        codes = ", ".join(charter.codes())
        raise PreconditionError(f"{code}: not in the charter ({codes}): act as one of them")
    key = home.participant_key(code, key_file)
    receipt = home.services().act(nid, code, key, move, body, audience)
    click.echo(
        f"{code} {move.value}: event {receipt.event.envelope.seq} ({receipt.event.hash[:12]}…), "
        f"log entry {receipt.log_index}; the negotiation is {_phase(receipt)}"
    )
    return receipt


def _phase(receipt: Receipt) -> str:
    return receipt.state.phase.value.replace("_", " ")


def version_of(home: Home, negotiation: str | None, prefix: str) -> str:
    """A full version hash from its first digits."""
    current(home, negotiation)
    return home.services().complete(prefix, "version")


# --- negotiation ------------------------------------------------------------------------------


@click.group("negotiation")
def negotiation_group() -> None:
    """Open and list negotiations."""


EXAMPLE_HELP = "\n\n".join(f"\b\n{part}" for part in EXAMPLE.split("\n\n"))
"""The example, kept as written (``\\b``: click does not rewrap a paragraph marked so)."""
OPEN_HELP = f"""Convene a negotiation from a charter file (TOML), as a mediator named in it.

Each participant needs a code and roles (party, mediator, witness, guarantor, observer). Where
no keys are listed, its key is the public key of its key file in PARLEY_HOME/keys (made by
`parley key new CODE`; `parley key show CODE` prints the vkey to list instead). For example:

{EXAMPLE_HELP}"""


UNWITNESSED = (
    "note: this log has no log witnesses, so its charter requires none (quorum none): a verifier "
    "of its bundles has only this server's word that everyone sees one history. Witnesses are "
    "added with `parley log witness add` (see docs/deployment.md) before convening."
)


def _witnesses(witness_policy: str | None) -> int:
    """How many log witnesses a charter's log-witness policy names."""
    return len(tlogpolicy.parse_policy(witness_policy).witness_keys) if witness_policy else 0


@negotiation_group.command("open", help=OPEN_HELP)
@click.argument("charter_file", type=click.Path(dir_okay=False, path_type=Path))
@actor_options
@pass_home
def negotiation_open(home: Home, charter_file: Path, code: str, key_file: Path | None) -> None:
    with reported():
        charter = read_charter(charter_file, home.key_file)  # before the home is set up
        setup = home.services().log_setup
        log = setup.charter_log() if setup else None
        charter = replace(charter, log=log)
        if charter.participant(code) is None:
            codes = ", ".join(p.code for p in charter.participants)
            raise InvalidInputError(f"{code} is not in the charter ({codes}): convene as one")
        key = home.participant_key(code, key_file)
        nid = home.services().open_negotiation(charter, key, code).state.negotiation
        click.echo(f"negotiation {nid} convened by {code}")
        _, required = policy.evaluate(charter.policy, policy.Attestations())
        click.echo("the agreement will be in force when:")
        for finding in required:
            click.echo(f"  {'  ' * finding.depth}- {finding.requirement}")
        if log is not None and not _witnesses(log.witness_policy):
            click.echo(UNWITNESSED, err=True)
        server = f" --server {home.server_url}" if home.server_url else ""
        click.echo(f"every participant now joins: parley{server} join -n {nid[:12]} --as CODE")


@negotiation_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@reader_option
@pass_home
def negotiation_list(home: Home, as_json: bool, code: str | None) -> None:
    """Every negotiation in this store."""
    with reported():
        rows = home.services().negotiations()
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    for r in rows:
        click.echo(f"{r.id[:12]}…  {r.phase:<10} {r.seq:>5} events  {r.title}")
    if not rows:
        click.echo(f"no negotiations{_where(home, rows)}", err=True)


# --- moves --------------------------------------------------------------------------------------


@click.command("join")
@negotiation_option
@actor_options
@pass_home
def join(home: Home, negotiation: str | None, code: str, key_file: Path | None) -> None:
    """Join: sign the charter's hash."""
    with reported():
        nid = current(home, negotiation)
        act(home, nid, code, key_file, EventType.JOIN, moves.join(home.services().state(nid)))


@click.command("propose")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--parent", "parents", multiple=True, help="Version(s) this one was drafted from.")
@click.option(
    "--caucus",
    multiple=True,
    help="Address only this participant (repeat for several; the mediators see it too).",
)
@negotiation_option
@actor_options
@pass_home
def propose(home: Home, file: Path, parents: tuple[str, ...], caucus: tuple[str, ...],
            negotiation: str | None, code: str, key_file: Path | None) -> None:  # fmt: skip
    """Publish a version of the text (pen holder)."""
    with reported():
        text = read_text(file)
        full = tuple(version_of(home, negotiation, p) for p in parents)
        state = home.services().state(current(home, negotiation))
        _check_authorship(state, code, full[0] if full else None, text)
        receipt = act(
            home,
            negotiation,
            code,
            key_file,
            EventType.PROPOSE,
            moves.propose(text, full),
            _audience(home, negotiation, code, caucus),
        )
        click.echo(f"version {text_model.version_hash(text)}")
        _note_strangers(receipt, text)


def _check_authorship(state: State, code: str, before: str | None, text: text_model.Text) -> None:
    """Refuse a text that attributes to others what ``code`` may not (``edit.check_attribution``)
    against the version it was drafted from: ``before``, else any ``code`` can read, else
    nothing."""
    me = state.charter.participant(code)
    if me is None:
        return  # acting as a stranger is refused as such
    # a text naming no version may have been drafted from any the caller can read
    named = state.texts.get(before) if before else None
    drafted = [named] if named else [state.texts[v] for v in state.versions if v in state.texts]
    edit.check_attribution_from_any(drafted, text, code, state.charter.codes(),
                                    mediator=me.has(Role.MEDIATOR))  # fmt: skip


def _note_strangers(receipt: Receipt, text: text_model.Text) -> None:
    """Say on stderr which codes the text names (bracket holders, option proposers, reservations)
    that are not in the charter: a typo there attributes wording to nobody."""
    charter = receipt.state.charter
    strangers = sorted(text_model.codes_named(text) - set(charter.codes()))
    if strangers:
        click.echo(
            f"note: the text names {', '.join(strangers)}, not in the charter "
            f"({', '.join(charter.codes())})",
            err=True,
        )


def _audience(
    home: Home, negotiation: str | None, code: str, caucus: tuple[str, ...]
) -> tuple[str, ...] | None:
    if not caucus:
        return None
    state = home.services().state(current(home, negotiation))
    return tuple(sorted({code, *caucus, *state.charter.codes(Role.MEDIATOR)}))


@click.command("send")
@click.argument("version")
@click.option(
    "--to",
    "to",
    multiple=True,
    required=True,
    help="A participant to send it to (repeat for several).",
)
@click.option("--deadline", help="RFC 3339 UTC time by which a reply is expected.")
@negotiation_option
@actor_options
@pass_home
def send(home: Home, version: str, to: tuple[str, ...], deadline: str | None,
         negotiation: str | None, code: str, key_file: Path | None) -> None:  # fmt: skip
    """Send a version for review (recorded as disclosure)."""
    with reported():
        full = version_of(home, negotiation, version)
        body = moves.send(full, list(to), deadline, home.services().now())
        act(home, negotiation, code, key_file, EventType.SEND, body)


@click.command("amend")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base", required=True, help="The version you were sent.")
@click.option("--note", default="", help="A note to the mediators.")
@click.option(
    "--caucus/--everyone",
    default=None,
    help="Only the mediators (and you) see the text, or everyone [default: --caucus in mediated "
    "talks, where the mediators forward what they choose; --everyone where the pen alternates].",
)
@negotiation_option
@actor_options
@pass_home
def amend(home: Home, file: Path, base: str, note: str, caucus: bool | None,
          negotiation: str | None, code: str, key_file: Path | None) -> None:  # fmt: skip
    """Return an amended version against the version you were sent."""
    with reported():
        full = version_of(home, negotiation, base)
        state = home.services().state(current(home, negotiation))
        amended = state.texts.get(full)  # None: not readable, which the move is refused for
        known = frozenset(text_model.provisions_by_id(amended)) if amended else frozenset()
        text = read_text(file, NewIds(known, code))  # a paragraph added without an id is ours
        _check_authorship(state, code, full, text)
        if caucus is None:
            caucus = moves.returns_in_caucus(state.charter)
        audience = _audience(home, negotiation, code, (code,)) if caucus else None
        receipt = act(
            home,
            negotiation,
            code,
            key_file,
            EventType.AMEND,
            moves.amend(full, text, note),
            audience,
        )
        click.echo(f"version {text_model.version_hash(text)}")
        _note_strangers(receipt, text)


@click.command("accept")
@click.argument("version")
@click.option("--ad-ref", is_flag=True, help="Accept ad referendum, pending your capital.")
@negotiation_option
@actor_options
@pass_home
def accept(home: Home, version: str, ad_ref: bool, negotiation: str | None, code: str,
           key_file: Path | None) -> None:  # fmt: skip
    """Accept a version, firmly or ad referendum."""
    mode = Mode.AD_REFERENDUM if ad_ref else Mode.FIRM
    with reported():
        full = version_of(home, negotiation, version)
        act(home, negotiation, code, key_file, EventType.ACCEPT, moves.accept(full, mode))


@click.command("confirm")
@click.argument("version")
@negotiation_option
@actor_options
@pass_home
def confirm(
    home: Home, version: str, negotiation: str | None, code: str, key_file: Path | None
) -> None:
    """Confirm an ad referendum acceptance."""
    with reported():
        full = version_of(home, negotiation, version)
        act(home, negotiation, code, key_file, EventType.CONFIRM, moves.confirm(full))


@click.command("reject")
@click.argument("version")
@click.option("--reason", required=True, help="Why.")
@negotiation_option
@actor_options
@pass_home
def reject(home: Home, version: str, reason: str, negotiation: str | None, code: str,
           key_file: Path | None) -> None:  # fmt: skip
    """Reject a version, with reasons (withdraws your acceptance of it)."""
    with reported():
        full = version_of(home, negotiation, version)
        act(home, negotiation, code, key_file, EventType.REJECT, moves.reject(full, reason))


@click.command("comment")
@click.argument("version")
@click.argument("provision")
@click.argument("words")
@negotiation_option
@actor_options
@pass_home
def comment(home: Home, version: str, provision: str, words: str, negotiation: str | None,
            code: str, key_file: Path | None) -> None:  # fmt: skip
    """A non-binding comment on a provision of a version."""
    with reported():
        full = version_of(home, negotiation, version)
        state = home.services().state(current(home, negotiation))
        audience = moves.comment_audience(state, full)
        body = moves.comment(full, provision, words)
        act(home, negotiation, code, key_file, EventType.COMMENT, body, audience)


@click.command("statement")
@click.argument("words")
@click.option(
    "--caucus",
    multiple=True,
    help="Address only this participant (repeat for several; the mediators see it too).",
)
@negotiation_option
@actor_options
@pass_home
def statement(home: Home, words: str, caucus: tuple[str, ...], negotiation: str | None,
              code: str, key_file: Path | None) -> None:  # fmt: skip
    """A unilateral declaration: recorded, shown, never binding."""
    with reported():
        audience = _audience(home, negotiation, code, caucus)
        act(
            home, negotiation, code, key_file, EventType.STATEMENT, moves.statement(words), audience
        )


@click.command("suspend")
@click.option("--reason", default="", help="Why (required when a party walks out).")
@negotiation_option
@actor_options
@pass_home
def suspend(
    home: Home, reason: str, negotiation: str | None, code: str, key_file: Path | None
) -> None:
    """Suspend the talks (a party suspending walks out)."""
    with reported():
        act(home, negotiation, code, key_file, EventType.SUSPEND, moves.suspend(reason))


@click.command("resume")
@click.option("--note", default="", help="A note for the record.")
@negotiation_option
@actor_options
@pass_home
def resume(
    home: Home, note: str, negotiation: str | None, code: str, key_file: Path | None
) -> None:
    """Resume the talks (a mediator, or the party that walked out)."""
    with reported():
        act(home, negotiation, code, key_file, EventType.RESUME, moves.resume(note))


@click.command("terminate")
@click.option("--reason", required=True, help="Why the talks end.")
@negotiation_option
@actor_options
@pass_home
def terminate(home: Home, reason: str, negotiation: str | None, code: str,
              key_file: Path | None) -> None:  # fmt: skip
    """End the talks (a mediator): the negotiation collapses."""
    with reported():
        act(home, negotiation, code, key_file, EventType.TERMINATE, moves.terminate(reason))


@click.command("integrate")
@click.argument("returns", nargs=-1, required=True)
@click.option("--base", help="The version the returns amend (found from them when left out).")
@click.option("--text", "text_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Publish this edited text instead of the merge as it comes out.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the integrated text here.")  # fmt: skip
@click.option(
    "--caucus",
    multiple=True,
    help="Address only this participant (repeat for several; the mediators see it too).",
)
@negotiation_option
@actor_options
@pass_home
def integrate(home: Home, returns: tuple[str, ...], base: str | None, text_file: Path | None,
              output: Path | None, caucus: tuple[str, ...], negotiation: str | None, code: str,
              key_file: Path | None) -> None:  # fmt: skip
    """Merge returned amendments into a new version (a mediator); clashes become options.

    A confidential return integrated for more readers than it had becomes readable by them:
    a note on stderr says so (--caucus keeps the integration among fewer)."""
    with reported():
        nid = current(home, negotiation)
        services = home.services()
        state = services.state(nid)
        full = [services.complete(r, "version") for r in returns]
        given = services.complete(base, "version") if base else None
        base_v = integration.base_of(state.versions, full, given)
        integration.check_current(state.versions, base_v)
        rets = [Return(state.versions[v].author, services.version(nid, v)) for v in full]
        result = integration.integrate(services.version(nid, base_v), rets, code)
        text = read_text(text_file) if text_file else result.text
        decisions = integration.decide(
            services.version(nid, base_v), result.text, result.conflicts, text
        )
        if output:
            output.write_text(textformat.render(text), encoding="utf-8")
        audience = _audience(home, nid, code, caucus)
        receipt = act(home, nid, code, key_file, EventType.INTEGRATE,
                      moves.integrate(base_v, full, text, decisions), audience)  # fmt: skip
        settled = {d["provision"] for d in decisions if d["decision"] != "options"}
        left = [c for c in result.conflicts if c.provision not in settled]
        click.echo(f"version {text_model.version_hash(text)}: {len(left)} conflict(s)")
        _note_strangers(receipt, text)
        for note in integration.published(state.versions, full, audience):
            click.echo(f"note: {note}", err=True)
        cites = text_model.citations(text)
        for c in left:
            click.echo(f"  {integration.conflict_words(c, cites)}", err=True)


@click.command("finalize")
@click.argument("version")
@negotiation_option
@actor_options
@pass_home
def finalize(
    home: Home, version: str, negotiation: str | None, code: str, key_file: Path | None
) -> None:
    """Freeze a clean version every party accepted firmly (a mediator)."""
    with reported():
        full = version_of(home, negotiation, version)
        text = home.services().version(current(home, negotiation), full)
        act(home, negotiation, code, key_file, EventType.FINALIZE, moves.finalize(text))


@click.command("sign")
@click.option("--ad-ref", is_flag=True, help="Sign ad referendum (ratify later).")
@negotiation_option
@actor_options
@pass_home
def sign(
    home: Home, ad_ref: bool, negotiation: str | None, code: str, key_file: Path | None
) -> None:
    """Sign the final text."""
    with reported():
        state = home.services().state(current(home, negotiation))
        if state.final is None:
            raise PreconditionError("there is no final text to sign yet: it is finalized first")
        mode = Mode.AD_REFERENDUM if ad_ref else Mode.FIRM
        act(home, negotiation, code, key_file, EventType.SIGN, moves.sign(state.final, mode))


@click.command("ratify")
@negotiation_option
@actor_options
@pass_home
def ratify(home: Home, negotiation: str | None, code: str, key_file: Path | None) -> None:
    """Ratify your ad referendum signature."""
    with reported():
        state = home.services().state(current(home, negotiation))
        held = state.signatures.get(code)
        if held is None:
            raise PreconditionError(f"{code} has not signed")
        act(home, negotiation, code, key_file, EventType.RATIFY, moves.ratify(held.event))


@click.command("witness")
@click.argument("sign_event", metavar="PARTY|SIGN_EVENT")
@negotiation_option
@actor_options
@pass_home
def witness(
    home: Home, sign_event: str, negotiation: str | None, code: str, key_file: Path | None
) -> None:
    """Attest one specific party signature (by its event hash, or the signing party's code)."""
    with reported():
        state = home.services().state(current(home, negotiation))
        party = state.charter.participant(sign_event.upper())
        if party is not None:
            held = state.signatures.get(party.code)
            if held is None:
                raise PreconditionError(f"{party.code} has not signed: there is nothing to witness")
            full = held.event
        else:
            try:
                hex_prefix(sign_event, "sign event")
            except InvalidInputError as exc:
                parties = ", ".join(state.charter.codes(Role.PARTY))
                raise InvalidInputError(
                    f"{sign_event} is not a party ({parties}) nor a sign event's hash"
                ) from exc
            full = home.services().complete(sign_event, "sign event")
        act(home, negotiation, code, key_file, EventType.WITNESS, moves.witness(full))


@click.command("endorse")
@negotiation_option
@actor_options
@pass_home
def endorse(home: Home, negotiation: str | None, code: str, key_file: Path | None) -> None:
    """Endorse the final text and every party's signature (a guarantor)."""
    with reported():
        state = home.services().state(current(home, negotiation))
        if state.final is None:
            raise PreconditionError("there is no final text to endorse yet")
        signs = [
            state.signatures[p].event
            for p in state.charter.codes(Role.PARTY)
            if p in state.signatures
        ]
        act(home, negotiation, code, key_file, EventType.ENDORSE, moves.endorse(state.final, signs))


COMMANDS: list[click.Command] = [
    negotiation_group, join, propose, send, amend, accept, confirm, reject, integrate, comment,
    statement, suspend, resume, terminate, finalize, sign, ratify, witness, endorse,
]  # fmt: skip
