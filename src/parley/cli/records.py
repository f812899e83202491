"""Reading the record: status, history, a version's text, the bundle, and the log.

Every read command takes ``--json`` for scripts; the human form uses rich tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from parley.cli.errors import reported
from parley.cli.home import Home
from parley.cli.log import evidence_group
from parley.cli.negotiate import current, negotiation_option, pass_home, reader_option
from parley.cli.verifycmd import HEADLINE
from parley.core import text as text_model
from parley.core import textformat
from parley.core.agenda import agenda
from parley.core.bundle import Verdict, check_bundle
from parley.core.event import SignedEvent
from parley.core.protocol import State, pen_holders
from parley.core.report import human_time
from parley.errors import InvalidInputError, NotFoundError, StorageError


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _plain(words: str) -> str:
    """Words of a participant, shown as written: square brackets are theirs, not markup."""
    from rich.markup import escape

    return escape(words)


def status_json(state: State) -> dict[str, Any]:
    """The status as data (the same shape the HTTP API returns)."""
    final = state.final_text
    return {
        "negotiation": state.negotiation,
        "title": state.charter.title,
        "phase": state.phase.value,
        "events": state.seq,
        "pen": pen_holders(state),
        "participants": [_participant_json(state, p.code) for p in state.charter.participants],
        "versions": list(state.versions),
        "final": state.final,
        "final_status": None if final is None else _text_status(final),
        "todo": [{"code": t.code, "what": t.what, "deadline": t.deadline} for t in agenda(state)],
    }


def _participant_json(state: State, code: str) -> dict[str, Any]:
    p = state.charter.participant(code)
    assert p is not None
    roles = [r.value for r in p.roles]
    return {"code": p.code, "name": p.name, "roles": roles, "joined": code in state.joined}


def _text_status(text: text_model.Text) -> dict[str, Any]:
    st = text_model.status(text)
    return {"provisions": st.provisions, "brackets": st.brackets, "options": st.options,
            "reservations": st.reservations, "clean": st.clean}  # fmt: skip


@click.command("status")
@negotiation_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@reader_option
@pass_home
def status(home: Home, negotiation: str | None, as_json: bool, code: str | None) -> None:
    """Where the negotiation stands: phase, pen, and what each participant still has to do."""
    with reported():
        state = home.services().state(current(home, negotiation))
    if as_json:
        click.echo(json.dumps(status_json(state), indent=2, ensure_ascii=False))
        return
    _print_status(state)


def _print_status(state: State) -> None:
    from rich.table import Table

    console = _console()
    console.print(f"[bold]{_plain(state.charter.title)}[/]  ({state.negotiation[:12]}…)")
    console.print(f"Phase: [bold]{state.phase.value.replace('_', ' ')}[/]   events: {state.seq}   "
                  f"pen: {', '.join(pen_holders(state))}")  # fmt: skip
    if state.final:
        console.print(f"Final text: {state.final[:16]}…")
    table = Table("participant", "roles", "joined", "still to do")
    tasks = agenda(state)
    for p in state.charter.participants:
        todo = "; ".join(
            t.what + (f" (by {human_time(t.deadline)})" if t.deadline else "")
            for t in tasks if t.code == p.code
        )  # fmt: skip
        roles = ", ".join(r.value for r in p.roles)
        who = p.code if p.name == p.code else f"{p.code} {p.name}"
        joined = "yes" if p.code in state.joined else "no"
        table.add_row(_plain(who), roles, joined, _plain(todo) or "—")
    console.print(table)


@click.command("history")
@negotiation_option
@click.option("--as", "viewer", help="Show what this participant may read (caucus bodies hidden).")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@click.option("--since", type=click.IntRange(0), default=0, help="From this event number on.")
@click.option("--last", type=click.IntRange(1), default=None, help="Only the latest N events.")
@pass_home
def history(
    home: Home,
    negotiation: str | None,
    viewer: str | None,
    as_json: bool,
    since: int,
    last: int | None,
) -> None:
    """Every event, in order: who did what, when (a long negotiation's latest part: --last)."""
    with reported():
        nid = current(home, negotiation)
        if viewer is not None and home.services().state(nid).charter.participant(viewer) is None:
            raise InvalidInputError(f"{viewer} is not a participant of this negotiation")
        events = home.services().events(nid, viewer=viewer, since=since)
        if last is not None:
            events = events[-last:]
    if as_json:
        click.echo(json.dumps([e.to_json() for e in events], indent=1, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("#", "when", "who", "move", "what", "event")
    for e in events:
        env = e.envelope
        table.add_row(str(env.seq), human_time(env.time), env.author, env.type.value,
                      _plain(describe(e)), e.hash[:10] + "…")  # fmt: skip
    _console().print(table)


def describe(event: SignedEvent) -> str:
    """A few words on what an event says (or that its body is withheld)."""
    body = event.body
    if body is None:
        return "(confidential: caucus of " + ", ".join(event.envelope.audience or ()) + ")"
    for key in ("version", "sign"):
        if key in body and isinstance(body[key], str):
            extra = f" to {', '.join(body['to'])}" if "to" in body else ""
            mode = " ad referendum" if body.get("mode") == "ad_referendum" else ""
            return f"{key} {body[key][:10]}…{extra}{mode}"
    for key in ("reason", "text", "reasons", "note"):
        if isinstance(body.get(key), str) and body[key]:
            return str(body[key])[:60]
    return ""


@click.command("version")
@click.argument("version")
@negotiation_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="The canonical JSON instead of the text format."
)
@reader_option
@pass_home
def text_version(
    home: Home,
    version: str,
    negotiation: str | None,
    output: Path | None,
    as_json: bool,
    code: str | None,
) -> None:
    """A version's text (in the Parley text format, or canonical JSON)."""
    with reported():
        found = home.services().version(current(home, negotiation), version)
        out = (json.dumps(text_model.to_json(found), indent=1, ensure_ascii=False) + "\n"
               if as_json else textformat.render(found))  # fmt: skip
        _write(output, out)


@click.command("bundle")
@negotiation_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@reader_option
@pass_home
def bundle_cmd(home: Home, negotiation: str | None, output: Path, code: str | None) -> None:
    """Write the agreement bundle: one file anyone can verify offline with `parley verify`."""
    with reported():
        data = home.services().bundle(current(home, negotiation))
        _write(output, data.decode())
    # checked here as any verifier checks it: a log witness that refused, say, shows at once
    report = check_bundle(data)
    click.echo(
        f"wrote {output} ({len(data):,} bytes): {HEADLINE[report.verdict]} as checked here; "
        f"anyone can check it with: parley verify {output}"
    )
    if report.verdict is not Verdict.IN_FORCE and report.problem:
        click.echo(f"note: {report.problem}", err=True)


def _write(output: Path | None, data: str) -> None:
    if output is None:
        click.echo(data, nl=False)
        return
    try:
        output.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot write {output}: {exc.strerror}") from exc


# --- the log ------------------------------------------------------------------------------------


@click.group("log")
def log_group() -> None:
    """The deployment's transparency log: checkpoint, verifier key, proofs, log witnesses."""


@log_group.command("checkpoint")
@pass_home
def log_checkpoint(home: Home) -> None:
    """Publish (if needed) and print the latest signed, cosigned checkpoint."""
    with reported():
        stored = home.services().publish()
        if stored is None:
            raise InvalidInputError("this store has no log")
        click.echo(stored.note, nl=False)


@log_group.command("vkey")
@pass_home
def log_vkey(home: Home) -> None:
    """The log's verifier key, and the log-witness policy as a tlog-policy file."""
    with reported():
        setup = home.services().log_setup
        if setup is None:
            raise InvalidInputError("this store has no log")
        click.echo(setup.witness_policy(), nl=False)


@log_group.command("claim")
@pass_home
def log_claim(home: Home) -> None:
    """Record this home's log key as the key of the database's log, for a database from before
    keys were recorded whose latest checkpoint another key signed by mistake: the log key then
    signs the same tree again. Refused once the database records a key."""
    from parley.cli.home import load_key
    from parley.log_setup import claim, named
    from parley.storage import open_store

    with reported():
        path = home.path / "log" / "log.key"
        if not path.exists():
            raise NotFoundError(f"no log key {path}: copy in the log key the charters name")
        mine = load_key(path).public().vkey()
        store = open_store(home.database_url, home=home.path)
        try:
            recorded = claim(store, mine)
        finally:
            store.close()
        if recorded != mine:
            raise StorageError(
                f"this database's log is already recorded as signed with {named(recorded)}"
            )
        click.echo(f"this database's log is signed with {named(mine)}")


@log_group.command("proof")
@click.argument("event")
@pass_home
def log_proof(home: Home, event: str) -> None:
    """A c2sp.org/tlog-proof for one event (by its hash or first digits)."""
    with reported():
        click.echo(home.services().proof(event), nl=False)


@log_group.group("witness")
def log_witness() -> None:
    """Log witnesses: local ones cosign every checkpoint with their own key and state; remote
    ones, run by other organisations, are asked to over HTTP (c2sp.org/tlog-witness)."""


@log_witness.command("add")
@click.argument("name")
@pass_home
def log_witness_add(home: Home, name: str) -> None:
    """Create a local log witness; new charters will require its cosignature."""
    with reported():
        key = home.add_witness(name)
        click.echo(key.public().vkey())


@log_witness.command("add-remote")
@click.argument("name")
@click.argument("vkey")
@click.argument("url")
@pass_home
def log_witness_add_remote(home: Home, name: str, vkey: str, url: str) -> None:
    """Add a log witness run by another organisation: its cosignature VKEY and the URL it takes
    add-checkpoint requests at (for a Parley server, its origin); new charters will require it."""
    from parley.remote_witnesses import FILE_NAME, add_remote_witness

    with reported():
        local = [p.stem for p in (home.path / "log" / "witnesses").glob("*.key")]
        added = add_remote_witness(home.path / "log", f"witness {name} {vkey} {url}", local)
        click.echo(f"{added.name} added to {home.path / 'log' / FILE_NAME}")


@log_witness.command("list")
@pass_home
def log_witness_list(home: Home) -> None:
    """The log witnesses, local and remote, and their verifier keys."""
    with reported():
        setup = home.services().log_setup
        for name, key in setup.witnesses if setup else []:
            click.echo(f"{name}  {key.public().vkey()}  local")
        for w in setup.remote.witnesses if setup else ():
            click.echo(f"{w.name}  {w.key.vkey()}  {w.url}")


log_group.add_command(evidence_group)

COMMANDS: list[click.Command] = [status, history, bundle_cmd, log_group]
"""``text VERSION`` joins the ``parley text`` group (see ``parley.cli.textcmd``)."""
