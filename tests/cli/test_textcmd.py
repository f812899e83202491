"""``parley text``: exit codes, one-line errors, and never a traceback on bad input."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from parley.cli.main import main
from parley.core.textformat import parse, render

DRAFT = resources.files("parley.examples").joinpath("draft-v1.txt").read_text(encoding="utf-8")


def _run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["text", *args], input=stdin)


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    path = tmp_path / "draft.txt"
    path.write_text(DRAFT, encoding="utf-8")
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.txt"
    path.write_text("Title: T\n\n# Article 1 {#a}\n\nThe Parties [shall\n", encoding="utf-8")
    return path


def _assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_check_summarizes_a_valid_text(draft: Path) -> None:
    result = _run("check", str(draft))
    assert result.exit_code == 0, result.output
    assert "valid text" in result.stdout
    assert "Ending Cross-Border Attacks" in result.stdout
    assert "art-water" in result.stdout
    assert "Clean" in result.stdout and "no" in result.stdout


def test_check_json_gives_the_same_summary(draft: Path) -> None:
    result = _run("check", "--json", str(draft))
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["provisions"] == 65
    assert summary["clean"] is False
    assert summary["options"] == 1 and summary["reservations"] == 1
    assert "art-mandate.visits" in summary["open_ids"]
    assert len(summary["version"]) == 64


def test_check_reports_a_clean_text(tmp_path: Path) -> None:
    path = tmp_path / "clean.txt"
    path.write_text("Title: T\n\n# Article 1\n\nAgreed.\n", encoding="utf-8")
    summary = json.loads(_run("check", "--json", str(path)).stdout)
    assert summary["clean"] is True and summary["open_ids"] == []


def test_check_fails_with_one_located_line(broken: Path) -> None:
    result = _run("check", str(broken))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {broken}, line 5, column 13: unclosed bracket: the '[' opened here has no ']'\n"
    )
    _assert_no_traceback(result)


def test_check_reads_standard_input() -> None:
    result = _run("check", "--json", "-", stdin=DRAFT.encode())
    assert result.exit_code == 0
    assert json.loads(result.stdout)["file"] == "<stdin>"
    bad = _run("check", "-", stdin=b"Title: T\n\n# Article 1\n\n\xff\n")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error: <stdin>, line 5, column 1: not valid UTF-8")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01\x02",
        b"\xff\xfe\x00T\x00i\x00",
        b"Title: T\n\n### Article 1\n",
        b"Title: T\n\n# Article 1\n\n[[AF: a | PK: b\n",
        b"<html><body>not a text</body></html>",
    ],
)
def test_bad_input_never_shows_a_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    for command in ("check", "format", "show"):
        result = _run(command, str(path))
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.startswith(f"error: {path}, line "), result.stderr
        assert result.stderr.count("\n") == 1
        _assert_no_traceback(result)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    result = _run("check", str(tmp_path / "absent.txt"))
    assert result.exit_code == 3
    _assert_no_traceback(result)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    result = _run("check", str(tmp_path))
    assert result.exit_code == 2
    _assert_no_traceback(result)


def test_format_check_accepts_a_canonical_file(draft: Path) -> None:
    result = _run("format", "--check", str(draft))
    assert result.exit_code == 0
    assert "canonical" in result.stdout


def test_format_check_exits_1_for_a_non_canonical_file(draft: Path) -> None:
    draft.write_text(DRAFT.replace("\n", "\r\n"), encoding="utf-8")
    before = draft.read_bytes()
    result = _run("format", "--check", str(draft))
    assert result.exit_code == 1
    assert "not in canonical form" in result.stderr
    assert draft.read_bytes() == before


def test_format_check_exits_2_for_an_invalid_file(broken: Path) -> None:
    assert _run("format", "--check", str(broken)).exit_code == 2


def test_format_rewrites_in_place(draft: Path) -> None:
    messy = DRAFT.replace("# Article 2 —", "# article 99 -").replace("shall", "shall  ")
    draft.write_text(messy, encoding="utf-8")
    result = _run("format", str(draft))
    assert result.exit_code == 0
    assert "written" in result.stdout
    assert draft.read_text(encoding="utf-8") == render(parse(messy))
    assert _run("format", "--check", str(draft)).exit_code == 0
    assert "already canonical" in _run("format", str(draft)).stdout


def test_format_writes_to_another_file_or_stdout(draft: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    assert _run("format", str(draft), "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == DRAFT
    result = _run("format", str(draft), "-o", "-")
    assert result.exit_code == 0
    assert result.stdout == DRAFT


def test_format_leaves_the_file_alone_when_it_is_invalid(broken: Path) -> None:
    before = broken.read_bytes()
    assert _run("format", str(broken)).exit_code == 2
    assert broken.read_bytes() == before


def test_show_prints_the_numbered_text(draft: Path) -> None:
    result = _run("show", str(draft))
    assert result.exit_code == 0, result.output
    assert "Article 8 — Water sharing" in result.stdout
    assert "reserved by PK" in result.stdout
    assert "[20]{AF}" in result.stdout
    assert "[[PK: the international border" in result.stdout
    assert "brackets" in result.stdout


def test_show_treats_markup_in_the_text_as_words(tmp_path: Path) -> None:
    path = tmp_path / "markup.txt"
    path.write_text("Title: [bold]T[/bold]\n\n# Article 1\n\n\\[red\\] words\n", encoding="utf-8")
    result = _run("show", str(path))
    assert result.exit_code == 0
    assert "[bold]T[/bold]" in result.stdout
    assert "[red] words" in result.stdout


def test_the_text_group_is_registered() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "text" in result.stdout
    sub = CliRunner().invoke(main, ["text", "--help"])
    assert all(name in sub.stdout for name in ("check", "format", "show"))
