"""Three-way merge benchmark: ``parley merge`` against ``git merge-file`` on the same files.

Inputs are generated deterministically (seeded ``random.Random``): articles of three paragraphs,
about 100 words per provision from a Zipf-like vocabulary. Each side edits 5 % of the provisions
(one to three word substitutions, insertions or deletions; now and then a provision deleted or a
new one added), a fifth of them the same provisions as the other side. The three versions are
written as text-format files; ``parley merge`` (a whole process: start, parse, merge, render) and
``git merge-file -p`` read the same files. Also measured: the merge alone, in process, with its
peak memory, at both sizes, to show how it grows.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from parley.core import textformat
from parley.core.merge import MergeResult, merge
from parley.core.text import Kind, Provision, Run, Text

SEED = 2026
EDITED = 0.05
SHARED = 0.2
"""Share of one side's edited provisions that the other side edits too."""
SYLLABLES = ("ta", "ri", "mon", "ve", "sol", "da", "ke", "lu", "par", "ti", "na", "gor", "es")
RUNS = 3


@dataclass(frozen=True)
class Case:
    """Three versions of one generated text, as values and as files."""

    provisions: int
    words: int
    texts: tuple[Text, Text, Text]
    paths: tuple[Path, Path, Path]


# --- inputs -------------------------------------------------------------------------------------


class _Writer:
    """Draws words (Zipf-distributed) and makes the small edits a delegation makes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        words: set[str] = set()
        while len(words) < 3000:
            words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
        self.vocabulary = sorted(words)
        self.weights = [1 / (rank + 1) for rank in range(len(self.vocabulary))]

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocabulary, self.weights, k=n)

    def edit(self, words: list[str]) -> list[str]:
        out = list(words)
        for _ in range(self.rng.randint(1, 3)):
            at = self.rng.randrange(len(out))
            action = self.rng.choice(("substitute", "insert", "delete"))
            if action == "substitute":
                out[at] = self.rng.choice(self.vocabulary)
            elif action == "insert":
                out.insert(at, self.rng.choice(self.vocabulary))
            elif len(out) > 1:
                del out[at]
        return out


def _body(words: list[str]) -> tuple[Run, ...]:
    return (Run(" ".join(words) + "."),)


def _text(bodies: dict[str, list[str]], order: list[str]) -> Text:
    """Articles (ids ``art-N``) each followed by their paragraphs (``art-N.k``)."""
    articles: list[Provision] = []
    for pid in order:
        if "." not in pid:
            articles.append(Provision(pid, Kind.ARTICLE, body=_body(bodies[pid])))
        elif articles:
            paragraph = Provision(pid, Kind.PARAGRAPH, body=_body(bodies[pid]))
            last = articles[-1]
            articles[-1] = replace(last, children=(*last.children, paragraph))
    return Text("Generated agreement", "en", tuple(articles))


def _side(
    writer: _Writer, bodies: dict[str, list[str]], order: list[str], chosen: list[str], tag: str
) -> Text:
    """One side's amended version: its chosen provisions edited, a few deleted or added after."""
    mine, sequence = dict(bodies), list(order)
    for n, pid in enumerate(chosen):
        roll = writer.rng.random()
        if roll < 0.05 and "." in pid:
            sequence.remove(pid)
        elif roll < 0.1 and "." in pid:
            new = f"{pid}-{tag}{n}"
            mine[new] = writer.words(len(bodies[pid]))
            sequence.insert(sequence.index(pid) + 1, new)
        else:
            mine[pid] = writer.edit(bodies[pid])
    return _text(mine, sequence)


def generate(provisions: int, words: int, seed: int = SEED) -> tuple[Text, Text, Text]:
    """Base, ours and theirs for a text of about ``provisions`` provisions and ``words`` words."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    per = max(4, words // provisions)
    order = [
        f"art-{a}{tail}" for a in range(1, provisions // 4 + 1) for tail in ("", ".1", ".2", ".3")
    ]
    bodies = {pid: writer.words(per) for pid in order}
    count = max(1, round(len(order) * EDITED))
    ours = rng.sample(order, count)
    shared = ours[: round(count * SHARED)]
    rest = [pid for pid in order if pid not in set(ours)]
    theirs = shared + rng.sample(rest, count - len(shared))
    return (
        _text(bodies, order),
        _side(writer, bodies, order, ours, "o"),
        _side(writer, bodies, order, theirs, "t"),
    )


def write_case(folder: Path, provisions: int, words: int) -> Case:
    texts = generate(provisions, words)
    base, ours, theirs = (
        folder / f"{name}-{provisions}.txt" for name in ("base", "ours", "theirs")
    )
    for text, path in zip(texts, (base, ours, theirs), strict=True):
        path.write_text(textformat.render(text), encoding="utf-8")
    count = len(base.read_text(encoding="utf-8").split())
    return Case(provisions, count, texts, (base, ours, theirs))


# --- measuring ----------------------------------------------------------------------------------


def _median(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _parley_command(case: Case) -> list[str]:
    script = Path(sys.executable).with_name("parley")
    program = [str(script)] if script.exists() else [
        sys.executable, "-c", "from parley.cli.main import main; main()",
    ]  # fmt: skip
    base, ours, theirs = (str(p) for p in case.paths)
    return [*program, "merge", base, ours, theirs, "--ours-label", "AF", "--theirs-label", "PK"]


def _git_command(case: Case) -> list[str]:
    base, ours, theirs = (str(p) for p in case.paths)
    return ["git", "merge-file", "-p", ours, base, theirs]


def _process(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Median wall time of a whole process and its output (exit 1 is fine: options were made),
    after one run to warm the caches."""
    out: list[str] = []

    def once() -> None:
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode < 0 or (done.returncode > 1 and command[0] != "git"):
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()}")
        out[:] = [done.stdout]

    once()
    return _median(once), out[0]


def _in_process(case: Case) -> tuple[float, int, MergeResult]:
    """Median merge time (texts already parsed) and peak memory of one merge, in bytes."""
    base, ours, theirs = case.texts
    seconds = _median(lambda: merge(base, ours, theirs, "AF", "PK"))
    tracemalloc.start()
    result = merge(base, ours, theirs, "AF", "PK")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak, result


@dataclass(frozen=True)
class Row:
    case: Case
    parley_s: float
    git_s: float | None
    merge_s: float
    peak: int
    options: int
    conflicts: int
    git_hunks: int | None


def _bytecode_env(folder: Path) -> dict[str, str]:
    """Python allowed to cache compiled modules (in ``folder``), as an installed package does."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def measure(case: Case) -> Row:
    parley_s, _ = _process(_parley_command(case), _bytecode_env(case.paths[0].parent))
    git_s, git_out = _process(_git_command(case)) if shutil.which("git") else (None, "")
    merge_s, peak, result = _in_process(case)
    hunks = sum(line.startswith("<<<<<<< ") for line in git_out.splitlines())
    return Row(
        case, parley_s, git_s, merge_s, peak, result.options_created, len(result.conflicts),
        hunks if git_s is not None else None,
    )  # fmt: skip


# --- report -------------------------------------------------------------------------------------


def _time(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def run(quick: bool) -> str:
    sizes = [(100, 10_000), (1_000, 100_000)] if quick else [(1_000, 100_000), (10_000, 1_000_000)]
    with tempfile.TemporaryDirectory(prefix="parley-bench-merge-") as folder:
        rows = [measure(write_case(Path(folder), p, w)) for p, w in sizes]
    return "\n".join([*_intro(rows), *_process_table(rows), "", *_growth_table(rows), ""])


def _intro(rows: list[Row]) -> list[str]:
    return [
        "## Three-way merge",
        "",
        "Base, ours and theirs generated from a fixed seed (articles of three paragraphs, about "
        f"100 words per provision); each side edits {EDITED:.0%} of the provisions (word "
        "substitutions, insertions, deletions; a few provisions deleted or added), "
        f"{SHARED:.0%} of them the same provisions as the other side. `parley merge` is a whole "
        "process (start with compiled modules cached, parse three files, merge, render); "
        f"`git merge-file -p` reads the same files. Median of {RUNS} runs. Target: at most 5× "
        "git's time and no more conflicts.",
        "",
    ]


def _process_table(rows: list[Row]) -> list[str]:
    lines = [
        "| provisions | words | `parley merge` | `git merge-file` | ratio | Parley option groups "
        "/ conflicts | git conflict hunks |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        git = _time(r.git_s) if r.git_s is not None else "git absent"
        ratio = f"{r.parley_s / r.git_s:,.1f}×" if r.git_s else "–"
        hunks = str(r.git_hunks) if r.git_hunks is not None else "–"
        lines.append(
            f"| {r.case.provisions:,} | {r.case.words:,} | {_time(r.parley_s)} | {git} | {ratio} "
            f"| {r.options} / {r.conflicts} | {hunks} |"
        )
    return lines


def _growth_table(rows: list[Row]) -> list[str]:
    lines = [
        "Merge alone, in process (the three texts already parsed):",
        "",
        "| provisions | words | merge time | per 1,000 words | peak memory |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per = r.merge_s / r.case.words * 1000
        lines.append(
            f"| {r.case.provisions:,} | {r.case.words:,} | {_time(r.merge_s)} "
            f"| {per * 1000:,.2f} ms | {r.peak / 2**20:,.1f} MiB |"
        )
    return lines


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
