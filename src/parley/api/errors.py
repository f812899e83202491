"""The one table that turns Parley errors into HTTP statuses, and the one error body.

Every error response, whatever raised it, has the same JSON body::

    {"error": {"code": "not_found", "message": "no negotiation 7f3a…", "details": {}}}

``STATUSES`` maps each class of ``parley.errors`` to a status and a code; a subclass without its
own row takes its nearest ancestor's. A few answers belong to HTTP itself rather than to the
domain and are made here too, with the same body: 400 for a body that is not UTF-8 JSON, 401 for
a missing, expired or tampered session, 404/405 for unknown routes and methods, 413 for a body
over the size limit, 422 for a request that does not fit the schema, and 429 with
``Retry-After`` when a caller is over its rate.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from parley import errors

LOG = logging.getLogger("parley.api")

STATUSES: dict[type[errors.ParleyError], tuple[int, str]] = {
    errors.ParleyError: (400, "error"),
    errors.InvalidInputError: (422, "invalid_input"),
    errors.NotFoundError: (404, "not_found"),
    errors.ConflictError: (409, "conflict"),
    errors.PermissionDeniedError: (403, "permission_denied"),
    errors.LimitExceededError: (413, "limit_exceeded"),
    errors.ProtocolError: (422, "protocol_error"),
    errors.UnauthorizedMoveError: (403, "unauthorized_move"),
    errors.IllegalMoveError: (409, "illegal_move"),
    errors.PreconditionError: (422, "precondition_failed"),
    errors.VerificationError: (422, "verification_failed"),
    errors.SignatureError: (403, "bad_signature"),
    errors.ProofError: (422, "bad_proof"),
    errors.EquivocationError: (409, "equivocation"),
    errors.StorageError: (503, "storage_unavailable"),
}
"""Status and code per error class; docs/api.md lists the same table."""

HTTP_CODES = {
    400: "malformed_body",
    401: "unauthenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "invalid_request",
    429: "rate_limited",
}
"""Codes for the answers HTTP itself gives (see the module docstring)."""


def status_of(error: errors.ParleyError) -> tuple[int, str]:
    """The status and code for ``error``: its class's row, or its nearest ancestor's."""
    for cls in type(error).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return STATUSES[errors.ParleyError]


def details_of(error: errors.ParleyError) -> dict[str, Any]:
    """Machine-readable extras: where in the input, or the evidence of an equivocation."""
    if isinstance(error, errors.InvalidInputError):
        where = {"source": error.source, "line": error.line, "column": error.column}
        return {k: v for k, v in where.items() if v is not None}
    if isinstance(error, errors.EquivocationError) and error.evidence:
        return {"evidence": error.evidence}
    return {}


def body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    """The error body as bytes (ASCII-escaped, so no input can make it unencodable)."""
    error = {"code": code, "message": message, "details": details or {}}
    return json.dumps({"error": error}, ensure_ascii=True, separators=(",", ":")).encode()


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error answer with the standard body."""
    content = body(code or HTTP_CODES.get(status, "error"), message, details)
    headers = {"X-Content-Type-Options": "nosniff", **(headers or {})}
    return Response(content, status, headers=headers, media_type="application/json")


def unauthenticated(message: str) -> StarletteHTTPException:
    """A 401 to raise: no session, or one that is expired or tampered with."""
    return StarletteHTTPException(
        401, message, headers={"WWW-Authenticate": 'Bearer realm="parley"'}
    )


def rate_limited(retry_after: float) -> StarletteHTTPException:
    """A 429 to raise, saying when to come back."""
    seconds = max(1, math.ceil(retry_after))
    message = f"too many requests: try again in {seconds} s"
    return StarletteHTTPException(429, message, headers={"Retry-After": str(seconds)})


# --- handlers ------------------------------------------------------------------------------------


def parley_error_response(error: errors.ParleyError, method: str, path: str) -> Response:
    """The answer to a refused request: the error table's status, code and details."""
    status, code = status_of(error)
    if status >= 500:
        LOG.error("%s %s failed: %s", method, path, error)
    return error_response(status, str(error), code=code, details=details_of(error))


async def _parley_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.ParleyError)
    return parley_error_response(exc, request.method, request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    page = getattr(request.app.state, "not_found_page", None)
    if exc.status_code == 404 and callable(page) and _wants_page(request):
        shown: Response = page(request)  # a browser's mistyped address: the pages' "not found"
        return shown
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, str(exc.detail), headers=headers)


def _wants_page(request: Request) -> bool:
    """A browser asking for a page, not a client of the API or the log."""
    api = request.url.path.startswith(("/api/", "/log/", "/add-checkpoint"))
    return not api and "text/html" in request.headers.get("accept", "")


async def _validation_error(request: Request, exc: Exception) -> Response:
    """422 naming each field that does not fit, without echoing the input back."""
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(e) for e in exc.errors()]
    message = "; ".join(p["where"] + ": " + p["problem"] for p in problems) or "invalid request"
    return error_response(422, message, details={"problems": problems})


def _problem(error: Any) -> dict[str, str]:
    location = error.get("loc", ()) if isinstance(error, dict) else ()
    text = error.get("msg", "invalid") if isinstance(error, dict) else "invalid"
    return {"where": ".".join(str(part) for part in location), "problem": str(text)}


async def _unexpected(request: Request, exc: Exception) -> Response:
    return unexpected_response(request.method, request.url.path)


def unexpected_response(method: str, path: str) -> Response:
    """The answer to a failure nobody foresaw (logged with its traceback; the client learns
    nothing of it)."""
    LOG.exception("%s %s: unexpected error", method, path)
    return error_response(500, "internal error", code="internal")


def install(app: FastAPI) -> None:
    """Route every error through this module."""
    app.add_exception_handler(errors.ParleyError, _parley_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
