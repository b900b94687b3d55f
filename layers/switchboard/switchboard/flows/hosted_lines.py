"""Text-enabled landlines: the hosted-number order placed with the carrier, cancelled, retried, polled to its end."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard import carrier as carriers
from switchboard.aws import events
from switchboard.core.errors import RuleRefused
from switchboard.core.observability import logger
from switchboard.data import lines as store
from switchboard.data import practices as practice_store
from switchboard.data.models import LineItem
from switchboard.flows import registration
from switchboard.flows.line_changes import carrier_refusal, refuse_claimed
from switchboard.rules import hosted_orders as hosted
from switchboard.rules.addresses import CarrierWebhooks
from switchboard.rules.hosted_orders import HostedOrderState
from switchboard.rules.lines import (
    LetterOfAuthorization,
    Line,
    LineSource,
    LineStatus,
    NewHostedLine,
    OrderContact,
    check_can_cancel_order,
    check_can_retry_order,
)
from switchboard.rules.practice_address import address_for_orders
from switchboard.rules.practices import Practice


def _place_order(practice: Practice, display_name: str, number: str, authorization: LetterOfAuthorization,
                 webhooks: CarrierWebhooks, contact: OrderContact) -> carriers.HostedOrder:
    address_sid = address_for_orders(practice.address)
    try:
        return carriers.carrier().order_hosted_number(
            phone_number=number, contact_email=str(contact.email), contact_phone=contact.phone,
            friendly_name=f"{practice.name} - {display_name}"[:64], address_sid=address_sid,
            sms_url=webhooks.sms_url, status_callback_url=webhooks.status_url)
    except carriers.CarrierError as error:
        raise carrier_refusal(error, "address" if hosted.about_address(_code_of(error)) else "number") from None


def _code_of(error: carriers.CarrierError) -> int | None:
    return error.code if isinstance(error, carriers.CarrierRefused) else None


def text_enable_line(practice_id: str, draft: NewHostedLine, webhooks: CarrierWebhooks, *, actor: str) -> Line:
    draft.authorization.check(today=datetime.now(UTC).date())
    draft.check_contact()
    practice = practice_store.get_practice(practice_id)
    address_for_orders(practice.address)
    refuse_claimed(draft.number)
    registration.messaging_service_for(practice)  # its number joins the pool when the order completes
    order = _place_order(practice, draft.display_name, draft.number, draft.authorization, webhooks,
                         draft.contact)
    state = _order_state(order)
    settings = {"authorization": draft.authorization.model_dump(mode="json"),
                "hosted_order": state.model_dump(mode="json"), "order_contact": draft.contact.model_dump(mode="json")}
    return store.add_line(practice_id, display_name=draft.display_name, number=draft.number,
                          source=LineSource.HOSTED, status=LineStatus.PENDING, actor=actor,
                          status_reason=hosted.status_reason(state), order_sid=order.sid, settings=settings)


def cancel_order(practice_id: str, line_id: str, *, actor: str) -> Line:
    """Withdraw a pending hosted order: the carrier deletes it, the line ends and its number is free again."""
    item, primary = store.load(practice_id, line_id)
    before = store.to_line(item, primary)
    check_can_cancel_order(before)
    if item.order_sid:
        try:
            carriers.carrier().cancel_hosted_order(item.order_sid)
        except carriers.CarrierRefused:
            raise RuleRefused("the carrier has started on this order and no longer lets it be cancelled; "
                              "wait for it to complete or fail", field="status") from None
        except carriers.CarrierError as error:
            raise carrier_refusal(error, "status") from None
    store.apply_changes(item, {"hosted_order": None})
    store.set_status(item, LineStatus.RELEASED, "the carrier order was cancelled")
    return store.save_line(item, before, actor=actor, action="line.order_cancel", primary=primary,
                           also=lambda writes: store.release_claim(writes, item))


def retry_order(practice_id: str, line_id: str, webhooks: CarrierWebhooks, *, actor: str) -> Line:
    """Order a failed hosted line again: a new carrier order for the same number and authorization."""
    item, primary = store.load(practice_id, line_id)
    before = store.to_line(item, primary)
    check_can_retry_order(before)
    assert before.authorization is not None and before.order_contact is not None
    practice = practice_store.get_practice(practice_id)
    order = _place_order(practice, item.display_name, item.number, before.authorization, webhooks,
                         before.order_contact)
    item.order_sid = order.sid
    state = _order_state(order)
    store.apply_changes(item, {"hosted_order": state.model_dump(mode="json")})
    store.set_status(item, LineStatus.PENDING, hosted.status_reason(state))
    return store.save_line(item, before, actor=actor, action="line.order_retry", primary=primary)


def _order_state(order: carriers.HostedOrder, loa_status: str | None = None) -> HostedOrderState:
    return hosted.order_state(order.status, next_step=order.next_step, failure_reason=order.failure_reason,
                              loa_email=order.email, loa_status=loa_status)


def _loa_status(item: LineItem, order: carriers.HostedOrder, known: str | None) -> str | None:
    """What Twilio says of the order's letter of authorization; what we knew when it cannot be asked."""
    if not order.signing_document_sid or not hosted.loa_may_change(order.status, known):
        return known
    try:
        return carriers.carrier().loa_status(order.signing_document_sid)
    except carriers.CarrierError:
        logger.warning("could not fetch a letter of authorization", extra={"line_id": item.line_id})
        return known


def poll_pending_orders() -> dict[str, int]:
    """Keep each pending line's order state current; end the line once its order completes or fails."""
    moved = {"checked": 0, "enabled": 0, "failed": 0, "updated": 0, "errors": 0}
    for item in store.pending_lines():
        moved["checked"] += 1
        if not item.order_sid:
            continue
        try:
            order = carriers.carrier().fetch_hosted_order(item.order_sid)
        except carriers.CarrierError:
            moved["errors"] += 1
            logger.warning("could not fetch a number order", extra={"line_id": item.line_id})
            continue
        before = store.to_line(item)
        known = before.hosted_order.loa_status if before.hosted_order else None
        state = _order_state(order, _loa_status(item, order, known))
        wanted = hosted.line_status(order.status)
        if before.hosted_order == state and wanted is LineStatus.PENDING:
            continue
        if wanted is LineStatus.ENABLED:
            item.carrier_sid = order.incoming_phone_number_sid
            try:
                item.messaging_service_sid = _pooled(item)
            except carriers.CarrierError:
                moved["errors"] += 1  # enabled on a later run, once its number is in the pool
                logger.warning("completed number not added to the sender pool", extra={"line_id": item.line_id})
                continue
        store.apply_changes(item, {"hosted_order": state.model_dump(mode="json")})
        if wanted is LineStatus.PENDING:
            item.status_reason = hosted.status_reason(state)
            store.save_line(item, before, actor="status_poller", action="line.order", primary=None)
            moved["updated"] += 1
            continue
        store.set_status(item, wanted, hosted.status_reason(state))
        store.save_line(item, before, actor="status_poller", action=f"line.{item.status}", primary=None)
        moved[item.status] += 1
        events.publish("Line Status Changed", {"practice_id": item.practice_id, "line_id": item.line_id,
                                                   "status": item.status, "reason": item.status_reason,
                                                   "changed_at": item.status_changed_at})
    return moved


def _pooled(item: LineItem) -> str | None:
    """Put a line's number in its practice's sender pool; the service it joined."""
    if item.carrier_sid is None:
        return None
    service = registration.messaging_service_for(practice_store.get_practice(item.practice_id))
    registration.join_sender_pool(service, item.carrier_sid)
    return service
