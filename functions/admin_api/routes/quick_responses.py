"""A practice's quick responses."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.data import quick_responses as store
from switchboard.rules.access import require_manager, require_member
from switchboard.rules.quick_responses import NewQuickResponse, QuickResponse, QuickResponseChanges

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
QuickId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("/api/practices/<practice_id>/quick-responses", summary="A practice's quick responses")
def list_quick_responses(practice_id: PracticeId) -> list[QuickResponse]:
    require_member(current_caller(router), practice_id)
    return store.list_quick_responses(practice_id)


@router.post(
    "/api/practices/<practice_id>/quick-responses",
    summary="Add a quick response",
    responses={201: {"description": "Created"}},
)
def add_quick_response(
    practice_id: PracticeId, draft: Annotated[NewQuickResponse, Body()]
) -> tuple[QuickResponse, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.add_quick_response(practice_id, draft, actor=caller.email), 201


@router.patch("/api/practices/<practice_id>/quick-responses/<quick_id>", summary="Change a quick response")
def change_quick_response(
    practice_id: PracticeId, quick_id: QuickId, changes: Annotated[QuickResponseChanges, Body()]
) -> QuickResponse:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.change_quick_response(practice_id, quick_id, changes, actor=caller.email)


@router.delete(
    "/api/practices/<practice_id>/quick-responses/<quick_id>",
    summary="Remove a quick response",
    responses={204: {"description": "Removed"}},
)
def remove_quick_response(practice_id: PracticeId, quick_id: QuickId) -> tuple[None, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    store.remove_quick_response(practice_id, quick_id, actor=caller.email)
    return None, 204
