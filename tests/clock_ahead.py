"""Fail unless this process's clock runs the given number of days ahead of the machine's (`+400d`).

The unit tier's run under faketime proves nothing if libfaketime did not reach Python; the kernel's boot
time plus its uptime (both read from /proc, which faketime does not touch) tell the real time.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime


def real_now() -> float:
    with open("/proc/stat") as stat:
        booted = next(int(line.split()[1]) for line in stat if line.startswith("btime "))
    with open("/proc/uptime") as uptime:
        return booted + float(uptime.read().split()[0])


def main(offset: str) -> int:
    days = int(offset.strip("+d"))
    ahead = (time.time() - real_now()) / 86_400
    print(f"clock: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {ahead:.1f} days ahead of the machine's")
    if abs(ahead - days) > 1:
        print(f"expected {days} days ahead: is faketime installed and preloaded?", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
