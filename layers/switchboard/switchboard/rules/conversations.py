"""The inbox as staff read it: conversations, their messages, and the patients a phone may be."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from switchboard.core.fields import DomainModel
from switchboard.rules.messages import Direction, MessageStatus, SenderKind


class PatientMatch(DomainModel):
    """A verified patient elsewhere in the enterprise with the same phone."""

    practice_id: str
    patient_id: str
    name: str


class LastMessage(DomainModel):
    direction: Direction
    body: str
    status: MessageStatus
    created_at: datetime


class OptOutRequest(DomainModel):
    """The patient's text that sounds like a request to stop, until staff decide."""

    message_id: str
    at: datetime


class TextFailure(DomainModel):
    """Why the conversation's last outbound text did not reach the patient: the carrier's code, and the reason
    recorded (the API explains a code from the carrier's table as it answers)."""

    code: int | None = None
    reason: str


class ConversationState(StrEnum):
    """Where a conversation stands for staff: open (waiting on someone), snoozed (open, but out of the views
    until its time), closed (done; a new patient text opens it again)."""

    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"


class InboxView(StrEnum):
    """The inbox's views: open conversations nobody owns, mine, every open one, snoozed ones, closed ones."""

    UNASSIGNED = "unassigned"
    MINE = "mine"
    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"


LONGEST_SNOOZE = timedelta(days=90)


def state_of(*, closed: bool, snoozed_until: datetime | None, at: datetime) -> ConversationState:
    if closed:
        return ConversationState.CLOSED
    if snoozed_until is not None and snoozed_until > at:
        return ConversationState.SNOOZED
    return ConversationState.OPEN


class Assignee(DomainModel):
    """Who owns the conversation: a user of the practice."""

    user_id: str
    name: str


class StaffReply(DomainModel):
    """The conversation's latest reply from staff: who sent it, so a colleague about to reply is told."""

    message_id: str
    user_id: str
    name: str
    at: datetime


def unseen_colleague_reply(latest: StaffReply | None, *, user_id: str, seen_message_id: str | None
                           ) -> StaffReply | None:
    """The colleague's reply a staff member has not seen yet (their thread ended at `seen_message_id`, a
    time-ordered id): sending now would answer the patient twice. None when there is none, or when the
    request says nothing of what was seen (an API client that does not ask)."""
    if latest is None or seen_message_id is None or latest.user_id == user_id:
        return None
    return latest if latest.message_id > seen_message_id else None


def answered_just_now(reply: StaffReply, at: datetime) -> str:
    ago = max(0, int((at - reply.at).total_seconds()))
    when = f"{ago} s ago" if ago < 120 else f"{ago // 60} min ago"
    return f"{reply.name} answered this patient {when}; read their reply before sending yours"


class InboxEntry(DomainModel):
    """A conversation as the inbox lists it."""

    line_id: str
    phone: str
    phone_display: str
    unread: int
    last_activity_at: datetime
    opted_out: bool
    not_textable: bool
    verified: bool
    mpsp: bool
    patient_id: str | None = None
    patient_name: str | None = None
    matches: list[PatientMatch] = Field(default_factory=list)
    last_message: LastMessage | None = None
    opt_out_requested: OptOutRequest | None = None
    last_text_failed: TextFailure | None = None
    state: ConversationState = ConversationState.OPEN
    assignee: Assignee | None = None
    snoozed_until: datetime | None = None
    last_staff_reply: StaffReply | None = None


def open_opt_out_request(requested: Mapping[str, Any] | None, *, opted_out: bool) -> OptOutRequest | None:
    """A request still waiting for staff: an opted-out patient has nothing left to ask."""
    return OptOutRequest(**requested) if requested and not opted_out else None


def last_text_failure(failed: Mapping[str, Any] | None) -> TextFailure | None:
    if not failed:
        return None
    code = int(failed["code"]) if failed.get("code") is not None else None
    return TextFailure(code=code, reason=failed.get("reason") or "")


class DeliveryError(DomainModel):
    """Why a text did not reach the patient, as staff see it: the carrier's code when it gave one."""

    code: int | None = None
    reason: str
    what_to_do: str | None = None


class Attachment(DomainModel):
    """A text's picture or file as staff see it: a short-lived link once kept, the reason when it was not."""

    n: int
    state: str
    content_type: str | None = None
    size: int | None = None
    inline: bool = False
    url: str | None = None
    reason: str | None = None


class Message(DomainModel):
    message_id: str
    line_id: str
    phone: str = Field(exclude=True)
    direction: Direction
    body: str | None = None
    sender: SenderKind
    sender_id: str | None = None
    status: MessageStatus
    error_code: int | None = None
    error_reason: str | None = None
    carrier_sid: str | None = None
    flag: str | None = None
    recording_url: str | None = None
    """A voicemail's recording, at the carrier (its body says how long it is)."""
    error: DeliveryError | None = None
    media: list[Attachment] = Field(default_factory=list)
    created_at: datetime


@dataclass(frozen=True)
class Merged[K: Hashable, T]:
    items: list[T]
    counts: Counter[K]


def newest_first[K: Hashable, T](streams: Mapping[K, Sequence[T]], limit: int, *, key: Callable[[T], Any]
                                 ) -> Merged[K, T]:
    """The first `limit` of several newest-first streams, and how many were taken from each.

    Each stream keeps its own order, so a stream resumes right after the last item taken from it.
    """
    tagged = ([(name, item) for item in items] for name, items in streams.items())
    taken = list(itertools.islice(heapq.merge(*tagged, key=lambda pair: key(pair[1]), reverse=True), limit))
    counts: Counter[K] = Counter(dict.fromkeys(streams, 0))
    counts.update(name for name, _ in taken)
    return Merged([item for _, item in taken], counts)
