"""Demo mode: the demo delegations' key files, offered to a loopback client only.

Only a client on the loopback interface that also named a loopback host gets them, so
neither a proxy nor DNS rebinding can reach them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from parley.core.text import CODE_RE

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@dataclass(frozen=True, slots=True)
class WebSettings:
    """What the pages need beyond the API's context."""

    demo_keys_dir: Path | None = None
    """The demo's ``home/keys`` folder: its key files are offered to loopback clients only."""


def _loopback(request: Request) -> bool:
    """The client is on this machine and asked for a loopback host (no proxy, no rebinding)."""
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    named = (request.url.hostname or "").lower()
    return local and named in LOOPBACK_HOSTS


def demo_dir(request: Request) -> Path | None:
    web = getattr(request.app.state, "web", None)
    folder = web.demo_keys_dir if isinstance(web, WebSettings) else None
    return folder if folder is not None and _loopback(request) else None


def demo_codes(request: Request) -> list[str]:
    folder = demo_dir(request)
    if folder is None:
        return []
    return sorted(p.stem for p in folder.glob("*.key") if CODE_RE.fullmatch(p.stem))
