"""Users of a practice, their roles and line permissions; and who the signed-in user is."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.core.fields import DomainModel
from switchboard.data import users as store
from switchboard.rules.access import Role, require_manager
from switchboard.rules.users import NewUser, User, UserChanges

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
Email = Annotated[str, Path(min_length=3, max_length=254)]


class Me(DomainModel):
    email: str
    role: Role
    practice_id: str | None
    line_ids: list[str]


@router.get("/api/me", summary="The signed-in user")
def me() -> Me:
    caller = current_caller(router)
    return Me(email=caller.email, role=caller.role, practice_id=caller.practice_id, line_ids=sorted(caller.line_ids))


@router.post(
    "/api/practices/<practice_id>/users",
    summary="Add a manager or staff user",
    responses={201: {"description": "Created"}},
)
def add_user(practice_id: PracticeId, draft: Annotated[NewUser, Body()]) -> tuple[User, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.add_user(practice_id, draft, actor=caller.email), 201


@router.get("/api/practices/<practice_id>/users", summary="A practice's users")
def list_users(practice_id: PracticeId) -> list[User]:
    require_manager(current_caller(router), practice_id)
    return store.list_users(practice_id)


@router.patch("/api/practices/<practice_id>/users/<email>", summary="Change a user's role or line permissions")
def change_user(practice_id: PracticeId, email: Email, changes: Annotated[UserChanges, Body()]) -> User:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.change_user(practice_id, email, changes, actor=caller.email)


@router.delete(
    "/api/practices/<practice_id>/users/<email>", summary="Remove a user", responses={204: {"description": "Removed"}}
)
def remove_user(practice_id: PracticeId, email: Email) -> tuple[None, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    store.remove_user(practice_id, email, actor=caller.email)
    return None, 204
