"""A real server on a loopback port and a real Chromium, for the browser tests.

One charter is convened the way a mediator does it from the command line (services over the
server's SQLite store, before the server starts), for the tests that need a negotiation to exist;
the whole-negotiation test convenes its own in the browser.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from parley import scenario
from parley.cli.home import Home
from parley.core import keys
from parley.log_setup import load_log_setup
from parley.services import Services

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
CODES = ("PK", "AF", "QA", "TR")
AXE = Path(os.environ.get("PARLEY_AXE_JS") or ROOT / ".ci/node/node_modules/axe-core/axe.min.js")
"""axe-core, from the npm registry (``.ci/run`` installs it; it is not part of the project)."""
AXE_INSTALL = "npm install --no-save --prefix .ci/node axe-core@4.14"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running server: its URL, home, the delegations' key files, and the negotiation id."""

    url: str
    home: Path
    negotiation: str

    def key_file(self, code: str) -> Path:
        return self.home / "keys" / f"{code}.key"


def _convene(home: Path) -> str:
    """Keys for the four delegations, two local log witnesses, and the charter event."""
    for code in CODES:
        key = keys.SigningKey.from_seed(code, os.urandom(32))
        path = home / "keys" / f"{code}.key"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(keys.key_file_bytes(key))
    cli_home = Home(home)
    for name in ("qa-log-witness", "tr-log-witness"):
        cli_home.add_witness(name)
    from parley.storage import open_store

    store = open_store(None, home=home)
    services = Services(store, load_log_setup(home, store))
    delegation_keys = {c: keys.read_key_file(cli_home.key_file(c).read_bytes()) for c in CODES}
    charter = scenario.charter(delegation_keys, services.log_setup, os.urandom(8).hex())
    receipt = services.open_negotiation(charter, delegation_keys["QA"], "QA")
    services.store.close()
    return receipt.state.negotiation


def _start(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PARLEY_HOME": str(home),
        "PARLEY_SERVER_ORIGIN": f"http://127.0.0.1:{port}",
        "PARLEY_RATE_PER_SECOND": "1000",
        "PARLEY_RATE_BURST": "5000",
        "PARLEY_LOGINS_PER_MINUTE": "1000",
        "PARLEY_TEST_DEMO_KEYS": str(home / "keys"),
    }
    env.pop("PARLEY_DATABASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.web.server_app:app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("server") / "home"
    negotiation = _convene(home)
    port = _free_port()
    log = home.parent / "server.log"
    process = _start(home, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, log)
        yield Server(url, home, negotiation)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium; the tests skip without it, unless PARLEY_REQUIRE_BROWSER=1 (CI).

    One a module, not one a session: while Playwright's synchronous API runs, its event loop
    counts as running in this thread, and a later test's ``asyncio.run`` in the same worker
    process would fail."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("PARLEY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required at {CHROMIUM} (PARLEY_REQUIRE_BROWSER=1)")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(target: object, name: str) -> None:
    """Save a screenshot (a page's viewport, or one element) under tests/screenshots/, git-ignored,
    for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # type: ignore[attr-defined]


def axe_missing() -> str | None:
    """Why the accessibility rules cannot run here, or None; CI requires them
    (PARLEY_REQUIRE_AXE=1)."""
    if AXE.is_file():
        return None
    reason = f"no axe-core at {AXE}: {AXE_INSTALL}"
    if os.environ.get("PARLEY_REQUIRE_AXE") == "1":
        pytest.fail(f"{reason} (PARLEY_REQUIRE_AXE=1)")
    return reason


def accessible(page: object, where: str) -> None:
    """axe-core's WCAG 2.1 A and AA rules find no violation on the page as it is now (the page's
    script is loaded through the browser's debugging protocol, which the pages' Content-Security-
    Policy does not govern). Does nothing where axe-core is not installed: a test of its own says
    so (``test_accessibility_rules_are_available``)."""
    if axe_missing():
        return
    evaluate = page.evaluate  # type: ignore[attr-defined]
    if not evaluate("typeof axe !== 'undefined'"):
        evaluate(AXE.read_text(encoding="utf-8"))
    found = evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => `${v.id} (${v.impact}): ${v.help}: ` +"
        " v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '))",
        WCAG_21_AA,
    )
    assert not found, f"accessibility violations on {where}:\n" + "\n".join(found)
