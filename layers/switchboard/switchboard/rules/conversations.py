"""The inbox as staff read it: conversations, their messages, and the patients a phone may be."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
