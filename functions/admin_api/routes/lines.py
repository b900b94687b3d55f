"""A practice's lines: buy, text-enable, configure, enable/disable, make primary, release."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field

from switchboard.carrier import AvailableNumber
from switchboard.core.fields import DomainModel
from switchboard.data import lines as store
from switchboard.flows import hosted_lines, line_changes
from switchboard.rules.access import permitted, require_line, require_manager, require_member
from switchboard.rules.addresses import CarrierWebhooks
from switchboard.rules.forwarding import Forwarding
from switchboard.rules.lines import (
    EmergencyCloseRequest,
    Line,
    LineChanges,
    LineStatus,
    NewHostedLine,
    NewPurchasedLine,
)

from .identity import carrier_webhooks, current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
LineId = Annotated[str, Path(min_length=1, max_length=40)]


class ReleaseRequest(DomainModel):
    model_config = ConfigDict(extra="forbid")

    confirm_number: str = Field(min_length=1, max_length=40, description="The line's number, typed again")


def _webhooks() -> CarrierWebhooks:
    return carrier_webhooks(router)


@router.get("/api/practices/<practice_id>/available-numbers", summary="Numbers for sale in an area code")
def available_numbers(
    practice_id: PracticeId,
    area_code: Annotated[str, Query(pattern=r"^[2-9]\d{2}$")],
    contains: Annotated[str | None, Query(pattern=r"^[0-9]{1,7}$")] = None,
) -> list[AvailableNumber]:
    require_manager(current_caller(router), practice_id)
    return line_changes.search_numbers(area_code, contains)


@router.post(
    "/api/practices/<practice_id>/lines/purchase",
    summary="Buy a number; texting works at once",
    responses={201: {"description": "Created"}},
)
def buy_line(practice_id: PracticeId, draft: Annotated[NewPurchasedLine, Body()]) -> tuple[Line, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.buy_line(practice_id, draft, _webhooks(), actor=caller.email), 201


@router.post(
    "/api/practices/<practice_id>/lines",
    summary="Text-enable a number the clinic owns (pending until the carrier completes the order)",
    responses={201: {"description": "Created"}},
)
def text_enable_line(practice_id: PracticeId, draft: Annotated[NewHostedLine, Body()]) -> tuple[Line, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return hosted_lines.text_enable_line(practice_id, draft, _webhooks(), actor=caller.email), 201


@router.post("/api/practices/<practice_id>/lines/<line_id>/order/cancel",
             summary="Cancel a hosted line's pending carrier order; the number is free again")
def cancel_order(practice_id: PracticeId, line_id: LineId) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return hosted_lines.cancel_order(practice_id, line_id, actor=caller.email)


@router.post("/api/practices/<practice_id>/lines/<line_id>/order/retry",
             summary="Order a failed hosted line again with the carrier")
def retry_order(practice_id: PracticeId, line_id: LineId) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return hosted_lines.retry_order(practice_id, line_id, _webhooks(), actor=caller.email)


@router.get("/api/practices/<practice_id>/lines", summary="The practice's lines the signed-in user may use")
def list_lines(practice_id: PracticeId) -> list[Line]:
    caller = current_caller(router)
    require_member(caller, practice_id)
    return line_changes.with_routing(permitted(caller, store.list_lines(practice_id)))


@router.get("/api/practices/<practice_id>/lines/<line_id>", summary="Read a line")
def get_line(practice_id: PracticeId, line_id: LineId) -> Line:
    require_line(current_caller(router), practice_id, line_id)
    return line_changes.with_routing([store.get_line(practice_id, line_id)])[0]


@router.patch("/api/practices/<practice_id>/lines/<line_id>", summary="Configure a line")
def configure_line(practice_id: PracticeId, line_id: LineId, changes: Annotated[LineChanges, Body()]) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.with_routing([line_changes.configure_line(practice_id, line_id, changes,
                                                                  actor=caller.email)])[0]


@router.post("/api/practices/<practice_id>/lines/<line_id>/emergency-close",
             summary="Close the line now until a time: texts get the after-hours reply, calls the after-hours route")
def emergency_close(practice_id: PracticeId, line_id: LineId,
                    request: Annotated[EmergencyCloseRequest, Body()]) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.with_routing([line_changes.close_now(practice_id, line_id, request, actor=caller.email)])[0]


@router.delete("/api/practices/<practice_id>/lines/<line_id>/emergency-close",
               summary="Reopen a line closed for an emergency before its reopening time")
def emergency_reopen(practice_id: PracticeId, line_id: LineId) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.with_routing([line_changes.reopen_now(practice_id, line_id, actor=caller.email)])[0]


@router.post("/api/practices/<practice_id>/lines/<line_id>/enable", summary="Enable texting on a disabled line")
def enable_line(practice_id: PracticeId, line_id: LineId) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.change_status(practice_id, line_id, LineStatus.ENABLED, actor=caller.email)


@router.post("/api/practices/<practice_id>/lines/<line_id>/disable", summary="Stop texting from a line")
def disable_line(practice_id: PracticeId, line_id: LineId) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.change_status(practice_id, line_id, LineStatus.DISABLED, actor=caller.email)


@router.post("/api/practices/<practice_id>/lines/<line_id>/primary", summary="Make this the practice's primary line")
def make_primary(practice_id: PracticeId, line_id: LineId) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.make_primary(practice_id, line_id, actor=caller.email)


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/release",
    summary="Give the number back to the carrier (irreversible; repeat the number to confirm)",
)
def release_line(practice_id: PracticeId, line_id: LineId, request: Annotated[ReleaseRequest, Body()]) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.release_line(practice_id, line_id, request.confirm_number, actor=caller.email)


class ForwardingRequest(DomainModel):
    model_config = ConfigDict(extra="forbid")

    forwarding: Forwarding | None = Field(description="The line's call routing, or null for none")


@router.put("/api/practices/<practice_id>/lines/<line_id>/forwarding",
            summary="Set a line's call forwarding: destinations, after-hours routing, or a link to another line")
def set_forwarding(practice_id: PracticeId, line_id: LineId, request: Annotated[ForwardingRequest, Body()]) -> Line:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    changed = line_changes.set_forwarding(practice_id, line_id, request.forwarding, actor=caller.email,
                                          across_practices=caller.is_admin)
    return line_changes.with_routing([changed])[0]
