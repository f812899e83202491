"""parley merge: the merged file, the summary on standard error, and the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from parley.cli.main import main
from parley.cli.mergecmd import summary
from parley.core.merge import Conflict, ConflictKind, MergeResult
from parley.core.text import Text
from parley.core.textformat import parse

BASE = """\
Title: Water Accord
Language: en

# Article 1 — Scope {#art-1}

The Parties shall meet in Geneva every year.

# Article 2 {#art-2}

Each Party shall notify the Commission.
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / f"{name}.txt" for name in ("base", "ours", "theirs")}
    paths["base"].write_text(BASE, encoding="utf-8")
    return paths


def write(path: Path, old: str, new: str) -> None:
    path.write_text(BASE.replace(old, new), encoding="utf-8")


def merge_args(files: dict[str, Path], *extra: str) -> list[str]:
    return ["merge", str(files["base"]), str(files["ours"]), str(files["theirs"]), *extra]


def test_a_clean_merge_prints_the_merged_text_and_exits_0(files: dict[str, Path]) -> None:
    write(files["ours"], "Geneva", "Doha")
    write(files["theirs"], "the Commission", "the Secretariat")
    result = run(*merge_args(files))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == BASE.replace("Geneva", "Doha").replace(
        "the Commission", "the Secretariat"
    )
    assert result.stderr.strip() == "merged cleanly"


def test_overlapping_edits_make_attributed_options_and_exit_1(files: dict[str, Path]) -> None:
    write(files["ours"], "Geneva", "Doha")
    write(files["theirs"], "Geneva", "Oslo")
    result = run(*merge_args(files, "--ours-label", "AF", "--theirs-label", "PK"))
    assert result.exit_code == 1
    assert "The Parties shall meet in [[AF: Doha | PK: Oslo]] every year." in result.stdout
    assert parse(result.stdout).title == "Water Accord"
    assert result.stderr.splitlines() == [
        "merged with 1 new options group and 1 conflict to resolve",
        "  art-1: wording: ours “Doha”; theirs “Oslo”",
    ]


def test_labels_default_to_ours_and_theirs(files: dict[str, Path]) -> None:
    write(files["ours"], "Geneva", "Doha")
    write(files["theirs"], "Geneva", "Oslo")
    result = run(*merge_args(files))
    assert "[[OURS: Doha | THEIRS: Oslo]]" in result.stdout


def test_output_goes_to_a_file_when_asked(files: dict[str, Path], tmp_path: Path) -> None:
    write(files["ours"], "Geneva", "Doha")
    write(files["theirs"], "Geneva", "Doha")
    out = tmp_path / "merged.txt"
    result = run(*merge_args(files, "-o", str(out)))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == BASE.replace("Geneva", "Doha")


def test_a_heading_conflict_is_reported(files: dict[str, Path]) -> None:
    write(files["ours"], "— Scope", "— Purpose")
    write(files["theirs"], "— Scope", "— Object")
    result = run(*merge_args(files))
    assert result.exit_code == 1
    assert "# Article 1 — Purpose {#art-1}" in result.stdout
    assert "art-1: heading: ours “Purpose”; theirs “Object”" in result.stderr


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_a_malformed_file_is_named_with_its_line(files: dict[str, Path]) -> None:
    write(files["ours"], "Geneva", "Doha")
    files["theirs"].write_text(BASE + "\nAn [unclosed bracket.\n", encoding="utf-8")
    error = one_line_error(run(*merge_args(files)))
    assert error.startswith(f"error: {files['theirs']}, line 12, column 4")


def test_a_missing_file_is_not_found(files: dict[str, Path]) -> None:
    write(files["theirs"], "Geneva", "Doha")
    result = run(*merge_args(files))
    assert result.exit_code == 3  # not found, not "invalid input"
    assert result.stderr == f"error: {files['ours']}: no such file\n"


def test_bytes_that_are_not_utf8_are_an_invalid_input(files: dict[str, Path]) -> None:
    write(files["ours"], "Geneva", "Doha")
    files["theirs"].write_bytes(BASE.encode("utf-8") + b"\xff\n")
    assert "UTF-8" in one_line_error(run(*merge_args(files)))


def test_labels_must_be_participant_codes(files: dict[str, Path]) -> None:
    write(files["ours"], "Geneva", "Doha")
    write(files["theirs"], "Geneva", "Oslo")
    assert "--ours-label" in one_line_error(run(*merge_args(files, "--ours-label", "af")))
    same = one_line_error(run(*merge_args(files, "--ours-label", "AF", "--theirs-label", "AF")))
    assert "different labels" in same


def test_the_summary_counts_and_shortens() -> None:
    conflicts = tuple(Conflict(f"art-{n}", ConflictKind.WORDING, "x" * 80, "") for n in range(25))
    text = summary(MergeResult(Text("t"), conflicts, 25))
    lines = text.splitlines()
    assert lines[0] == "merged with 25 new options groups and 25 conflicts to resolve"
    assert lines[1].endswith("…”; theirs (nothing)")
    assert lines[-1] == "  … and 5 more"
    assert summary(MergeResult(Text("t"), (Conflict(None, ConflictKind.TITLE, "A", "B"),))) == (
        "merged with 0 new options groups and 1 conflict to resolve\n"
        "  (the text): title: ours “A”; theirs “B”"
    )
