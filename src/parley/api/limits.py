"""What one request and one caller may send: body size, JSON depth, and request rate.

The body checks run as ASGI middleware, before any route parses anything, so an oversized,
malformed or absurdly nested body is refused without being handed to pydantic or the core:

* a body over ``max_body_bytes`` (by Content-Length, or counted as it streams in): 413;
* a JSON body that is not UTF-8, or not JSON (``NaN`` and friends included): 400;
* a JSON body nested deeper than ``max_json_depth``: 413.

The rate limit is a token bucket per caller (a session's key, or the client address when there is
no session), kept in the process: each API process limits on its own, which bounds the total at
N times the rate for N processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.api import errors as api_errors
from parley.api.settings import Limits
from parley.core.json_fields import parse_json
from parley.errors import InvalidInputError, LimitExceededError

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyLimits:
    """ASGI middleware enforcing the body limits (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = self._declared_size(headers)
        if problem is None and scope["method"] in BODY_METHODS:
            body, problem = await self._read(receive)
            if problem is None and body and is_json(headers.get("content-type", "")):
                problem = json_problem(body, self.limits.max_json_depth)
            if problem is None:
                receive = _replay(body, receive)
        if problem is not None:
            status, message = problem
            await api_errors.error_response(status, message)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _declared_size(self, headers: Headers) -> tuple[int, str] | None:
        declared = headers.get("content-length")
        if declared is None:
            return None
        if not declared.isdigit():
            return 400, "Content-Length must be a whole number of bytes"
        if int(declared) > self.limits.max_body_bytes:
            return 413, self._too_large()
        return None

    async def _read(self, receive: Receive) -> tuple[bytes, tuple[int, str] | None]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", (400, "the client went away before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limits.max_body_bytes:
                return b"", (413, self._too_large())
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None

    def _too_large(self) -> str:
        return f"the request body is larger than {self.limits.max_body_bytes} bytes"


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that hands the buffered body to the app once, then listens on."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def json_problem(body: bytes, max_depth: int) -> tuple[int, str] | None:
    """Why ``body`` is not acceptable JSON (status and message), or None."""
    return read_json(body, max_depth)[1]


def read_json(body: bytes, max_depth: int) -> tuple[Any, tuple[int, str] | None]:
    """The JSON value of ``body``, or why it is not acceptable (status and message)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, (400, f"the body is not valid UTF-8 (byte {exc.start})")
    try:
        value = parse_json(text, "the body")
    except LimitExceededError:
        return None, (413, f"the JSON body is nested deeper than {max_depth} levels")
    except InvalidInputError as exc:
        return None, (400, str(exc))
    if openings(body) > max_depth and depth(value) > max_depth:
        return None, (413, f"the JSON body is nested deeper than {max_depth} levels")
    return value, None


def openings(body: bytes) -> int:
    """How many ``{`` and ``[`` bytes ``body`` holds: no JSON value in it is nested deeper (each
    level opens with one), so a body with few needs no walk of its value."""
    return body.count(b"{") + body.count(b"[")


def depth(value: Any) -> int:
    """Nesting depth of a JSON value: 0 for a scalar, 1 for a flat array or object.

    Level by level, keeping only the containers of each: scalars are looked at once."""
    level = 0
    containers = [value] if isinstance(value, dict | list) else []
    while containers:
        level += 1
        inner: list[Any] = []
        for item in containers:
            children = item.values() if isinstance(item, dict) else item
            inner.extend(child for child in children if isinstance(child, dict | list))
        containers = inner
    return level


class RateLimiter:
    """Token buckets per caller; ``take`` says how long to wait (0: go ahead)."""

    def __init__(
        self,
        per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = 100_000,
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._max = max_callers
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> float:
        """Spend one token of ``caller``'s bucket; seconds until one is free if it is empty."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                return (1.0 - tokens) / self.per_second
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > self._max:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes nothing."""
        full_after = self.burst / self.per_second
        idle = [k for k, (_, last) in self._buckets.items() if now - last >= full_after]
        for key in idle:
            del self._buckets[key]
