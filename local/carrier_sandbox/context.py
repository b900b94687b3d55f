"""What the sandbox's APIs share: the account's state, the settings, the delivery clock and signed webhooks."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from local.carrier_sandbox.state import Store
from switchboard.carrier.signatures import sign

log = logging.getLogger("carrier_sandbox")

# Webhooks go to receivers on this machine: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Settings:
    """The constructor's knobs; `POST /sandbox/config` changes all but `callback_timeout` while the sandbox runs."""

    message_delays: tuple[float, ...]
    order_step_seconds: float
    strict_from: bool
    callback_timeout: float
    # The A2P 10DLC campaign state a new Messaging Service starts with (None: no campaign, as at Twilio).
    new_campaign_status: str | None = "VERIFIED"


class Timers:
    """Runs callables after a delay on a small pool, so slow callback receivers don't stall the clock."""

    def __init__(self, workers: int = 16) -> None:
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._ready = threading.Condition()
        self._order = itertools.count()
        self._closed = False
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="carrier-sandbox-timer")
        self._thread = threading.Thread(target=self._run, name="carrier-sandbox-clock", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        with self._ready:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._order), action, args))
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._heap.clear()
            self._ready.notify()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._ready.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._closed:
                    return
                _, _, action, args = heapq.heappop(self._heap)
            try:
                self._pool.submit(self._safely, action, args)
            except RuntimeError:  # pool shut down under us
                return

    @staticmethod
    def _safely(action: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            action(*args)
        except Exception:
            log.exception("carrier sandbox timer failed")


class Context:
    """Handed to every API: `CarrierSandbox` sets `timers` while it runs and `stopping` when it stops."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.timers: Timers | None = None
        self.stopping = threading.Event()

    @property
    def account_sid(self) -> str:
        return self.store.account_sid

    @property
    def auth_token(self) -> str:
        return self.store.auth_token

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Nothing happens when the sandbox is not running (a restart resumes deliveries)."""
        if self.timers is not None:
            self.timers.call_later(delay, action, *args)

    def pause(self, seconds: float) -> None:
        """Waits, but no longer than until the sandbox stops."""
        self.stopping.wait(max(float(seconds), 0.0))

    def advance_clock(self, seconds: float) -> float:
        with self.store.change() as state:
            state["clock_offset"] = float(state["clock_offset"]) + seconds
            return self.store.now()

    def post_webhook(
        self, url: str, params: dict[str, str], *, method: str = "POST", timeout: float = 15.0
    ) -> tuple[int | None, str, str | None]:
        """(HTTP status, body, problem) of a signed webhook; unreachable URLs are logged, never raised."""
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        data: bytes | None = None
        if method.upper() == "GET":
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
            headers["X-Twilio-Signature"] = sign(url, {}, self.auth_token)
        else:
            data = urlencode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-Twilio-Signature"] = sign(url, params, self.auth_token)
        request = urllib.request.Request(url, data=data, headers=headers, method=method.upper())
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                return int(answer.status), answer.read().decode("utf-8", errors="replace"), None
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode("utf-8", errors="replace"), None
        except (urllib.error.URLError, OSError, ValueError) as error:
            return None, "", str(error)
