"""Golden vectors pin every signed or hashed byte format.

Each file in tests/vectors/ holds the exact bytes Parley produces for a fixed input. A change to any
byte format changes a vector file, which a reviewer must see: set PARLEY_UPDATE_VECTORS=1 to
rewrite them on purpose.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from parley.api.login import login_payload
from parley.core import canonical, moves
from parley.core import text as text_model
from parley.core.event import EventType
from tests.negotiation import Table, clean_text, key_for

VECTORS = Path(__file__).resolve().parent / "vectors"


def _text() -> text_model.Text:
    body = (
        text_model.Run("The "),
        text_model.Bracket("Parties", ("AF", "PK")),
        text_model.Run(" shall "),
        text_model.Options(
            (
                text_model.Option("AF", (text_model.Run("refrain from"),)),
                text_model.Option("PK", ()),
            )
        ),
        text_model.Run(" attacks.\nSecond paragraph: é."),
    )
    art = text_model.Provision("art-1", text_model.Kind.ARTICLE, "Cessation", body, ("PK",))
    return text_model.Text("Agreement", "en", (art,))


def _cases() -> dict[str, dict[str, object]]:
    text = _text()
    table = Table().open()
    event = table.play("QA", EventType.PROPOSE, moves.propose(clean_text()))
    charter_event = table.events[0]
    login = login_payload("https://parley.example", "Y2hhbGxlbmdl", key_for("PK").public().vkey())
    return {
        "login": {
            "signed_bytes_utf8": login.decode(),
            "signature_b64": base64.b64encode(key_for("PK").sign(login)).decode(),
        },
        "text": {
            "tagged_bytes_utf8": canonical.tagged(
                canonical.Tag.TEXT, text_model.to_json(text)
            ).decode(),
            "version_hash": text_model.version_hash(text),
        },
        "charter": {
            "tagged_bytes_utf8": canonical.tagged(
                canonical.Tag.CHARTER, table.charter.to_json()
            ).decode(),
            "negotiation_id": table.charter.id,
            "signature_b64": base64.b64encode(charter_event.signature).decode(),
            "event_hash": charter_event.hash,
        },
        "event": {
            "key_vkey": key_for("QA").public().vkey(),
            "signed_bytes_utf8": event.envelope.signed_bytes().decode(),
            "body_tagged_bytes_utf8": canonical.tagged(
                canonical.Tag.BODY, event.body or {}
            ).decode(),
            "body_hash": event.envelope.body,
            "signature_b64": base64.b64encode(event.signature).decode(),
            "event_hash": event.hash,
        },
    }


@pytest.mark.parametrize("name", ["text", "charter", "event", "login"])
def test_golden_vector(name: str) -> None:
    got = _cases()[name]
    path = VECTORS / f"{name}.json"
    if os.environ.get("PARLEY_UPDATE_VECTORS"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert got == expected, f"the {name} byte format changed; see {path}"
