"""Dates and clock times for the stack tiers, relative to when the test runs (never a fixed date).

The product compares some dates with its own clock (an authorization may not be signed in the future, in UTC:
`LetterOfAuthorization.check`), and opening hours and quiet hours with the practice's wall clock; these
helpers give values that mean the same thing whatever the day and time the tests run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Quiet hours from 24:00 to 00:00: none (texts may go out at any minute of any day, DST days included).
NO_QUIET_HOURS = {"starts": "24:00", "ends": "00:00"}


def recent_signing_date(days_ago: int = 7) -> str:
    """An ISO date a few days before today in UTC (the day the product compares `signed_on` with)."""
    return (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()


def loa(signer_email: str = "dana@maplefamilyclinic.com") -> dict[str, str]:
    """A letter of authorization a Practice Director signed a week ago."""
    return {"signer_name": "Dana Reyes", "signer_title": "Practice Director", "signer_email": signer_email,
            "signed_on": recent_signing_date()}


def local_today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def weekday_days_from_now(timezone: str, days: int) -> str:
    """The weekday key (`mon`...`sun`) `days` days after today in `timezone`."""
    return WEEKDAYS[(local_today(timezone) + timedelta(days=days)).weekday()]


def upcoming_dates(days_ahead: int, length_days: int = 1) -> tuple[str, str]:
    """ISO first and last dates of a span starting `days_ahead` days after today (UTC)."""
    first = datetime.now(UTC).date() + timedelta(days=days_ahead)
    return first.isoformat(), (first + timedelta(days=length_days - 1)).isoformat()
