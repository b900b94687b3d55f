"""A practice's users: each gets a login in the user pool when added, and loses it when they leave their
last practice. The login is made first, so a failed write leaves only a login with no access, which the
next attempt finds and reuses."""

from __future__ import annotations

from switchboard.aws import logins
from switchboard.data import users as store
from switchboard.rules.users import NewUser, User, UserChanges


def add_user(practice_id: str, draft: NewUser, *, actor: str) -> User:
    store.check_new_user(practice_id, draft)
    login = logins.open_login(str(draft.email).casefold(), draft.name)
    user = store.add_membership(practice_id, draft, subject=login.subject, username=login.username, actor=actor)
    logins.set_role_groups(login.username, store.roles_of(login.subject))
    return user


def change_user(practice_id: str, user_id: str, changes: UserChanges, *, actor: str) -> User:
    item = store.change_user(practice_id, user_id, changes, actor=actor)
    if changes.role is not None:
        logins.set_role_groups(item.username, store.roles_of(user_id))
    return store.to_user(item)


def remove_user(practice_id: str, user_id: str, *, actor: str) -> None:
    removed = store.remove_membership(practice_id, user_id, actor=actor)
    remaining = store.roles_of(user_id)
    if remaining:
        logins.set_role_groups(removed.username, remaining)
    else:
        logins.close_login(removed.username)
