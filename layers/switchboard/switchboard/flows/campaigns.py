"""Running campaigns, a minute at a time: each line's texts spaced to its rate, inside quiet hours."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from switchboard.core.errors import DomainError, InvalidInput
from switchboard.core.observability import logger
from switchboard.data import campaigns as store
from switchboard.data import counts
from switchboard.data import lines as line_store
from switchboard.data import patients as patient_store
from switchboard.data import practices as practice_store
from switchboard.data.messages import new_message_id
from switchboard.data.models import CampaignItem
from switchboard.flows.outgoing import NotQueued, queue_text
from switchboard.flows.registration import check_can_start_sends
from switchboard.flows.sends import allowed_at, check_reachable, sending_line
from switchboard.rules import templates
from switchboard.rules.addresses import CountsOf, LineOwner
from switchboard.rules.campaigns import Campaign, NewCampaign
from switchboard.rules.messages import OutgoingText, Refusal, SenderKind
from switchboard.rules.sends import render

HORIZON = timedelta(minutes=1)  # how far ahead one run schedules sends; the schedule runs every minute


def _run_one(campaign: CampaignItem, now: datetime) -> int:
    try:
        templates.parse(campaign.template)
    except templates.TemplateError as error:
        raise InvalidInput(f"its template {error}", field="template") from None
    practice = practice_store.get_practice(campaign.practice_id)
    line = line_store.get_line(campaign.practice_id, campaign.line_id)
    if not line.can_text or allowed_at(practice, line, now) > now:
        return 0
    rate = float(campaign.rate_per_second)
    slot = now.timestamp()  # spread over the minute ahead; the consumer enforces the line's rate when sending
    horizon = (now + HORIZON).timestamp()
    recipients = store.pending_recipients(campaign.campaign_id, limit=max(1, math.ceil(rate * HORIZON.seconds)))
    if not recipients:
        store.finish(campaign)
        return 0
    owner, queued = LineOwner(campaign.practice_id, line.line_id), 0
    for recipient in recipients:
        if slot >= horizon:
            break
        try:
            check_reachable(line, recipient.phone)
            body = render(campaign.template, dict(recipient.variables or {}))
        except DomainError as refused:
            store.mark(recipient, store.SUPPRESSED, reason=refused.message)
            continue
        text = OutgoingText(owner, recipient.phone, body, SenderKind.CAMPAIGN, campaign.status_callback,
                            sender_id=campaign.campaign_id, campaign_id=campaign.campaign_id)
        try:
            message_id = new_message_id()
            queue_text(text, at=now, not_before=datetime.fromtimestamp(slot, UTC), message_id=message_id,
                       also=[store.taken(recipient, message_id)])
        except NotQueued as refused:
            if refused.refusal is Refusal.OPTED_OUT:
                store.mark(recipient, store.SUPPRESSED, reason="opted out")
            continue  # else another run queued this recipient already
        slot += 1 / rate
        queued += 1
    if queued:
        counts.add(CountsOf(campaign.practice_id, campaign_id=campaign.campaign_id), {"queued": queued})
    return queued


def run_campaigns(at: datetime | None = None) -> dict[str, int]:
    """Each running campaign's next minute; one campaign's failure never holds back another's."""
    now = at or datetime.now(UTC)
    tally = {"campaigns": 0, "queued": 0, "errors": 0, "failed": 0}
    for campaign in store.running():
        tally["campaigns"] += 1
        try:
            tally["queued"] += _run_one(campaign, now)
        except DomainError as refused:
            # The campaign itself cannot go on (its line was released, say): stop it and say why.
            store.fail(campaign, refused.message)
            tally["failed"] += 1
            logger.warning("campaign stopped", extra={"campaign_id": campaign.campaign_id, "reason": refused.message})
        except Exception:
            # Anything else may pass (a throttled request): the campaign runs again next minute.
            tally["errors"] += 1
            logger.exception("campaign could not run this minute", extra={"campaign_id": campaign.campaign_id})
    return tally


def start_campaign(practice_id: str, draft: NewCampaign, *, status_callback: str, actor: str) -> Campaign:
    """Check the sender, the practice's registration and that every recipient is a verified patient here, then
    hand it to the runner."""
    line = sending_line(practice_id, resource_id=draft.resource_id, line_id=draft.line_id)
    check_can_start_sends(practice_store.get_practice(practice_id),
                          field="resource_id" if draft.resource_id else "line_id")
    phones = patient_store.phones_of(practice_id, [r.patient_id for r in draft.recipients])
    unknown = [r.patient_id for r in draft.recipients if r.patient_id not in phones]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise InvalidInput(f"only verified patients of this practice can be sent a campaign; not: {shown}",
                           field="recipients")
    for index, recipient in enumerate(draft.recipients):
        render(draft.template, recipient.variables, field=f"recipients[{index}].variables")
    campaign_id = store.add_campaign(
        practice_id, name=draft.name, line_id=line.line_id, template=draft.template,
        rate_per_second=draft.rate_per_second, status_callback=status_callback, actor=actor,
        recipients=[(r.patient_id, phones[r.patient_id], dict(r.variables)) for r in draft.recipients])
    return store.to_campaign(store.load(practice_id, campaign_id))
