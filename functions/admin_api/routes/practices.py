"""Practices: open, list, read, change, and their audit trail."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import AwareDatetime

from switchboard.data import audit
from switchboard.data import practices as store
from switchboard.flows import practice_address, registration
from switchboard.rules.access import require_admin, require_manager, require_member
from switchboard.rules.audit import AuditFilter, AuditPage
from switchboard.rules.exports import audit_csv
from switchboard.rules.practice_address import PracticeAddress
from switchboard.rules.practices import NewPractice, Practice, PracticeChanges

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("/api/practices", summary="Open a practice", responses={201: {"description": "Created"}})
def open_practice(draft: Annotated[NewPractice, Body()]) -> tuple[Practice, int]:
    caller = current_caller(router)
    require_admin(caller)
    return store.add_practice(draft, actor=caller.email), 201


@router.get("/api/practices", summary="The practices the signed-in user belongs to (all, for an admin)")
def list_practices() -> list[Practice]:
    caller = current_caller(router)
    if caller.is_admin:
        return store.list_practices()
    return [store.get_practice(practice_id) for practice_id in caller.practice_ids]


@router.get("/api/practices/<practice_id>", summary="Read a practice")
def get_practice(practice_id: PracticeId) -> Practice:
    require_member(current_caller(router), practice_id)
    return store.get_practice(practice_id)


@router.patch("/api/practices/<practice_id>", summary="Change a practice's settings, hours or texts")
def change_practice(practice_id: PracticeId, changes: Annotated[PracticeChanges, Body()]) -> Practice:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.change_practice(practice_id, changes, actor=caller.email)


@router.put("/api/practices/<practice_id>/address",
            summary="Set the practice's business address (Twilio needs it to text-enable a landline)")
def set_address(practice_id: PracticeId, address: Annotated[PracticeAddress, Body()]) -> Practice:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return practice_address.save_address(practice_id, address, actor=caller.email)


@router.post("/api/practices/<practice_id>/registration/check",
             summary="Ask the carrier now for the practice's A2P 10DLC registration (the poller asks every 5 minutes)")
def check_registration(practice_id: PracticeId) -> Practice:
    require_manager(current_caller(router), practice_id)
    return registration.check_now(practice_id)


Actor = Annotated[str | None, Query(min_length=1, max_length=254, description="who: the person's email")]
Action = Annotated[str | None, Query(min_length=1, max_length=80, pattern=r"^[a-z_]+(\.[a-z_]+)*\.?$",
                                     description="what: an action, or its start (conversation: every one of them)")]
Since = Annotated[AwareDatetime | None, Query(description="from this time on")]
Until = Annotated[AwareDatetime | None, Query(description="up to this time")]


@router.get("/api/practices/<practice_id>/audit",
            summary="The practice's audit trail, newest first, a page per call; narrowed by who, what and when")
def read_audit(practice_id: PracticeId, actor: Actor = None, action: Action = None, since: Since = None,
               until: Until = None, cursor: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> AuditPage:
    require_manager(current_caller(router), practice_id)
    page = audit.recent(practice_id, AuditFilter(actor=actor, action=action, since=since, until=until),
                        limit=limit, cursor=cursor)
    return AuditPage(entries=page.items, next_cursor=page.cursor)


@router.get("/api/practices/<practice_id>/audit/export",
            summary=f"The entries the same filters select, as CSV (at most {audit.EXPORT_LIMIT:,}); the export "
                    "goes on the trail")
def export_audit(practice_id: PracticeId, actor: Actor = None, action: Action = None, since: Since = None,
                 until: Until = None) -> Response[str]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    which = AuditFilter(actor=actor, action=action, since=since, until=until)
    entries = list(audit.every(practice_id, which))
    audit.note(practice_id, actor=caller.email, action="audit.export", entity="practice", entity_id=practice_id,
               details={"filters": which.described(), "entries": len(entries)})
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=audit_csv(entries),
                    headers={"Content-Disposition": f'attachment; filename="audit-{practice_id}.csv"',
                             "Cache-Control": "no-store"})
