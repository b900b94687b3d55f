"""The one way a text we start is queued: stored with its hand-off, which the table's stream puts on the
outbound queue (or held, scheduled, to its time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from switchboard.core.errors import RuleRefused
from switchboard.data import outgoing as store
from switchboard.data.conversations import Claim
from switchboard.data.writes import Write
from switchboard.rules.addresses import MessageRef
from switchboard.rules.messages import OutgoingText, Refusal

REASONS = {Refusal.OPTED_OUT: "the patient opted out of texts from this line",
           Refusal.ALREADY_ANSWERED: "this closed period was answered already",
           Refusal.ALREADY_DONE: "this text was stored already"}


class NotQueued(RuleRefused):
    """The text was not stored; `refusal` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(REASONS[refusal])
        self.refusal = refusal


def queue_text(text: OutgoingText, *, at: datetime, send_at: datetime | None = None,
               not_before: datetime | None = None, after_hours_period: str | None = None,
               also: Sequence[Write] = (), message_id: str | None = None, claim: Claim | None = None) -> MessageRef:
    """Store the text; the table's stream queues it (held back until `not_before`, at most 15 minutes), or
    with `send_at` it waits, scheduled, for the minute scheduler. Nothing is sent to a queue here, so a
    failure after the write cannot lead to a second text. Raises NotQueued when the conversation refuses
    it (opted out, period answered) or `also` or `claim` was taken already."""
    stored = store.store_text(text, at=at, send_at=send_at, not_before=not_before,
                              after_hours_period=after_hours_period, also=also, message_id=message_id,
                              claim=claim)
    if isinstance(stored, Refusal):
        raise NotQueued(stored)
    return stored
