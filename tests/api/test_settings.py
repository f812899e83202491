"""Server settings from the environment; files made once and shared by every process."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from parley.api.settings import Settings, create_once, normalize_origin
from parley.cli.main import main
from parley.core import keys
from parley.errors import InvalidInputError
from tests.negotiation import LOG_KEY


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("HTTPS://Parley.Example:443/api", "https://parley.example"),
        ("http://parley.example:80", "http://parley.example"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_origins_are_normalized(url: str, origin: str) -> None:
    assert normalize_origin(url) == origin


@pytest.mark.parametrize("url", ["ftp://x", "parley.example", "http://:80", "http://x:99999"])
def test_bad_origins_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError):
        normalize_origin(url)


def test_settings_from_the_environment(tmp_path: Path) -> None:
    env = {
        "PARLEY_HOME": str(tmp_path),
        "PARLEY_SERVER_ORIGIN": "https://parley.example/",
        "PARLEY_MAX_BODY_BYTES": "1000",
        "PARLEY_RATE_BURST": "7",
        "PARLEY_LOGINS_PER_MINUTE": "3",
    }
    settings = Settings.from_env(env)
    assert settings.origin == "https://parley.example" and settings.secure_cookies
    assert settings.limits.max_body_bytes == 1000 and settings.limits.rate_burst == 7
    assert settings.limits.logins_per_minute == 3
    secret_file = tmp_path / "session.secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Settings.from_env(env).secret == settings.secret  # another process: the same secret
    assert Settings.from_env({**env, "PARLEY_SESSION_SECRET": "x" * 40}).secret == b"x" * 40
    with pytest.raises(InvalidInputError, match="whole number"):
        Settings.from_env({**env, "PARLEY_RATE_BURST": "many"})
    with pytest.raises(InvalidInputError, match="positive"):
        Settings.from_env({**env, "PARLEY_MAX_JSON_DEPTH": "-1"})
    assert settings.publish_seconds == 10
    assert Settings.from_env({**env, "PARLEY_PUBLISH_SECONDS": "0"}).publish_seconds is None
    with pytest.raises(InvalidInputError, match="PARLEY_PUBLISH_SECONDS must be 0 or more"):
        Settings.from_env({**env, "PARLEY_PUBLISH_SECONDS": "-5"})


def test_a_file_is_created_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "file"
    assert create_once(path, b"first") == b"first"
    assert create_once(path, b"second") == b"first"
    assert [p.name for p in path.parent.iterdir()] == ["file"]


def test_witness_keys_and_trusted_logs(tmp_path: Path) -> None:
    folder = tmp_path / "witness"
    folder.mkdir()
    witness = keys.SigningKey.from_seed("witness.example", b"w" * 32, keys.COSIGNATURE_V1)
    (folder / "witness.key").write_bytes(keys.key_file_bytes(witness))
    (folder / "logs.policy").write_text(f"log {LOG_KEY.public().vkey()}\nquorum none\n")
    settings = Settings.from_env({"PARLEY_HOME": str(tmp_path)})
    assert settings.witness_keys == (witness,)
    assert settings.witness_logs == (LOG_KEY.public(),)
    (folder / "note.key").write_bytes(keys.key_file_bytes(LOG_KEY))
    with pytest.raises(InvalidInputError, match="cosignature keys"):
        Settings.from_env({"PARLEY_HOME": str(tmp_path)})


def test_settings_refuse_a_short_secret(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="32 bytes"):
        Settings(home=tmp_path, secret=b"short")


def test_serve_is_a_command() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--workers" in result.output and "--port" in result.output
    assert os.environ.get("PARLEY_SERVER") is None
