"""The charter file: the example in the help convenes as shown, and every mistake in a file is
named (the key, the participant, the file) before anything is signed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from parley.cli.charter_file import EXAMPLE, read_charter
from parley.cli.main import main
from parley.core.charter import Charter, PenRule, Role
from parley.errors import InvalidInputError, NotFoundError


@pytest.fixture
def home(tmp_path: Path) -> Path:
    for code in ("PK", "QA"):
        result = CliRunner().invoke(main, ["--home", str(tmp_path), "key", "new", code])
        assert result.exit_code == 0, result.output
    return tmp_path


def _vkey(home: Path, code: str) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), "key", "show", code])
    return next(word for word in result.stdout.split() if word.startswith(f"{code}+"))


def _read(home: Path, text: str) -> Charter:
    path = home / "charter.toml"
    path.write_text(text, encoding="utf-8")
    return read_charter(path, lambda code: home / "keys" / f"{code}.key")


def test_the_example_reads_as_shown(home: Path) -> None:
    charter = _read(home, EXAMPLE.replace("QA+1a2b3c4d+…", _vkey(home, "QA")))
    assert charter.title == "Agreement on Ending Cross-Border Attacks"
    assert charter.pen is PenRule.MEDIATOR
    assert [(p.code, p.roles) for p in charter.participants] == [
        ("PK", (Role.PARTY,)),
        ("QA", (Role.MEDIATOR, Role.WITNESS, Role.GUARANTOR)),
    ]
    listed = charter.participant("QA")
    assert listed is not None and listed.keys[0].vkey() == _vkey(home, "QA")


def test_a_participant_without_keys_takes_its_key_file(home: Path) -> None:
    charter = _read(home, EXAMPLE.replace('keys = ["QA+1a2b3c4d+…"]', ""))
    qa = charter.participant("QA")
    assert qa is not None and qa.keys[0].vkey() == _vkey(home, "QA")
    assert charter.participant("PK") is not None


def test_the_help_shows_the_example_as_written() -> None:
    result = CliRunner().invoke(main, ["negotiation", "open", "--help"])
    assert '  [[participant]]\n  code = "PK"\n  name = "Islamic Republic of Pakistan"\n' in (
        result.stdout
    )


MISTAKES = {
    "a misspelt table": (
        EXAMPLE.replace("[[participant]]", "[[participants]]"),
        "charter.toml: unexpected participants (expected title, participant, and optionally "
        "pen, nonce)",
    ),
    "a misspelt key": (
        EXAMPLE.replace('roles = ["party"]', 'role = ["party"]'),
        "charter.toml: participant 1: unexpected role (expected code, roles, and optionally "
        "name, keys)",
    ),
    "an unknown role": (
        EXAMPLE.replace('roles = ["party"]', 'roles = ["partie"]'),
        "participant 1 (PK): roles must be some of party, mediator, witness, guarantor, "
        "observer, found 'partie'",
    ),
    "no roles": (EXAMPLE.replace('roles = ["party"]', "roles = []"), "found none"),
    "roles as a string": (
        EXAMPLE.replace('roles = ["party"]', 'roles = "party"'),
        "participant 1 (PK): roles: expected a list of strings, found 'party'",
    ),
    "a title that is no string": (
        EXAMPLE.replace('title = "Agreement on Ending Cross-Border Attacks"', "title = 5"),
        "charter.toml: title: expected a string, found int",
    ),
    "an unknown pen rule": (
        EXAMPLE.replace('pen = "mediator"', 'pen = "rotating"'),
        "pen must be 'mediator' or 'alternating', found 'rotating'",
    ),
    "one participant as a table": (
        'title = "T"\n[participant]\ncode = "QA"\nroles = ["mediator"]\n',
        "charter.toml: participant must be tables ([[participant]])",
    ),
    "a bad code": (EXAMPLE.replace('code = "PK"', 'code = "pk"'), "participant 1: code"),
    "no party": (
        EXAMPLE.replace('roles = ["party"]', 'roles = ["observer"]'),
        "a charter needs at least one party and one mediator",
    ),
    "not TOML": ("title = ", "charter.toml: not a readable TOML charter"),
}


@pytest.mark.parametrize("text, message", MISTAKES.values(), ids=MISTAKES.keys())
def test_mistakes_are_named(home: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        _read(home, text.replace('keys = ["QA+1a2b3c4d+…"]', ""))
    assert message in str(raised.value)


def test_a_participant_with_no_key_listed_and_no_key_file(home: Path) -> None:
    (home / "keys" / "PK.key").unlink()
    with pytest.raises(NotFoundError) as raised:
        _read(home, EXAMPLE.replace('keys = ["QA+1a2b3c4d+…"]', ""))
    said = str(raised.value)
    assert "participant 1 (PK): no keys listed, and no key file" in said and "PK.key" in said
    # the delegation makes its own key and sends the vkey: nobody else mints it
    assert "list the delegation's vkey in keys" in said and "`parley key show PK`" in said


def test_the_cli_guide_shows_the_example() -> None:
    guide = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert f"```toml\n{EXAMPLE}```" in guide.read_text(encoding="utf-8")
