"""Where a benchmark's CPU time went: the machine's, and each part's (servers, database, load).

Linux only (``/proc``); elsewhere ``take`` returns None and the report leaves the CPU out. A
sample counts clock ticks: the machine's busy and idle time over all cores, and the user and
system time of the processes of each named part: a server's process group (``start_new_session``
makes the server and its workers one group), PostgreSQL (every process named ``postgres``) and
this process (the load generator). The difference of two samples, divided by the requests
completed between them, is the CPU each request cost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
DATABASE = "database"
LOAD = "load generator"


@dataclass(frozen=True)
class Sample:
    """Clock ticks so far: the machine's busy and idle time, and each part's CPU time."""

    busy: int
    idle: int
    parts: Mapping[str, int]


@dataclass(frozen=True)
class Usage:
    """CPU per request over a window, in microseconds, and the share of the machine left idle."""

    per_request: float
    idle: float
    parts: Mapping[str, float]


def take(groups: Mapping[str, int]) -> Sample | None:
    """Sample now; ``groups`` names process groups (a part each). None without ``/proc``."""
    try:
        busy, idle = machine_ticks((PROC / "stat").read_text())
    except OSError:
        return None
    parts = dict.fromkeys([*groups, DATABASE, LOAD], 0)
    named = {group: name for name, group in groups.items()}
    me = os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command, group, ticks = process_ticks((entry / "stat").read_text())
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(entry.name) == me:
            parts[LOAD] += ticks
        elif group in named:
            parts[named[group]] += ticks
        elif command == "postgres":
            parts[DATABASE] += ticks
    return Sample(busy, idle, parts)


def between(before: Sample | None, after: Sample | None, requests: int) -> Usage | None:
    """The CPU each of ``requests`` cost between two samples (None if either is missing)."""
    if before is None or after is None or requests <= 0:
        return None
    tick = 1e6 / os.sysconf("SC_CLK_TCK")
    busy, idle = after.busy - before.busy, after.idle - before.idle
    parts = {
        name: (after.parts[name] - before.parts.get(name, 0)) * tick / requests
        for name in after.parts
    }
    return Usage(busy * tick / requests, idle / max(1, busy + idle), parts)


def machine_ticks(stat: str) -> tuple[int, int]:
    """Busy and idle ticks over all cores from ``/proc/stat`` (idle counts I/O wait)."""
    fields = [int(f) for f in stat.splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal, idle + iowait


def process_ticks(stat: str) -> tuple[str, int, int]:
    """A process's command name, process group and user + system ticks from its
    ``/proc/<pid>/stat`` (the name is in parentheses and may hold spaces and parentheses)."""
    command = stat[stat.index("(") + 1 : stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2 :].split()
    return command, int(rest[2]), int(rest[11]) + int(rest[12])
