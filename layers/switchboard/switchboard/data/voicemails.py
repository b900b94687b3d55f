"""Voicemails: the call that was offered one, and the recording stored once in the caller's conversation."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from switchboard.rules.addresses import LineOwner, MessageRef
from switchboard.rules.messages import Direction, MessageStatus, SenderKind

from .conversations import contact_upsert, conversation_touch
from .keys import contact_key, conversation_key
from .messages import new_message, new_message_id, preview
from .models import ContactItem, ConversationItem, InboundSidItem, VoicemailCallItem
from .writes import transaction

CALL_KEPT = timedelta(days=1)  # a recording is ready minutes after the call, and its callback retried soon after


def offer_voicemail(call_sid: str, owner: LineOwner, phone: str, at: datetime) -> None:
    VoicemailCallItem(f"CALL#{call_sid}", "VOICEMAIL", practice_id=owner.practice_id, line_id=owner.line_id,
                      phone=phone, expires_at=at + CALL_KEPT).save()


def voicemail_call(call_sid: str) -> tuple[LineOwner, str] | None:
    """The line called and the caller of a call offered voicemail."""
    try:
        call = VoicemailCallItem.get(f"CALL#{call_sid}", "VOICEMAIL", consistent_read=True)
    except DoesNotExist:
        return None
    return LineOwner(call.practice_id, call.line_id), call.phone


def record_voicemail(owner: LineOwner, phone: str, *, recording_sid: str, recording_url: str, seconds: int,
                     at: datetime) -> MessageRef | None:
    """Put a voicemail in the caller's conversation as an unread message, in one write; None when it was there."""
    ref = MessageRef(owner.line_id, phone, new_message_id())
    body = f"Voicemail ({seconds} s)"
    # No handoff: a voicemail is not a text to answer by text (after hours, keywords, "who are you?").
    message = new_message(ref, practice_id=owner.practice_id, direction=Direction.INBOUND, sender=SenderKind.PATIENT,
                          status=MessageStatus.RECEIVED, at=at, body=body, carrier_sid=recording_sid)
    message.recording_url = recording_url
    marker = InboundSidItem(f"INBOUND#{recording_sid}", "INBOUND", expires_at=at + timedelta(days=7))
    try:
        with transaction() as writes:
            writes.put(marker, condition=InboundSidItem.pk.does_not_exist())
            writes.update(ContactItem(*contact_key(owner.practice_id, phone)),
                          contact_upsert(owner.practice_id, phone, at))
            writes.update(ConversationItem(*conversation_key(owner.line_id, phone)),
                          conversation_touch(owner.practice_id, owner.line_id, phone, at,
                                             preview(Direction.INBOUND, body, MessageStatus.RECEIVED, at), unread=1))
            writes.put(message)
    except TransactWriteError as error:
        if (marker.pk, marker.sk) in writes.failed(error):
            return None
        raise
    return ref
