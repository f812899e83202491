"""The command line with ``--server URL``: a whole negotiation through a real server's API, the
same commands as against the embedded store, then ``parley verify`` on the bundle: in force."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from parley.api.app import create_app, open_services
from parley.cli.home import Home
from parley.cli.main import main
from parley.core import textformat
from parley.core.event import event_from_json
from tests.api.conftest import make_settings, serving
from tests.negotiation import NAMES, clean_text

ROLES = {
    "PK": ["party"],
    "AF": ["party"],
    "QA": ["mediator", "witness", "guarantor"],
    "TR": ["mediator", "witness", "guarantor"],
}


def _charter(path: Path) -> Path:
    lines = ['title = "Agreement on Ending Cross-Border Attacks"', 'pen = "mediator"']
    for code, roles in ROLES.items():
        lines += ["", "[[participant]]", f'code = "{code}"', f'name = "{NAMES[code]}"',
                  f"roles = {json.dumps(roles)}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Cli:
    def __init__(self, home: Path, url: str) -> None:
        self.runner = CliRunner()
        self.env = {"PARLEY_HOME": str(home), "PARLEY_SERVER": url}

    def __call__(self, *args: str, code: int = 0, **env: str) -> Result:
        result = self.runner.invoke(main, list(args), env={**self.env, **env})
        assert result.exit_code == code, f"parley {' '.join(args)}: {result.output}"
        return result


def runner_output(cli: Cli, *args: str) -> str:
    """What a command that fails says."""
    result = cli.runner.invoke(main, list(args), env=cli.env)
    assert result.exit_code != 0
    return result.output


@contextmanager
def convened(tmp_path: Path, witnesses: tuple[str, ...]) -> Iterator[tuple[str, Cli, Result]]:
    """A server whose home has ``witnesses``, a client with every delegation's key, and QA's
    `negotiation open` there: the server's URL, the client, and what the command said."""
    server_home = tmp_path / "server"
    for name in witnesses:
        Home(server_home).add_witness(name)

    def build(url: str) -> object:
        settings = make_settings(server_home, origin=url)
        return create_app(settings, services=open_services(settings))

    with serving(build) as url:
        cli = Cli(tmp_path / "client", url)
        for code in ROLES:
            cli("key", "new", code)
        yield url, cli, cli("negotiation", "open", str(_charter(tmp_path / "charter.toml")),
                            "--as", "QA")  # fmt: skip


def test_the_cli_drives_a_whole_negotiation_through_the_server(tmp_path: Path) -> None:
    with convened(tmp_path, ("qa-log-witness", "tr-log-witness")) as (url, cli, opened):
        nid = re.search(r"negotiation ([0-9a-f]{64})", opened.output)
        assert nid is not None
        for code in ROLES:
            cli("join", "--as", code)
        text_file = tmp_path / "draft.txt"
        text_file.write_text(textformat.render(clean_text()), encoding="utf-8")
        proposed = cli("propose", str(text_file), "--as", "QA")
        version = re.search(r"version ([0-9a-f]{64})", proposed.output)
        assert version is not None
        v = version.group(1)[:10]
        cli("send", v, "--to", "PK", "--to", "AF", "--as", "QA")
        cli("accept", v, "--as", "PK")
        cli("accept", v, "--as", "AF")
        cli("finalize", v, "--as", "TR")
        cli("sign", "--as", "PK")
        cli("sign", "--as", "AF")
        cli("witness", "PK", "--as", "QA")
        cli("witness", "AF", "--as", "TR")
        cli("endorse", "--as", "QA")
        endorsed = cli("endorse", "--as", "TR")
        assert "the negotiation is in force" in endorsed.output

        status = json.loads(cli("status", "--json", PARLEY_AS="PK").output)
        assert status["phase"] == "in_force" and status["negotiation"] == nid.group(1)
        assert status["final"].startswith(v)
        # reading commands say who reads with --as too; an unknown code is who it would be
        assert json.loads(cli("status", "--json", "--as", "AF").output) == status
        stranger = runner_output(cli, "status", "--as", "XX")
        assert "XX" in stranger and "Traceback" not in stranger
        # a delegation that made itself another key is not told the negotiation exists, but
        # is told why it may not see one
        other = Cli(tmp_path / "other-pk", url)
        other("key", "new", "PK")
        hidden = runner_output(other, "status", "-n", nid.group(1)[:12], "--as", "PK")
        assert "shows a negotiation only to the keys its charter lists" in hidden
        listed = cli("negotiation", "list", "--json", PARLEY_AS="AF").output
        assert json.loads(listed)[0]["id"] == nid.group(1)
        assert cli("text", v, PARLEY_AS="PK").output == textformat.render(clean_text())
        before = cli("text", "-n", nid.group(1)[:8], "--as", "PK", v)  # options first, too
        assert before.output == textformat.render(clean_text())
        checkpoint = cli("log", "checkpoint").output
        assert checkpoint.splitlines()[1] == str(status["events"])
        history = json.loads(cli("history", "--json", "--as", "AF").output)
        assert len(history) == status["events"]
        first = event_from_json(history[0]).hash
        proof = cli("log", "proof", first[:12], PARLEY_AS="QA").output
        assert proof.startswith("c2sp.org/tlog-proof@v1\nindex ")
        bundle_file = tmp_path / "agreement.bundle.json"
        cli("bundle", "-o", str(bundle_file), PARLEY_AS="TR")
        verified = cli("verify", str(bundle_file))
        assert "VALID AND IN FORCE" in verified.output


async def _not_parley(scope: dict[str, object], receive: object, send: Any) -> None:
    """Some other web server: an HTML page for everything."""
    if scope["type"] != "http":
        return
    page = (
        b"<!DOCTYPE HTML>\n<html><body><h1>Error 501</h1>\n<p>Unsupported method</p></body></html>"
    )
    await send({"type": "http.response.start", "status": 501,
                "headers": [(b"content-type", b"text/html")]})  # fmt: skip
    await send({"type": "http.response.body", "body": page})


def test_an_address_that_is_no_parley_server_is_said_so_in_one_line(tmp_path: Path) -> None:
    with serving(lambda url: _not_parley) as url:
        cli = Cli(tmp_path / "client", url)
        cli("key", "new", "PK")
        said = runner_output(cli, "status", "--as", "PK")
    assert said.count("\n") == 1 and "DOCTYPE" not in said
    assert f"{url} answered 501 Not Implemented to /api/login/challenge, not as a Parley" in said


def test_convening_through_a_server_without_log_witnesses_says_so(tmp_path: Path) -> None:
    """The note on a log no witness vouches for read the local log setup's shape, which a
    server's does not have: the negotiation was convened, then the command crashed."""
    with convened(tmp_path, ()) as (_, _cli, opened):
        assert "every participant now joins" in opened.stdout
        assert "this log has no log witnesses" in opened.stderr
