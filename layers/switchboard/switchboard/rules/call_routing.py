"""Where a voice call to a texting line goes at a moment: ring numbers or speak a message.

Pure, and free of pydantic: the voice webhook reads the rules as they were stored (they were
validated by `switchboard.rules.forwarding` when an admin saved them) and decides here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.rules.opening import WEEKDAYS, OpeningHours, minutes

MAX_LINK_CHAIN = 10
NOT_FOR_CALLS = "This number is for text messages only. Please send us a text. Goodbye."
CLOSED_NOTICE = "We are closed right now. Please call back during business hours, or send us a text. Goodbye."
# Twilio sends a withheld caller as "anonymous" (or a non-number); such a call shows the line's number instead.
_DIALABLE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Dial:
    numbers: list[str]
    timeout_seconds: int
    caller_id: str


@dataclass(frozen=True)
class Say:
    text: str
    voice: str = "alice"
    language: str = "en-US"


@dataclass(frozen=True)
class Ring:
    numbers: tuple[str, ...]
    timeout_seconds: int

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> Ring | None:
        return cls(tuple(stored["numbers"]), int(stored["timeout_seconds"])) if stored else None


@dataclass(frozen=True)
class RingWindow:
    name: str
    days: frozenset[str]
    opens: int
    closes: int
    ring: Ring

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> RingWindow:
        return cls(stored["name"], frozenset(stored["days"]), minutes(stored["opens"]), minutes(stored["closes"]),
                   Ring(tuple(stored["ring"]["numbers"]), int(stored["ring"]["timeout_seconds"])))

    def covers(self, local: datetime) -> bool:
        return WEEKDAYS[local.weekday()] in self.days and self.opens <= local.hour * 60 + local.minute < self.closes


@dataclass(frozen=True)
class CallRules:
    """A line's forwarding as stored: `{"open_hours": {...}, "after_hours": {"ring"|"say": ...}, "linked_line_id"}`."""

    open_hours: Ring | None = None
    after_hours_ring: Ring | None = None
    after_hours_say: Say | None = None
    linked_line_id: str | None = None
    ring_windows: tuple[RingWindow, ...] = ()

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> CallRules | None:
        if not stored:
            return None
        after = stored.get("after_hours") or {}
        say = after.get("say")
        return cls(open_hours=Ring.from_stored(stored.get("open_hours")),
                   after_hours_ring=Ring.from_stored(after.get("ring")),
                   after_hours_say=Say(say["text"], say["voice"], say["language"])
                   if say else None,
                   linked_line_id=stored.get("linked_line_id"),
                   ring_windows=tuple(RingWindow.from_stored(w) for w in stored.get("ring_windows") or ()))

    @property
    def routes_calls(self) -> bool:
        return bool(self.open_hours or self.ring_windows or self.after_hours_ring or self.after_hours_say)

    def open_hours_ring(self, local: datetime) -> Ring | None:
        window = next((w for w in self.ring_windows if w.covers(local)), None)
        return window.ring if window else self.open_hours


def shown_caller(caller: str, line_number: str) -> str:
    """The number the desk sees: the patient's own where Twilio passes it through on a forwarded call."""
    return caller if _DIALABLE.match(caller) else line_number


def route_call(rules: CallRules | None, hours: OpeningHours, at: datetime, *, caller_id: str) -> Dial | Say:
    """What a call to a line with these (already resolved, not linked) rules does at `at`."""
    if rules is None or not rules.routes_calls:
        return Say(NOT_FOR_CALLS)
    if hours.is_open_at(at):
        ring = rules.open_hours_ring(at.astimezone(hours.zone))
        if ring:
            return Dial(list(ring.numbers), ring.timeout_seconds, caller_id)
        if not rules.ring_windows:
            return Say(NOT_FOR_CALLS)
    if rules.after_hours_ring:
        return Dial(list(rules.after_hours_ring.numbers), rules.after_hours_ring.timeout_seconds, caller_id)
    if rules.after_hours_say:
        return rules.after_hours_say
    return Say(CLOSED_NOTICE)
