"""What every benchmark shares: paths, figures (with baseline, ratio and budget), child processes, waiting."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = ROOT / "layers" / "switchboard"
PYTHON = sys.executable
# What a child process inherits from us; AWS credentials and profiles never reach one.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME", "VIRTUAL_ENV", "SYSTEMROOT")
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Figure:
    """One measured figure, beside the baseline it is compared with and its budget.

    `limit` is the budget as a number (a ratio when `ratio` is set, else a maximum of `value`);
    `over` is worked out from them. `exact` figures must equal `limit` (texts sent = callers).
    """

    section: str
    name: str
    value: float | None
    unit: str = ""
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    limit: float | None = None
    exact: bool = False
    at_least: bool = False  # the budget is a minimum (a speed-up), not a maximum
    note: str = ""
    error: str = ""

    @property
    def over(self) -> bool:
        if self.error:
            return True
        if self.limit is None:
            return False
        if self.exact:
            return self.value is None or self.value != self.limit
        measured = self.ratio if self.ratio is not None else self.value
        if self.at_least:
            return measured is None or measured < self.limit - 1e-9
        return measured is None or measured > self.limit + 1e-9

    @property
    def budget(self) -> str:
        if self.limit is None:
            return "-"
        if self.exact:
            return f"= {fmt(self.limit)}"
        sign = "≥" if self.at_least else "≤"
        if self.ratio is not None:
            return f"{sign} {self.limit:g}×"
        return f"{sign} {fmt(self.limit)}"

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        if self.limit is None:
            return ""
        return "**OVER BUDGET**" if self.over else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "over": self.over, "budget": self.budget}


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


@dataclass
class Section:
    """A benchmark's figures plus any detail (markdown) that explains them."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    def add(self, name: str, value: float | None, **kwargs: Any) -> Figure:
        figure = Figure(self.key, name, value, **kwargs)
        self.figures.append(figure)
        return figure


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_environment(**extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env.update(extra)
    return env


def python_path(*entries: Path) -> str:
    return os.pathsep.join(str(entry) for entry in entries)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.1, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_json(method: str, url: str, body: Any = None, *, token: str | None = None, timeout: float = 30,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A JSON request to 127.0.0.1 (no proxies); returns (status, decoded body or text)."""
    sent = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data, sent, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")


def answers(url: str) -> bool:
    try:
        http_json("GET", url, timeout=1)
        return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM a child we started, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
