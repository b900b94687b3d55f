"""The template's Cognito user pool, made in moto: its settings, its groups and its app client.

CloudFormation's property names are the API's, except the pool's name (`PoolName`) and its MFA set-up
(`EnabledMfas`, which the API takes as `SetUserPoolMfaConfig`); intrinsics (callback URLs naming the
API) are left out, as moto has no hosted UI to send anyone to.

The local stack and the tests sign in with a second app client that allows the password flow (moto has no
hosted UI); it reads and writes what the template's client does and nothing more. Deployed, that flow is
off: the console signs in through the hosted UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local.template import Template

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
             for logical_id, resource in (template.get("Resources") or {}).items() if resource.get("Type") == kind]
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
    for _, group in (
        (logical_id, resource.get("Properties") or {})
        for logical_id, resource in (template.get("Resources") or {}).items() if resource.get("Type") == GROUP_TYPE
    ):
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


def subject_of(cognito: Any, pool_id: str, email: str) -> str | None:
    """The `sub` of the login signing in as `email`, if the pool has one."""
    try:
        found = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    except cognito.exceptions.UserNotFoundException:
        return None
    return next((a["Value"] for a in found.get("UserAttributes", []) if a["Name"] == "sub"), None)
