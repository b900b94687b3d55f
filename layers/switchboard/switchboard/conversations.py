"""Contacts, conversations and messages: who a patient is to a practice, and what was said on a line."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class MessageStatus(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    RECEIVED = "received"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class SenderKind(StrEnum):
    WORKFLOW = "workflow"
    STAFF = "staff"
    AUTO_RESPONSE = "auto_response"
    INTEGRATION = "integration"
    CAMPAIGN = "campaign"
    PATIENT = "patient"


FINAL_STATUSES = frozenset(
    {MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.SUPPRESSED,
     MessageStatus.RECEIVED}
)

# Delivery moves one way: a late "sent" never overwrites "delivered".
_RANK = {MessageStatus.SCHEDULED: -1, MessageStatus.QUEUED: 0,
         MessageStatus.SENDING: 1, MessageStatus.SENT: 2, MessageStatus.DELIVERED: 3,
         MessageStatus.UNDELIVERED: 3, MessageStatus.FAILED: 3}

CARRIER_STATUSES: dict[str, MessageStatus] = {
    "queued": MessageStatus.SENDING,
    "accepted": MessageStatus.SENDING,
    "scheduled": MessageStatus.SENDING,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


def statuses_before(status: MessageStatus) -> list[MessageStatus]:
    """The statuses a message may move to `status` from."""
    rank = _RANK[status]
    return [s for s, r in _RANK.items() if r < rank]


class Contact(BaseModel):
    practice_id: str
    phone: str
    verified: bool = False
    name: str | None = None
    not_textable: bool = False


class PatientMatch(BaseModel):
    """A verified patient elsewhere in the enterprise with the same phone."""

    practice_id: str
    patient_id: str
    name: str


class Conversation(BaseModel):
    line_id: str
    practice_id: str
    phone: str
    unread: int = 0
    last_activity_at: datetime
    opted_out: bool = False
    not_textable: bool = False
    verified: bool = False
    workflow_id: str | None = None
    matches: list[PatientMatch] = Field(default_factory=list)
    patient_id: str | None = None


class LastMessage(BaseModel):
    direction: Direction
    body: str
    status: MessageStatus
    created_at: datetime


class InboxEntry(BaseModel):
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


class Message(BaseModel):
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
