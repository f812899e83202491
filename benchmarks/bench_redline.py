"""Redline benchmark: ``parley redline`` against git's word diff, difflib and the redlines package.

Inputs are generated deterministically (seeded ``random.Random``): articles of three paragraphs,
about 100 words per provision drawn from a Zipf-like vocabulary, a few brackets and options; then
5 % of the provisions are edited (word substitutions, insertions and deletions). Both versions are
written as text-format files and every tool reads the same two files or strings.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import partial
from pathlib import Path

from parley.core import textformat
from parley.core.redline import compare
from parley.core.redline_render import to_json, to_markdown
from parley.core.text import Bracket, Inline, Kind, Option, Options, Provision, Run, Text

SEED = 2026
EDITED = 0.05
WORDS_PER_PROVISION = 100
SYLLABLES = ("ta", "ri", "mon", "ve", "sol", "da", "ke", "lu", "par", "ti", "na", "gor", "es")

Piece = list[str] | Bracket | Options
"""A body while it is generated: a list of words (editable), or an atom."""


@dataclass(frozen=True)
class Pair:
    """Two versions of one generated text, as values, as file contents and as files."""

    provisions: int
    words: int
    old: Text
    new: Text
    old_source: str
    new_source: str
    old_path: Path
    new_path: Path


# --- inputs -------------------------------------------------------------------------------------


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))))
    return sorted(words)


class _Writer:
    """Draws bodies: Zipf-distributed words, sentences, now and then a bracket or options."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocabulary = _vocabulary(rng)
        self.weights = [1 / (rank + 1) for rank in range(len(self.vocabulary))]

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocabulary, self.weights, k=n)

    def body(self, n: int) -> list[Piece]:
        roll = self.rng.random()
        if roll < 0.03:
            return [
                self.words(n // 2),
                Bracket(" ".join(self.words(4)), ("AF",)),
                self.words(n // 2),
            ]
        if roll < 0.04:
            group = Options((Option("AF", (Run(" ".join(self.words(5))),)), Option("PK", ())))
            return [self.words(n // 2), group, self.words(n // 2)]
        return [self.words(n)]

    def edit(self, body: list[Piece]) -> list[Piece]:
        """The same body with one to three words substituted, inserted or deleted."""
        out = [list(p) if isinstance(p, list) else p for p in body]
        runs = [p for p in out if isinstance(p, list)]
        for _ in range(self.rng.randint(1, 3)):
            run = self.rng.choice(runs)
            at = self.rng.randrange(len(run))
            action = self.rng.choice(("substitute", "insert", "delete"))
            if action == "substitute":
                run[at] = self.rng.choice(self.vocabulary)
            elif action == "insert":
                run.insert(at, self.rng.choice(self.vocabulary))
            elif len(run) > 1:
                del run[at]
        return out


def _inline(body: list[Piece]) -> tuple[Inline, ...]:
    items: list[Inline] = []
    for k, piece in enumerate(body):
        if isinstance(piece, list):
            text = " ".join(piece) + ("." if k == len(body) - 1 else "")
            lead, tail = (" " if k else ""), ("" if k == len(body) - 1 else " ")
            items.append(Run(lead + text + tail))
        else:
            items.append(piece)
    return tuple(items)


def generate(provisions: int, words: int, seed: int = SEED) -> tuple[Text, Text]:
    """Two versions of a text of about ``provisions`` provisions and ``words`` words."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    per = max(4, words // provisions)
    bodies = {f"art-{a}{tail}": writer.body(per) for a in range(1, provisions // 4 + 1)
              for tail in ("", ".1", ".2", ".3")}  # fmt: skip
    edited = set(rng.sample(sorted(bodies), max(1, round(len(bodies) * EDITED))))
    changed = {pid: writer.edit(body) if pid in edited else body for pid, body in bodies.items()}
    return _text(bodies, writer), _text(changed, writer)


def _text(bodies: dict[str, list[Piece]], writer: _Writer) -> Text:
    articles = []
    for pid in (p for p in bodies if p.count(".") == 0):
        paragraphs = tuple(
            Provision(f"{pid}.{k}", Kind.PARAGRAPH, body=_inline(bodies[f"{pid}.{k}"]))
            for k in (1, 2, 3)
        )
        heading = writer.vocabulary[int(pid.split("-")[1]) % len(writer.vocabulary)].capitalize()
        articles.append(Provision(pid, Kind.ARTICLE, heading, _inline(bodies[pid]), (), paragraphs))
    return Text("Generated agreement", "en", tuple(articles))


def write_pair(folder: Path, provisions: int, words: int) -> Pair:
    old, new = generate(provisions, words)
    old_source, new_source = textformat.render(old), textformat.render(new)
    old_path, new_path = folder / f"v1-{provisions}.txt", folder / f"v2-{provisions}.txt"
    old_path.write_text(old_source, encoding="utf-8")
    new_path.write_text(new_source, encoding="utf-8")
    count = len(old_source.split())
    return Pair(provisions, count, old, new, old_source, new_source, old_path, new_path)


# --- timing -------------------------------------------------------------------------------------


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median(fn: Callable[[], object], runs: int) -> float:
    return statistics.median(_seconds(fn) for _ in range(runs))


def _within_budget(fn: Callable[[int], object], full: int, budget: float) -> tuple[float, str]:
    """Time ``fn(full)``; or, if doubling slices of the input shows that the full size would take
    more than ``budget`` seconds, extrapolate from the largest slice timed.

    The growth exponent comes from the last doubling and is taken as at least 2 when predicting
    (the peers are quadratic or worse on repetitive text), so the budget is rarely overrun.
    """
    n = min(full, 1000)
    points: list[tuple[int, float]] = []
    while True:
        points.append((n, _seconds(partial(fn, n))))
        if n >= full:
            return points[-1][1], "measured"
        following = min(full, 2 * n)
        cautious = max(2.0, _exponent(points)) if len(points) > 1 else 2.0
        if points[-1][1] * (following / n) ** cautious > budget:
            break
        n = following
    if len(points) < 2:
        points.insert(0, (n // 2, _seconds(partial(fn, n // 2))))
    exponent = _exponent(points)
    last_n, last_t = points[-1]
    estimate = last_t * (full / last_n) ** exponent
    return estimate, (
        f"extrapolated from {last_n:,} words, {_time(last_t)}, as time ∝ n^{exponent:.2f}"
    )


def _exponent(points: list[tuple[int, float]]) -> float:
    (n1, t1), (n2, t2) = points[-2], points[-1]
    return max(1.0, math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(n2 / n1))


def _process(command: list[str], runs: int, ok: tuple[int, ...] = (0,)) -> float:
    def once() -> None:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode not in ok:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.decode()[:500]}")

    once()
    return _median(once, runs)


# --- the three measurements ---------------------------------------------------------------------


def _processes(pairs: list[Pair], runs: int) -> list[str]:
    parley = str(Path(sys.executable).with_name("parley"))
    git = shutil.which("git")
    lines = [
        "### Whole process: `parley redline OLD NEW --format json -o /dev/null` vs "
        "`git diff --no-index --word-diff`",
        "",
        f"Median of {runs} runs each, process start-up included. Target: parley ≤ 3× git.",
        "",
        "| text | parley | git diff --word-diff | parley / git |",
        "| --- | ---: | ---: | ---: |",
    ]
    startup = _process([parley, "--version"], runs)
    ratios = []
    for pair in pairs:
        files = [str(pair.old_path), str(pair.new_path)]
        ours = _process([parley, "redline", *files, "--format", "json", "-o", "/dev/null"], runs)
        theirs = math.nan
        if git:
            word_diff = [git, "--no-pager", "diff", "--no-index", "--word-diff", *files]
            theirs = _process(word_diff, runs, ok=(0, 1))
        ratios.append(ours / theirs)
        lines.append(f"| {_name(pair)} | {_time(ours)} | {_time(theirs)} | {ratios[-1]:.1f}× |")
    met = "met" if all(r <= 3 for r in ratios) else "not met"
    lines += [
        "",
        f"Target ≤ 3×: {met}. For scale, `parley --version` alone (interpreter start-up and the "
        f"import of every command) takes {_time(startup)}; git compares lines first and "
        "word-diffs only the changed lines, in C.",
    ]
    return lines


def _words_pair(pair: Pair) -> tuple[list[str], list[str]]:
    return pair.old_source.split(), pair.new_source.split()


def _in_process(pair: Pair, runs: int, budgets: tuple[float, float]) -> list[str]:
    old_words, new_words = _words_pair(pair)

    def ours() -> None:
        redline = compare(textformat.parse(pair.old_source), textformat.parse(pair.new_source))
        json.dumps(to_json(redline))
        to_markdown(redline)

    def difflib_words(n: int) -> None:
        SequenceMatcher(None, old_words[:n], new_words[:n], autojunk=False).get_opcodes()

    def redlines_markdown(n: int) -> None:
        from redlines import Redlines

        _ = Redlines(" ".join(old_words[:n]), " ".join(new_words[:n])).output_markdown

    whole = _median(ours, runs)
    alone = _median(partial(compare, pair.old, pair.new), runs)
    difflib_time, difflib_how = _within_budget(difflib_words, len(old_words), budgets[0])
    redlines_time, redlines_how = _within_budget(redlines_markdown, len(old_words), budgets[1])
    return [
        f"### In process, {_name(pair)}",
        "",
        f"Median of {runs} runs for parley; one run (or an extrapolation) for the peers. "
        "Target: parley ≥ 100× faster than redlines.",
        "",
        "| what | time | peer / parley (parse + compare + render) |",
        "| --- | ---: | ---: |",
        f"| parley: parse both + `compare` + JSON + Markdown | {_time(whole)} | 1× |",
        f"| parley: `compare` alone (texts already parsed) | {_time(alone)} | |",
        "| difflib `SequenceMatcher(autojunk=False)` over the whitespace-split words of the whole "
        f"files, opcodes only ({difflib_how}) | {_time(difflib_time)} | "
        f"{difflib_time / whole:,.0f}× |",
        f"| redlines {_version('redlines')} `Redlines(old, new).output_markdown` over the same "
        f"words ({redlines_how}) | {_time(redlines_time)} | {redlines_time / whole:,.0f}× |",
        "",
        f"Target ≥ 100× faster than redlines (set for 100,000 words): "
        f"{'met' if redlines_time >= 100 * whole else 'not met'} at {pair.words:,} words.",
    ]


def _growth(pairs: list[Pair], runs: int) -> list[str]:
    lines = [
        "### Growth: in-process redline at two sizes (5 % of provisions edited in both)",
        "",
        "Peak memory is what `tracemalloc` saw during `compare` (texts already parsed), in a "
        "separate run from the timings.",
        "",
        "| text | parse both | compare | compare peak memory | compare per 100,000 words |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for pair in pairs:
        parse = _median(partial(_parse_both, pair), runs)
        took = _median(partial(compare, pair.old, pair.new), runs)
        tracemalloc.start()
        compare(pair.old, pair.new)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        per = took * 100_000 / pair.words
        lines.append(
            f"| {_name(pair)} | {_time(parse)} | {_time(took)} | {peak / 2**20:.1f} MiB | "
            f"{_time(per)} |"
        )
    return lines


def _parse_both(pair: Pair) -> tuple[Text, Text]:
    return textformat.parse(pair.old_source), textformat.parse(pair.new_source)


def _name(pair: Pair) -> str:
    return f"{pair.provisions:,} provisions, {pair.words:,} words"


def _time(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def run(quick: bool) -> str:
    """The ``## Redline`` section of docs/benchmarks.md; ``quick`` makes everything 10× smaller."""
    scale = 10 if quick else 1
    sizes = [(1_000 // scale, 100_000 // scale), (10_000 // scale, 1_000_000 // scale)]
    runs, budgets = (3, (5.0, 10.0)) if quick else (5, (30.0, 120.0))
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as folder:
        pairs = [write_pair(Path(folder), *size) for size in sizes]
        lines = [
            "## Redline",
            "",
            f"Generated texts (seed {SEED}): articles of three paragraphs, about "
            f"{WORDS_PER_PROVISION} words per provision, a few brackets and options; "
            f"{EDITED:.0%} of provisions edited by one to three word substitutions, insertions "
            "or deletions. Both versions are text-format files.",
            "",
            *_processes(pairs, runs),
            "",
            *_in_process(pairs[0], runs, budgets),
            "",
            *_growth(pairs, runs),
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
