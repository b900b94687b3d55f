"""What a voice call needs, read straight from the stored line and practice (their settings were
validated when saved): no domain models, so the voice webhook starts without pydantic. The two raw
reads here are also `data.lines`' own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from switchboard.rules.opening import OpeningHours, StoredClosure, StoredEmergencyClose, StoredWeek, line_opening_hours

from .keys import line_key, practice_key
from .models import LineItem, PracticeItem
from .table import Item


@dataclass(frozen=True)
class LineForCalls:
    practice_id: str
    line_id: str
    number: str
    status: str
    forwarding: Mapping[str, Any] | None
    hours: OpeningHours
    """The line's hours and timezone where it sets them, else its practice's; both's closures and its emergency
    close apply."""

    def without_forwarding(self) -> LineForCalls:
        return replace(self, forwarding=None)


def _for_calls(line: LineItem, practice: PracticeItem) -> LineForCalls:
    settings, practice_settings = line.settings or {}, practice.settings or {}
    own_hours = settings.get("hours")  # `{}` is a line closed all week, not a line without hours of its own
    hours = line_opening_hours(
        practice_hours=StoredWeek.from_stored(practice.hours or {}), practice_timezone=practice.timezone,
        practice_closures=[StoredClosure.from_stored(c) for c in practice_settings.get("closures") or ()],
        holiday_calendar=practice_settings.get("holiday_calendar"),
        line_hours=None if own_hours is None else StoredWeek.from_stored(own_hours),
        line_timezone=settings.get("timezone"),
        line_closures=[StoredClosure.from_stored(c) for c in settings.get("closures") or ()],
        emergency_close=StoredEmergencyClose.from_stored(settings.get("emergency_close")))
    return LineForCalls(line.practice_id, line.line_id, line.number, line.status, settings.get("forwarding"), hours)


def line_with_practice(practice_id: str, line_id: str) -> tuple[LineItem, PracticeItem] | None:
    """The line's item and its practice's, in one batch read."""
    found = {item.sk: item for item in Item.batch_get([(practice_key(practice_id), "PRACTICE"),
                                                      (practice_key(practice_id), line_key(line_id))])}
    line, practice = found.get(line_key(line_id)), found.get("PRACTICE")
    if not isinstance(line, LineItem) or not isinstance(practice, PracticeItem):
        return None
    return line, practice


def find_line(line_id: str) -> LineItem | None:
    """A line anywhere in the enterprise, by id."""
    found = [item for item in LineItem.gsi1.query("LINES", LineItem.gsi1sk == line_id) if isinstance(item, LineItem)]
    return found[0] if found else None


def line_for_calls(practice_id: str, line_id: str) -> LineForCalls | None:
    found = line_with_practice(practice_id, line_id)
    return _for_calls(*found) if found else None


def linked_line(line_id: str) -> LineForCalls | None:
    """The target of a link, with its own practice's hours."""
    line = find_line(line_id)
    if line is None:
        return None
    practice = next(iter(PracticeItem.batch_get([(practice_key(line.practice_id), "PRACTICE")])), None)
    return _for_calls(line, practice) if isinstance(practice, PracticeItem) else None
