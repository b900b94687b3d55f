"""What a message is on its way: its status, direction and sender, and the order statuses move in.

No pydantic here: the webhooks that record deliveries and texts import this at cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from switchboard.rules.addresses import LineOwner
from switchboard.rules.media import MediaItem


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
    NOTE = "note"  # for staff only: never sent


class Handoff(StrEnum):
    """Which queue a stored message goes to from the table's stream (see functions/handoff)."""

    OUTBOUND = "outbound"  # send it
    INBOUND = "inbound"  # answer it (after hours, MPSP)
    RELEASED = "released"  # send it: a scheduled message whose time came (until a delivery claims it)


class SenderKind(StrEnum):
    WORKFLOW = "workflow"
    STAFF = "staff"
    AUTO_RESPONSE = "auto_response"
    INTEGRATION = "integration"
    CAMPAIGN = "campaign"
    PATIENT = "patient"
    SYSTEM = "system"


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


class Refusal(StrEnum):
    """Why a text we start was not stored to send."""

    OPTED_OUT = "opted_out"
    ALREADY_ANSWERED = "already_answered"  # the closed period has its after-hours answer
    ALREADY_DONE = "already_done"  # what the text would be the result of was written already (a retry)


@dataclass(frozen=True)
class OutgoingText:
    """A text we start, from a line to a phone; `status_callback` is where the carrier reports on it."""

    owner: LineOwner
    phone: str
    body: str
    sender: SenderKind
    status_callback: str
    sender_id: str | None = None
    campaign_id: str | None = None
    media: tuple[MediaItem, ...] = ()  # pictures kept in the media bucket, sent as an MMS
