"""The HTTP API under load, against a minimal FastAPI endpoint on the same stack as the ceiling.

Everything runs on loopback, on this machine: ``parley serve --workers 2`` (uvicorn) on a SQLite
file and on PostgreSQL, and a one-line FastAPI endpoint served the same way (``serve_ceiling``:
uvicorn, the same balanced worker processes). 50 clients keep one HTTP/1.1 connection each and
send requests back to back:

* submissions: each client owns a negotiation and posts statements signed beforehand (a chain of
  signed events per client, so the clients measure the server, not their own signing); every
  answer must be 201;
* reads: each client asks for the state of a negotiation (``GET /api/negotiations/{id}``);
* ceiling: ``GET /ping`` answering ``{"ok": true}`` from an ``async def`` (no worker thread).

Each workload runs a quarter of its time unmeasured first, on the same connections (connections
opened, caches filled), then is measured in its stride; the ceiling and the workloads are
measured in turn, ``ROUNDS`` times, and each ratio is taken within a round. Targets: submissions
at least 30 % of the ceiling's requests per second, p99 under 100 ms. Runs are bounded in time
(seconds each) and in requests (the signed chains), and stop by themselves.

Where the time went is measured too (``cpu_time``): the CPU each request cost the machine, the
server, PostgreSQL and the load generator over each measured window, and the machine's idle
share; a rate is the machine's time divided by what a request occupies of it, so these explain
each ratio.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks import cpu_time
from parley.api.login import login_payload
from parley.api.workers import Supervisor
from parley.core import moves
from parley.core.charter import Charter
from parley.core.event import EventType, SignedEvent, format_time, sign_event
from parley.core.keys import SigningKey

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
WORKERS = 2
ROUNDS = 3
"""The ceiling and every workload are measured in turn this many times: this machine's speed
drifts over minutes, and each ratio compares two measurements made moments apart."""
POSTGRES_URL = os.environ.get(
    "PARLEY_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SERVE = "from parley.cli.main import main; main()"
SERVER_PART = "server"
SUBMISSIONS = "signed-event submissions"
TARGET_SHARE = 0.30
"""Submissions per second, as a share of the ceiling's requests per second (the target)."""
TARGET_P99_MS = 100
DECISION = (
    "- Where a submission's time goes, what was tried, and how this ratio moves from one machine "
    "to another: [decisions/0009](decisions/0009-submission-throughput.md)."
)
CLIENT_RATE = 150
"""Submissions a client can make per second, at most (7,500 a second for 50 clients): each
client signs this many a second of every round beforehand, so that no chain runs out before the
end of the rounds (when one did, its round was reported low, the missing client not counted)."""


def ceiling_app() -> FastAPI:
    """The ceiling: the least a FastAPI endpoint on this stack can do."""
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


# --- processes -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Sampled = cpu_time.Sample | None


@dataclass(frozen=True)
class Server:
    """A server under test: its URL, and the process group of it and its workers."""

    url: str
    group: int


@contextmanager
def _process(command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    """Run a server until the block ends; yield it once it answers."""
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        command, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        _wait(url, process)
        yield Server(url, process.pid)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        with suppress(httpx.HTTPError):
            if httpx.get(url + "/openapi.json", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


def parley_server(home: Path, database_url: str) -> Any:
    port = _free_port()
    env = {
        "PARLEY_HOME": str(home), "PARLEY_DATABASE_URL": database_url,
        "PARLEY_RATE_PER_SECOND": "1000000", "PARLEY_RATE_BURST": "1000000",
    }  # fmt: skip
    command = [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--workers", str(WORKERS)]
    return _process(command, env, port)


def ceiling_server() -> Any:
    port = _free_port()
    command = [sys.executable, "-c", f"from benchmarks.bench_server import serve_ceiling; "
               f"serve_ceiling({port})"]  # fmt: skip
    return _process(command, {"PYTHONPATH": str(ROOT)}, port)


def serve_ceiling(port: int) -> None:
    """The ceiling app, served as ``parley serve --workers`` serves Parley (``api.workers``:
    the same uvicorn settings, the same balanced workers)."""
    config = uvicorn.Config(
        "benchmarks.bench_server:ceiling_app", factory=True, host="127.0.0.1", port=port,
        workers=WORKERS, log_level="warning", access_log=False, proxy_headers=True,
    )  # fmt: skip
    sys.exit(Supervisor(config, WORKERS).run())


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh schema in the benchmark database (None if PostgreSQL is not reachable)."""
    schema = f"parley_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})  # fmt: skip
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # no server: the section says so
        admin.dispose()
        yield None
        return
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# --- the negotiations and signed chains ----------------------------------------------------------


def _key(code: str) -> SigningKey:
    return SigningKey.from_seed(code, code.encode().ljust(32, b"\x00"))


def _charter(i: int) -> Charter:
    from parley.core import charter as charters
    from parley.core.charter import Participant, PenRule, Role

    roles = {"PK": (Role.PARTY,), "AF": (Role.PARTY,),
             "QA": (Role.MEDIATOR, Role.WITNESS, Role.GUARANTOR)}  # fmt: skip
    people = tuple(Participant(c, c, r, (_key(c).public(),)) for c, r in roles.items())
    return Charter("Benchmark talks", f"bench-negotiation-{i:04d}", people, PenRule.MEDIATOR,
                   charters.default_policy(people))  # fmt: skip


def _login(http: httpx.Client, key: SigningKey) -> str:
    challenge = http.post("/api/login/challenge").json()
    vkey = key.public().vkey()
    signature = key.sign(login_payload(challenge["server"], challenge["challenge"], vkey))
    body = {"vkey": vkey, "challenge": challenge["challenge"],
            "signature": base64.b64encode(signature).decode()}  # fmt: skip
    return str(http.post("/api/login", json=body).json()["token"])


@dataclass
class Prepared:
    """Negotiations opened on a server, a session, and each client's chain of signed events."""

    url: str
    token: str
    negotiations: list[str]
    chains: list[list[SignedEvent]] = field(default_factory=list)


def prepare(url: str, clients: int, chain: int) -> Prepared:
    """Open one negotiation per client (charter, PK joins) and sign PK's statements ahead."""
    start = datetime.now(UTC)
    with httpx.Client(base_url=url, timeout=30) as http:
        qa = {"Authorization": f"Bearer {_login(http, _key('QA'))}"}
        token = _login(http, _key("PK"))
        pk = {"Authorization": f"Bearer {token}"}
        prepared = Prepared(url, token, [])
        for i in range(clients):
            charter = _charter(i)
            convene = moves.convene(charter, _key("QA"), "QA", format_time(start))
            http.post("/api/negotiations", json=convene.to_json(), headers=qa).raise_for_status()
            join = sign_event(_key("PK"), negotiation=charter.id, seq=1, prev=convene.hash,
                              type=EventType.JOIN, author="PK", time=format_time(start),
                              body={"charter": charter.id})  # fmt: skip
            path = f"/api/negotiations/{charter.id}/events"
            http.post(path, json=join.to_json(), headers=pk).raise_for_status()
            prepared.negotiations.append(charter.id)
            prepared.chains.append(_chain(charter.id, join, start, chain))
    return prepared


def _chain(negotiation: str, after: SignedEvent, start: datetime, count: int) -> list[SignedEvent]:
    events, prev, key = [], after, _key("PK")
    for i in range(count):
        when = format_time(start + timedelta(milliseconds=i + 1))
        prev = sign_event(key, negotiation=negotiation, seq=prev.envelope.seq + 1, prev=prev.hash,
                          type=EventType.STATEMENT, author="PK", time=when,
                          body={"text": f"Statement {i} for the record."})  # fmt: skip
        events.append(prev)
    return events


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Result:
    """One workload's outcome."""

    name: str
    backend: str
    completed: int
    seconds: float
    latencies: list[float]
    errors: int
    ran_out: int = 0
    """Clients whose requests ran out before the measured window ended."""
    usage: cpu_time.Usage | None = None
    """The CPU each request cost over the measured window (None where it cannot be read)."""

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def _request(method: str, path: str, host: str, token: str | None, body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        (int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length")), 0
    )
    await reader.readexactly(length)
    return status


async def _client(
    url: str, requests: Iterator[bytes], ok: int, measured: tuple[float, float], out: Result
) -> None:
    """One keep-alive connection sending ``requests`` back to back until the end of the
    ``measured`` window (loop times); only requests begun inside the window are counted."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    loop = asyncio.get_running_loop()
    start, end = measured
    try:
        while loop.time() < end:
            request = next(requests, None)
            if request is None:
                out.ran_out += 1
                break
            began, counted = time.perf_counter(), loop.time() >= start
            writer.write(request)
            status = await _response(reader)
            if counted:
                out.latencies.append(time.perf_counter() - began)
                out.completed += 1
                out.errors += status != ok
    finally:
        writer.close()
        with suppress(ConnectionError):
            await writer.wait_closed()


def load(name: str, backend: str, server: Server, streams: list[Iterator[bytes]], ok: int,
         seconds: float, warmup: float) -> Result:  # fmt: skip
    """One connection per stream: ``warmup`` seconds unmeasured (connections opened, caches
    filled, the server in its stride), then ``seconds`` measured, or until the streams run out;
    the machine's CPU time is sampled at both ends of the measured window."""
    result = Result(name, backend, 0, 0.0, [], 0)
    groups = {SERVER_PART: server.group}

    async def sampled(window: tuple[float, float]) -> tuple[Sampled, Sampled]:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(window[0] - loop.time())
        before = cpu_time.take(groups)
        await asyncio.sleep(window[1] - loop.time())
        return before, cpu_time.take(groups)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        window = (loop.time() + warmup, loop.time() + warmup + seconds)
        samples, *_ = await asyncio.gather(
            sampled(window), *(_client(server.url, s, ok, window, result) for s in streams)
        )
        result.seconds = min(seconds, loop.time() - window[0])
        result.usage = cpu_time.between(*samples, result.completed)

    asyncio.run(main())
    return result


def _forever(request: bytes) -> Iterator[bytes]:
    while True:
        yield request


def reads(server: Server, prepared: Prepared, backend: str, seconds: float) -> Result:
    host = prepared.url.removeprefix("http://")
    streams = [
        _forever(_request("GET", f"/api/negotiations/{nid}", host, prepared.token))
        for nid in prepared.negotiations
    ]
    name = "reads (negotiation state)"
    return load(name, backend, server, streams, 200, seconds, seconds / 4)


def ceiling(server: Server, seconds: float) -> Result:
    host = server.url.removeprefix("http://")
    streams = [_forever(_request("GET", "/ping", host, None)) for _ in range(CLIENTS)]
    name = "minimal FastAPI endpoint (ceiling)"
    return load(name, "-", server, streams, 200, seconds, seconds / 4)


@dataclass
class Target:
    """A ``parley serve`` under test: its negotiations and what is left of its clients' chains."""

    backend: str
    server: Server
    prepared: Prepared
    streams: list[Iterator[bytes]]

    def round(self, seconds: float) -> list[Result]:
        """Submissions (the chains go on where the last round stopped), then reads."""
        sent = load(SUBMISSIONS, self.backend, self.server, self.streams, 201, seconds, seconds / 4)
        return [sent, reads(self.server, self.prepared, self.backend, seconds)]


def target(stack: ExitStack, backend: str, database_url: str, home: Path, chain: int) -> Target:
    """Start ``parley serve`` on a database (stopped with ``stack``) and prepare its clients."""
    server = stack.enter_context(parley_server(home, database_url))
    prepared = prepare(server.url, CLIENTS, chain)
    streams = [iter(requests) for requests in _requests(prepared)]
    prepared.chains.clear()  # the requests are made: the signed events are no longer needed
    return Target(backend, server, prepared, streams)


def _requests(prepared: Prepared) -> list[list[bytes]]:
    """Each client's chain as ready-made HTTP requests."""
    host = prepared.url.removeprefix("http://")
    return [
        [_request("POST", f"/api/negotiations/{e.envelope.negotiation}/events", host,
                  prepared.token, json.dumps(e.to_json()).encode()) for e in chain]
        for chain in prepared.chains
    ]  # fmt: skip


# --- the report ----------------------------------------------------------------------------------


def run(quick: bool) -> str:
    """The ``## Server`` section: ``ROUNDS`` rounds, each the ceiling then every target."""
    seconds = 2.0 if quick else 8.0
    chain = int(CLIENT_RATE * seconds * 1.25) * ROUNDS
    notes: list[str] = []
    rounds: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as folder, ExitStack() as stack:
        root = Path(folder)
        ceiling_at = stack.enter_context(ceiling_server())
        sqlite = f"sqlite:///{root / 'parley.db'}"
        targets = [target(stack, "SQLite", sqlite, root / "sqlite-home", chain)]
        postgres = stack.enter_context(postgres_database())
        if postgres is None:
            notes.append(f"PostgreSQL at {make_url(POSTGRES_URL).host} was not reachable: "
                         "its rows are missing.")  # fmt: skip
        else:
            targets.append(target(stack, "PostgreSQL", postgres, root / "pg-home", chain))
        gc.collect()
        gc.freeze()  # the load generator's own collections must not pause its clients
        for _ in range(ROUNDS):
            measured = [r for t in targets for r in t.round(seconds)]
            rounds.append([ceiling(ceiling_at, seconds), *measured])
    return _markdown(rounds, notes, seconds)


def _markdown(rounds: list[list[Result]], notes: list[str], seconds: float) -> str:
    lines = [
        "## Server", "",
        f"`parley serve --workers {WORKERS}` against a minimal FastAPI endpoint (`async def`, "
        "answering `{\"ok\": true}`) served the same way: uvicorn with uvloop and httptools, the "
        "same worker processes, their connections balanced alike (`parley.api.workers`): the "
        f"ceiling. {CLIENTS} concurrent clients on loopback, one "
        f"keep-alive connection each. {ROUNDS} rounds, each measuring the ceiling, then every "
        f"workload, {seconds:g} s a row after {seconds / 4:g} s on the same connections "
        "unmeasured (connections opened, caches filled). Submissions are statements signed "
        "beforehand (each client its own negotiation), checked, ordered, stored and appended to "
        "the log; reads fetch a negotiation's state. Requests per second are the median round's; "
        "% of ceiling is the median of the rounds' ratios, each to the ceiling of its own round; "
        "latencies are over all rounds. The load generator, the servers and the database share "
        "the machine's cores.", "",
        "| workload | store | requests/s | % of ceiling | p50 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    verdicts: list[str] = []
    for column in zip(*rounds, strict=True):
        line, said = _row(list(column), [r[0] for r in rounds])
        lines.append(line)
        verdicts += said
    lines.append("")
    lines += [f"- {note}" for note in verdicts + notes]
    return "\n".join(lines + _cpu_table(rounds)) + "\n"


def _cpu_table(rounds: list[list[Result]]) -> list[str]:
    """Where the CPU went, per request (medians of the rounds); nothing where it was not read."""
    columns = [list(column) for column in zip(*rounds, strict=True)]
    if any(r.usage is None for column in columns for r in column):
        return []
    lines = [
        "", "CPU time per request over the measured windows, in microseconds (the median "
        "round's): the whole machine's busy time (all cores) divided by the requests answered, "
        "and the part of it used by the load generator, by the server's processes (its workers: "
        "event loops and threads) and by PostgreSQL; idle is the share of the machine's time "
        "no process used. The ceiling's request is the HTTP work every request pays; what a "
        "workload costs beyond it is its own.", "",
        "| workload | store | machine µs | load generator µs | server µs | database µs | idle |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for column in columns:
        usages = [r.usage for r in column if r.usage is not None]
        part = {name: _median([u.parts[name] for u in usages]) for name in usages[0].parts}
        lines.append(
            f"| {column[0].name} | {column[0].backend} | "
            f"{_median([u.per_request for u in usages]):.0f} | {part[cpu_time.LOAD]:.0f} | "
            f"{part[SERVER_PART]:.0f} | {part[cpu_time.DATABASE]:.0f} | "
            f"{100 * _median([u.idle for u in usages]):.0f} % |"
        )
    return [*lines, "", *_budget(columns)]


def _budget(columns: list[list[Result]]) -> list[str]:
    """What a submission may cost to reach the target, against what it cost: the machine's time
    per request, idle included (busy time / (1 - idle)), whose ratio to the ceiling's is the
    share of the ceiling's rate."""

    def occupied(column: list[Result]) -> float:
        return _median([r.usage.per_request / (1 - r.usage.idle) for r in column if r.usage])

    allowed = occupied(columns[0]) / TARGET_SHARE
    said = [f"- At {100 * TARGET_SHARE:.0f} % of the ceiling a submission may occupy the machine "
            f"(all cores, idle included) {allowed:.0f} µs, {1 / TARGET_SHARE:.1f} times the "
            f"ceiling's request ({occupied(columns[0]):.0f} µs)."]  # fmt: skip
    for column in columns[1:]:
        if column[0].name == SUBMISSIONS:
            usage = [r.usage for r in column if r.usage]
            busy = _median([u.per_request for u in usage])
            idle = _median([u.idle for u in usage])
            said.append(f"- {column[0].backend} submissions occupied it {occupied(column):.0f} "
                        f"µs: {busy:.0f} µs busy, {100 * idle:.0f} % idle.")  # fmt: skip
    return [*said, DECISION]


def _row(column: list[Result], ceilings: list[Result]) -> tuple[str, list[str]]:
    """One workload's line of the table over all rounds, and what to say of it: its verdict if
    it has a target, and that its clients ran out of requests if they did."""
    pooled = Result(column[0].name, column[0].backend, 0, 0.0, [], 0)
    for result in column:
        pooled.latencies += result.latencies
        pooled.errors += result.errors
    shares = [r.rate / c.rate for r, c in zip(column, ceilings, strict=True)]
    share, p50, p99 = _median(shares), pooled.percentile(0.5), pooled.percentile(0.99)
    line = (f"| {pooled.name} | {pooled.backend} | {_median([r.rate for r in column]):,.0f} | "
            f"{100 * share:.0f} % | {p50:.1f} | {p99:.1f} | {pooled.errors} |")  # fmt: skip
    short = sum(1 for r in column if r.ran_out)
    said = [f"{pooled.backend} {pooled.name}: clients ran out of requests in {short} round(s), "
            "which are reported low."] if short else []  # fmt: skip
    if pooled.name != SUBMISSIONS:
        return line, said
    each = ", ".join(f"{100 * s:.0f} %" for s in shares)
    verdict = (f"{pooled.backend}: submissions at {100 * share:.0f} % of the ceiling (rounds: "
               f"{each}; target ≥ {100 * TARGET_SHARE:.0f} %: "
               f"{'met' if share >= TARGET_SHARE else 'NOT met'}); p99 {p99:.0f} ms (target < "
               f"{TARGET_P99_MS} ms: {'met' if p99 < TARGET_P99_MS else 'NOT met'}).")  # fmt: skip
    return line, [verdict, *said]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
