"""Roles, line permissions and tenancy."""

import uuid

import pytest

from tests.claims import ADMIN, claims_of
from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, recently_signed

LOA = {"signer_name": "Dana Reyes", "signer_title": "Owner", "signer_email": "dana@maplefamilyclinic.com",
       "signed_on": recently_signed()}


def stranger(email: str) -> dict[str, str]:
    return {"sub": str(uuid.uuid4()), "email": email, "email_verified": "true", "cognito:groups": ""}


@pytest.fixture
def clinic(admin_api, carrier_account):
    """Practice A with two lines, a manager and a staff user permitted on the first line; practice B."""
    a = admin_api("POST", "/api/practices", {"name": "Maple", "timezone": "America/Chicago"}).body["practice_id"]
    b = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    assert admin_api("PUT", f"/api/practices/{a}/address", PRACTICE_ADDRESS).status == 200
    lines = [admin_api("POST", f"/api/practices/{a}/lines",
                       {"display_name": f"Line {n}", "number": f"31255501{n:02d}", "authorization": LOA,
                        "contact": ORDER_CONTACT}).body
             for n in range(2)]
    mo = admin_api("POST", f"/api/practices/{a}/users",
                   {"email": "mo@maple.com", "name": "Mo", "role": "manager", "line_ids": []}).body
    sue = admin_api("POST", f"/api/practices/{a}/users",
                    {"email": "sue@maple.com", "name": "Sue", "role": "staff", "line_ids": [lines[0]["line_id"]]}).body
    bo = admin_api("POST", f"/api/practices/{b}/users",
                   {"email": "bo@oak.com", "name": "Bo", "role": "manager", "line_ids": []}).body
    return {"a": a, "b": b, "lines": lines, "manager": claims_of(mo), "staff": claims_of(sue),
            "other_manager": claims_of(bo), "users": {"mo": mo, "sue": sue, "bo": bo}}


def test_staff_see_only_their_permitted_lines(admin_api, clinic):
    seen = admin_api("GET", f"/api/practices/{clinic['a']}/lines", claims=clinic["staff"]).body
    assert [line["line_id"] for line in seen] == [clinic["lines"][0]["line_id"]]


def test_staff_reading_a_line_without_permission_is_403(admin_api, clinic):
    path = f"/api/practices/{clinic['a']}/lines/{clinic['lines'][1]['line_id']}"
    assert admin_api("GET", path, claims=clinic["staff"]).status == 403
    assert admin_api("GET", f"/api/practices/{clinic['a']}/lines/{clinic['lines'][0]['line_id']}",
                     claims=clinic["staff"]).status == 200


def test_staff_cannot_change_settings(admin_api, clinic):
    assert admin_api("PATCH", f"/api/practices/{clinic['a']}", {"name": "X"}, claims=clinic["staff"]).status == 403


def test_a_manager_manages_their_practice(admin_api, clinic):
    assert admin_api("PATCH", f"/api/practices/{clinic['a']}", {"help_text": "Call us."},
                     claims=clinic["manager"]).status == 200
    made = admin_api("POST", f"/api/practices/{clinic['a']}/users",
                     {"email": "new@maple.com", "name": "New", "role": "staff", "line_ids": []},
                     claims=clinic["manager"])
    assert made.status == 201


def test_a_manager_of_practice_a_touching_practice_b_gets_404_and_learns_nothing(admin_api, clinic):
    for method, path, body in [
        ("GET", f"/api/practices/{clinic['a']}", None),
        ("PATCH", f"/api/practices/{clinic['a']}", {"name": "Mine now"}),
        ("GET", f"/api/practices/{clinic['a']}/lines", None),
        ("GET", f"/api/practices/{clinic['a']}/lines/{clinic['lines'][0]['line_id']}", None),
        ("GET", f"/api/practices/{clinic['a']}/users", None),
        ("GET", f"/api/practices/{clinic['a']}/audit", None),
    ]:
        answer = admin_api(method, path, body, claims=clinic["other_manager"])
        assert answer.status == 404, (method, path)
        assert "Maple" not in str(answer.body)
    assert admin_api("GET", f"/api/practices/{clinic['a']}", claims=ADMIN).body["name"] == "Maple"


def test_a_manager_lists_only_their_practice(admin_api, clinic):
    listed = admin_api("GET", "/api/practices", claims=clinic["manager"]).body
    assert [p["name"] for p in listed] == ["Maple"]


def test_a_sign_in_without_a_user_record_is_refused(admin_api, clinic):
    answer = admin_api("GET", "/api/practices", claims=stranger("stranger@nowhere.com"))
    assert answer.status == 403
    assert "no Switchboard user" in answer.body["message"]


def test_line_permissions_must_name_lines_of_the_practice(admin_api, clinic):
    answer = admin_api("POST", f"/api/practices/{clinic['a']}/users",
                       {"email": "x@maple.com", "name": "X", "role": "staff", "line_ids": ["01JNOTALINE"]})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "line_ids"


def test_managers_cannot_make_admins(admin_api, clinic):
    answer = admin_api("POST", f"/api/practices/{clinic['a']}/users",
                       {"email": "boss@maple.com", "name": "Boss", "role": "admin", "line_ids": []},
                       claims=clinic["manager"])
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "role"


def test_changing_permissions_is_audited(admin_api, clinic):
    sue = clinic["users"]["sue"]
    admin_api("PATCH", f"/api/practices/{clinic['a']}/users/{sue['user_id']}",
              {"line_ids": [line["line_id"] for line in clinic["lines"]]})
    entry = admin_api("GET", f"/api/practices/{clinic['a']}/audit").body["entries"][0]
    assert entry["action"] == "user.update"
    assert entry["entity_id"] == sue["user_id"]
    assert len(entry["changes"]["line_ids"]["after"]) == 2
    assert admin_api("GET", f"/api/practices/{clinic['a']}/lines", claims=clinic["staff"]).status == 200
    assert len(admin_api("GET", f"/api/practices/{clinic['a']}/lines", claims=clinic["staff"]).body) == 2


def test_me_tells_the_console_who_is_signed_in(admin_api, clinic):
    me = admin_api("GET", "/api/me", claims=clinic["staff"]).body
    assert me == {"user_id": clinic["users"]["sue"]["user_id"], "email": "sue@maple.com", "is_admin": False,
                  "memberships": [{"practice_id": clinic["a"], "role": "staff",
                                   "line_ids": [clinic["lines"][0]["line_id"]]}]}


def test_a_workflow_cannot_text_from_another_practices_line(admin_api, clinic):
    answer = admin_api("POST", f"/api/practices/{clinic['b']}/workflows",
                       {"name": "Borrowed", "kind": "call_to_text", "vendor": "jive",
                        "line_id": clinic["lines"][0]["line_id"], "template": "Hi from {practice_name}"},
                       claims=clinic["other_manager"])
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "line_id"
    assert admin_api("GET", f"/api/practices/{clinic['b']}/workflows").body == []


def test_staff_learn_a_locations_line_only_when_it_is_one_of_theirs(admin_api, clinic):
    a = clinic["a"]
    number = admin_api("GET", f"/api/practices/{a}/available-numbers?area_code=312").body[0]["phone_number"]
    line = admin_api("POST", f"/api/practices/{a}/lines/purchase", {"display_name": "Annex", "number": number}).body
    resource = admin_api("POST", f"/api/practices/{a}/resources", {"name": "Annex office"}).body
    assert admin_api("PUT", f"/api/practices/{a}/resources/{resource['resource_id']}/line",
                     {"line_id": line["line_id"]}).status == 200
    path = f"/api/practices/{a}/resources/{resource['resource_id']}/line"
    refused = admin_api("GET", path, claims=clinic["staff"])
    assert refused.status == 403
    assert number not in str(refused.body)
    assert admin_api("GET", path, claims=clinic["manager"]).body["line_id"] == line["line_id"]
