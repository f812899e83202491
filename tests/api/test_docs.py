"""docs/api.md keeps up with the code: every route, every error code, every limit setting."""

from __future__ import annotations

import re
from pathlib import Path

from parley.api.app import create_app
from parley.api.errors import HTTP_CODES, STATUSES
from tests.api.conftest import make_services, make_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_route_is_documented() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    app = create_app(make_settings(Path("/nonexistent")), services=make_services())
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            row = re.compile(rf"\| {method.upper()} \| `{re.escape(path)}[`?]")
            assert row.search(text), f"{method.upper()} {path} is not in docs/api.md"


def test_every_error_code_and_status_is_documented() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    for cls, (status, code) in STATUSES.items():
        assert f"| {cls.__name__}" in text and f"| {status} | `{code}` |" in text, cls.__name__
    for status, code in HTTP_CODES.items():
        assert f"{status} {code}" in " ".join(text.replace("`", "").split()), code


def test_every_setting_is_documented() -> None:
    source = (Path(__file__).resolve().parents[2] / "src/parley/api/settings.py").read_text()
    docs = (DOCS / "api.md").read_text() + (DOCS / "deployment.md").read_text()
    for name in set(re.findall(r'"(PARLEY_[A-Z_]+)"', source)):
        assert name in source.split('"""')[1], f"{name} missing from the settings docstring"
        assert name in docs or name in {"PARLEY_HOME", "PARLEY_PASSPHRASE"}, name
