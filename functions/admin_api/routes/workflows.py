"""Call-to-text and abandoned-call workflows: create, list, change, rotate the token, revoke."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import ConfigDict, Field

from switchboard.core.fields import DomainModel
from switchboard.core.settings import deployment_settings
from switchboard.data import workflows as store
from switchboard.rules.access import require_admin, require_manager, require_member
from switchboard.rules.tokens import mint_token, token_environment
from switchboard.rules.workflows import (
    NewWorkflow,
    Workflow,
    WorkflowChanges,
    WorkflowWithUrl,
    webhook_url,
)

from .identity import current_caller, public_base_url

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
WorkflowId = Annotated[str, Path(min_length=1, max_length=40)]


class UrlCheck(DomainModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=400)


class UrlVerdict(DomainModel):
    environment: str | None
    this_environment: str
    works_here: bool
    message: str


def _shown_once(workflow: Workflow, token: str) -> WorkflowWithUrl:
    url = webhook_url(public_base_url(router), workflow.vendor, token)
    return WorkflowWithUrl(**workflow.model_dump(), webhook_url=url)


@router.post(
    "/api/practices/<practice_id>/workflows",
    summary="Create a workflow; the answer shows its webhook URL once",
    responses={201: {"description": "Created"}},
)
def create_workflow(practice_id: PracticeId, draft: Annotated[NewWorkflow, Body()]) -> tuple[WorkflowWithUrl, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    token = mint_token(deployment_settings().environment)
    workflow = store.add_workflow(practice_id, draft, token, actor=caller.email)
    return _shown_once(workflow, token), 201


@router.get("/api/practices/<practice_id>/workflows", summary="A practice's workflows with their counts")
def list_workflows(practice_id: PracticeId) -> list[Workflow]:
    require_member(current_caller(router), practice_id)
    return store.list_workflows(practice_id)


@router.get("/api/practices/<practice_id>/workflows/<workflow_id>", summary="Read a workflow and its counts")
def get_workflow(practice_id: PracticeId, workflow_id: WorkflowId) -> Workflow:
    require_member(current_caller(router), practice_id)
    return store.get_workflow(practice_id, workflow_id)


@router.patch("/api/practices/<practice_id>/workflows/<workflow_id>", summary="Change a workflow")
def change_workflow(
    practice_id: PracticeId, workflow_id: WorkflowId, changes: Annotated[WorkflowChanges, Body()]
) -> Workflow:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.change_workflow(practice_id, workflow_id, changes, actor=caller.email)


@router.post(
    "/api/practices/<practice_id>/workflows/<workflow_id>/rotate",
    summary="Mint a new webhook URL; the old one stops working at once",
)
def rotate_token(practice_id: PracticeId, workflow_id: WorkflowId) -> WorkflowWithUrl:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    token = mint_token(deployment_settings().environment)
    workflow = store.change_workflow(practice_id, workflow_id, WorkflowChanges(), actor=caller.email, new_token=token)
    return _shown_once(workflow, token)


@router.post(
    "/api/practices/<practice_id>/workflows/<workflow_id>/revoke",
    summary="Revoke a workflow; its webhook URL stops working for good",
)
def revoke_workflow(practice_id: PracticeId, workflow_id: WorkflowId) -> Workflow:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.change_workflow(practice_id, workflow_id, WorkflowChanges(), actor=caller.email, revoke=True)


@router.post("/api/webhook-urls/check", summary="Which environment a webhook URL belongs to (admins only)")
def check_webhook_url(check: Annotated[UrlCheck, Body()]) -> UrlVerdict:
    require_admin(current_caller(router))
    here = deployment_settings().environment
    minted = token_environment(check.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0])
    if minted is None:
        message = "this is not a Switchboard webhook URL"
    elif minted == here:
        message = f"this URL was minted in this environment ({here})"
    else:
        message = f"this URL belongs to the {minted} environment, not {here}"
    return UrlVerdict(environment=minted, this_environment=here, works_here=minted == here, message=message)
