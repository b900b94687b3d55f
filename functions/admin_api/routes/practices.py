"""Practices: create, list, read, change."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.access import require_admin
from switchboard.data import practices as store
from switchboard.practices import NewPractice, Practice, PracticeChanges

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("/api/practices", summary="Open a practice", responses={201: {"description": "Created"}})
def open_practice(draft: Annotated[NewPractice, Body()]) -> tuple[Practice, int]:
    require_admin(current_caller(router))
    return store.add_practice(draft), 201


@router.get("/api/practices", summary="List practices")
def list_practices() -> list[Practice]:
    require_admin(current_caller(router))
    return store.list_practices()


@router.get("/api/practices/<practice_id>", summary="Read a practice")
def get_practice(practice_id: PracticeId) -> Practice:
    require_admin(current_caller(router))
    return store.get_practice(practice_id)


@router.patch("/api/practices/<practice_id>", summary="Change a practice's name, timezone or hours")
def change_practice(practice_id: PracticeId, changes: Annotated[PracticeChanges, Body()]) -> Practice:
    require_admin(current_caller(router))
    return store.change_practice(practice_id, changes)
