"""The one way a text we start is queued: stored, then put on the outbound queue (or held to its time)."""

from __future__ import annotations

from datetime import datetime

from switchboard.aws import queues
from switchboard.aws.jobs import SendText
from switchboard.core.errors import RuleRefused
from switchboard.data import outgoing as store
from switchboard.rules.addresses import MessageRef
from switchboard.rules.messages import OutgoingText, Refusal

REASONS = {Refusal.OPTED_OUT: "the patient opted out of texts from this line",
           Refusal.ALREADY_ANSWERED: "this closed period was answered already"}


class NotQueued(RuleRefused):
    """The text was not stored; `refusal` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(REASONS[refusal])
        self.refusal = refusal


def queue_text(text: OutgoingText, *, at: datetime, send_at: datetime | None = None, delay_seconds: int = 0,
               after_hours_period: str | None = None) -> MessageRef:
    """Store the text and queue it, `delay_seconds` from now; with `send_at` it waits, scheduled, for the
    minute scheduler. Raises NotQueued when the conversation refuses it (opted out, period answered)."""
    stored = store.store_text(text, at=at, send_at=send_at, after_hours_period=after_hours_period)
    if isinstance(stored, Refusal):
        raise NotQueued(stored)
    if send_at is None:
        queues.send(SendText(stored), delay_seconds=delay_seconds)
    return stored
