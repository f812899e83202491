"""The error table: every error class has a status, and every error has the one body."""

from __future__ import annotations

import pytest

from parley import errors
from parley.api.errors import HTTP_CODES, STATUSES, details_of, status_of
from parley.client import ERRORS_BY_CODE
from parley.core import moves
from parley.core.event import EventType
from tests.api.conftest import Api
from tests.negotiation import clean_text


def test_every_error_class_has_a_status_of_its_own() -> None:
    for cls in errors.ALL_ERRORS:
        assert cls in STATUSES, f"{cls.__name__} has no HTTP status"
        status, code = STATUSES[cls]
        assert 400 <= status < 600 and code


def test_a_subclass_takes_its_own_row_and_codes_are_unique() -> None:
    assert status_of(errors.SignatureError("x")) == (403, "bad_signature")
    assert status_of(errors.ConflictError("x")) == (409, "conflict")
    codes = [code for _, code in STATUSES.values()]
    assert len(codes) == len(set(codes))


def test_the_client_maps_every_code_back_to_its_class() -> None:
    for cls, (_, code) in STATUSES.items():
        assert ERRORS_BY_CODE[code] is cls
    for code in HTTP_CODES.values():
        assert code in ERRORS_BY_CODE


def test_details_say_where_in_the_input() -> None:
    error = errors.InvalidInputError("bad", line=3, column=7)
    assert details_of(error) == {"line": 3, "column": 7}
    assert details_of(errors.EquivocationError("two roots", evidence="proof")) == {
        "evidence": "proof"
    }


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/no-such-thing", 404, "not_found"),
        ("DELETE", "/api/negotiations", 405, "method_not_allowed"),
        ("GET", "/api/negotiations", 401, "unauthenticated"),
        ("POST", "/api/login", 422, "invalid_request"),
    ],
)
def test_http_errors_have_the_same_body(
    api: Api, method: str, path: str, status: int, code: str
) -> None:
    answer = api.client.request(method, path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


def test_a_protocol_error_becomes_its_status(api: Api) -> None:
    api.open()
    finalize = api.build("AF", EventType.FINALIZE, moves.finalize(clean_text()))
    answer = api.party("AF").post(f"/api/negotiations/{api.nid}/events", json=finalize.to_json())
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "unauthorized_move"
