"""A line's own closures and its emergency close through the admin API: validation by field, roles, tenancy, audit,
the card's "closed now", and the close running out by itself."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.claims import ADMIN, claims_of
from tests.clock import days_from_now


@pytest.fixture
def clinic(admin_api, carrier_account):
    """Practice A with a bought line, its manager and a staff user on the line; practice B with its manager."""
    a = admin_api("POST", "/api/practices", {"name": "Maple", "timezone": "America/Chicago"}).body["practice_id"]
    b = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    number = admin_api("GET", f"/api/practices/{a}/available-numbers?area_code=415").body[0]["phone_number"]
    line = admin_api("POST", f"/api/practices/{a}/lines/purchase",
                     {"display_name": "Front desk", "number": number}).body
    users = {role: admin_api("POST", f"/api/practices/{practice}/users",
                             {"email": f"{role}@maple.com", "name": role.title(), "role": kind,
                              "line_ids": [line["line_id"]] if kind == "staff" else []}).body
             for role, practice, kind in (("manager", a, "manager"), ("staff", a, "staff"), ("other", b, "manager"))}
    return {"a": a, "b": b, "line": line, "path": f"/api/practices/{a}/lines/{line['line_id']}",
            **{role: claims_of(user) for role, user in users.items()}}


def soon(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).astimezone().isoformat()


def test_a_line_keeps_its_own_part_day_closures(admin_api, clinic):
    day = days_from_now(20).isoformat()
    closures = [{"starts": day, "ends": day, "from_time": "12:00", "reason": "Holiday party"}]
    saved = admin_api("PATCH", clinic["path"], {"closures": closures})
    assert saved.status == 200, saved.body
    assert saved.body["closures"] == [{"starts": day, "ends": day, "from_time": "12:00", "until_time": None,
                                       "reason": "Holiday party"}]
    assert admin_api("GET", clinic["path"]).body["closures"] == saved.body["closures"]
    assert admin_api("PATCH", clinic["path"], {"closures": None}).body["closures"] is None


@pytest.mark.parametrize(("closure", "field"), [
    ({"from_time": "14:00", "until_time": "09:00"}, "closures.0.until_time"),
    ({"from_time": "9am"}, "closures.0.from_time"),
    ({"ends": days_from_now(3).isoformat()}, "closures.0.ends"),
])
def test_an_impossible_line_closure_is_a_422_naming_the_field(admin_api, clinic, closure, field):
    day = days_from_now(5).isoformat()
    answer = admin_api("PATCH", clinic["path"], {"closures": [{"starts": day, "ends": day, **closure}]})
    assert answer.status == 422
    assert [error["field"] for error in answer.body["errors"]] == [field]


def test_close_now_shows_on_the_card_is_audited_and_reopen_now_ends_it(admin_api, clinic):
    closed = admin_api("POST", f"{clinic['path']}/emergency-close",
                       {"reason": "Burst pipe in the waiting room", "reopens_at": soon(hours=3)},
                       claims=clinic["manager"])
    assert closed.status == 200, closed.body
    assert closed.body["closed_now"]["reason"] == "Burst pipe in the waiting room"
    assert datetime.fromisoformat(closed.body["closed_now"]["until"]) > datetime.now(UTC) + timedelta(hours=2)
    cards = admin_api("GET", f"/api/practices/{clinic['a']}/lines").body
    assert cards[0]["closed_now"] == closed.body["closed_now"]
    entry = admin_api("GET", f"/api/practices/{clinic['a']}/audit").body["entries"][0]
    assert (entry["action"], entry["actor"]) == ("line.emergency_close", "manager@maple.com")
    assert entry["changes"]["emergency_close"]["after"]["reason"] == "Burst pipe in the waiting room"
    reopened = admin_api("DELETE", f"{clinic['path']}/emergency-close", claims=clinic["manager"])
    assert reopened.status == 200
    assert reopened.body["closed_now"] is None and reopened.body["emergency_close"] is None
    trail = admin_api("GET", f"/api/practices/{clinic['a']}/audit").body["entries"]
    assert trail[0]["action"] == "line.emergency_reopen"
    again = admin_api("DELETE", f"{clinic['path']}/emergency-close")  # nothing to reopen: answered as it is
    assert again.status == 200 and admin_api("GET", f"/api/practices/{clinic['a']}/audit").body["entries"] == trail


def test_the_close_stops_showing_once_its_reopening_time_passed(admin_api, clinic, clinic_clock):
    admin_api("POST", f"{clinic['path']}/emergency-close", {"reason": "Storm", "reopens_at": soon(minutes=30)})
    assert admin_api("GET", clinic["path"]).body["closed_now"]["reason"] == "Storm"
    clinic_clock.move_to(datetime.now(UTC) + timedelta(minutes=31))
    card = admin_api("GET", clinic["path"]).body
    assert card["closed_now"] is None
    assert card["emergency_close"]["reason"] == "Storm"  # kept as it was; it simply no longer holds


@pytest.mark.parametrize(("body", "field"), [
    ({"reopens_at": soon(hours=1)}, "reason"),
    ({"reason": "", "reopens_at": soon(hours=1)}, "reason"),
    ({"reason": "x" * 121, "reopens_at": soon(hours=1)}, "reason"),
    ({"reason": "Storm"}, "reopens_at"),
    ({"reason": "Storm", "reopens_at": datetime.now(UTC).replace(tzinfo=None).isoformat()}, "reopens_at"),
    ({"reason": "Storm", "reopens_at": soon(minutes=-5)}, "reopens_at"),
    ({"reason": "Storm", "reopens_at": soon(days=15)}, "reopens_at"),
])
def test_an_emergency_close_needs_a_reason_and_a_reopening_within_two_weeks(admin_api, clinic, body, field):
    answer = admin_api("POST", f"{clinic['path']}/emergency-close", body)
    assert answer.status == 422, answer.body
    assert [error["field"] for error in answer.body["errors"]] == [field]
    assert admin_api("GET", clinic["path"]).body["closed_now"] is None


def test_staff_may_not_close_or_reopen_a_line_and_another_practice_learns_nothing(admin_api, clinic):
    request = {"reason": "Storm", "reopens_at": soon(hours=1)}
    assert admin_api("POST", f"{clinic['path']}/emergency-close", request, claims=clinic["staff"]).status == 403
    assert admin_api("DELETE", f"{clinic['path']}/emergency-close", claims=clinic["staff"]).status == 403
    for method in ("POST", "DELETE"):
        answer = admin_api(method, f"{clinic['path']}/emergency-close", request if method == "POST" else None,
                           claims=clinic["other"])
        assert answer.status == 404 and "Maple" not in str(answer.body) and "Front desk" not in str(answer.body)
    # the line's id under another practice's path is no line of that practice
    other_path = f"/api/practices/{clinic['b']}/lines/{clinic['line']['line_id']}/emergency-close"
    assert admin_api("POST", other_path, request, claims=ADMIN).status == 404
    assert admin_api("GET", clinic["path"]).body["closed_now"] is None


def test_a_stale_version_is_refused(admin_api, clinic):
    version = admin_api("GET", clinic["path"]).body["version"]
    admin_api("PATCH", clinic["path"], {"help_text": "Call us.", "version": version})
    answer = admin_api("POST", f"{clinic['path']}/emergency-close",
                       {"reason": "Storm", "reopens_at": soon(hours=1), "version": version})
    assert answer.status == 409 and answer.body["errors"][0]["field"] == "version"


def test_a_released_line_cannot_be_closed(admin_api, clinic):
    line = clinic["line"]
    admin_api("POST", f"{clinic['path']}/disable")
    assert admin_api("POST", f"{clinic['path']}/release", {"confirm_number": line["number"]}).status == 200
    answer = admin_api("POST", f"{clinic['path']}/emergency-close", {"reason": "Storm", "reopens_at": soon(hours=1)})
    assert answer.status == 409 and answer.body["errors"][0]["field"] == "status"
