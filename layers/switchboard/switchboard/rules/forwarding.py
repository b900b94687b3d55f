"""Call forwarding on a texting line as admins set it: open-hours and after-hours destinations, or a
link to another line, validated; what a line card says about calls, and whether a chain of links
loops. Where a call goes at a moment is `switchboard.rules.call_routing`, which reads what these models saved.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from switchboard.core.fields import DomainModel, UsPhoneNumber
from switchboard.core.phones import format_national
from switchboard.rules.call_routing import MAX_LINK_CHAIN, MAX_RING_GROUP, MAX_RING_WINDOWS
from switchboard.rules.hours import ClockTime
from switchboard.rules.opening import WEEKDAYS, Weekday, minutes

HOSTED_CALLS = "Calls go to the clinic's own phone system (only texting was moved to this service)"
HOSTED_CALLS_REFUSAL = ("a hosted line takes no call routing: its calls never reach the carrier, voice stays with "
                        "the clinic's phone company")
Voice = Literal["alice", "man", "woman", "Polly.Joanna", "Polly.Matthew", "Polly.Lupe", "Polly.Miguel"]
SpokenText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CallStatus(StrEnum):
    FORWARDING = "forwarding"
    LINKED = "linked"
    UNASSIGNED = "unassigned"


class RingGroup(DomainModel):
    """One number, or several that ring together (the first to answer takes the call) or one after another."""

    model_config = ConfigDict(extra="forbid")

    numbers: list[UsPhoneNumber] = Field(min_length=1, max_length=MAX_RING_GROUP)
    mode: Literal["simultaneous", "in_order"] = "simultaneous"
    timeout_seconds: int = Field(default=20, ge=5, le=60)
    """How long the group rings, or each number when ringing in order."""

    @model_validator(mode="after")
    def _distinct(self) -> RingGroup:
        if len(set(self.numbers)) != len(self.numbers):
            raise ValueError("lists a number twice")
        return self


class SpokenMessage(DomainModel):
    model_config = ConfigDict(extra="forbid")

    text: SpokenText
    voice: Voice = "alice"
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[A-Z]{2}$")] = "en-US"


class RingWindow(DomainModel):
    """Part of the open hours on some weekdays, in the line's timezone, that rings its own group."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    days: list[Weekday] = Field(min_length=1, max_length=7)
    opens: ClockTime
    closes: ClockTime
    ring: RingGroup

    @model_validator(mode="after")
    def _in_order(self) -> RingWindow:
        if self.opens == "24:00" or minutes(self.closes) <= minutes(self.opens):
            raise ValueError("a ring window must close after it opens, on the same day")
        if len(set(self.days)) != len(self.days):
            raise ValueError("lists a day twice")
        return self


class VoicemailBox(DomainModel):
    """A greeting, then the caller's message, recorded for staff to hear from the conversation."""

    model_config = ConfigDict(extra="forbid")

    greeting: SpokenText
    max_seconds: int = Field(default=120, ge=10, le=600)
    voice: Voice = "alice"
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}-[A-Z]{2}$")] = "en-US"


class AfterHoursRoute(DomainModel):
    """After hours, on closures and when open-hours numbers go unanswered: ring other numbers, speak a message and
    hang up, or take a voicemail; a ring may keep a voicemail for when nobody answers it."""

    model_config = ConfigDict(extra="forbid")

    ring: RingGroup | None = None
    say: SpokenMessage | None = None
    voicemail: VoicemailBox | None = None

    @model_validator(mode="after")
    def _one(self) -> AfterHoursRoute:
        if [self.ring, self.say, self.voicemail].count(None) != 2 and not (self.ring and self.voicemail
                                                                            and self.say is None):
            raise ValueError("give one of ring, say or voicemail (or ring with a voicemail for when nobody answers)")
        return self


class Forwarding(DomainModel):
    model_config = ConfigDict(extra="forbid")

    open_hours: RingGroup | None = None
    """Rings whenever the line is open and no ring window covers the moment."""
    ring_windows: list[RingWindow] = Field(default_factory=list, max_length=MAX_RING_WINDOWS)
    after_hours: AfterHoursRoute | None = None
    linked_line_id: str | None = Field(default=None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def _linked_alone(self) -> Forwarding:
        if self.linked_line_id and (self.open_hours or self.ring_windows or self.after_hours):
            raise ValueError("a linked line follows its target's rules; give no destinations of its own")
        return self

    @model_validator(mode="after")
    def _windows_apart(self) -> Forwarding:
        for day in WEEKDAYS:
            spans = sorted((minutes(w.opens), minutes(w.closes), w.name) for w in self.ring_windows if day in w.days)
            for (_, closes, name), (opens, _, next_name) in zip(spans, spans[1:], strict=False):
                if opens < closes:
                    raise ValueError(f"ring windows {name!r} and {next_name!r} overlap on {day}")
        return self

    def destinations(self) -> list[str]:
        groups = [self.open_hours, *(w.ring for w in self.ring_windows),
                  self.after_hours.ring if self.after_hours else None]
        return [number for group in groups if group for number in group.numbers]


def call_status(forwarding: Forwarding | None) -> CallStatus:
    if forwarding is None:
        return CallStatus.UNASSIGNED
    if forwarding.linked_line_id:
        return CallStatus.LINKED
    if forwarding.open_hours or forwarding.ring_windows or forwarding.after_hours:
        return CallStatus.FORWARDING
    return CallStatus.UNASSIGNED


def _ring_summary(group: RingGroup) -> str:
    shown = ", ".join(format_national(n) for n in group.numbers)
    if len(group.numbers) == 1:
        return f"rings {shown}"
    return f"rings {shown} in order" if group.mode == "in_order" else f"rings {shown} together"


def routing_summary(forwarding: Forwarding | None) -> str:
    """One line for a card: what a call to this line does (a linked line's own rules are shown by the caller)."""
    if call_status(forwarding) is CallStatus.UNASSIGNED or forwarding is None:
        return "No call routing: callers hear that the number is for texts"
    windows = [f"{w.name} ({', '.join(d.capitalize() for d in w.days)} {w.opens}–{w.closes}) "
               f"{_ring_summary(w.ring)}" for w in forwarding.ring_windows]
    if forwarding.open_hours:
        rest = "otherwise " if windows else ""
        windows.append(f"{rest}{_ring_summary(forwarding.open_hours)}")
    parts = [f"Open hours: {'; '.join(windows)}" if windows else "Open hours: texts only"]
    after = forwarding.after_hours
    if after and after.ring:
        unanswered = ", then voicemail" if after.voicemail else ""
        parts.append(f"after hours: {_ring_summary(after.ring)}{unanswered}")
    elif after and after.say:
        parts.append("after hours: a spoken message")
    elif after and after.voicemail:
        parts.append("after hours: voicemail")
    else:
        parts.append("after hours: closed notice")
    return "; ".join(parts)


def check_destinations(forwarding: Forwarding, own_number: str) -> None:
    if own_number in forwarding.destinations():
        raise ValueError("a line cannot forward to its own number")


def find_loop(start: str, links: dict[str, str | None]) -> list[str] | None:
    """The chain of line ids that comes back to itself when following links from `start`, if any."""
    chain = [start]
    current = links.get(start)
    while current is not None:
        if current in chain:
            return [*chain[chain.index(current):], current]
        chain.append(current)
        if len(chain) > MAX_LINK_CHAIN:
            return chain
        current = links.get(current)
    return None
