"""Every relative link in the README and docs/ points at a file of the repository (inside it:
a user's clone has nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
OUTSIDE = ("http://", "https://", "mailto:", "#")


def _targets(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [t for t in LINK.findall(text) if not t.startswith(OUTSIDE)]


def _inside(target: Path) -> bool:
    resolved = target.resolve()
    return resolved.exists() and resolved.is_relative_to(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = [t for t in _targets(page) if not _inside(page.parent / t.split("#")[0])]
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_the_pages_have_links() -> None:
    assert sum(len(_targets(page)) for page in PAGES) > 10
