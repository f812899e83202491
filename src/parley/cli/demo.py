"""``parley demo``: a whole mediated negotiation, played into a fresh store and narrated.

The demo keeps everything in one folder (default ``./parley-demo``): the delegations' demo keys,
the SQLite store, the log key and two local log witnesses, and the agreement bundle it writes and
verifies at the end. Run ``parley --home parley-demo/home status`` (or any other command) after it
to look around, or act as any delegation with ``--as CODE``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parley.cli.errors import reported
from parley.cli.home import Home
from parley.core import bundle, keys
from parley.errors import InvalidInputError

if TYPE_CHECKING:
    from parley.scenario import Scenario

MARKER = ".parley-demo"


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=Path("parley-demo"), show_default=True,
              help="Folder for the demo's keys, store and bundle (replaced each run).")  # fmt: skip
@click.option("--serve", "serve_after", is_flag=True,
              help="Then serve it on localhost, so you can follow it in a browser.")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def demo(folder: Path, serve_after: bool, port: int) -> None:
    """Play a realistic mediated negotiation from charter to agreement in force, and verify it."""
    _play(folder)
    if serve_after:
        _serve(folder, port)


def _play(folder: Path) -> None:
    with reported():
        home = _fresh_home(folder)
        scenario = _setup(home)
        _narrate(scenario)
        out = folder / "agreement.bundle.json"
        data = home.services().bundle(scenario.negotiation)
        out.write_bytes(data)
        _conclude(home, scenario, out, data)


def _fresh_home(folder: Path) -> Home:
    if folder.exists():
        if not (folder / MARKER).exists():
            raise InvalidInputError(
                f"{folder} exists and is not a Parley demo folder; choose --dir"
            )
        shutil.rmtree(folder)
    (folder / "home").mkdir(parents=True)
    (folder / MARKER).write_text("made by parley demo; replaced on the next run\n")
    return demo_home(folder)


def demo_home(folder: Path) -> Home:
    """The demo's home, its store a SQLite file in it whatever ``PARLEY_DATABASE_URL`` or
    ``PARLEY_SERVER`` say: the demo never writes into a real deployment's database."""
    home = folder.resolve() / "home"
    return Home(home, database_url=f"sqlite:///{home / 'parley.db'}", server_url=None)


def _setup(home: Home) -> Scenario:
    from parley import scenario as sc

    for code in sc.DELEGATIONS:
        key = keys.SigningKey.from_seed(code, os.urandom(32))
        path = home.key_file(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(keys.key_file_bytes(key))
    for name in ("qa-log-witness", "tr-log-witness"):
        home.add_witness(name)
    services = home.services()
    clock = sc.ScenarioClock()
    services.clock = clock
    delegation_keys = {code: home.participant_key(code) for code in sc.DELEGATIONS}
    return sc.Scenario(services, delegation_keys, clock)


def _narrate(scenario: Scenario) -> None:
    from rich.console import Console

    from parley import scenario as sc

    console = Console(highlight=False)
    console.rule("[bold]A mediated negotiation, from charter to agreement in force")
    last_day = ""
    for step in sc.steps(scenario, os.urandom(16).hex()):
        day = f"{step.when.day} {step.when:%b %Y}"
        shown = day if day != last_day else ""
        last_day = day
        console.print(f"[dim]{shown:<12}[/] [bold cyan]{step.who:<15}[/] {step.what}")
        if step.detail:
            console.print(f"{'':<12} {'':<15} [dim]{step.detail}[/]")


def _conclude(home: Home, scenario: Scenario, out: Path, data: bytes) -> None:
    from rich.console import Console

    from parley.cli.verifycmd import print_report

    console = Console(highlight=False)
    console.rule("[bold]The agreement bundle, verified offline")
    console.print(f"Bundle: [bold]{out}[/] ({len(data):,} bytes)\n")
    print_report(bundle.check_bundle(data), str(out))
    v = scenario.versions
    flag = f"--home {home.path}"
    console.rule("[bold]Look around")
    console.print(f"  parley {flag} status")
    console.print(f"  parley {flag} history")
    console.print(
        f"  parley {flag} redline {v['v1'][:8]} {v['v2'][:8]}     # what the integration did"
    )
    console.print(f"  parley {flag} text {v['v3'][:8]}               # the final text")
    console.print(f"  parley verify {out}")


def _serve(folder: Path, port: int) -> None:
    """Serve the demo on localhost, with the demo keys offered to the browser (demo mode)."""
    from rich.console import Console

    from parley.cli.serve import run_server

    home = demo_home(folder)
    os.environ["PARLEY_DEMO_KEYS"] = str(home.keys_dir)
    console = Console(highlight=False)
    console.rule("[bold]Follow and continue the negotiation in your browser")
    console.print(
        f"Open [bold]http://localhost:{port}/[/] — on the Keys page, load any delegation's"
    )
    console.print(
        "demo key with one click and act as that delegation (demo mode, this computer only)."
    )
    run_server(home, "127.0.0.1", port, 1, f"http://localhost:{port}")


COMMANDS: list[click.Command] = [demo]
