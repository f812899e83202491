"""Shared fixtures: where the public test vectors are, and deterministic settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = ROOT.parent / "shared" / "vectors"

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)
settings.load_profile("default")


def shared_vectors(*parts: str) -> Path:
    """Path inside ../shared/vectors; skips (or fails in CI) when the folder is absent."""
    path = SHARED_VECTORS.joinpath(*parts)
    if not path.exists():
        if os.environ.get("PARLEY_REQUIRE_VECTORS"):
            pytest.fail(f"test vectors missing at {path} (CI requires ../shared/vectors)")
        pytest.skip(f"public test vectors not found at {path}: clone ../shared beside the repo")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own PARLEY_HOME, and no outside database or server leaks in."""
    monkeypatch.setenv("PARLEY_HOME", str(tmp_path / "home"))
    for name in ("PARLEY_DATABASE_URL", "PARLEY_SERVER", "PARLEY_NEGOTIATION"):
        monkeypatch.delenv(name, raising=False)
