"""The template's `Schedule` / `ScheduleV2` events, run locally at their rate.

Each enabled `rate(...)` schedule calls its function every interval (first run one interval after start,
as EventBridge does) with an EventBridge "Scheduled Event". `LOCAL_SCHEDULE_SCALE` speeds time up:
with `LOCAL_SCHEDULE_SCALE=60`, `rate(5 minutes)` runs every 5 seconds. `cron(...)` schedules and
disabled ones only run on demand.

On demand, any schedule runs now: `Scheduler.start_run` runs it on a thread of its own and returns a
`ScheduledRun` at once (`POST /local/schedules/<FunctionLogicalId>/run` in local.stack answers 202 with it);
`Scheduler.find_run` finds it again until it is one of the oldest past `KEPT_RUNS`, and `ScheduledRun.wait`
waits for it. A run can take longer than an HTTP client waits (a campaign of hundreds of texts on a busy
machine), so no request is held open for a whole run. `Scheduler.run_now` runs one on the caller's thread
and returns what the handler returned.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, LOCAL_STACK_NAME
from local.template import Schedule

log = logging.getLogger("local.scheduler")

KEPT_RUNS = 100  # on-demand runs remembered (the oldest finished ones are forgotten first)


def new_run_id() -> str:
    """16 random lowercase letters: no digits, so no log's phone-number masking ever rewrites one."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))


def scheduled_event(
    schedule: Schedule,
    when: datetime | None = None,
    region: str = LOCAL_REGION,
    account_id: str = LOCAL_ACCOUNT_ID,
) -> dict[str, Any]:
    """The event EventBridge sends a function for a scheduled rule."""
    when = when or datetime.now(UTC)
    rule = f"{LOCAL_STACK_NAME}-{schedule.function_id}-schedule"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule}"],
        "detail": {},
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ScheduledRun:
    """One on-demand run of a function's schedule: running, then succeeded (with the handler's result) or
    failed (with the exception's type and message, as Lambda reports a function error)."""

    def __init__(self, function_id: str) -> None:
        self.run_id = new_run_id()
        self.function_id = function_id
        self.started_at = datetime.now(UTC)
        self.finished_at: datetime | None = None
        self.result: Any = None
        self.error: dict[str, str] | None = None
        self._started = time.monotonic()
        self._duration_ms: int | None = None
        self._done = threading.Event()

    @property
    def status(self) -> str:
        if not self._done.is_set():
            return "running"
        return "failed" if self.error is not None else "succeeded"

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for the run to finish; whether it has."""
        return self._done.wait(timeout)

    def succeeded(self, result: Any) -> None:
        self.result = json.loads(json.dumps(result, default=str))  # what an HTTP answer can carry
        self._finish()

    def failed(self, error: BaseException) -> None:
        self.error = {"errorType": type(error).__name__, "errorMessage": str(error)}
        self._finish()

    def _finish(self) -> None:
        self._duration_ms = round((time.monotonic() - self._started) * 1000)
        self.finished_at = datetime.now(UTC)
        self._done.set()

    def describe(self) -> dict[str, Any]:
        """The run as `/local/schedules/<Fn>/runs/<run_id>` answers it (JSON)."""
        done = self._done.is_set()  # once set, every field below is final
        return {
            "function": self.function_id,
            "run_id": self.run_id,
            "status": ("failed" if self.error is not None else "succeeded") if done else "running",
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at) if done else None,
            "duration_ms": self._duration_ms if done else None,
            "result": self.result if done else None,
            "error": self.error if done else None,
        }


class Scheduler:
    """Runs schedules on one thread; `start_run` runs one now on a thread of its own, `run_now` on the
    caller's thread."""

    def __init__(
        self, schedules: list[Schedule], invoke: Callable[[str, dict[str, Any]], Any], scale: float = 1.0
    ) -> None:
        if scale <= 0:
            raise ValueError(f"LOCAL_SCHEDULE_SCALE must be positive, got {scale}")
        self.schedules = schedules
        self.invoke = invoke
        self.scale = scale
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._runs: OrderedDict[str, tuple[ScheduledRun, threading.Thread]] = OrderedDict()
        self._runs_lock = threading.Lock()

    def timed(self) -> list[tuple[Schedule, float]]:
        """The schedules that run by themselves, with their (scaled) interval in seconds."""
        found = []
        for schedule in self.schedules:
            if not schedule.enabled:
                log.info(
                    "%s: schedule %s is disabled; run it with /local/schedules/.../run",
                    schedule.function_id,
                    schedule.expression,
                )
                continue
            try:
                found.append((schedule, schedule.interval_seconds / self.scale))
            except ValueError:
                log.warning("%s: %s is not a rate; it only runs on demand", schedule.function_id, schedule.expression)
        return found

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        """Stop the timed runs and give on-demand runs still going up to `timeout` seconds to finish."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._thread is not None:
            self._thread.join(timeout)
        with self._runs_lock:
            going = [thread for run, thread in self._runs.values() if not run.finished]
        for thread in going:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        timed = self.timed()
        due = [time.monotonic() + interval for _, interval in timed]
        while timed and not self._stop.is_set():
            index = min(range(len(timed)), key=due.__getitem__)
            if self._stop.wait(max(0.0, due[index] - time.monotonic())):
                break
            schedule, interval = timed[index]
            due[index] += interval
            try:
                self._fire(schedule)
            except Exception:
                log.exception("%s: scheduled run failed", schedule.function_id)

    def run_now(self, function_id: str) -> Any:
        """Run a function's schedule now (KeyError if it has none); returns the handler's result."""
        return self._fire(self._schedule_of(function_id))

    def start_run(self, function_id: str) -> ScheduledRun:
        """Start running a function's schedule now on a thread of its own (KeyError if it has none).

        Runs of one function still take turns, as invocations of one Lambda instance do.
        """
        schedule = self._schedule_of(function_id)
        run = ScheduledRun(function_id)
        thread = threading.Thread(target=self._run_on_demand, args=(schedule, run),
                                  name=f"local-schedule-run-{function_id}", daemon=True)
        with self._runs_lock:
            self._runs[run.run_id] = (run, thread)
            self._forget_old_runs()
        thread.start()
        return run

    def find_run(self, function_id: str, run_id: str) -> ScheduledRun:
        """A run `start_run` started (KeyError if unknown, of another function, or forgotten)."""
        with self._runs_lock:
            found = self._runs.get(run_id)
        if found is None or found[0].function_id != function_id:
            raise KeyError(run_id)
        return found[0]

    def _run_on_demand(self, schedule: Schedule, run: ScheduledRun) -> None:
        try:
            result = self._fire(schedule)
        except Exception as error:
            log.exception("%s: run %s failed", schedule.function_id, run.run_id)
            run.failed(error)
            return
        try:
            run.succeeded(result)
        except Exception as error:  # a result JSON cannot carry, even as text: say so rather than hang
            run.failed(error)

    def _forget_old_runs(self) -> None:
        finished = [run_id for run_id, (run, _) in self._runs.items() if run.finished]
        for run_id in finished[: max(0, len(self._runs) - KEPT_RUNS)]:
            del self._runs[run_id]

    def _schedule_of(self, function_id: str) -> Schedule:
        for schedule in self.schedules:
            if schedule.function_id == function_id:
                return schedule
        raise KeyError(function_id)

    def _fire(self, schedule: Schedule) -> Any:
        started = time.monotonic()
        result = self.invoke(schedule.function_id, scheduled_event(schedule))
        log.info(
            "%s: %s ran in %.0f ms", schedule.function_id, schedule.expression, (time.monotonic() - started) * 1000
        )
        return result
