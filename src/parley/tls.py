"""Which certificate authorities Parley's HTTPS clients trust (the CLI with ``--server``, a
server asking remote log witnesses).

The system's store, as its operator keeps it: a private authority installed with
``update-ca-certificates``, or named by ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, is trusted like a
public one (on Windows, the system's certificate store). httpx on its own trusts only its bundled
list (certifi), so a deployment behind a private authority failed with "certificate verify
failed" until ``SSL_CERT_FILE`` was set. Where this Python finds no system store at all (macOS
with a python.org build, say), httpx's bundle is used instead.
"""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path

from parley.errors import InvalidInputError


def trusted() -> ssl.SSLContext | bool:
    """What to pass as httpx's ``verify``: the system's authorities, or True for httpx's own."""
    named = os.environ.get("SSL_CERT_FILE")
    if named and not Path(named).is_file():
        raise InvalidInputError(
            f"SSL_CERT_FILE names {named}, which is not a file: name the file of certificate "
            "authorities to trust, or unset it"
        )
    if sys.platform == "win32":
        return ssl.create_default_context()
    paths = ssl.get_default_verify_paths()  # None where the file or folder does not exist
    if paths.cafile or (paths.capath and any(Path(paths.capath).iterdir())):
        return ssl.create_default_context()
    return True
