"""Users of a practice, their roles and line permissions; and who the signed-in user is."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.core.fields import DomainModel
from switchboard.data import users as store
from switchboard.flows import users as flow
from switchboard.rules.access import Role, require_manager
from switchboard.rules.users import NewUser, User, UserChanges

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
UserId = Annotated[str, Path(min_length=1, max_length=128)]


class MyPractice(DomainModel):
    practice_id: str
    role: Role
    line_ids: list[str]


class Me(DomainModel):
    user_id: str
    email: str
    is_admin: bool
    memberships: list[MyPractice]


@router.get("/api/me", summary="The signed-in user, and their role in each of their practices")
def me() -> Me:
    caller = current_caller(router)
    return Me(user_id=caller.subject, email=caller.email, is_admin=caller.is_admin,
              memberships=[MyPractice(practice_id=m.practice_id, role=m.role, line_ids=sorted(m.line_ids))
                           for m in caller.memberships])


@router.post(
    "/api/practices/<practice_id>/users",
    summary="Add a manager or staff user; their login is made, and Cognito emails them an invitation",
    responses={201: {"description": "Created"}},
)
def add_user(practice_id: PracticeId, draft: Annotated[NewUser, Body()]) -> tuple[User, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return flow.add_user(practice_id, draft, actor=caller.email), 201


@router.get("/api/practices/<practice_id>/users", summary="A practice's users")
def list_users(practice_id: PracticeId) -> list[User]:
    require_manager(current_caller(router), practice_id)
    return store.list_users(practice_id)


@router.patch("/api/practices/<practice_id>/users/<user_id>", summary="Change a user's role or line permissions")
def change_user(practice_id: PracticeId, user_id: UserId, changes: Annotated[UserChanges, Body()]) -> User:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return flow.change_user(practice_id, user_id, changes, actor=caller.email)


@router.delete(
    "/api/practices/<practice_id>/users/<user_id>",
    summary="Remove a user from the practice; leaving their last practice disables their login and signs them out",
    responses={204: {"description": "Removed"}},
)
def remove_user(practice_id: PracticeId, user_id: UserId) -> tuple[None, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    flow.remove_user(practice_id, user_id, actor=caller.email)
    return None, 204
