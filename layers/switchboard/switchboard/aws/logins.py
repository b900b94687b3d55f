"""Logins in the Cognito user pool: made when a practice adds a user, kept in step with their roles, closed
when they leave their last practice.

The pool signs in by email; each login has a `username` Cognito chose (the `sub` on a real pool) that never
changes, so every call after the first names the login by it, never by an email someone could change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from switchboard.core.errors import InvalidInput
from switchboard.core.settings import login_settings, store_settings

ROLE_GROUPS = frozenset({"manager", "staff"})


@dataclass(frozen=True)
class Login:
    subject: str  # the `sub` every ID token of this login carries
    username: str


@cache
def _cognito() -> Any:
    import boto3

    return boto3.client("cognito-idp", region_name=store_settings().region)


def _pool() -> str:
    return login_settings().user_pool_id


def _attribute(attributes: Iterable[dict[str, str]], name: str) -> str | None:
    return next((a["Value"] for a in attributes if a["Name"] == name), None)


def open_login(email: str, name: str) -> Login:
    """The person's login, made (Cognito emails the invitation) if they have none; enabled either way."""
    client = _cognito()
    try:
        made = client.admin_create_user(
            UserPoolId=_pool(), Username=email, DesiredDeliveryMediums=["EMAIL"],
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                            {"Name": "name", "Value": name}])["User"]
        return Login(_attribute(made["Attributes"], "sub") or made["Username"], made["Username"])
    except client.exceptions.UsernameExistsException:
        pass
    except client.exceptions.InvalidParameterException:
        raise InvalidInput("the identity provider refused this email address", field="email") from None
    found = client.admin_get_user(UserPoolId=_pool(), Username=email)
    if not found.get("Enabled", True):
        client.admin_enable_user(UserPoolId=_pool(), Username=found["Username"])
    subject = _attribute(found.get("UserAttributes", []), "sub") or found["Username"]
    return Login(subject, found["Username"])


def set_role_groups(username: str, roles: Iterable[str]) -> None:
    """The pool's `manager` and `staff` groups say which roles the person holds in any practice."""
    wanted = ROLE_GROUPS & set(roles)
    client = _cognito()
    for group in sorted(ROLE_GROUPS):
        if group in wanted:
            client.admin_add_user_to_group(UserPoolId=_pool(), Username=username, GroupName=group)
        else:
            client.admin_remove_user_from_group(UserPoolId=_pool(), Username=username, GroupName=group)


def close_login(username: str) -> None:
    """No more sign-ins, and every session already open ends (its refresh tokens are revoked)."""
    client = _cognito()
    try:
        client.admin_disable_user(UserPoolId=_pool(), Username=username)
        client.admin_user_global_sign_out(UserPoolId=_pool(), Username=username)
    except client.exceptions.UserNotFoundException:
        pass
