"""Request and response models: what the OpenAPI document promises, field by field.

Requests are strict (no coercion, no unknown fields): a signed event must arrive exactly as it
was signed, and the core parses it again (``event_from_json``) before anything trusts it.
Responses list every field they carry and forbid others, so a test can hold the server to them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors --------------------------------------------------------------------------------------


class ErrorInfo(_Out):
    code: str = Field(description="A stable, machine-readable reason, e.g. not_found.")
    message: str = Field(description="What went wrong, in words.")
    details: dict[str, Any] = Field(description="Extras: a place in the input, evidence, fields.")


class ErrorBody(_Out):
    error: ErrorInfo


# --- login ---------------------------------------------------------------------------------------


class ChallengeOut(_Out):
    challenge: str = Field(description="Sign it, with the server origin and your vkey, to log in.")
    server: str = Field(description="This server's origin, as the login payload must name it.")
    expires: int = Field(description="POSIX seconds after which the challenge is refused.")
    tag: str = Field(description="The domain-separation tag of the login payload.")


class LoginIn(_Strict):
    vkey: str = Field(max_length=1000, description="Your participant key as a C2SP vkey.")
    challenge: str = Field(max_length=1000)
    signature: str = Field(
        max_length=200, description="Base64 Ed25519 signature of the tagged login payload."
    )


class SessionOut(_Out):
    token: str = Field(description="Send as 'Authorization: Bearer TOKEN' (also set as a cookie).")
    vkey: str
    expires: int


class WhoAmI(_Out):
    vkey: str
    expires: int


class Health(_Out):
    status: Literal["ok"]


# --- events --------------------------------------------------------------------------------------


class Envelope(_Strict):
    """What the author signs (``parley/v1/event``); ``body`` is the body's hash."""

    format: str
    negotiation: str
    seq: int
    prev: str | None
    type: str
    author: str
    key: str
    time: str
    audience: Literal["all"] | list[str]
    body: str


class EventIn(_Strict):
    """A signed event as submitted: the envelope, its signature and the body it hashes."""

    envelope: Envelope
    signature: str
    body: dict[str, Any]


class EnvelopeOut(_Out):
    format: str
    negotiation: str
    seq: int
    prev: str | None
    type: str
    author: str
    key: str
    time: str
    audience: Literal["all"] | list[str]
    body: str


class EventOut(_Out):
    """A stored event; ``body`` is absent when the caller is outside the event's audience."""

    envelope: EnvelopeOut
    signature: str
    body: dict[str, Any] | None = None


class EventsOut(_Out):
    negotiation: str
    since: int
    events: list[EventOut]


class Receipt(_Out):
    """What the server acknowledged: the event is stored and in the log."""

    negotiation: str
    event: str = Field(description="The event hash (the log leaf).")
    seq: int
    log_index: int
    phase: str
    head: str


# --- negotiations --------------------------------------------------------------------------------


class NegotiationOut(_Out):
    id: str
    title: str
    phase: str
    seq: int = Field(description="Number of events (the next event's sequence number).")
    head: str
    created: str
    updated: str
    codes: list[str] = Field(description="The participants your key is in this negotiation.")


class NegotiationsOut(_Out):
    negotiations: list[NegotiationOut]


class ParticipantOut(_Out):
    code: str
    name: str
    roles: list[str]
    joined: bool


class TextStatusOut(_Out):
    provisions: int
    brackets: int
    options: int
    reservations: int
    clean: bool


class TaskOut(_Out):
    code: str
    what: str
    deadline: str | None


class StateOut(_Out):
    """The negotiation as the caller can see it (the shape of ``parley status --json``)."""

    negotiation: str
    title: str
    phase: str
    events: int
    pen: list[str]
    participants: list[ParticipantOut]
    versions: list[str]
    final: str | None
    final_status: TextStatusOut | None
    todo: list[TaskOut]


class TextFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class RedlineFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    MARKDOWN = "markdown"


class VersionOut(_Out):
    negotiation: str
    version: str
    text: dict[str, Any] = Field(description="The canonical text JSON the version hash covers.")


# --- verification --------------------------------------------------------------------------------


class LineOut(_Out):
    text: str
    holds: bool
    caution: bool = Field(description="Holds, but limits what the report proves.")
    detail: str
    depth: int


class BundleFileOut(_Out):
    sha256: str = Field(description="SHA-256 of the bytes checked, in hex.")
    bytes: int


class ActOut(_Out):
    """One act that decides the outcome: an acceptance of the final text, a signature, a
    ratification's effect, a witness attestation or an endorsement."""

    model_config = ConfigDict(extra="allow")
    event: int
    hash: str
    type: str
    by: str
    key: str
    time: str = Field(description="As its author wrote it (RFC 3339).")
    time_words: str


class CosignatureOut(_Out):
    witness: str
    key: str
    time: int = Field(description="POSIX seconds, as the witness wrote it.")


class CheckpointOut(_Out):
    origin: str
    size: int
    root: str
    log_key: str
    cosignatures: list[CosignatureOut]


class ReportOut(_Out):
    """The verifier's report (``parley verify --json``)."""

    format: Literal["parley/verify-report/v1"]
    verifier: str = Field(description="The program and version that checked the file.")
    bundle: BundleFileOut
    verdict: Literal["in_force", "not_in_force", "invalid"]
    title: str
    negotiation: str
    final_version: str | None
    problem: str | None
    events: int
    as_of: str = Field(
        description="Where the record in the file ends: every verdict is about that record."
    )
    trust: str | None = Field(description="What no bundle can prove about who holds the keys.")
    participants: list[LineOut]
    requirements: list[LineOut]
    attestations: list[LineOut]
    statements: list[LineOut]
    log: list[LineOut]
    acts: list[ActOut]
    checkpoint: CheckpointOut | None


# --- the log -------------------------------------------------------------------------------------


class LogWitnessOut(_Out):
    name: str
    vkey: str


class LogSetupOut(_Out):
    """The deployment's log: what a charter names so bundles verify against it."""

    origin: str
    vkey: str
    witness_policy: str = Field(description="A c2sp.org/tlog-policy file for this log.")
    witnesses: list[LogWitnessOut]


class InclusionOut(_Out):
    index: int
    size: int
    hashes: list[str] = Field(description="Base64 hashes, leaf side first (RFC 9162 PATH).")


class ConsistencyOut(_Out):
    old: int
    new: int
    hashes: list[str] = Field(description="Base64 hashes (RFC 9162 PROOF).")
