"""Messages as stored: a new item, reading one, the inbox preview, and the table stream's image of one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist
from ulid import ULID

from switchboard.aws.jobs import SendText
from switchboard.rules.addresses import MessageRef
from switchboard.rules.messages import Direction, MessageStatus, SenderKind

from .keys import message_key
from .models import MessageItem
from .table import item_from_stream

IN_FLIGHT = "IN_FLIGHT"
SCHEDULED = "SCHEDULED"


def new_message_id() -> str:
    """Time-ordered, so a conversation's messages sort by when they were written."""
    return str(ULID())


def ref_of(message: MessageItem) -> MessageRef:
    return MessageRef(message.line_id, message.phone, message.message_id)


def send_job(message: MessageItem) -> SendText:
    return SendText(ref_of(message), message.practice_id, message.workflow_id, message.campaign_id)


def new_message(ref: MessageRef, *, practice_id: str, direction: Direction, sender: SenderKind, status: MessageStatus,
                at: datetime, body: str | None = None, sender_id: str | None = None,
                workflow_id: str | None = None, carrier_sid: str | None = None,
                status_callback: str | None = None) -> MessageItem:
    """A message item, on the in-flight index unless it is final already (received or suppressed)."""
    pk, sk = message_key(ref)
    item = MessageItem(pk, sk, message_id=ref.message_id, line_id=ref.line_id, practice_id=practice_id,
                       phone=ref.phone, direction=direction.value, sender=sender.value, sender_id=sender_id,
                       workflow_id=workflow_id, status=status.value, body=body, carrier_sid=carrier_sid,
                       status_callback=status_callback, created_at=at, updated_at=at)
    if status not in (MessageStatus.RECEIVED, MessageStatus.SUPPRESSED):
        item.pending_pk, item.pending_sk = IN_FLIGHT, f"{at.isoformat()}#{ref.message_id}"
    return item


def load_message(ref: MessageRef) -> MessageItem | None:
    try:
        return MessageItem.get(*message_key(ref), consistent_read=True)
    except DoesNotExist:
        return None


def preview(direction: Direction, body: str | None, status: MessageStatus, at: datetime) -> dict[str, Any]:
    """What the inbox shows of a conversation's last message."""
    return {"direction": direction.value, "body": (body or "")[:160], "status": status.value,
            "created_at": at.isoformat()}


def from_stream(image: Mapping[str, Any]) -> MessageItem | None:
    """The message a stream record shows (its new image, as Powertools deserializes it); None for other items."""
    item = item_from_stream(image)
    return item if isinstance(item, MessageItem) else None
