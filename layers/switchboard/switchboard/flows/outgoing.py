"""The one way a text we start is queued: stored with its hand-off, which the table's stream puts on the
outbound queue (or held, scheduled, to its time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from switchboard.core.errors import Conflict, RuleRefused
from switchboard.data import idempotency as receipts
from switchboard.data import outgoing as store
from switchboard.data.conversations import Claim
from switchboard.data.messages import new_message_id
from switchboard.data.writes import TransactWriteError, Write
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


@dataclass(frozen=True)
class Once:
    """A text stored once per `key` (within the practice): what it answered is kept in a receipt written in the
    text's own transaction, so a retry of the same request answers that again and nothing is stored twice.
    The same key with another request is a conflict on `field`."""

    practice_id: str
    key: str
    request: Mapping[str, Any]
    field: str

    @cached_property
    def asked(self) -> str:
        return receipts.request_hash(self.request)

    def answered(self) -> dict[str, Any] | None:
        found = receipts.load_receipt(self.practice_id, self.key)
        if found is None:
            return None
        if found.request_hash != self.asked:
            raise Conflict(f"this {self.field.replace('_', ' ')} was used for a different request", field=self.field)
        return dict(found.result)


def queue_text_once(once: Once, text: OutgoingText, answer: Callable[[str], Mapping[str, Any]], *, at: datetime,
                    send_at: datetime | None = None, claim: Claim | None = None, message_id: str | None = None
                    ) -> dict[str, Any]:
    """`queue_text` for a request that may be retried, once the caller found no answer (`once.answered()`, asked
    before its own checks): the first answer (`answer(message_id)`), also to a retry running alongside."""
    message_id = message_id or new_message_id()
    result = dict(answer(message_id))
    receipt = receipts.receipt(once.practice_id, once.key, once.asked, result, at)
    try:
        queue_text(text, at=at, send_at=send_at, message_id=message_id, also=[receipt], claim=claim)
    except NotQueued as refused:
        if refused.refusal is Refusal.ALREADY_DONE and (answered := once.answered()) is not None:
            return answered  # a retry running alongside stored it first
        raise
    except TransactWriteError:
        if (answered := once.answered()) is not None:
            return answered  # DynamoDB cancelled ours for the retry alongside (TransactionConflict): it stored it
        raise
    return result
