"""Resources (locations) and the line each texts from."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import ConfigDict, Field

from switchboard.core.fields import DomainModel
from switchboard.data import resources as store
from switchboard.flows import line_changes
from switchboard.rules.access import require_line, require_manager, require_member
from switchboard.rules.lines import Line
from switchboard.rules.resources import NewResource, Resource

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
ResourceId = Annotated[str, Path(min_length=1, max_length=40)]


class LineLink(DomainModel):
    model_config = ConfigDict(extra="forbid")

    line_id: str | None = Field(max_length=40, description="The enabled line to text from, or null to unlink")


@router.post(
    "/api/practices/<practice_id>/resources", summary="Add a location", responses={201: {"description": "Created"}}
)
def add_resource(practice_id: PracticeId, draft: Annotated[NewResource, Body()]) -> tuple[Resource, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.add_resource(practice_id, draft, actor=caller.email), 201


@router.get("/api/practices/<practice_id>/resources", summary="A practice's locations")
def list_resources(practice_id: PracticeId) -> list[Resource]:
    require_member(current_caller(router), practice_id)
    return store.list_resources(practice_id)


@router.put(
    "/api/practices/<practice_id>/resources/<resource_id>/line",
    summary="Link a location to an enabled line (or unlink it with null)",
)
def link_line(practice_id: PracticeId, resource_id: ResourceId, link: Annotated[LineLink, Body()]) -> Resource:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return line_changes.link_resource(practice_id, resource_id, link.line_id, actor=caller.email)


@router.get("/api/practices/<practice_id>/resources/<resource_id>/line", summary="Which line texts for a location")
def line_for_resource(practice_id: PracticeId, resource_id: ResourceId) -> Line | None:
    caller = current_caller(router)
    require_member(caller, practice_id)
    line = line_changes.line_for_resource(practice_id, resource_id)
    if line is not None:
        require_line(caller, practice_id, line.line_id)  # staff see a location's line only if it is one of theirs
    return line
