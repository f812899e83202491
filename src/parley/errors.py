"""Every error Parley raises on purpose.

The core and the services raise these; only the edges (CLI, HTTP API, web pages) catch them and
translate them, each through one table (exit codes, HTTP statuses). Messages say what was expected,
what was found, and where.

* ParleyError
  + InvalidInputError          – malformed text, file, JSON, key, note, proof or option value
  + NotFoundError              – no such negotiation, version, event or provision
  + ConflictError              – someone moved first: stale ``prev`` or sequence number
  + PermissionDeniedError      – the caller may not see or do this (not a participant, no session)
  + LimitExceededError         – a request is too large, too deep or too frequent
  + ProtocolError              – a move the negotiation rules forbid
    - UnauthorizedMoveError    – the author's role or key does not permit the move
    - IllegalMoveError         – the move is not allowed in the current state or turn
    - PreconditionError        – the move is allowed but its preconditions do not hold
  + VerificationError          – a signature, chain, proof, checkpoint or policy does not verify
    - SignatureError           – a signature does not verify, or no trusted signature is present
    - ProofError               – a Merkle inclusion or consistency proof does not verify
    - EquivocationError        – a log showed two inconsistent histories (evidence attached)
  + StorageError               – the database failed or is at an unexpected schema version
"""

from __future__ import annotations


class ParleyError(Exception):
    """Base class; catch this at the edges, nowhere else."""


class InvalidInputError(ParleyError):
    """Malformed input. Carries an optional place (source, line and column, 1-based)."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
    ) -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.source = source
        super().__init__(self._located(message))

    def _located(self, message: str) -> str:
        place = []
        if self.source:
            place.append(self.source)
        if self.line is not None:
            place.append(f"line {self.line}")
            if self.column is not None:
                place.append(f"column {self.column}")
        return f"{', '.join(place)}: {message}" if place else message

    def with_source(self, source: str) -> InvalidInputError:
        """Return the same error naming the file it came from."""
        return InvalidInputError(self.reason, line=self.line, column=self.column, source=source)


class NotFoundError(ParleyError):
    """No such negotiation, version, event, provision or key."""


class ConflictError(ParleyError):
    """Someone moved first: the event's ``prev`` or sequence number is stale."""


class PermissionDeniedError(ParleyError):
    """The caller may not see or do this."""


class LimitExceededError(ParleyError):
    """A request is too large, too deeply nested or too frequent."""


class ProtocolError(ParleyError):
    """A move the negotiation rules forbid."""


class UnauthorizedMoveError(ProtocolError):
    """The author's role or key does not permit the move."""


class IllegalMoveError(ProtocolError):
    """The move is not allowed in the current state, or it is not the author's turn."""


class PreconditionError(ProtocolError):
    """The move is allowed here, but its preconditions do not hold."""


class VerificationError(ParleyError):
    """A signature, hash chain, proof, checkpoint or policy does not verify."""


class SignatureError(VerificationError):
    """A signature does not verify, or no trusted signature is present."""


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not verify."""


class EquivocationError(VerificationError):
    """A log signed two inconsistent checkpoints; ``evidence`` holds the proof of it."""

    def __init__(self, message: str, *, evidence: str = "") -> None:
        self.evidence = evidence
        super().__init__(message)


class StorageError(ParleyError):
    """The database failed or is at an unexpected schema version."""


ALL_ERRORS: tuple[type[ParleyError], ...] = (
    ParleyError,
    InvalidInputError,
    NotFoundError,
    ConflictError,
    PermissionDeniedError,
    LimitExceededError,
    ProtocolError,
    UnauthorizedMoveError,
    IllegalMoveError,
    PreconditionError,
    VerificationError,
    SignatureError,
    ProofError,
    EquivocationError,
    StorageError,
)
