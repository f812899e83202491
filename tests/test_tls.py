"""The HTTPS clients trust an authority the operator installed, not only httpx's bundled list."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from parley.errors import InvalidInputError
from parley.tls import trusted


def _certificate(
    subject: str, issuer: x509.Name | None, signer: ec.EllipticCurvePrivateKey | None
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
    )
    if issuer is None:  # the authority
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(signer or key, hashes.SHA256()), key


class _Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


@pytest.fixture
def private_https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTPS server whose certificate a private authority signed: its URL and the
    authority's certificate file."""
    authority, authority_key = _certificate("Private Test CA", None, None)
    served, served_key = _certificate("localhost", authority.subject, authority_key)
    ca_file, chain, key_file = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "key.pem"
    ca_file.write_bytes(authority.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(served.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        served_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key_file)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Quiet)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}/", ca_file
    finally:
        server.shutdown()
        server.server_close()


def test_an_authority_the_operator_names_is_trusted_and_no_other(
    private_https: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trusted`` hands httpx a context of its own, so httpx no longer reads SSL_CERT_FILE
    itself: the context must (OpenSSL's default paths do), and must still verify."""
    url, ca_file = private_https
    empty = tmp_path / "no-certs"
    empty.mkdir()
    monkeypatch.setenv("SSL_CERT_DIR", str(empty))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with httpx.Client(verify=trusted()) as client:
        assert client.get(url).status_code == 200
    stranger, _ = _certificate("Another CA", None, None)
    (other := tmp_path / "other.pem").write_bytes(stranger.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with httpx.Client(verify=trusted()) as client, pytest.raises(httpx.ConnectError):
        client.get(url)


def test_a_certificate_file_that_is_not_there_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(InvalidInputError, match=r"SSL_CERT_FILE names .*missing\.pem"):
        trusted()
