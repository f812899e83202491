"""Reading files for commands: every failure names the file; only ParleyErrors escape."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from parley.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from parley.core.text import Text
    from parley.core.textformat_headings import NewIds


def read_bytes(path: Path | str, limit: int | None = None) -> bytes:
    """A file's bytes (the string '-': standard input; a Path never is, though ``Path("./-")``
    prints as '-'), at most ``limit`` of them; a missing file is not found (exit 3), an unreadable
    or larger one is an input error naming it (exit 2)."""
    try:
        if isinstance(path, str) and path == "-":
            data = sys.stdin.buffer.read(-1 if limit is None else limit + 1)
        else:
            with Path(path).open("rb") as file:
                data = file.read(-1 if limit is None else limit + 1)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise InvalidInputError(f"cannot read the file: {reason}", source=str(path)) from error
    if limit is not None and len(data) > limit:
        raise InvalidInputError(
            f"the file is larger than {limit:,} bytes, the most it may be", source=str(path)
        )
    return data


def read_text(path: Path | str, new_for: NewIds | None = None) -> Text:
    """A text file in the Parley text format; errors carry the file, line and column
    (``new_for``: as ``textformat.parse`` takes it, for a return)."""
    from parley.core import textformat

    data = read_bytes(path)
    try:
        return textformat.parse_bytes(data, new_for=new_for)
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
