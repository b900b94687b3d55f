"""A practice's Messaging Service and its A2P 10DLC registration.

One Messaging Service per practice, made with its first line and named after it; every line's number goes in
its sender pool, and sends name it (with the line's number as `From`), so the campaign registered on the
service carries them. The brand and campaign are registered by the operator in Twilio's console; the poller
reads their state here and the practice and line cards show it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from switchboard import carrier as carriers
from switchboard.core.errors import RuleRefused
from switchboard.core.observability import logger
from switchboard.data import practices as practice_store
from switchboard.data.models import PracticeItem
from switchboard.rules.practices import Practice
from switchboard.rules.registration import registration_from


def messaging_service_for(practice: Practice) -> str:
    """The practice's Messaging Service, made now if it has none (its registration is read at once, so the
    practice card is right before the first poll). Raises the carrier's errors."""
    if practice.messaging_service_sid:
        return practice.messaging_service_sid
    made = carriers.carrier().create_messaging_service(friendly_name=f"Switchboard - {practice.name}")
    kept = practice_store.keep_messaging_service(practice.practice_id, made)
    if kept != made:  # another line of the practice made one at the same moment: use that one
        carriers.carrier().delete_messaging_service(made)
    try:
        refresh(practice_store.load(practice.practice_id))
    except (carriers.CarrierError, UpdateError):
        logger.warning("registration not read yet; the poller reads it", extra={"practice_id": practice.practice_id})
    return kept


def join_sender_pool(service_sid: str, number_sid: str) -> None:
    carriers.carrier().add_to_sender_pool(service_sid, number_sid)


def refresh(item: PracticeItem, at: datetime | None = None) -> bool:
    """Ask the carrier for the practice's campaign and brand; store the state when it changed (True)."""
    if not item.messaging_service_sid:
        raise RuleRefused("the practice has no Messaging Service yet: add a line first", field="practice_id")
    found = carriers.carrier().campaign_registration(item.messaging_service_sid)
    registration = registration_from(found.campaign_status, found.brand_status, found.reasons,
                                     at or datetime.now(UTC))
    changed = practice_store.set_registration(item, registration)
    if changed:
        logger.info("practice registration changed", extra={"practice_id": item.practice_id,
                                                             "registration": registration.state.value})
    return changed


def check_now(practice_id: str) -> Practice:
    """The admin's "check now": the carrier's current word on the practice's registration."""
    refresh(practice_store.load(practice_id))
    return practice_store.get_practice(practice_id)


def poll_registrations(at: datetime | None = None) -> dict[str, int]:
    """Every practice with a Messaging Service (the sparse index, never a scan): its registration now."""
    tally = {"checked": 0, "changed": 0, "errors": 0}
    for item in practice_store.with_messaging_services():
        tally["checked"] += 1
        try:
            tally["changed"] += refresh(item, at)
        except (carriers.CarrierError, UpdateError):
            tally["errors"] += 1  # the carrier did not answer, or an admin saved the practice meanwhile
            logger.warning("could not read a practice's registration", extra={"practice_id": item.practice_id})
    return tally


def check_can_start_sends(practice: Practice, field: str) -> None:
    """Texts the clinic starts (the integration API, campaigns) need a registered campaign: refuse them with
    the reason rather than queue texts the carriers would block."""
    if not practice.registration.can_send:
        raise RuleRefused(practice.registration.refusal(), field=field)
