"""The benchmark's CPU accounting reads Linux's /proc formats exactly."""

from __future__ import annotations

import os
import sys

import pytest

from benchmarks import cpu_time


def test_machine_ticks_count_io_wait_as_idle_and_steal_as_busy() -> None:
    stat = "cpu  100 5 20 1000 30 1 2 7 0 0\ncpu0 50 2 10 500 15 0 1 3 0 0\n"
    assert cpu_time.machine_ticks(stat) == (100 + 5 + 20 + 1 + 2 + 7, 1000 + 30)


def test_process_ticks_read_a_command_name_with_spaces_and_parentheses() -> None:
    fields = "S 1 4242 4242 0 -1 4194560 100 0 0 0 310 45 0 0 20 0 3 0 12345"
    assert cpu_time.process_ticks(f"77 (odd (name) x) {fields}") == ("odd (name) x", 4242, 355)


def test_between_divides_each_part_by_the_requests() -> None:
    before = cpu_time.Sample(100, 50, {"server": 10, cpu_time.LOAD: 1})
    after = cpu_time.Sample(300, 100, {"server": 170, cpu_time.LOAD: 21})
    usage = cpu_time.between(before, after, 1000)
    assert usage is not None
    tick = 1e6 / os.sysconf("SC_CLK_TCK")
    assert usage.per_request == pytest.approx(200 * tick / 1000)
    assert usage.idle == pytest.approx(50 / 250)
    assert usage.parts == pytest.approx(
        {"server": 160 * tick / 1000, cpu_time.LOAD: 20 * tick / 1000}
    )
    assert cpu_time.between(None, after, 1000) is None
    assert cpu_time.between(before, after, 0) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")
def test_a_sample_counts_this_process_as_the_load_generator() -> None:
    before = cpu_time.take({"server": os.getpgid(0)})
    sum(i * i for i in range(3_000_000))  # CPU time of our own, several clock ticks
    after = cpu_time.take({"server": os.getpgid(0)})
    assert before is not None and after is not None
    assert after.parts[cpu_time.LOAD] > before.parts[cpu_time.LOAD]
    assert after.busy > before.busy and after.idle >= before.idle
