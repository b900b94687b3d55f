"""Storing users, and turning a signed-in identity into a `Caller`."""

from __future__ import annotations

from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from switchboard.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from switchboard.rules.access import Caller, Identity, Role
from switchboard.rules.users import NewUser, User, UserChanges

from . import audit
from .lines import list_lines
from .models import UserItem
from .writes import transaction

ADMIN_GROUP = "admin"
CALLER_TTL_SECONDS = 30
# A warm container remembers who a signed-in user is for 30 s, so an inbox page is one request, not two.
# Changes made here apply at once; made through another container, within CALLER_TTL_SECONDS.
_callers: TTLCache[str, Caller] = TTLCache(maxsize=512, ttl=CALLER_TTL_SECONDS)


def user_key(email: str) -> str:
    return f"USER#{email.casefold()}"


def to_user(item: UserItem) -> User:
    return User(email=item.email, name=item.name, role=Role(item.role), practice_id=item.practice_id,
                line_ids=sorted(item.line_ids or ()), version=item.version or 0)


def _snapshot(user: User) -> dict[str, Any]:
    return user.model_dump(mode="json", exclude={"version"})


def caller_for(identity: Identity) -> Caller:
    """The identity provider's `admin` group makes an enterprise admin; everyone else needs a user record."""
    if ADMIN_GROUP in identity.groups:
        return Caller(email=identity.email, role=Role.ADMIN)
    key = user_key(identity.email)
    known = _callers.get(key)
    if known is not None:
        return known
    try:
        item = UserItem.get(key, "USER")
    except DoesNotExist:
        raise Forbidden("this sign-in has no Switchboard user; ask your practice manager to add you") from None
    caller = _callers[key] = Caller(email=item.email, role=Role(item.role), practice_id=item.practice_id,
                                    line_ids=frozenset(item.line_ids or ()))
    return caller


def forget_caller(email: str) -> None:
    _callers.pop(user_key(email), None)


def _check_lines(practice_id: str, line_ids: list[str]) -> None:
    known = {line.line_id for line in list_lines(practice_id)}
    unknown = [line_id for line_id in line_ids if line_id not in known]
    if unknown:
        raise InvalidInput(f"not lines of this practice: {', '.join(unknown)}", field="line_ids")


def add_user(practice_id: str, draft: NewUser, *, actor: str) -> User:
    _check_lines(practice_id, draft.line_ids)
    email = str(draft.email).casefold()
    item = UserItem(user_key(email), "USER", email=email, name=draft.name, role=draft.role.value,
                    practice_id=practice_id, line_ids=set(draft.line_ids) or None,
                    gsi1pk=f"USERS#{practice_id}", gsi1sk=email)
    try:
        with transaction() as writes:
            writes.put(item, condition=UserItem.pk.does_not_exist())
            audit.record(writes, actor=actor, practice_id=practice_id, action="user.create", entity="user",
                         entity_id=email, before=None, after=_snapshot(to_user(item)))
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict("a user with this email already exists", field="email") from None
        raise
    forget_caller(email)
    return to_user(item)


def _load(practice_id: str, email: str) -> UserItem:
    try:
        item = UserItem.get(user_key(email), "USER", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such user") from None
    if item.practice_id != practice_id:
        raise NotFound("no such user")
    return item


def list_users(practice_id: str) -> list[User]:
    return [to_user(item) for item in UserItem.gsi1.query(f"USERS#{practice_id}") if isinstance(item, UserItem)]


def change_user(practice_id: str, email: str, changes: UserChanges, *, actor: str) -> User:
    item = _load(practice_id, email)
    before = to_user(item)
    if changes.version is not None and changes.version != item.version:
        raise Conflict("the user was changed by someone else; reload and try again", field="version")
    if changes.line_ids is not None:
        _check_lines(practice_id, changes.line_ids)
        item.line_ids = set(changes.line_ids) or None
    if changes.name is not None:
        item.name = changes.name
    if changes.role is not None:
        item.role = changes.role.value
    try:
        with transaction() as writes:
            writes.put(item)
            audit.record(writes, actor=actor, practice_id=practice_id, action="user.update", entity="user",
                         entity_id=item.email, before=_snapshot(before), after=_snapshot(to_user(item)))
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict("the user was changed by someone else; reload and try again", field="version") from None
        raise
    forget_caller(item.email)
    return to_user(item)


def remove_user(practice_id: str, email: str, *, actor: str) -> None:
    item = _load(practice_id, email)
    with transaction() as writes:
        writes.delete(item)
        audit.record(writes, actor=actor, practice_id=practice_id, action="user.delete", entity="user",
                     entity_id=item.email, before=_snapshot(to_user(item)), after=None)
    forget_caller(item.email)
