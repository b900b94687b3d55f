"""The template's Cognito user pool, made in moto: its settings, its groups and its app client.

CloudFormation's property names are the API's, except the pool's name (`PoolName`) and its MFA set-up
(`EnabledMfas`, which the API takes as `SetUserPoolMfaConfig`); intrinsics (callback URLs naming the
API) are left out, as moto has no hosted UI to send anyone to.

The local stack and the tests sign in with a second app client that allows the password flow (moto has no
hosted UI); it reads and writes what the template's client does and nothing more. Deployed, that flow is
off: the console signs in through the hosted UI.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import Template, resources_of_type

POOL_TYPE = "AWS::Cognito::UserPool"
CLIENT_TYPE = "AWS::Cognito::UserPoolClient"
GROUP_TYPE = "AWS::Cognito::UserPoolGroup"
SIGN_IN_CLIENT = "switchboard-local-sign-in"
_CLIENT_FIELDS = ("ReadAttributes", "WriteAttributes", "PreventUserExistenceErrors", "ExplicitAuthFlows",
                  "GenerateSecret")


@dataclass(frozen=True)
class UserPool:
    logical_id: str
    pool_id: str
    client_id: str  # the template's client (the console's, deployed)
    sign_in_client_id: str  # the local password-flow client


def _one(template: Template, kind: str) -> tuple[str, dict[str, Any]]:
    found = [(logical_id, resource.get("Properties") or {})
             for logical_id, resource in resources_of_type(template, kind).items()]
    if len(found) != 1:
        raise ValueError(f"the template has {len(found)} resources of type {kind}; the local stack expects one")
    return found[0]


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return not any(key.startswith("Fn::") or key == "Ref" for key in value) and all(map(_plain, value.values()))
    if isinstance(value, list):
        return all(map(_plain, value))
    return True


def pool_settings(template: Template) -> dict[str, Any]:
    """CreateUserPool's arguments for the template's pool (without its name and MFA)."""
    _, properties = _one(template, POOL_TYPE)
    return {name: value for name, value in properties.items()
            if name not in ("UserPoolName", "EnabledMfas", "MfaConfiguration") and _plain(value)}


def create_user_pool(cognito: Any, template: Template, name: str = "switchboard-local") -> UserPool:
    logical_id, properties = _one(template, POOL_TYPE)
    pool_id = cognito.create_user_pool(PoolName=name, **pool_settings(template))["UserPool"]["Id"]
    if properties.get("MfaConfiguration", "OFF") != "OFF":
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id, MfaConfiguration=properties["MfaConfiguration"],
            SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in properties.get("EnabledMfas", [])})
    for resource in resources_of_type(template, GROUP_TYPE).values():
        group = resource.get("Properties") or {}
        cognito.create_group(UserPoolId=pool_id, GroupName=group["GroupName"],
                             Description=group.get("Description", ""))
    _, client = _one(template, CLIENT_TYPE)
    settings = {key: client[key] for key in _CLIENT_FIELDS if key in client}
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="console",
                                                **settings)["UserPoolClient"]["ClientId"]
    sign_in = {**settings, "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}
    sign_in_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=SIGN_IN_CLIENT,
                                                 **sign_in)["UserPoolClient"]["ClientId"]
    return UserPool(logical_id, pool_id, client_id, sign_in_id)


def ensure_admin_login(cognito: Any, pool_id: str, email: str, password: str) -> None:
    """An enterprise admin's login (the `admin` group) that signs in with `password`, made if missing."""
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": email},
                                                  {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="admin")


def password_sign_in(cognito: Any, pool_id: str, client_id: str, email: str, password: str,
                     *, choose_password: bool = False) -> dict[str, str]:
    """The tokens of a password sign-in as `email`; with `choose_password`, the person first replaces their
    invitation's temporary password with `password`, as they do at their first sign-in."""
    if choose_password:
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    # By the login's own username (its sub): moto files sessions under the name signed in with, and only
    # this one survives an email change and a global sign-out there, as every name does on Cognito.
    username = cognito.admin_get_user(UserPoolId=pool_id, Username=email)["Username"]
    answer = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": username, "PASSWORD": password})
    return dict(answer["AuthenticationResult"])


class LocalLogins:
    """The local pool's logins, kept under `<data-dir>/auth/logins.json` across restarts (moto keeps them in
    memory only), the dev admin's login, and the invitations Cognito would have emailed.

    moto runs in this process (local.queues.MotoServer), so the logins are read and restored in its backend:
    the API gives no way to read a password or to choose a login's `sub`, and memberships in the table are
    keyed by the `sub`, so a restored login must keep its own.
    """

    def __init__(self, cognito: Any, pool: UserPool, data_dir: Path, region: str, account_id: str) -> None:
        self.cognito = cognito
        self.pool = pool
        self.path = data_dir / "auth" / "logins.json"
        self._region, self._account = region, account_id
        self._saved = ""
        self._lock = threading.Lock()

    def _backend(self) -> Any:
        from moto.backends import get_backend

        return get_backend("cognito-idp")[self._account][self._region]

    def _users(self) -> dict[str, Any]:
        users: dict[str, Any] = self._backend().user_pools[self.pool.pool_id].users
        return users

    def snapshot(self) -> list[dict[str, Any]]:
        return [{"sub": user.id, "attributes": list(user.attributes), "password": user.password,
                 "status": _status(user), "enabled": user.enabled,
                 "authenticator": user.token_verified,
                 "groups": sorted(group.group_name for group in user.groups)}
                for user in list(self._users().values())]

    def save(self) -> None:
        """Write the logins when they changed (cheap enough to call after every request)."""
        with self._lock:
            text = json.dumps(self.snapshot(), sort_keys=True)
            if text == self._saved:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.path.with_suffix(".tmp")
            scratch.touch(mode=0o600)
            scratch.write_text(text, encoding="utf-8")
            scratch.replace(self.path)
            self._saved = text

    def restore(self) -> int:
        """The logins of the last run, each with its own `sub`; how many."""
        if not self.path.is_file():
            return 0
        backend, users = self._backend(), self._users()
        saved = json.loads(self.path.read_text(encoding="utf-8"))
        for entry in saved:
            email = next(a["Value"] for a in entry["attributes"] if a["Name"] == "email")
            user = backend.admin_create_user(self.pool.pool_id, email, "SUPPRESS", entry["password"],
                                             entry["attributes"])
            users.pop(user.username)
            user.id = user.username = entry["sub"]
            user.update_attributes([{"Name": "sub", "Value": entry["sub"]}])
            user.status = entry["status"]
            user.enabled = entry["enabled"]
            user.token_verified = entry.get("authenticator", False)
            users[entry["sub"]] = user
            for group in entry["groups"]:
                backend.admin_add_user_to_group(self.pool.pool_id, group, entry["sub"])
        self._saved = json.dumps(self.snapshot(), sort_keys=True)
        return len(saved)

    def ensure_admin(self, email: str, password: str) -> None:
        """An enterprise admin's login (the `admin` group) that signs in with `password`."""
        ensure_admin_login(self.cognito, self.pool.pool_id, email, password)
        self.save()

    def invitations(self) -> list[dict[str, str]]:
        """The invitations Cognito would have emailed: who, and the temporary password to sign in with once."""
        found = []
        for user in list(self._users().values()):
            if _status(user) == "FORCE_CHANGE_PASSWORD" and user.enabled:
                if not user.password:  # Cognito makes one for each invitation; moto leaves it to the caller
                    user.password = f"Tmp-{secrets.token_urlsafe(9)}-7x"
                email = user.attribute_lookup.get("email", "")
                found.append({"email": email, "temporary_password": user.password or ""})
        self.save()
        return sorted(found, key=lambda invitation: invitation["email"])


def _status(user: Any) -> str:
    """A moto login's status as Cognito names it (moto keeps an enum, or the string it was restored with)."""
    return str(getattr(user.status, "value", user.status))


def dev_password_file(data_dir: Path) -> Path:
    return data_dir / "auth" / "dev-password"


def dev_password(data_dir: Path) -> str:
    """The dev admin's password, made on first start and kept in `dev_password_file`."""
    path = dev_password_file(data_dir)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = f"Dev-{secrets.token_urlsafe(12)}-9a"
    path.touch(mode=0o600)
    path.write_text(password, encoding="utf-8")
    return password
