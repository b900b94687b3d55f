"""Sending one queued message through the carrier, exactly once, and recording what became of it.

A message is marked `sending` (with the attempt's time) before the carrier is called, under a condition on
the attempt the job saw, so two copies of a job never both claim it; the copy that loses keeps its job until
the winner's attempt must have ended, so no job is deleted while its text's fate is unknown. A job that finds
its message still `sending` knows an earlier attempt may have reached the carrier: unless that attempt is known
to be over (it ended with an unclear answer), it waits until it must have ended, then looks the message up
there before any resend. A crash between the carrier's accept and our write never texts a patient twice.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from switchboard import carrier as carriers
from switchboard.aws import events, queues
from switchboard.aws.jobs import SendText
from switchboard.core.observability import logger
from switchboard.core.phones import format_national
from switchboard.data import campaigns as campaign_store
from switchboard.data import deliveries as store
from switchboard.data import lines as line_store
from switchboard.data import media as media_store
from switchboard.data import patients as patient_store
from switchboard.data import practices as practice_store
from switchboard.data import workflows as workflow_store
from switchboard.data.counts import failed_counter
from switchboard.data.intake import REACHED_AGAIN, reached_since
from switchboard.data.media import CARRIER_LINK_SECONDS
from switchboard.data.messages import send_job
from switchboard.data.models import LineItem, LineRateItem, MessageItem, PracticeItem, WorkflowItem
from switchboard.flows import delivery_status
from switchboard.rules.campaigns import CampaignStatus
from switchboard.rules.lines import LineStatus
from switchboard.rules.messages import CARRIER_STATUSES, FINAL_STATUSES, MessageStatus
from switchboard.rules.workflows import render_template

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action

LOOKUP_MARGIN = timedelta(minutes=2)
# Longer than outbound_messaging can run (its Timeout in template.yaml): an attempt older than this has ended.
ATTEMPT_LEASE = timedelta(seconds=60)


class Delivery(StrEnum):
    SENT = "sent"
    FOUND_AT_CARRIER = "found_at_carrier"
    ALREADY_DONE = "already_done"
    REFUSED = "refused"
    SUPPRESSED = "suppressed"
    MISSING = "missing"
    NOT_YET = "not_yet"


class RetryLater(Exception):
    """Not now: the carrier could not be reached, or the line is at its rate. The job goes back on the queue,
    after `delay_seconds` when known, else with backoff."""

    def __init__(self, reason: str, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


def _fail(message: MessageItem, reason: str, *, code: int | None = None, suppressed: str | None = None,
          opted_out: bool = False, not_textable: bool = False) -> Delivery:
    status = MessageStatus.SUPPRESSED if suppressed else MessageStatus.FAILED
    counters = {suppressed: 1} if suppressed else {"failed": 1, failed_counter(reason): 1}
    store.record_refused(message, status=status, reason=reason, code=code, at=datetime.now(UTC), counters=counters,
                         opted_out=opted_out, not_textable=not_textable)
    logger.info("message not sent", extra={"message_id": message.message_id, "reason": reason})
    if not suppressed:
        events.publish("Message Failed", {"practice_id": message.practice_id, "line_id": message.line_id,
                                              "message_id": message.message_id, "status": status.value,
                                              "event_id": f"{message.message_id}.{status.value}",
                                              "error_code": code, "reason": reason, "at": datetime.now(UTC)})
    return Delivery.SUPPRESSED if suppressed else Delivery.REFUSED


def _media_links(message: MessageItem) -> list[str] | None:
    """Links the carrier fetches a reply's pictures from, as it sends (signed for an hour)."""
    links = [link for item in media_store.items_of(message) if (link := media_store.link(item, CARRIER_LINK_SECONDS))]
    return links or None


def _body(message: MessageItem, line: LineItem, workflow: WorkflowItem | None = None,
          practice: PracticeItem | None = None) -> str:
    """The text: the message's own, or its workflow's template rendered now (read here unless given)."""
    if message.body or message.media:
        return message.body or ""
    if not message.workflow_id:
        raise ValueError("a message without a body must come from a workflow")
    template = (workflow or workflow_store.load(message.practice_id, message.workflow_id)).template
    practice_name = (practice or practice_store.load(message.practice_id)).name
    return render_template(template, practice_name=practice_name, line_number=format_national(line.number))


def _found_earlier_attempt(message: MessageItem, line: LineItem, body: str) -> carriers.CarrierMessage | None:
    started = message.attempt_started_at or message.created_at
    try:
        sent = carriers.carrier().find_messages(to=message.phone, from_=line.number, sent_after=started - LOOKUP_MARGIN)
    except carriers.CarrierError as error:
        raise RetryLater(str(error)) from None
    matching = [m for m in sent if m.body is None or m.body == body]
    return matching[-1] if matching else None


def _accepted(message: MessageItem, *, sid: str, **recorded: Any) -> None:
    """Record the carrier's accept, then any status callback that came before it."""
    if store.record_accepted(message, sid=sid, **recorded):
        delivery_status.apply_kept(sid)


def _catch_up(found: carriers.CarrierMessage) -> None:
    """A send found late at the carrier: its status callbacks may have come before we knew its sid (and been
    dropped), so ask where it stands now and move it forward."""
    if CARRIER_STATUSES.get(found.status) in FINAL_STATUSES:
        return
    try:
        _record_status(carriers.carrier().fetch_message(found.sid))
    except carriers.CarrierError:
        pass  # the reconciler asks again later


def _record_status(found: carriers.CarrierMessage) -> bool:
    """The carrier's word on a message, applied as its status callback would be (forward only)."""
    return delivery_status.record({"MessageSid": found.sid, "MessageStatus": found.status,
                                   **({"ErrorCode": str(found.error_code)} if found.error_code else {})})


SHORT_WAIT = 2.0


def _wait_for_slot(line_id: str, rate: float, slot: LineRateItem | None) -> None:
    """Take the line's next sending slot (`slot` as the send's batch read it); a wait of a second or two is
    slept here rather than spent as a queue receive (which counts toward the dead-letter limit)."""
    read: LineRateItem | None | bool = slot
    for _ in range(5):
        wait = campaign_store.take_slot(line_id, rate, time.time(), read=read)
        read = True
        if wait <= 0:
            return
        if wait > SHORT_WAIT:
            raise RetryLater("the line is at its sending rate", delay_seconds=wait)
        time.sleep(wait)
    raise RetryLater("the line is at its sending rate", delay_seconds=1 / rate)


def deliver(job: SendText) -> Delivery:
    """Send the job's message once: one batch read of what the send needs, one conditional claim, one
    transaction recording the carrier's answer (a caller's first text also asks who the phone may be)."""
    ref = job.message
    found = store.load_for_sending(ref, practice_id=job.practice_id, workflow_id=job.workflow_id,
                                   campaign_id=job.campaign_id)
    if found is None:
        logger.warning("queued message not found", extra={"message_id": ref.message_id})
        return Delivery.MISSING
    message, line, conversation = found.message, found.line, found.conversation
    if MessageStatus(message.status) in FINAL_STATUSES or message.carrier_sid:
        return Delivery.ALREADY_DONE
    if message.status == MessageStatus.SCHEDULED.value:
        return Delivery.NOT_YET
    if message.send_at is not None and message.workflow_id and message.attempt_started_at is None:
        # An abandoned call's text waits a few minutes, and does not go if the caller reached the practice meanwhile.
        wait = (message.send_at - datetime.now(UTC)).total_seconds()
        if wait > 0:
            raise RetryLater("the text waits until its time", delay_seconds=wait)
        if reached_since(message, found.window):
            return _fail(message, REACHED_AGAIN, suppressed="canceled")
    if message.campaign_id:
        campaign = found.campaign or campaign_store.load(message.practice_id, message.campaign_id)
        if campaign.status == CampaignStatus.CANCELED.value:
            return _fail(message, "campaign canceled", suppressed="canceled")
        _wait_for_slot(message.line_id, float(campaign.rate_per_second), found.slot)
    if line is None:
        return _fail(message, "line is gone")
    if line.status != LineStatus.ENABLED.value:
        return _fail(message, f"line is {line.status}")
    if conversation is not None and conversation.opted_out:
        return _fail(message, "recipient opted out", suppressed="opted_out")
    if conversation is not None and conversation.not_textable:
        return _fail(message, "not a mobile number", suppressed="not_textable")
    matched: list[Action] = []
    if conversation is not None and conversation.matches is None and message.workflow_id:
        # A caller's first text: show staff which verified patients the number may be (MPSP when several).
        across = bool(found.enterprise and found.enterprise.cross_practice_matching)
        _, matched = patient_store.matching(message.practice_id, message.phone, across_practices=across)
    body = _body(message, line, found.workflow, found.practice)
    seen_attempt = message.attempt_started_at
    if message.status == MessageStatus.SENDING.value:
        running_for = datetime.now(UTC) - (seen_attempt or message.created_at)
        ended = message.attempt_ended_at is not None and seen_attempt is not None and (
            message.attempt_ended_at >= seen_attempt)
        if not ended and running_for < ATTEMPT_LEASE:
            # Another copy of the job may be calling the carrier right now; only after it must have ended is
            # the carrier's answer to a lookup the whole truth.
            raise RetryLater("an earlier attempt may still be running",
                             delay_seconds=(ATTEMPT_LEASE - running_for).total_seconds())
        earlier = _found_earlier_attempt(message, line, body)
        if earlier is not None:
            _accepted(message, sid=earlier.sid, status=CARRIER_STATUSES.get(earlier.status,
                                  MessageStatus.SENDING), body=body, at=datetime.now(UTC), counters={"texted": 1},
                                  conversation=matched, show_text=not message.body)
            _catch_up(earlier)
            logger.info("earlier attempt found at the carrier; not sending again",
                        extra={"message_id": message.message_id})
            return Delivery.FOUND_AT_CARRIER
    now = datetime.now(UTC)
    if not store.claim_for_sending(message, now, seen_attempt=seen_attempt):
        # Another delivery claimed it since the read. That may be this very job, handed out again while this copy
        # ran (a delete with either copy's receipt removes the job): keep it until that attempt must have ended.
        raise RetryLater("another delivery claimed the text", delay_seconds=ATTEMPT_LEASE.total_seconds())
    message.attempt_started_at = now
    try:
        sent = carriers.carrier().send_message(to=message.phone, from_=line.number, body=body,
                                               status_callback=message.status_callback or "",
                                               messaging_service_sid=line.messaging_service_sid,
                                               media_urls=_media_links(message))
    except carriers.CarrierRefused as refused:
        outcome = refused.outcome
        if outcome is carriers.Outcome.OPTED_OUT:
            return _fail(message, refused.reason, code=refused.code, suppressed="opted_out", opted_out=True)
        if outcome is carriers.Outcome.NOT_TEXTABLE:
            return _fail(message, refused.reason, code=refused.code, suppressed="not_textable", not_textable=True)
        return _fail(message, refused.reason, code=refused.code)
    except carriers.CarrierUnavailable as trouble:
        if trouble.uncertain:
            store.end_attempt(message, datetime.now(UTC))
        else:
            store.release_attempt(message, datetime.now(UTC))
        raise RetryLater(trouble.reason) from None
    status = CARRIER_STATUSES.get(sent.status, MessageStatus.SENDING)
    _accepted(message, sid=sent.sid, status=status, body=body, at=datetime.now(UTC),
                          counters={"texted": 1}, conversation=matched, show_text=not message.body)
    return Delivery.SENT


STUCK_AFTER = timedelta(minutes=10)
SETTLE_SENT_AFTER = timedelta(hours=24)
# A text the carrier never saw and no job sent within a day is stale: a patient would get it a day late.
PARK_AFTER = timedelta(hours=24)
PAGE = 100  # messages a run looks at; the next run goes on from where this one stopped


def reconcile_in_flight(at: datetime | None = None) -> dict[str, int]:
    """Messages not final for a while, a page per run (oldest first, on from where the last run stopped, and
    round again): ask the carrier what became of them.

    - with a carrier sid: fetch its status and apply it (forward only), settle it after a day;
    - `sending` without a sid: an attempt may have reached the carrier before a crash; record it if found;
    - `queued` and never attempted: its queue job was lost, so queue it again (sending is idempotent).
    Jobs that were attempted and are waiting in the queue or its DLQ are left to them. What is still not
    resolved a day on (never at the carrier, never sent) is parked: failed, with the reason, off the page.
    """
    now = at or datetime.now(UTC)
    tally = {"checked": 0, "updated": 0, "found_at_carrier": 0, "requeued": 0, "parked": 0, "unchanged": 0,
             "errors": 0}
    page = store.in_flight_page(now - STUCK_AFTER, limit=PAGE)
    for message in page:
        tally["checked"] += 1
        try:
            tally[_reconcile(message, now)] += 1
        except (carriers.CarrierError, RetryLater):
            tally["errors"] += 1
    return tally


def _reconcile(message: MessageItem, now: datetime) -> str:
    """What the reconciler did about one message (a tally's name)."""
    if message.carrier_sid:
        if _record_status(carriers.carrier().fetch_message(message.carrier_sid)):
            return "updated"
        if message.updated_at < now - SETTLE_SENT_AFTER:
            store.settle(message, MessageStatus(message.status), now)
        return "unchanged"
    stale = (message.attempt_started_at or message.created_at) < now - PARK_AFTER
    if message.status == MessageStatus.SENDING.value:
        line, _ = line_store.load(message.practice_id, message.line_id)
        earlier = _found_earlier_attempt(message, line, message.body or _body(message, line))
        if earlier is not None:
            _accepted(message, sid=earlier.sid, body=earlier.body or message.body or "",
                                  status=CARRIER_STATUSES.get(earlier.status, MessageStatus.SENDING),
                                  at=now, counters={"texted": 1})
            _catch_up(earlier)
            return "found_at_carrier"
        if stale:
            _fail(message, "never reached the carrier; its attempt ended without an answer")
            return "parked"
        return "unchanged"
    if stale:
        _fail(message, "not sent within a day of being queued")
        return "parked"
    if message.attempt_started_at is None:
        queues.send(send_job(message))
        return "requeued"
    return "unchanged"
