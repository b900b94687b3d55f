"""Storing campaigns, their recipients, and each line's next sending slot."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError
from ulid import ULID

from switchboard.core.errors import NotFound, RuleRefused
from switchboard.rules.campaigns import Campaign, CampaignCounts, CampaignStatus

from . import audit
from .keys import campaign_counts_sk, practice_key
from .models import CampaignItem, CountsItem, LineRateItem, RecipientItem
from .table import Item, connection
from .workflows import counts_from_raw
from .writes import Write, transaction

RUNNING = "CAMPAIGNS"
PENDING, QUEUED, SUPPRESSED = "pending", "queued", "suppressed"


def campaign_key(practice_id: str, campaign_id: str) -> tuple[str, str]:
    return practice_key(practice_id), f"CAMPAIGN#{campaign_id}"


def add_campaign(practice_id: str, *, name: str, line_id: str, template: str, rate_per_second: float,
                 recipients: list[tuple[str, str, dict[str, str]]], status_callback: str, actor: str) -> str:
    """Recipients first, then the campaign that makes the runner pick them up."""
    campaign_id = str(ULID())
    with RecipientItem.batch_write() as batch:
        for patient_id, phone, variables in recipients:
            batch.save(RecipientItem(f"CAMPAIGN#{campaign_id}", f"R#{patient_id}", campaign_id=campaign_id,
                                     patient_id=patient_id, phone=phone, variables=variables, status=PENDING))
    item = CampaignItem(*campaign_key(practice_id, campaign_id), practice_id=practice_id, campaign_id=campaign_id,
                        name=name, line_id=line_id, template=template, status=CampaignStatus.RUNNING.value,
                        rate_per_second=rate_per_second, recipients=len(recipients), status_callback=status_callback,
                        created_by=actor, pending_pk=RUNNING, pending_sk=campaign_id)
    with transaction() as writes:
        writes.put(item, condition=CampaignItem.pk.does_not_exist())
        writes.put(CountsItem(practice_key(practice_id), campaign_counts_sk(campaign_id), practice_id=practice_id,
                              workflow_id=f"CAMPAIGN#{campaign_id}"))
        audit.record(writes, actor=actor, practice_id=practice_id, action="campaign.create", entity="campaign",
                     entity_id=campaign_id, before=None,
                     after={"name": name, "line_id": line_id, "recipients": len(recipients)})
    return campaign_id


def load(practice_id: str, campaign_id: str) -> CampaignItem:
    try:
        return CampaignItem.get(*campaign_key(practice_id, campaign_id), consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such campaign") from None


def _tally(campaign_id: str) -> dict[str, int]:
    counts = {PENDING: 0, QUEUED: 0, SUPPRESSED: 0}
    for recipient in RecipientItem.query(f"CAMPAIGN#{campaign_id}", RecipientItem.sk.startswith("R#"),
                                         attributes_to_get=["status"]):
        counts[recipient.status] = counts.get(recipient.status, 0) + 1
    return counts


def to_campaign(item: CampaignItem) -> Campaign:
    raw: dict[str, Any] | None = connection().get_item(
        Item.Meta.table_name, practice_key(item.practice_id), campaign_counts_sk(item.campaign_id),
        consistent_read=True).get("Item")
    counted, tally = counts_from_raw(raw), _tally(item.campaign_id)
    return Campaign(
        campaign_id=item.campaign_id, practice_id=item.practice_id, name=item.name, line_id=item.line_id,
        status=CampaignStatus(item.status), failure=item.failure, rate_per_second=float(item.rate_per_second),
        created_by=item.created_by,
        created_at=item.created_at,
        counts=CampaignCounts(recipients=int(item.recipients), pending=tally[PENDING], queued=tally[QUEUED],
                              sent=counted.texted, delivered=counted.delivered, failed=counted.failed,
                              failed_by_reason=counted.failed_by_reason,
                              suppressed=tally[SUPPRESSED] + counted.opted_out + counted.not_textable
                              + counted.canceled, replied=counted.replied),
    )


def list_campaigns(practice_id: str) -> list[Campaign]:
    query = CampaignItem.query(practice_key(practice_id), CampaignItem.sk.startswith("CAMPAIGN#"))
    return [to_campaign(item) for item in query]


def cancel(practice_id: str, campaign_id: str, *, actor: str) -> None:
    item = load(practice_id, campaign_id)
    if item.status != CampaignStatus.RUNNING.value:
        raise RuleRefused(f"the campaign is already {item.status}")
    item.status = CampaignStatus.CANCELED.value
    item.pending_pk = item.pending_sk = None
    with transaction() as writes:
        writes.put(item)
        audit.record(writes, actor=actor, practice_id=practice_id, action="campaign.cancel", entity="campaign",
                     entity_id=campaign_id, before={"status": "running"}, after={"status": "canceled"})


def finish(item: CampaignItem) -> None:
    item.status = CampaignStatus.FINISHED.value
    item.pending_pk = item.pending_sk = None
    item.save()


def fail(item: CampaignItem, reason: str) -> None:
    """Stop a campaign that cannot go on; what was queued still goes, nothing more is."""
    item.status, item.failure = CampaignStatus.FAILED.value, reason
    item.pending_pk = item.pending_sk = None
    item.save()


def running() -> list[CampaignItem]:
    return [item for item in CampaignItem.pending.query(RUNNING) if isinstance(item, CampaignItem)]


def pending_recipients(campaign_id: str, limit: int) -> list[RecipientItem]:
    query = RecipientItem.query(f"CAMPAIGN#{campaign_id}", RecipientItem.sk.startswith("R#"),
                                filter_condition=RecipientItem.status == PENDING, consistent_read=True)
    found: list[RecipientItem] = []
    for item in query:
        found.append(item)
        if len(found) >= limit:
            break
    return found


def mark(recipient: RecipientItem, status: str, *, reason: str | None = None) -> None:
    recipient.status, recipient.reason = status, reason
    recipient.save()


def taken(recipient: RecipientItem, message_id: str) -> Write:
    """The recipient's text is queued: written with the text itself, and only while still pending, so two runs
    can never both text one recipient."""
    return Write(RecipientItem(recipient.pk, recipient.sk),
                 [RecipientItem.status.set(QUEUED), RecipientItem.message_id.set(message_id)],
                 RecipientItem.status == PENDING)


def take_slot(line_id: str, rate_per_second: float, now: float, *, read: LineRateItem | None | bool = True) -> float:
    """Claim the line's next sending slot: 0 when this send may go now, else the seconds to wait.

    The slot item moves forward by 1/rate with every send, under a condition on its old value, so
    however many consumers run, a line never sends faster than its rate. `read` is the slot as the caller
    read it (None: there is none yet), or True to read it here.
    """
    if read is True:
        try:
            read = LineRateItem.get(f"LINE#{line_id}", "RATE", consistent_read=True)
        except DoesNotExist:
            read = None
    current = float(read.next_slot) if isinstance(read, LineRateItem) else None
    if current is not None and current > now:
        return current - now
    claimed = LineRateItem(f"LINE#{line_id}", "RATE", next_slot=max(current or 0.0, now) + 1 / rate_per_second)
    condition = LineRateItem.pk.does_not_exist() if current is None else LineRateItem.next_slot == current
    try:
        claimed.save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return 1 / rate_per_second
        raise
    return 0.0
