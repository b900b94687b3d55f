"""A staff member's reply from the inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.expressions.update import Action

from switchboard.core.errors import Conflict, NotFound, RuleRefused
from switchboard.data import conversations as store
from switchboard.data import inbox
from switchboard.data import lines as line_store
from switchboard.data.conversations import Claim
from switchboard.data.messages import new_message_id
from switchboard.data.models import ConversationItem
from switchboard.flows.outgoing import NotQueued, Once, queue_text, queue_text_once
from switchboard.rules.addresses import LineOwner, MessageRef
from switchboard.rules.conversations import answered_just_now, unseen_colleague_reply
from switchboard.rules.media import MediaItem
from switchboard.rules.messages import OutgoingText, Refusal, SenderKind


@dataclass(frozen=True)
class Replier:
    """Who is replying (`staff`, their address, is what the thread shows) and the newest message their thread
    showed when they pressed Send."""

    user_id: str
    staff: str
    seen_message_id: str | None = None


def _not_after_unseen_reply(replier: Replier, message_id: str) -> Claim:
    """The reply is stored, and recorded as the conversation's latest from staff, only while no colleague's
    reply newer than what the replier saw is: two staff pressing Send at once for the same patient get one
    reply through and the other told. A request that says nothing of what it saw is not held back."""
    actions: list[Action] = [ConversationItem.last_staff_reply_id.set(message_id),
               ConversationItem.last_staff_reply_by.set(replier.user_id),
               ConversationItem.last_staff_reply_name.set(replier.staff)]
    if replier.seen_message_id is None:
        return Claim(actions, ConversationItem.pk.exists())
    return Claim(actions, ConversationItem.last_staff_reply_id.does_not_exist()
                 | (ConversationItem.last_staff_reply_by == replier.user_id)
                 | (ConversationItem.last_staff_reply_id <= replier.seen_message_id))


def _colleague_answered(found: ConversationItem | None, replier: Replier) -> Conflict | None:
    latest = inbox.to_entry(found).last_staff_reply if found is not None else None
    unseen = unseen_colleague_reply(latest, user_id=replier.user_id, seen_message_id=replier.seen_message_id)
    return Conflict(answered_just_now(unseen, datetime.now(UTC)), field="seen_message_id") if unseen else None


def reply_from_staff(owner: LineOwner, phone: str, body: str, *, replier: Replier, status_callback: str,
                     draft_id: str | None = None, media: tuple[MediaItem, ...] = ()) -> MessageRef:
    """Queue a staff member's reply; refused, with the reason, when it could not reach the patient, and a
    conflict when a colleague has answered since the replier's thread was shown (they read it, then send
    again). With the console's `draft_id`, Send pressed again for the same draft (its first answer lost)
    answers what the first did and queues nothing more."""
    staff = replier.staff
    # `/` is in no integration idempotency key: a draft's receipt never meets one of theirs.
    request = {"phone": phone, "body": body, **({"media": [item.key for item in media]} if media else {})}
    once = Once(owner.practice_id, f"draft/{owner.line_id}/{draft_id}", request, field="draft_id") if draft_id else None
    if once is not None and (answered := once.answered()) is not None:
        return MessageRef(owner.line_id, phone, str(answered["message_id"]))
    line = line_store.get_line(owner.practice_id, owner.line_id)
    if not line.can_text:
        raise RuleRefused(f"the line is {line.status.value}: texts from it would fail")
    conversation = store.load_conversation(owner.line_id, phone)
    if conversation is None:
        raise NotFound("no such conversation")
    if conversation.not_textable:
        raise RuleRefused("this number cannot receive texts (not a mobile number)")
    if (colleague := _colleague_answered(conversation, replier)) is not None:
        raise colleague
    text = OutgoingText(owner, phone, body, SenderKind.STAFF, status_callback, sender_id=staff, media=media)
    message_id = new_message_id()
    claim = _not_after_unseen_reply(replier, message_id)
    try:
        if once is None:
            return queue_text(text, at=datetime.now(UTC), message_id=message_id, claim=claim)
        queued = queue_text_once(once, text, lambda _: {"message_id": message_id}, at=datetime.now(UTC),
                                 claim=claim, message_id=message_id)
        return MessageRef(owner.line_id, phone, str(queued["message_id"]))
    except NotQueued as refused:
        now = store.load_conversation(owner.line_id, phone)
        if refused.refusal is Refusal.OPTED_OUT or (now is not None and now.opted_out):
            raise RuleRefused("the patient opted out of texts from this line; they must text START first") from None
        if (colleague := _colleague_answered(now, replier)) is not None:
            raise colleague from None
        raise Conflict("the conversation changed as you sent; nothing was sent, so send again") from None
