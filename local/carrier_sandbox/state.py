"""The sandbox's account: one JSON document under a lock, written to disk shortly after each change."""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("carrier_sandbox")

FLUSH_SECONDS = 0.2


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def public(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource as the API shows it: without the "_" keys the sandbox keeps for itself."""
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def empty_state() -> dict[str, Any]:
    return {
        "clock_offset": 0.0,
        "messages": {},  # sid → message resource (+ "_" keys the API never shows)
        "media": {},  # sid → an MMS file's Media resource (+ its bytes in base64, while not deleted)
        "numbers": {},  # sid → incoming phone number resource
        "orders": {},  # sid → hosted number order resource (its authorization document inside it)
        "addresses": {},  # sid → address resource
        "calls": {},  # sid → a simulated call and the TwiML steps it took
        "opt_outs": [],  # ["<sender>|<recipient>"]
        "advanced_opt_out": {},  # receiving number → its Messaging Service's Advanced Opt-Out texts
        "landlines": [],
        "faults": [],
        "fault_rate": None,
        "faults_for": None,  # recipients the faults are for (None: every send)
    }


class Store:
    """State shared by the HTTP threads and the delivery timers.

    Use `with store.change() as state:` to modify (marks it for the next write) and
    `with store.read() as state:` to look. The file is written at most every FLUSH_SECONDS and on
    `close()`, so a load test does not rewrite the whole file for every status change.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "carrier.json"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._dirty = threading.Event()
        self._closing = threading.Event()
        document = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.account_sid: str = document.get("account_sid") or new_sid("AC")
        self.auth_token: str = document.get("auth_token") or secrets.token_hex(16)
        self.state: dict[str, Any] = empty_state() | document.get("state", {})
        self._write()
        self._flusher: threading.Thread | None = None

    def open(self) -> None:
        """Start writing changes to disk (again, after `close()`)."""
        if self._flusher is None:
            self._closing.clear()
            self._flusher = threading.Thread(target=self._flush_loop, name="carrier-sandbox-flush", daemon=True)
            self._flusher.start()

    @contextmanager
    def read(self) -> Any:
        with self._lock:
            yield self.state

    @contextmanager
    def change(self) -> Any:
        with self._lock:
            yield self.state
            self._dirty.set()

    def reset(self) -> None:
        with self.change() as state:
            state.clear()
            state.update(empty_state())

    def now(self) -> float:
        """Sandbox time: the wall clock plus what `/sandbox/clock` added."""
        return time.time() + float(self.state.get("clock_offset", 0.0))

    def close(self) -> None:
        self._closing.set()
        self._dirty.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
            self._flusher = None
        self._write()

    def _flush_loop(self) -> None:
        while not self._closing.is_set():
            self._dirty.wait()
            if self._closing.wait(FLUSH_SECONDS):
                return  # close() writes the last state
            self._dirty.clear()
            self._write()

    def _write(self) -> None:
        with self._lock:
            text = json.dumps(
                {"account_sid": self.account_sid, "auth_token": self.auth_token, "state": self.state}, indent=1
            )
        temporary = self.path.with_suffix(".json.tmp")
        try:
            temporary.write_text(text)
            os.replace(temporary, self.path)
        except OSError as error:
            log.warning("carrier sandbox could not save its state: %s", error)


def rfc2822(timestamp: float) -> str:
    return format_datetime(datetime.fromtimestamp(timestamp, UTC))


def iso8601(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dlr_done(timestamp: float) -> str:
    """`RawDlrDoneDate`: YYMMDDhhmm, UTC, no zone."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%y%m%d%H%M")


def parse_time(text: str) -> float | None:
    """An ISO 8601 date or date-time (`Z` or offset), or an RFC 2822 date, as a timestamp."""
    from email.utils import parsedate_to_datetime

    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
