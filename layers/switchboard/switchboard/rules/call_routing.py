"""Where a voice call to a texting line goes at a moment: ring numbers, speak a message or take a voicemail,
and where it goes on to when the numbers rung did not answer.

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
MAX_RING_GROUP = 10  # a <Dial> rings at most ten numbers at once
MAX_RING_WINDOWS = 28
NOT_FOR_CALLS = "This number is for text messages only. Please send us a text. Goodbye."
CLOSED_NOTICE = "We are closed right now. Please call back during business hours, or send us a text. Goodbye."
NOBODY_ANSWERED = "Sorry, nobody could take your call. Please call back later, or send us a text. Goodbye."
OPEN_HOURS, AFTER_HOURS, WINDOW = "open", "after_hours", "window-"
# Twilio's DialCallStatus: these three leave the caller waiting; completed, answered and canceled end the call.
UNANSWERED = frozenset({"no-answer", "busy", "failed"})
DIAL_STATUSES = UNANSWERED | {"completed", "answered", "canceled"}
# Twilio sends a withheld caller as "anonymous" (or a non-number); such a call shows the line's number instead.
_DIALABLE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Hop:
    """A ring group a <Dial> rang (`open`, `after_hours`, `window-<n>`) and, ringing in order, which of its numbers:
    where a call the numbers did not answer goes on from."""

    group: str
    position: int = 0


@dataclass(frozen=True)
class Dial:
    numbers: list[str]
    timeout_seconds: int
    caller_id: str
    hop: Hop = Hop(OPEN_HOURS)


@dataclass(frozen=True)
class Say:
    text: str
    voice: str = "alice"
    language: str = "en-US"


@dataclass(frozen=True)
class Voicemail:
    greeting: Say
    max_seconds: int

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> Voicemail | None:
        if not stored:
            return None
        return cls(Say(stored["greeting"], stored.get("voice") or "alice", stored.get("language") or "en-US"),
                   int(stored["max_seconds"]))


@dataclass(frozen=True)
class HangUp:
    """The call is over: it was answered, or the caller gave up."""


@dataclass(frozen=True)
class Ring:
    numbers: tuple[str, ...]
    timeout_seconds: int
    """Each number's ring time when ringing in order, else the whole group's."""
    in_order: bool = False

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> Ring:
        # Groups saved before ringing in order existed have no mode: they ring together.
        return cls(tuple(stored["numbers"]), int(stored["timeout_seconds"]), stored.get("mode") == "in_order")

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> Ring | None:
        return cls.of(stored) if stored else None


Route = Dial | Say | Voicemail | HangUp


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
                   Ring.of(stored["ring"]))

    def covers(self, local: datetime) -> bool:
        return WEEKDAYS[local.weekday()] in self.days and self.opens <= local.hour * 60 + local.minute < self.closes


@dataclass(frozen=True)
class CallRules:
    """A line's forwarding as stored: `{"open_hours": {...}, "after_hours": {"ring"|"say"|"voicemail": ...},
    "linked_line_id"}`."""

    open_hours: Ring | None = None
    after_hours_ring: Ring | None = None
    after_hours_say: Say | None = None
    after_hours_voicemail: Voicemail | None = None
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
                   after_hours_voicemail=Voicemail.from_stored(after.get("voicemail")),
                   linked_line_id=stored.get("linked_line_id"),
                   ring_windows=tuple(RingWindow.from_stored(w) for w in stored.get("ring_windows") or ()))

    @property
    def routes_calls(self) -> bool:
        return bool(self.open_hours or self.ring_windows or self.after_hours_ring or self.after_hours_say
                    or self.after_hours_voicemail)

    def open_hours_group(self, local: datetime) -> tuple[str, Ring] | None:
        """The group that rings now in open hours (a covering window's, else the open-hours one), and its name."""
        window = next((n for n, w in enumerate(self.ring_windows) if w.covers(local)), None)
        if window is not None:
            return f"{WINDOW}{window}", self.ring_windows[window].ring
        return (OPEN_HOURS, self.open_hours) if self.open_hours else None

    def group(self, name: str) -> Ring | None:
        """A group by its name in a <Dial>'s action; None when the rules no longer have it (they were changed)."""
        if name == OPEN_HOURS:
            return self.open_hours
        if name == AFTER_HOURS:
            return self.after_hours_ring
        index = name.removeprefix(WINDOW)
        if name.startswith(WINDOW) and index.isdigit() and int(index) < len(self.ring_windows):
            return self.ring_windows[int(index)].ring
        return None


def shown_caller(caller: str, line_number: str) -> str:
    """The number the desk sees: the patient's own where Twilio passes it through on a forwarded call."""
    return caller if _DIALABLE.match(caller) else line_number


def _dial(ring: Ring, hop: Hop, caller_id: str) -> Dial:
    numbers = [ring.numbers[hop.position]] if ring.in_order else list(ring.numbers)
    return Dial(numbers, ring.timeout_seconds, caller_id, hop)


def _after_hours(rules: CallRules, caller_id: str, *, otherwise: str) -> Route:
    if rules.after_hours_ring:
        return _dial(rules.after_hours_ring, Hop(AFTER_HOURS), caller_id)
    return rules.after_hours_say or rules.after_hours_voicemail or Say(otherwise)


def route_call(rules: CallRules | None, hours: OpeningHours, at: datetime, *, caller_id: str,
               after: Hop | None = None, dial_status: str | None = None) -> Route:
    """What a call to a line with these (already resolved, not linked) rules does at `at`; with `after`, what it
    does once the <Dial> of that hop ended with `dial_status`."""
    if after is not None:
        return _after_dial(rules, after, dial_status, caller_id)
    if rules is None or not rules.routes_calls:
        return Say(NOT_FOR_CALLS)
    if hours.is_open_at(at):
        found = rules.open_hours_group(at.astimezone(hours.zone))
        if found:
            return _dial(found[1], Hop(found[0]), caller_id)
        if not rules.ring_windows:
            return Say(NOT_FOR_CALLS)
    return _after_hours(rules, caller_id, otherwise=CLOSED_NOTICE)


def _after_dial(rules: CallRules | None, after: Hop, dial_status: str | None, caller_id: str) -> Route:
    if dial_status not in UNANSWERED:
        return HangUp()
    if rules is None:
        return Say(NOBODY_ANSWERED)
    ring = rules.group(after.group)
    if ring and ring.in_order and after.position + 1 < len(ring.numbers):
        return _dial(ring, Hop(after.group, after.position + 1), caller_id)
    if after.group != AFTER_HOURS:
        return _after_hours(rules, caller_id, otherwise=NOBODY_ANSWERED)
    return rules.after_hours_voicemail or Say(NOBODY_ANSWERED)
