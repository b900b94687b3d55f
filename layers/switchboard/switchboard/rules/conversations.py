"""The inbox as staff read it: conversations, their messages, and the patients a phone may be."""

from __future__ import annotations

from datetime import datetime

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
    created_at: datetime
