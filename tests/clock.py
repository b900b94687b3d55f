"""Times for tests, always reckoned from now: the clinic's coming week, recent and future dates, a clock
that only moves forward, and patient waits for what happens on other threads.

No test may depend on today's date. A test that needs "Monday at noon in Chicago" takes it from the
coming week (`coming_week()`), which has not started yet wherever the test runs, and moves the clock
there (`ClinicClock`) for everything it touches: the handlers, moto's queues and tables, the carrier
sandbox. Set-up data is written at the real time first, so the clock only ever moves forward.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

CLINIC_TIMEZONE = "America/Chicago"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PATIENCE = 60.0
"""Seconds to wait for something another thread does: only a failing test waits this long, and a loaded
2-core machine never needs more."""


def today() -> date:
    """Today as the handlers reckon it (UTC)."""
    return datetime.now(UTC).date()


def days_ago(days: int) -> date:
    return today() - timedelta(days=days)


def days_from_now(days: int) -> date:
    return today() + timedelta(days=days)


def recently_signed() -> str:
    """A letter of authorization's `signed_on`: two weeks ago, as the console sends it."""
    return days_ago(14).isoformat()


def loa(signer_email: str = "dana@maplefamilyclinic.com") -> dict[str, str]:
    """A letter of authorization a Practice Director signed recently."""
    return {"signer_name": "Dana Reyes", "signer_title": "Practice Director", "signer_email": signer_email,
            "signed_on": recently_signed()}


# Who Twilio calls and emails about a hosted order: the admin, never the landline being text-enabled.
ORDER_CONTACT = {"phone": "(415) 555-0199", "email": "office.admin@maplefamilyclinic.com"}

# The practice's business address: Twilio needs it (an Address) before it takes a hosted-number order.
PRACTICE_ADDRESS = {"customer_name": "Maple Family Clinic LLC", "street": "200 W Madison St",
                    "street_secondary": "Suite 400", "city": "Chicago", "region": "IL", "postal_code": "60606",
                    "iso_country": "US"}


# Quiet hours from 24:00 to 00:00: none (texts may go out at any minute of any day, DST days included).
NO_QUIET_HOURS = {"starts": "24:00", "ends": "00:00"}


def weekday_days_from_now(timezone: str, days: int) -> str:
    """The weekday key (`mon`...`sun`) `days` days after today in `timezone`."""
    return WEEKDAYS[(datetime.now(ZoneInfo(timezone)).date() + timedelta(days=days)).weekday()]


def upcoming_dates(days_ahead: int, length_days: int = 1) -> tuple[str, str]:
    """ISO first and last dates of a span starting `days_ahead` days after today (UTC)."""
    first = days_from_now(days_ahead)
    return first.isoformat(), (first + timedelta(days=length_days - 1)).isoformat()


def wall_clock(day: date, clock: str, timezone: str = CLINIC_TIMEZONE) -> datetime:
    """`clock` ("HH:MM") on `day` in `timezone`, in UTC."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


@dataclass(frozen=True)
class ClinicWeek:
    """Monday to Sunday of a week that has not started yet in the clinic's timezone.

    Every moment of it is ahead of now, and no daylight-saving change falls between Monday morning and
    Saturday (US changes happen on Sunday nights), so "Monday 22:00" and "Tuesday 08:00" are as many hours
    apart in any season.
    """

    monday: date
    timezone: str = CLINIC_TIMEZONE

    def day(self, weekday: str) -> date:
        return self.monday + timedelta(days=WEEKDAYS.index(weekday))

    def at(self, weekday: str, clock: str) -> datetime:
        """`weekday` at `clock` on the clinic's wall clock, in UTC."""
        return wall_clock(self.day(weekday), clock, self.timezone)


def coming_week(timezone: str = CLINIC_TIMEZONE, *, after: datetime | None = None) -> ClinicWeek:
    """The week whose Monday is the first one after today in `timezone`: one to seven days ahead."""
    local_today = (after or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    return ClinicWeek(local_today + timedelta(days=7 - local_today.weekday()), timezone)


def api_time(moment: datetime) -> str:
    """A moment as the APIs write it: `2026-11-24T14:00:00Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClinicClock:
    """The clock everything in the test reads once moved (time_machine patches the process: the handlers,
    moto, the carrier sandbox's threads); it moves forward only, because set-up data was written at the
    real time, and stays where it was put until the test ends."""

    def __init__(self) -> None:
        self._travel: time_machine.travel | None = None
        self._traveller: time_machine.Traveller | None = None

    def move_to(self, moment: datetime, *, tick: bool = False) -> datetime:
        """Now is `moment` (frozen there, or running on from it with `tick`)."""
        if moment < datetime.now(UTC):
            raise AssertionError(f"the clock only moves forward: {moment.isoformat()} is in the past")
        if self._travel is None or self._traveller is None:
            self._travel = time_machine.travel(moment, tick=tick)
            self._traveller = self._travel.start()
        else:
            self._traveller.move_to(moment, tick=tick)
        return moment

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
        self._travel, self._traveller = None, None


def past_an_attempt(clock: ClinicClock) -> datetime:
    """Move past the time a send attempt may still be running, after which a retry looks it up at the carrier."""
    from switchboard.flows.delivery import ATTEMPT_LEASE

    return clock.move_to(datetime.now(UTC) + ATTEMPT_LEASE + timedelta(seconds=1))


def wait_until[T](check: Callable[[], T], *, within: float = PATIENCE, every: float = 0.02) -> T:
    """Ask `check` until it answers something truthy, for up to `within` seconds of real (monotonic) time;
    its last answer either way."""
    deadline = time.monotonic() + within
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every)


def _sleep_by_select(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


def mend_sleep_under_libfaketime() -> bool:
    """Make `time.sleep` work again where libfaketime broke it; whether it had to.

    libfaketime 0.9.10 (Debian bookworm) with `FAKETIME_DONT_FAKE_MONOTONIC=1` shifts the absolute
    deadline Python (3.11 on) gives `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)` by the fake offset,
    and the kernel answers EINVAL: every `time.sleep` raises OSError (wolfcw/libfaketime#426). Waits with
    a relative timeout (select, locks, conditions) are unaffected, so sleep on select instead. Without
    `FAKETIME_DONT_FAKE_MONOTONIC`, thread waits hang instead, so the year-ahead run needs it.
    """
    try:
        time.sleep(1e-6)
    except OSError:
        time.sleep = _sleep_by_select
        return True
    return False
