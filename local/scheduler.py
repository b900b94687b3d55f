"""The template's `Schedule` / `ScheduleV2` events, run locally at their rate.

Each enabled `rate(...)` schedule calls its function every interval (first run one interval after start,
as EventBridge does) with an EventBridge "Scheduled Event". `LOCAL_SCHEDULE_SCALE` speeds time up:
with `LOCAL_SCHEDULE_SCALE=60`, `rate(5 minutes)` runs every 5 seconds. `cron(...)` schedules and
disabled ones only run on demand: `POST /local/schedules/<FunctionLogicalId>/run` (local.stack wires
it to `Scheduler.run_now`) runs a function's schedule now and returns what the handler returned.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, LOCAL_STACK_NAME
from local.template import Schedule

log = logging.getLogger("local.scheduler")


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


class Scheduler:
    """Runs schedules on one thread; `run_now` runs one on the caller's thread."""

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

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

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
        for schedule in self.schedules:
            if schedule.function_id == function_id:
                return self._fire(schedule)
        raise KeyError(function_id)

    def _fire(self, schedule: Schedule) -> Any:
        started = time.monotonic()
        result = self.invoke(schedule.function_id, scheduled_event(schedule))
        log.info(
            "%s: %s ran in %.0f ms", schedule.function_id, schedule.expression, (time.monotonic() - started) * 1000
        )
        return result
