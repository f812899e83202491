"""Run every benchmark section in one process and write docs/benchmarks.md.

``python -m benchmarks.run`` runs the full sizes; ``--quick`` shrinks them tenfold for a smoke run
(written to benchmarks/out/ instead of docs/). ``--only NAME`` runs one section.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

SECTIONS = [
    "bench_redline",
    "bench_merge",
    "bench_merkle",
    "bench_notes",
    "bench_protocol",
    "bench_services",
    "bench_server",
]
ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    """A short description of the machine the numbers come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {mem:.0f} GiB\n"
        f"- {platform.system()} {platform.release()}; Python {platform.python_version()}; {git}\n"
        f"- run on {time.strftime('%Y-%m-%d', time.gmtime())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="ten times smaller, for a smoke run")
    parser.add_argument("--only", action="append", help="run only this section (repeatable)")
    args = parser.parse_args()
    parts = [
        "# Benchmarks\n",
        "Measured by `make bench` (`python -m benchmarks.run`); every peer runs in the same run on "
        "the same machine and inputs, so the ratios are the point, not the absolute times.\n",
        "## Machine\n",
        machine() + "\n",
    ]
    for name in args.only or SECTIONS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name} …", file=sys.stderr, flush=True)
        parts.append(module.run(quick=args.quick).rstrip() + "\n")
    out = ROOT / (
        "benchmarks/out/benchmarks.md" if args.quick or args.only else "docs/benchmarks.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
