"""``parley demo``: a whole negotiation into a folder of its own, however the shell is set up."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from parley.cli.main import main


def test_the_demo_plays_twice_in_its_own_folder_whatever_the_database_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell pointed at a deployment's database (or server) must not get the demo's events,
    nor have its log claimed by the demo's key (the second run then failed)."""
    elsewhere = tmp_path / "deployment.db"
    monkeypatch.setenv("PARLEY_DATABASE_URL", f"sqlite:///{elsewhere}")
    monkeypatch.setenv("PARLEY_SERVER", "http://127.0.0.1:9")
    folder = tmp_path / "demo"
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "--dir", str(folder)])
        assert result.exit_code == 0, result.output
        assert "VALID AND IN FORCE" in result.output
    assert (folder / "home" / "parley.db").exists() and not elsewhere.exists()
