"""Adding, configuring and retiring lines: the domain rules, the carrier and the store, in order.

Carrier first, then our write: a refused purchase leaves nothing behind, and a number we hold at
the carrier but failed to record is handed back at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard import carrier as carriers
from switchboard.core.errors import Conflict, InvalidInput, NotFound, RuleRefused, Unavailable
from switchboard.core.observability import logger
from switchboard.data import lines as store
from switchboard.data import practices as practice_store
from switchboard.data import resources as resource_store
from switchboard.data.models import LineItem
from switchboard.flows import registration
from switchboard.rules.addresses import CarrierWebhooks
from switchboard.rules.call_routing import MAX_LINK_CHAIN
from switchboard.rules.forwarding import (
    HOSTED_CALLS,
    HOSTED_CALLS_REFUSAL,
    Forwarding,
    check_destinations,
    find_loop,
    routing_summary,
)
from switchboard.rules.lines import (
    EmergencyClose,
    EmergencyCloseRequest,
    Line,
    LineChanges,
    LineSource,
    LineStatus,
    NewPurchasedLine,
    check_can_close_now,
    check_can_link_resource,
    check_can_make_primary,
    check_can_release,
    check_status_change,
)
from switchboard.rules.resources import Resource


def carrier_refusal(error: carriers.CarrierError, field: str | None = None) -> Exception:
    if isinstance(error, carriers.CarrierRefused):
        return RuleRefused(f"the carrier refused: {error.reason}", field=field)
    return Unavailable("the carrier did not answer; try again in a minute")


def search_numbers(area_code: str, contains: str | None = None) -> list[carriers.AvailableNumber]:
    try:
        return carriers.carrier().search_numbers(area_code=area_code, contains=contains)
    except carriers.CarrierError as error:
        raise carrier_refusal(error, "area_code") from None


def refuse_claimed(number: str) -> None:
    if store.number_is_claimed(number):
        raise Conflict("this number is already used by another line", field="number")


def buy_line(practice_id: str, draft: NewPurchasedLine, webhooks: CarrierWebhooks, *, actor: str) -> Line:
    """Buy the number and put it in the practice's sender pool (its Messaging Service, made with the first line)."""
    practice = practice_store.get_practice(practice_id)
    refuse_claimed(draft.number)
    try:
        service = registration.messaging_service_for(practice)
        sid = carriers.carrier().buy_number(phone_number=draft.number, sms_url=webhooks.sms_url,
                                            voice_url=webhooks.voice_url)
    except carriers.CarrierError as error:
        raise carrier_refusal(error, "number") from None
    try:
        registration.join_sender_pool(service, sid)
        return store.add_line(practice_id, display_name=draft.display_name, number=draft.number,
                              source=LineSource.PURCHASED, status=LineStatus.ENABLED, actor=actor, carrier_sid=sid,
                              messaging_service_sid=service)
    except carriers.CarrierError as error:
        logger.warning("number not added to the sender pool; releasing it", extra={"carrier_sid": sid})
        carriers.carrier().release_number(sid)
        raise carrier_refusal(error, "number") from None
    except Exception:
        logger.warning("line not recorded after purchase; releasing the number", extra={"carrier_sid": sid})
        carriers.carrier().release_number(sid)
        raise


def configure_line(practice_id: str, line_id: str, changes: LineChanges, *, actor: str) -> Line:
    item, primary = store.load(practice_id, line_id)
    store.check_version(item, changes.version)
    _check_location(practice_id, item, changes)
    before = store.to_line(item, primary)
    store.apply_changes(item, changes.applied_to(before))
    return store.save_line(item, before, actor=actor, action="line.update", primary=primary)


def close_now(practice_id: str, line_id: str, request: EmergencyCloseRequest, *, actor: str,
              now: datetime | None = None) -> Line:
    """Close the line at once until `reopens_at`: its texts get the after-hours reply, its calls the after-hours
    route. Closing again replaces the reason and the reopening time."""
    at = now or datetime.now(UTC)
    request.check(at)
    item, primary = store.load(practice_id, line_id)
    store.check_version(item, request.version)
    before = store.to_line(item, primary)
    check_can_close_now(before)
    close = EmergencyClose(reason=request.reason, closed_at=at, reopens_at=request.reopens_at.astimezone(UTC),
                           closed_by=actor)
    store.apply_changes(item, {"emergency_close": close.model_dump(mode="json")})
    return store.save_line(item, before, actor=actor, action="line.emergency_close", primary=primary)


def reopen_now(practice_id: str, line_id: str, *, actor: str) -> Line:
    """End an emergency close early; a line not closed (or whose close has run out) is answered as it is."""
    item, primary = store.load(practice_id, line_id)
    before = store.to_line(item, primary)
    if before.closed_now is None:
        return before
    store.apply_changes(item, {"emergency_close": None})
    return store.save_line(item, before, actor=actor, action="line.emergency_reopen", primary=primary)


def _check_location(practice_id: str, item: LineItem, changes: LineChanges) -> None:
    wanted = changes.location
    # Resending what is stored, even a location typed before locations were picked, changes nothing.
    if "location" not in changes.model_fields_set or wanted is None or wanted == (item.settings or {}).get("location"):
        return
    try:
        resource_store.get_resource(practice_id, wanted)
    except NotFound:
        raise InvalidInput("is not one of this practice's locations; pick one from its locations",
                           field="location") from None


def change_status(practice_id: str, line_id: str, wanted: LineStatus, *, actor: str) -> Line:
    item, primary = store.load(practice_id, line_id)
    before = store.to_line(item, primary)
    check_status_change(before, wanted)
    reason = "disabled by an admin" if wanted is LineStatus.DISABLED else None
    store.set_status(item, wanted, reason)
    return store.save_line(item, before, actor=actor, action=f"line.{wanted.value}", primary=primary)


def make_primary(practice_id: str, line_id: str, *, actor: str) -> Line:
    line = store.get_line(practice_id, line_id)
    check_can_make_primary(line)
    practice_store.set_primary_line(practice_id, line_id, actor=actor)
    return store.get_line(practice_id, line_id)


def release_line(practice_id: str, line_id: str, confirm_number: str, *, actor: str) -> Line:
    item, primary = store.load(practice_id, line_id)
    before = store.to_line(item, primary)
    check_can_release(before, confirm_number, store.dependants(practice_id, line_id))
    if item.carrier_sid:
        try:
            carriers.carrier().release_number(item.carrier_sid)
        except carriers.CarrierError as error:
            raise carrier_refusal(error) from None
    store.set_status(item, LineStatus.RELEASED, "released to the carrier")
    return store.save_line(item, before, actor=actor, action="line.release", primary=primary,
                           also=lambda writes: store.release_claim(writes, item))


def link_resource(practice_id: str, resource_id: str, line_id: str | None, *, actor: str) -> Resource:
    if line_id is not None:
        check_can_link_resource(store.get_line(practice_id, line_id))
    return resource_store.link_resource(practice_id, resource_id, line_id, actor=actor)


def line_for_resource(practice_id: str, resource_id: str) -> Line | None:
    """Which line texts for this location: the one it is linked to, if any."""
    resource = resource_store.get_resource(practice_id, resource_id)
    return store.get_line(practice_id, resource.line_id) if resource.line_id else None


def _linked_target(practice_id: str, line_id: str, *, across_practices: bool) -> LineItem:
    """The line a link points at: one of the practice's own, or (for an enterprise admin) any practice's."""
    target = store.find_line(line_id)
    if target is None or target.status == LineStatus.RELEASED.value:
        raise InvalidInput("is not a line of this enterprise", field="forwarding.linked_line_id")
    if target.practice_id != practice_id and not across_practices:
        raise InvalidInput("is not a line of this practice; only an enterprise admin links lines across practices",
                           field="forwarding.linked_line_id")
    return target


def _link_of(item: LineItem) -> str | None:
    forwarding = (item.settings or {}).get("forwarding") or {}
    linked: str | None = forwarding.get("linked_line_id")
    return linked


def _links_from(line_id: str, name: str, target: str) -> tuple[dict[str, str | None], dict[str, str]]:
    """The chain of links starting at `line_id` if it linked to `target`, with each line's name."""
    links: dict[str, str | None] = {line_id: target}
    names = {line_id: name}
    current: str | None = target
    while current is not None and current not in links:
        found = store.find_line(current)
        if found is None:
            break
        names[current] = found.display_name
        links[current] = _link_of(found)
        current = links[current]
    return links, names


def set_forwarding(practice_id: str, line_id: str, forwarding: Forwarding | None, *, actor: str,
                   across_practices: bool = False) -> Line:
    """Save a line's call routing; a link that would loop is refused, naming the loop."""
    item, primary = store.load(practice_id, line_id)
    before = store.to_line(item, primary)
    if forwarding is not None and item.source == LineSource.HOSTED:
        raise InvalidInput(HOSTED_CALLS_REFUSAL, field="forwarding")
    if forwarding is not None:
        try:
            check_destinations(forwarding, item.number)
        except ValueError as error:
            raise InvalidInput(str(error), field="forwarding") from None
        if forwarding.linked_line_id:
            if forwarding.linked_line_id == line_id:
                raise InvalidInput("a line cannot be linked to itself", field="forwarding.linked_line_id")
            _linked_target(practice_id, forwarding.linked_line_id, across_practices=across_practices)
            links, names = _links_from(line_id, item.display_name, forwarding.linked_line_id)
            loop = find_loop(line_id, links)
            if loop:
                raise RuleRefused("this link would make a loop: " + " → ".join(names.get(i, i) for i in loop),
                                  field="forwarding.linked_line_id")
    store.apply_changes(item, {"forwarding": forwarding.model_dump(mode="json") if forwarding else None})
    store.set_link(item, forwarding.linked_line_id if forwarding else None)
    return store.save_line(item, before, actor=actor, action="line.forwarding", primary=primary)


def with_routing(lines: list[Line]) -> list[Line]:
    """Each line as its card shows it: the routing summary (a linked line shows the rules it follows) and the
    location's name."""
    known = {line.line_id: line for line in lines}
    names: dict[str, dict[str, str]] = {}
    return [line.model_copy(update={"routing_summary": _summary(line, known), **_location(line, names)})
            for line in lines]


def _location(line: Line, names: dict[str, dict[str, str]]) -> dict[str, str | None]:
    if line.location is None:
        return {}
    if line.practice_id not in names:
        names[line.practice_id] = {r.resource_id: r.name for r in resource_store.list_resources(line.practice_id)}
    name = names[line.practice_id].get(line.location)
    if name is not None:
        return {"location_name": name}
    # Text typed before locations were picked from the practice's: shown as it was, but no location is chosen.
    return {"location": None, "location_name": line.location}


def _summary(line: Line, known: dict[str, Line]) -> str:
    seen: list[str] = []
    current = line
    while current.forwarding and current.forwarding.linked_line_id and len(seen) < MAX_LINK_CHAIN:
        seen.append(current.line_id)
        target_id = current.forwarding.linked_line_id
        found = known.get(target_id)
        if found is None:
            item = store.find_line(target_id)
            if item is None:
                return "Linked to a line that no longer exists"
            found = known[target_id] = store.to_line(item)
        current = found
    if line.source is LineSource.HOSTED:
        return HOSTED_CALLS
    if current.line_id == line.line_id:
        return routing_summary(line.forwarding)
    return f"Linked to {current.display_name} ({current.number_display}): {routing_summary(current.forwarding)}"
