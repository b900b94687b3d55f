"""`pytest --clock-ahead 400d`: the whole run reads a clock that many days ahead of the machine's.

A test that passes only near the day it was written fails in this run. time_machine moves every clock Python
code reads (`time.time`, `datetime.now`, `date.today`, in every thread: the handlers, moto, the carrier
sandbox); tests that move the clock themselves (`ClinicClock`) travel on from there and come back to it. The
run first proves the clock moved, against the kernel's boot time plus its uptime (read from /proc, which no
clock patch touches).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine


def real_now() -> float:
    with open("/proc/stat") as stat:
        booted = next(int(line.split()[1]) for line in stat if line.startswith("btime "))
    with open("/proc/uptime") as uptime:
        return booted + float(uptime.read().split()[0])


def days_ahead(text: str) -> int:
    """`+400d` or `400d` or `400` → 400."""
    try:
        return int(text.strip().lstrip("+").removesuffix("d"))
    except ValueError:
        raise pytest.UsageError(f"--clock-ahead: {text!r} is not a number of days like +400d") from None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock-ahead", default=None, metavar="+DAYSd",
                     help="run with every clock this many days ahead of the machine's (e.g. +400d)")


def pytest_configure(config: pytest.Config) -> None:
    option = config.getoption("clock_ahead")
    if not option:
        return
    days = days_ahead(option)
    travel = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    travel.start()
    config.add_cleanup(travel.stop)
    ahead = (time.time() - real_now()) / 86_400
    if abs(ahead - days) > 1:
        raise pytest.UsageError(f"--clock-ahead: the clock is {ahead:.1f} days ahead, not {days}")
    print(f"clock: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {ahead:.1f} days ahead of the machine's")
