"""``parley redline OLD NEW``: every format, colour rules, and errors that name the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from parley.cli.main import main

OLD = """\
Title: Agreement on Water

# Article 1 — Scope {#art-1}

The [the Parties]{AF} shall not use the river.

# Article 2 {#art-2}

[[AF: one wording | PK: another]] stays.

# Article 3 {#art-3}

Three.
"""

NEW = """\
Title: Agreement on Water

# Article 1 — Scope {#art-1}

The the Parties shall never use the river.

# Article 2 {#art-3}

Three.

# Article 3 {#art-2}

another stays.
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    old, new = tmp_path / "v1.txt", tmp_path / "v2.txt"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    return str(old), str(new)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["redline", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_terminal_view_without_colour_uses_word_diff_marks(files: tuple[str, str]) -> None:
    code, out, _ = run(*files, env={"NO_COLOR": "", "FORCE_COLOR": ""})
    assert code == 0
    assert "\x1b[" not in out
    assert "The [-[-]the Parties[-]{AF}-] shall [-not-]{+never+} use the river." in out
    assert "Article 2  art-3  [moved] [renumbered]" in out
    assert "• moved from Article 3 to Article 2" in out
    assert "• bracket removed, words kept (was held by AF): “the Parties”" in out
    assert "• options resolved: PK's wording kept" in out


def test_colour_is_forced_by_force_color_and_refused_by_no_color(files: tuple[str, str]) -> None:
    _, coloured, _ = run(*files, env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert "\x1b[" in coloured and "never" in coloured
    _, plain, _ = run(*files, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in plain and "{+never+}" in plain


def test_json_format(files: tuple[str, str]) -> None:
    code, out, _ = run(*files, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "parley/redline/v1"
    assert [c["id"] for c in data["changes"]] == ["art-1", "art-3", "art-2"]
    assert data["changes"][1]["changes"] == ["moved", "renumbered"]
    assert data["summary"]["brackets_removed"] == 1


def test_markdown_format(files: tuple[str, str]) -> None:
    code, out, _ = run(*files, "--format", "markdown")
    assert code == 0
    assert out.startswith("# Redline: Agreement on Water\n")
    assert "~~not~~**never**" in out


def test_html_to_a_file(files: tuple[str, str], tmp_path: Path) -> None:
    target = tmp_path / "redline.html"
    code, out, _ = run(*files, "--format", "html", "-o", str(target))
    assert code == 0 and out == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<del class="pl-words">not</del>' in page


def test_terminal_to_a_file_is_plain(files: tuple[str, str], tmp_path: Path) -> None:
    target = tmp_path / "redline.txt"
    code, _, _ = run(*files, "-o", str(target), env={"FORCE_COLOR": "1"})
    assert code == 0
    assert "{+never+}" in target.read_text(encoding="utf-8")


def test_same_file_twice_reports_no_changes(files: tuple[str, str]) -> None:
    code, out, _ = run(files[0], files[0])
    assert code == 0 and "no changes" in out


def test_malformed_file_is_named_with_line_and_column(
    files: tuple[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("Title: X\n\n# Article 1 {#art-1}\n\nThe [unclosed words.\n", encoding="utf-8")
    code, out, err = run(files[0], str(bad))
    assert code == 2 and out == ""
    assert err.startswith(f"error: {bad}, line 5, column 5: unclosed bracket")


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    code, _, err = run(str(missing), str(missing))
    assert code == 3
    assert err == f"error: {missing}: no such file\n"


def test_unknown_format_is_refused(files: tuple[str, str]) -> None:
    code, _, err = run(*files, "--format", "pdf")
    assert code == 2 and "pdf" in err


def test_json_does_not_import_rich(files: tuple[str, str]) -> None:
    script = (
        "import sys\n"
        "from parley.cli import redlinecmd\n"
        f"redlinecmd.redline.main({['redline', *files][1:]!r} + ['--format', 'json', '-o', "
        "'/dev/null'], standalone_mode=False)\n"
        "assert 'rich' not in sys.modules, 'rich was imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_command_is_registered() -> None:
    result = CliRunner().invoke(main, ["redline", "--help"])
    assert result.exit_code == 0
    assert "--format [terminal|html|markdown|json]" in result.stdout
