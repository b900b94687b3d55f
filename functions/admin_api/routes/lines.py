"""A practice's lines: record, list, read."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.access import require_admin
from switchboard.data import lines as store
from switchboard.lines import Line, LineSource, LineStatus, NewLine

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
LineId = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("/api/practices/<practice_id>/lines", summary="Record a line with a number the clinic has",
             responses={201: {"description": "Created"}})
def add_line(practice_id: PracticeId, draft: Annotated[NewLine, Body()]) -> tuple[Line, int]:
    require_admin(current_caller(router))
    line = store.add_line(practice_id, draft, source=LineSource.REGISTERED, status=LineStatus.DISABLED,
                          status_reason="not yet text-enabled")
    return line, 201


@router.get("/api/practices/<practice_id>/lines", summary="List a practice's lines")
def list_lines(practice_id: PracticeId) -> list[Line]:
    require_admin(current_caller(router))
    return store.list_lines(practice_id)


@router.get("/api/practices/<practice_id>/lines/<line_id>", summary="Read a line")
def get_line(practice_id: PracticeId, line_id: LineId) -> Line:
    require_admin(current_caller(router))
    return store.get_line(practice_id, line_id)
