"""A patient's text, stored once with its conversation and contact; the stream hands it to the follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from switchboard.rules.addresses import LineOwner, MessageRef
from switchboard.rules.media import MediaItem, label
from switchboard.rules.messages import Direction, Handoff, MessageStatus, SenderKind

from .conversations import contact_upsert, conversation_touch
from .keys import contact_key, conversation_key, message_key
from .messages import new_message, new_message_id, preview
from .models import ContactItem, ConversationItem, InboundSidItem, MessageItem
from .writes import transaction, update_if


def record_inbound(owner: LineOwner, phone: str, *, body: str, sid: str, keyword: str | None, flag: str | None,
                   at: datetime, status_callback: str, media: list[MediaItem] | None = None,
                   carrier_answer: str | None = None, answer_if_changed: str | None = None) -> MessageRef | None:
    """Store a patient's text with its conversation and contact in one write; None when it was stored already.
    The table's stream hands it on to be answered (`status_callback` is for the answer); `carrier_answer`, what
    the carrier itself replied, is stored beside it so staff see it, and `answer_if_changed` is kept on
    the text for the follow-up, which alone knows whether the carrier sent it (an opt-in or opt-out word's
    confirmation goes only to a patient whose state it changes)."""
    ref = MessageRef(owner.line_id, phone, new_message_id())
    message = new_message(ref, practice_id=owner.practice_id, direction=Direction.INBOUND, sender=SenderKind.PATIENT,
                          status=MessageStatus.RECEIVED, at=at, body=body, carrier_sid=sid,
                          status_callback=status_callback)
    message.keyword, message.flag, message.handoff = keyword, flag, Handoff.INBOUND.value
    message.carrier_reply = answer_if_changed
    if media:
        message.media = [item.stored() for item in media]
    marker = InboundSidItem(f"INBOUND#{sid}", "INBOUND", expires_at=at + timedelta(days=7))
    conversation = conversation_touch(owner.practice_id, owner.line_id, phone, at,
                                       preview(Direction.INBOUND, body or (label(media) if media else body),
                                               MessageStatus.RECEIVED, at), unread=1)
    if keyword == "opt_out":
        conversation.extend([ConversationItem.opt_out_text.set(ref.message_id),
                             ConversationItem.opted_out_before_opt_out.set(ConversationItem.opted_out | False),
                             *opted_out_now()])
    elif keyword == "opt_in":
        # Operands are read before the update, so this copies the state the text found, in the same write.
        conversation.extend([ConversationItem.opt_in_text.set(ref.message_id),
                             ConversationItem.opted_out_before_opt_in.set(ConversationItem.opted_out | False),
                             ConversationItem.opted_out.set(False)])
    if flag is not None and keyword is None:
        conversation.append(ConversationItem.opt_out_requested.set({"message_id": ref.message_id,
                                                                    "at": at.isoformat()}))
    try:
        with transaction() as writes:
            writes.put(marker, condition=InboundSidItem.pk.does_not_exist())
            writes.update(ContactItem(*contact_key(owner.practice_id, phone)),
                          contact_upsert(owner.practice_id, phone, at))
            writes.update(ConversationItem(*conversation_key(owner.line_id, phone)), conversation)
            writes.put(message)
            if carrier_answer is not None:
                writes.put(_carrier_answer(owner, phone, carrier_answer, at))
    except TransactWriteError as error:
        if (marker.pk, marker.sk) in writes.failed(error):
            return None
        raise
    return ref


def opted_out_now() -> list[Action]:
    """What opts a patient out on a line, by their STOP or by staff at their request: nothing is sent to them
    from it until they text START."""
    return [ConversationItem.opted_out.set(True), ConversationItem.opt_out_requested.remove()]


def _carrier_answer(owner: LineOwner, phone: str, body: str, at: datetime) -> MessageItem:
    """The carrier's own reply, sent by it, not by us: nothing to hand off, deliver or poll."""
    answer = new_message(MessageRef(owner.line_id, phone, new_message_id()), practice_id=owner.practice_id,
                         direction=Direction.OUTBOUND, sender=SenderKind.AUTO_RESPONSE, status=MessageStatus.DELIVERED,
                         at=at, body=body, sender_id="carrier")
    answer.pending_pk = answer.pending_sk = None
    return answer


def opted_back_in(conversation: ConversationItem | None, ref: MessageRef) -> bool:
    """Whether this opt-in word found the patient opted out (else it is an ordinary text). A later opt-in word
    overwrites the record: the conversation is then opted in either way, so the word counts as one."""
    if conversation is None:
        return False
    if conversation.opt_in_text != ref.message_id:
        return not conversation.opted_out
    return bool(conversation.opted_out_before_opt_in)


def newly_opted_out(conversation: ConversationItem | None, ref: MessageRef) -> bool:
    """Whether this opt-out word found the patient opted in: the carrier confirms only that one."""
    if conversation is None:
        return False
    if conversation.opt_out_text != ref.message_id:
        return bool(conversation.opted_out)
    return not conversation.opted_out_before_opt_out


def ordinary_text(ref: MessageRef) -> None:
    """An opt-in word from a patient who was not opted out: shown to staff as the text it is."""
    update_if(MessageItem(*message_key(ref)), [MessageItem.keyword.remove()], MessageItem.pk.exists())


def claim_announcement(ref: MessageRef, *, practice_id: str, at: datetime, carrier_answer: str | None = None
                       ) -> bool:
    """A patient's text is told to the clinic's other systems once: True for the first to claim it. The
    carrier's answer to it, when only now known to have been sent (an opt-in), is stored in the same write, so
    staff see it once however often the follow-up runs."""
    message = MessageItem(*message_key(ref))
    actions, condition = [MessageItem.announced.set(True)], (
        MessageItem.pk.exists() & MessageItem.announced.does_not_exist())
    if carrier_answer is None:
        return update_if(message, actions, condition)
    try:
        with transaction() as writes:
            writes.update(message, actions, condition)
            writes.put(_carrier_answer(LineOwner(practice_id, ref.line_id), ref.phone, carrier_answer, at))
    except TransactWriteError as error:
        if (message.pk, message.sk) in writes.failed(error):
            return False
        raise
    return True
