"""Logins in the user pool (moto's, made from the template): adding a user invites them, roles are groups,
removing a user closes their login, one person may serve several practices, and identity is the `sub`."""

from __future__ import annotations

import os

import boto3
import pytest

from switchboard.data.keys import practice_users_key
from switchboard.data.models import LegacyUserItem
from tests.claims import claims_of, refreshed_claims, sign_in, sign_in_tokens
from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, recently_signed

LOA = {"signer_name": "Dana Reyes", "signer_title": "Owner", "signer_email": "dana@maplefamilyclinic.com",
       "signed_on": recently_signed()}


def cognito():
    return boto3.client("cognito-idp")


def pool() -> str:
    return os.environ["USER_POOL_ID"]


def groups_of(email: str) -> list[str]:
    return sorted(g["GroupName"] for g in cognito().admin_list_groups_for_user(UserPoolId=pool(), Username=email)
                  ["Groups"])


@pytest.fixture
def practices(admin_api, carrier_account):
    a = admin_api("POST", "/api/practices", {"name": "Maple", "timezone": "America/Chicago"}).body["practice_id"]
    b = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    assert admin_api("PUT", f"/api/practices/{a}/address", PRACTICE_ADDRESS).status == 200
    line = admin_api("POST", f"/api/practices/{a}/lines",
                     {"display_name": "Front desk", "number": "3125550100", "authorization": LOA,
                      "contact": ORDER_CONTACT}).body
    return {"a": a, "b": b, "line": line}


def add(admin_api, practice_id, email, role="staff", line_ids=(), **kwargs):
    return admin_api("POST", f"/api/practices/{practice_id}/users",
                     {"email": email, "name": email.split("@")[0].title(), "role": role, "line_ids": list(line_ids)},
                     **kwargs)


def test_adding_a_user_makes_their_login_invites_them_and_puts_them_in_their_roles_group(admin_api, practices):
    made = add(admin_api, practices["a"], "Sue@Maple.com", line_ids=[practices["line"]["line_id"]])
    assert made.status == 201
    login = cognito().admin_get_user(UserPoolId=pool(), Username="sue@maple.com")
    attributes = {a["Name"]: a["Value"] for a in login["UserAttributes"]}
    assert login["UserStatus"] == "FORCE_CHANGE_PASSWORD"  # the invitation's temporary password
    assert login["Enabled"] is True
    assert attributes["email"] == "sue@maple.com" and attributes["email_verified"] == "true"
    assert made.body["user_id"] == attributes["sub"]
    assert groups_of("sue@maple.com") == ["staff"]


def test_the_invited_person_signs_in_through_cognito_and_is_that_user(admin_api, practices):
    made = add(admin_api, practices["a"], "sue@maple.com").body
    me = admin_api("GET", "/api/me", claims=sign_in("sue@maple.com"))
    assert me.status == 200
    assert me.body["user_id"] == made["user_id"]
    assert me.body["memberships"] == [{"practice_id": practices["a"], "role": "staff", "line_ids": []}]


def test_an_email_cognito_has_not_verified_is_refused(admin_api, practices):
    made = add(admin_api, practices["a"], "sue@maple.com").body
    claims = {**claims_of(made), "email_verified": "false"}
    answer = admin_api("GET", "/api/me", claims=claims)
    assert answer.status == 401
    assert "not verified" in answer.body["message"]


def test_a_role_change_moves_the_login_to_that_roles_group(admin_api, practices):
    made = add(admin_api, practices["a"], "sue@maple.com").body
    changed = admin_api("PATCH", f"/api/practices/{practices['a']}/users/{made['user_id']}", {"role": "manager"})
    assert changed.status == 200
    assert groups_of("sue@maple.com") == ["manager"]


def test_removing_a_user_disables_their_login_and_ends_their_sessions(admin_api, practices):
    made = add(admin_api, practices["a"], "sue@maple.com").body
    tokens = sign_in_tokens("sue@maple.com")
    assert admin_api("DELETE", f"/api/practices/{practices['a']}/users/{made['user_id']}").status == 204
    assert cognito().admin_get_user(UserPoolId=pool(), Username="sue@maple.com")["Enabled"] is False
    with pytest.raises(cognito().exceptions.NotAuthorizedException):
        refreshed_claims(tokens["RefreshToken"])
    with pytest.raises(cognito().exceptions.NotAuthorizedException):
        sign_in_tokens("sue@maple.com")
    assert admin_api("GET", "/api/me", claims=claims_of(made)).status == 403  # a token still unexpired


def test_adding_a_removed_user_again_opens_the_same_login(admin_api, practices):
    first = add(admin_api, practices["a"], "sue@maple.com").body
    admin_api("DELETE", f"/api/practices/{practices['a']}/users/{first['user_id']}")
    again = add(admin_api, practices["a"], "sue@maple.com")
    assert again.status == 201
    assert again.body["user_id"] == first["user_id"]
    assert cognito().admin_get_user(UserPoolId=pool(), Username="sue@maple.com")["Enabled"] is True
    assert admin_api("GET", "/api/me", claims=sign_in("sue@maple.com")).status == 200


def test_adding_someone_twice_to_one_practice_is_409(admin_api, practices):
    add(admin_api, practices["a"], "sue@maple.com")
    again = add(admin_api, practices["a"], "sue@maple.com")
    assert again.status == 409
    assert again.body["errors"][0]["field"] == "email"


def test_one_person_serves_two_practices_with_a_role_in_each(admin_api, practices):
    as_staff = add(admin_api, practices["a"], "agent@callcenter.com", line_ids=[practices["line"]["line_id"]]).body
    as_manager = add(admin_api, practices["b"], "agent@callcenter.com", role="manager").body
    assert as_staff["user_id"] == as_manager["user_id"]
    claims = sign_in("agent@callcenter.com")
    me = admin_api("GET", "/api/me", claims=claims).body
    assert sorted((m["practice_id"], m["role"]) for m in me["memberships"]) == sorted(
        [(practices["a"], "staff"), (practices["b"], "manager")])
    assert sorted(p["name"] for p in admin_api("GET", "/api/practices", claims=claims).body) == ["Maple", "Oak"]
    help_text = {"help_text": "Call us."}
    assert admin_api("PATCH", f"/api/practices/{practices['b']}", help_text, claims=claims).status == 200
    assert admin_api("PATCH", f"/api/practices/{practices['a']}", help_text, claims=claims).status == 403
    assert groups_of("agent@callcenter.com") == ["manager", "staff"]
    admin_api("DELETE", f"/api/practices/{practices['b']}/users/{as_manager['user_id']}")
    assert cognito().admin_get_user(UserPoolId=pool(), Username="agent@callcenter.com")["Enabled"] is True
    assert groups_of("agent@callcenter.com") == ["staff"]
    assert [p["name"] for p in admin_api("GET", "/api/practices", claims=claims).body] == ["Maple"]


def _legacy_user(practice_id: str, email: str, role: str, line_ids: set[str] | None = None) -> None:
    """A user as stored before logins were keyed by `sub`: by email only."""
    LegacyUserItem(f"USER#{email}", "USER", email=email, name="Legacy", role=role, practice_id=practice_id,
                   line_ids=line_ids or None, gsi1pk=practice_users_key(practice_id), gsi1sk=email).save()


def test_changing_ones_own_email_through_cognito_gives_no_one_elses_access(admin_api, practices):
    add(admin_api, practices["a"], "sue@maple.com")
    _legacy_user(practices["b"], "boss@oak.com", "manager")  # B's manager, who has not signed in since
    tokens = sign_in_tokens("sue@maple.com")
    cognito().update_user_attributes(AccessToken=tokens["AccessToken"],
                                     UserAttributes=[{"Name": "email", "Value": "boss@oak.com"}])
    claims = refreshed_claims(tokens["RefreshToken"])
    assert claims["email"] == "boss@oak.com"  # moto applies the change at once; the deployed pool waits for proof
    assert admin_api("GET", f"/api/practices/{practices['b']}", claims=claims).status == 404
    assert admin_api("GET", f"/api/practices/{practices['b']}/users", claims=claims).status == 404
    me = admin_api("GET", "/api/me", claims=claims).body
    assert [(m["practice_id"], m["role"]) for m in me["memberships"]] == [(practices["a"], "staff")]
    assert LegacyUserItem.get("USER#boss@oak.com", "USER").role == "manager"


def test_a_user_stored_by_email_moves_to_their_login_at_first_sign_in(admin_api, practices):
    line_id = practices["line"]["line_id"]
    _legacy_user(practices["a"], "kim@maple.com", "staff", {line_id})
    cognito().admin_create_user(UserPoolId=pool(), Username="kim@maple.com", MessageAction="SUPPRESS",
                                UserAttributes=[{"Name": "email", "Value": "kim@maple.com"},
                                                {"Name": "email_verified", "Value": "true"}])
    me = admin_api("GET", "/api/me", claims=sign_in("kim@maple.com")).body
    assert me["memberships"] == [{"practice_id": practices["a"], "role": "staff", "line_ids": [line_id]}]
    listed = admin_api("GET", f"/api/practices/{practices['a']}/users").body
    assert [(u["email"], u["user_id"]) for u in listed] == [("kim@maple.com", me["user_id"])]
    assert list(LegacyUserItem.scan(LegacyUserItem.sk == "USER")) == []
