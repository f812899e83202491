"""Reading files for commands: every failure names the file; only ParleyErrors escape."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from parley.errors import InvalidInputError

if TYPE_CHECKING:
    from parley.core.text import Text


def read_bytes(path: Path | str) -> bytes:
    """A file's bytes; a missing or unreadable file is an input error naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise InvalidInputError(f"cannot read the file: {reason}", source=str(path)) from error


def read_text(path: Path | str) -> Text:
    """A text file in the Parley text format; errors carry the file, line and column."""
    from parley.core import textformat

    data = read_bytes(path)
    try:
        return textformat.parse_bytes(data)
    except InvalidInputError as error:
        raise error.with_source(str(path)) from error


def write_output(rendered: str, output: Path | None) -> None:
    """Write to ``output``, or to standard output when None; a failure names the file."""
    import click

    if output is None:
        click.echo(rendered, nl=False)
        return
    try:
        output.write_text(rendered, encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise InvalidInputError(f"cannot write the file: {reason}", source=str(output)) from error
