from switchboard.data.table import Item
from tests.claims import STAFF

HOURS = {"mon": [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]}


def stored_items() -> int:
    return sum(1 for _ in Item.scan())


def test_admin_opens_a_practice_and_reads_it_back(admin_api):
    created = admin_api(
        "POST", "/api/practices", {"name": "Maple Clinic", "timezone": "America/Chicago", "hours": HOURS}
    )
    assert created.status == 201
    practice_id = created.body["practice_id"]
    read = admin_api("GET", f"/api/practices/{practice_id}")
    assert read.status == 200
    assert read.body["name"] == "Maple Clinic"
    assert read.body["hours"]["mon"][1] == {"opens": "13:00", "closes": "17:00"}
    assert [p["name"] for p in admin_api("GET", "/api/practices").body] == ["Maple Clinic"]


def test_new_practice_gets_weekday_hours_when_none_given(admin_api):
    created = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/New_York"})
    assert created.body["hours"]["fri"] == [{"opens": "08:00", "closes": "17:00"}]
    assert created.body["hours"]["sat"] == []


def test_unknown_timezone_is_refused_naming_the_field(admin_api):
    answer = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "Mars/Olympus"})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "timezone"
    assert "timezone" in answer.body["errors"][0]["reason"]
    assert stored_items() == 0


def test_missing_name_is_refused_naming_the_field(admin_api):
    answer = admin_api("POST", "/api/practices", {"timezone": "America/New_York"})
    assert answer.status == 422
    assert answer.body["errors"] == [{"field": "name", "reason": "is required"}]
    assert stored_items() == 0


def test_malformed_json_is_a_400(admin_api):
    answer = admin_api("POST", "/api/practices", raw_body='{"name": "Oak",')
    assert answer.status == 400
    assert answer.body["errors"][0]["field"] == "body"
    assert stored_items() == 0


def test_overlapping_hours_are_refused(admin_api):
    hours = {"tue": [{"opens": "08:00", "closes": "12:00"}, {"opens": "11:30", "closes": "17:00"}]}
    answer = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/New_York", "hours": hours})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "hours"
    assert "overlaps" in answer.body["errors"][0]["reason"]


def test_practice_update_changes_only_given_fields(admin_api):
    practice = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/New_York"}).body
    changed = admin_api(
        "PATCH",
        f"/api/practices/{practice['practice_id']}",
        {"timezone": "America/Phoenix", "version": practice["version"]},
    )
    assert changed.status == 200
    assert changed.body["timezone"] == "America/Phoenix"
    assert changed.body["name"] == "Oak"
    assert changed.body["version"] == practice["version"] + 1


def test_update_with_a_stale_version_is_a_conflict_and_keeps_the_newer_change(admin_api):
    practice = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/New_York"}).body
    path = f"/api/practices/{practice['practice_id']}"
    assert admin_api("PATCH", path, {"name": "Oak North", "version": 1}).status == 200
    stale = admin_api("PATCH", path, {"name": "Oak South", "version": 1})
    assert stale.status == 409
    assert stale.body["errors"][0]["field"] == "version"
    assert admin_api("GET", path).body["name"] == "Oak North"


def test_unknown_practice_is_404(admin_api):
    assert admin_api("GET", "/api/practices/01JUNKNOWN").status == 404


def test_staff_may_not_open_practices(admin_api):
    answer = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/New_York"}, claims=STAFF)
    assert answer.status == 403
    assert stored_items() == 0


def test_request_without_identity_is_401(admin_api):
    assert admin_api("GET", "/api/practices", claims=None).status == 401


def test_openapi_document_lists_the_routes(admin_api):
    document = admin_api("GET", "/api/openapi.json").body
    assert "/api/practices" in document["paths"]
    assert "/api/practices/{practice_id}/lines" in document["paths"]
