"""Storing each person's memberships of practices, and turning a signed-in identity into a `Caller`.

A caller is read on every request (one Query of their memberships, no cache), so a change made anywhere
(a role, a line, a removal) holds for their very next request in every container.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from switchboard.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from switchboard.rules.access import Caller, Identity, Membership, Role
from switchboard.rules.users import NewUser, User, UserChanges

from . import audit
from .keys import membership_key, practice_users_key, user_key
from .lines import list_lines
from .models import LegacyUserItem, MembershipItem
from .writes import transaction

ADMIN_GROUP = "admin"


def to_user(item: MembershipItem) -> User:
    return User(user_id=item.user_id, email=item.email, name=item.name, role=Role(item.role),
                practice_id=item.practice_id, line_ids=sorted(item.line_ids or ()), version=item.version or 0)


def _snapshot(user: User) -> dict[str, Any]:
    return user.model_dump(mode="json", exclude={"version"})


def _memberships(subject: str, *, consistent: bool = False) -> list[MembershipItem]:
    return [item for item in MembershipItem.query(user_key(subject), MembershipItem.sk.startswith("PRACTICE#"),
                                                  consistent_read=consistent)
            if isinstance(item, MembershipItem)]


def caller_for(identity: Identity) -> Caller:
    """The identity provider's `admin` group makes an enterprise admin; everyone else needs a membership."""
    if ADMIN_GROUP in identity.groups:
        return Caller(identity.subject, identity.email, is_admin=True)
    items = _memberships(identity.subject) or _adopt_legacy(identity)
    if not items:
        raise Forbidden("this sign-in has no Switchboard user; ask your practice manager to add you")
    return Caller(identity.subject, identity.email, memberships=tuple(
        Membership(item.practice_id, Role(item.role), frozenset(item.line_ids or ())) for item in items))


def _adopt_legacy(identity: Identity) -> list[MembershipItem]:
    """A user stored by email before logins were keyed by `sub`: moved, once, to the login whose verified
    email it is (the pool lets no one hold an email they have not verified)."""
    try:
        legacy = LegacyUserItem.get(user_key(identity.email.casefold()), "USER", consistent_read=True)
    except DoesNotExist:
        return []
    if not legacy.practice_id or legacy.email.casefold() != identity.email.casefold():
        return []
    item = _membership(identity.subject, identity.username, legacy.practice_id, email=legacy.email,
                       name=legacy.name, role=legacy.role, line_ids=set(legacy.line_ids or ()))
    try:
        with transaction() as writes:
            writes.put(item, condition=MembershipItem.pk.does_not_exist())
            writes.delete(legacy, condition=LegacyUserItem.pk.exists())
    except TransactWriteError:
        return _memberships(identity.subject, consistent=True)  # another request moved it first
    return [item]


def _membership(subject: str, username: str, practice_id: str, *, email: str, name: str, role: str,
                line_ids: set[str]) -> MembershipItem:
    pk, sk = membership_key(subject, practice_id)
    return MembershipItem(pk, sk, user_id=subject, username=username, email=email, name=name, role=role,
                          practice_id=practice_id, line_ids=line_ids or None,
                          gsi1pk=practice_users_key(practice_id), gsi1sk=email)


def _check_lines(practice_id: str, line_ids: list[str]) -> None:
    known = {line.line_id for line in list_lines(practice_id)}
    unknown = [line_id for line_id in line_ids if line_id not in known]
    if unknown:
        raise InvalidInput(f"not lines of this practice: {', '.join(unknown)}", field="line_ids")


def check_new_user(practice_id: str, draft: NewUser) -> None:
    """What must hold before a login is made for the draft."""
    _check_lines(practice_id, draft.line_ids)


def add_membership(practice_id: str, draft: NewUser, *, subject: str, username: str, actor: str) -> User:
    email = str(draft.email).casefold()
    item = _membership(subject, username, practice_id, email=email, name=draft.name, role=draft.role.value,
                       line_ids=set(draft.line_ids))
    try:
        with transaction() as writes:
            writes.put(item, condition=MembershipItem.pk.does_not_exist())
            audit.record(writes, actor=actor, practice_id=practice_id, action="user.create", entity="user",
                         entity_id=subject, before=None, after=_snapshot(to_user(item)))
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict("this person is already a user of this practice", field="email") from None
        raise
    return to_user(item)


def load_membership(practice_id: str, user_id: str) -> MembershipItem:
    try:
        return MembershipItem.get(*membership_key(user_id, practice_id), consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such user") from None


def roles_of(subject: str) -> set[str]:
    """Every role the person holds, in any practice."""
    return {item.role for item in _memberships(subject, consistent=True)}


def list_users(practice_id: str) -> list[User]:
    return [to_user(item) for item in MembershipItem.gsi1.query(practice_users_key(practice_id))
            if isinstance(item, MembershipItem)]


def change_user(practice_id: str, user_id: str, changes: UserChanges, *, actor: str) -> MembershipItem:
    item = load_membership(practice_id, user_id)
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
                         entity_id=item.user_id, before=_snapshot(before), after=_snapshot(to_user(item)))
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict("the user was changed by someone else; reload and try again", field="version") from None
        raise
    return item


def remove_membership(practice_id: str, user_id: str, *, actor: str) -> MembershipItem:
    item = load_membership(practice_id, user_id)
    with transaction() as writes:
        writes.delete(item)
        audit.record(writes, actor=actor, practice_id=practice_id, action="user.delete", entity="user",
                     entity_id=item.user_id, before=_snapshot(to_user(item)), after=None)
    return item
