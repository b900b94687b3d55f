"""Where a voice call to a texting line goes at a moment: ring numbers or speak a message.

Pure, and free of pydantic: the voice webhook reads the rules as they were stored (they were
validated by `switchboard.rules.forwarding` when an admin saved them) and decides here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.rules.opening import OpeningHours

MAX_LINK_CHAIN = 10
NOT_FOR_CALLS = "This number is for text messages only. Please send us a text. Goodbye."
CLOSED_NOTICE = "We are closed right now. Please call back during business hours, or send us a text. Goodbye."


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
class CallRules:
    """A line's forwarding as stored: `{"open_hours": {...}, "after_hours": {"ring"|"say": ...}, "linked_line_id"}`."""

    open_hours: Ring | None = None
    after_hours_ring: Ring | None = None
    after_hours_say: Say | None = None
    linked_line_id: str | None = None

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
                   linked_line_id=stored.get("linked_line_id"))

    @property
    def routes_calls(self) -> bool:
        return bool(self.open_hours or self.after_hours_ring or self.after_hours_say)


def route_call(rules: CallRules | None, hours: OpeningHours, at: datetime, *, caller_id: str) -> Dial | Say:
    """What a call to a line with these (already resolved, not linked) rules does at `at`."""
    if rules is None or not rules.routes_calls:
        return Say(NOT_FOR_CALLS)
    if hours.is_open_at(at):
        if rules.open_hours:
            return Dial(list(rules.open_hours.numbers), rules.open_hours.timeout_seconds, caller_id)
        return Say(NOT_FOR_CALLS)
    if rules.after_hours_ring:
        return Dial(list(rules.after_hours_ring.numbers), rules.after_hours_ring.timeout_seconds, caller_id)
    if rules.after_hours_say:
        return rules.after_hours_say
    return Say(CLOSED_NOTICE)
