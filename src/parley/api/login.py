"""What a client signs to log in, shared by the server and the command-line client.

No web framework is imported here, so the client can use it without loading the server.
"""

from __future__ import annotations

from parley.core import canonical

COOKIE = "parley_session"
"""The browser's session cookie (HttpOnly, SameSite=Strict, Secure over https)."""


def login_payload(server: str, challenge: str, vkey: str) -> bytes:
    """The exact bytes a participant signs to log in (tag ``parley/v1/login``)."""
    return canonical.tagged(
        canonical.Tag.LOGIN, {"server": server, "challenge": challenge, "vkey": vkey}
    )
