"""The server holds to its own OpenAPI document: thousands of generated requests (schemathesis,
in process, no network), no 5xx, every answer's status, content type, headers and body as
documented. Generation is derandomized, so a run is repeatable.

Two passes per generation mode: requests as generated (random ids: mostly 404s and 422s), and
requests pinned to a real negotiation, version and event, authenticated as a participant, so
the generated queries and bodies reach the handlers behind the access checks.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from parley.api.app import create_app
from parley.api.settings import Live
from parley.core import moves
from parley.core import text as text_model
from parley.core.event import EventType
from tests.api.conftest import Api, TestClient, make_services, make_settings
from tests.negotiation import clean_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis import GenerationMode, checks

EXAMPLES = 50
"""Examples per operation, per pass and mode: 22 operations × 2 passes × 2 modes × 50 ≈ 4,400."""

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@dataclass
class Seeded:
    """An app with an open negotiation, a version, a caucus event, and a participant's session."""

    schema: Any
    headers: dict[str, str]
    pins: dict[str, str]
    requests: int = 0
    failures: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    home = tmp_path_factory.mktemp("schema")
    services = make_services()
    live = Live(poll_seconds=0.01, heartbeat_seconds=0.05, max_seconds=0.1)  # streams end soon
    app = create_app(make_settings(Path(home), live=live), services=services)
    with TestClient(app) as client:
        api = Api(app, services, client)
        nid = api.open()
        text = clean_text()
        api.play("QA", EventType.PROPOSE, moves.propose(text))
        event = api.play("AF", EventType.STATEMENT, moves.statement("caucus"), ("AF", "QA", "TR"))
        headers = api.party("PK").headers
        pins = {"negotiation": nid, "version": text_model.version_hash(text), "event": event.hash}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield Seeded(schema, headers, pins)


def _run(seeded: Seeded, mode: GenerationMode, pinned: bool) -> None:
    for result in seeded.schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        pins = {k: v for k, v in seeded.pins.items() if k in names} if pinned else None
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=pins or None)

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: Any) -> None:
            seeded.requests += 1
            case.call_and_validate(headers=seeded.headers, checks=CHECKS)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check()
        except Unsatisfiable:
            pass  # nothing to make invalid: an operation without parameters or body
        except Exception as exc:  # collect every operation's failure, then report them all
            seeded.failures.append(f"{operation.method.upper()} {operation.path}: {exc}")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("pinned", [False, True], ids=["generated", "pinned"])
def test_the_server_holds_to_its_openapi_document(
    seeded: Seeded, mode: GenerationMode, pinned: bool
) -> None:
    before = seeded.requests
    _run(seeded, mode, pinned)
    assert seeded.failures == [], "\n\n".join(seeded.failures)
    assert seeded.requests - before >= 500
