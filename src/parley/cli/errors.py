"""The one table that turns Parley errors into exit codes and one-line messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from parley import errors

EXIT_OK = 0
EXIT_NOT_YET = 1
"""Valid but not (yet) complete: a merge that made options, a bundle not yet in force."""
EXIT_INVALID = 2

EXIT_CODES: dict[type[errors.ParleyError], int] = {
    errors.ParleyError: EXIT_INVALID,
    errors.InvalidInputError: EXIT_INVALID,
    errors.VerificationError: EXIT_INVALID,
    errors.SignatureError: EXIT_INVALID,
    errors.ProofError: EXIT_INVALID,
    errors.EquivocationError: EXIT_INVALID,
    errors.LimitExceededError: EXIT_INVALID,
    errors.NotFoundError: 3,
    errors.ProtocolError: 4,
    errors.UnauthorizedMoveError: 4,
    errors.IllegalMoveError: 4,
    errors.PreconditionError: 4,
    errors.ConflictError: 5,
    errors.PermissionDeniedError: 6,
    errors.StorageError: 7,
}
"""Exit code per error class; documented in ``parley --help`` and docs/cli.md."""

EXIT_HELP = """\b
Exit codes:
  0  success (valid; in force; merged cleanly)
  1  valid but not complete (merge made options; bundle not yet in force)
  2  invalid, malformed, tampered or unverifiable input
  3  not found        4  forbidden by the negotiation rules
  5  conflict (someone moved first)   6  permission denied   7  storage failure
"""


def exit_code(error: errors.ParleyError) -> int:
    """The exit code for ``error``: its class's, or its nearest ancestor's."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_INVALID


def fail(error: errors.ParleyError) -> NoReturn:
    """Print ``error: …`` on one line to stderr and exit with the error's code."""
    click.echo(f"error: {error}", err=True)
    sys.exit(exit_code(error))


@contextmanager
def reported() -> Iterator[None]:
    """Turn any ParleyError raised inside into one clear line and an exit code."""
    try:
        yield
    except errors.ParleyError as error:
        fail(error)
