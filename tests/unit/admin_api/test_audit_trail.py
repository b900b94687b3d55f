"""The audit trail: paged newest first, narrowed by who, what and when; the first opening of a patient's thread in
a sign-in session recorded once; the trail exported as CSV, the export itself on the trail."""

import csv
import io
import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest

from switchboard.rules.audit import AuditEntry
from switchboard.rules.exports import audit_csv
from tests.claims import ADMIN, claims_of
from tests.unit.conftest import load_function, rest_event

PHONE = "+14155552671"


def trail(admin_api, practice_id, query="", claims=ADMIN):
    return admin_api("GET", f"/api/practices/{practice_id}/audit{query}", claims=claims)


def rename(admin_api, practice_id, n, claims=ADMIN):
    version = admin_api("GET", f"/api/practices/{practice_id}", claims=claims).body["version"]
    answer = admin_api("PATCH", f"/api/practices/{practice_id}", {"name": f"Maple Clinic {n}", "version": version},
                       claims=claims)
    assert answer.status == 200, answer.body


def export(lambda_context, practice_id, query="", claims=ADMIN):
    handler = load_function("admin_api").lambda_handler
    return handler(rest_event("GET", f"/api/practices/{practice_id}/audit/export{query}", claims=claims),
                   lambda_context)


def at(moment):
    return urllib.parse.quote(moment.isoformat())


@pytest.fixture
def manager(admin_api, setup):
    user = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                     {"email": "mia@maplefamilyclinic.com", "name": "Mia", "role": "manager"}).body
    return claims_of(user, "")


def test_pages_go_newest_first_without_gaps_or_repeats_and_end(admin_api, setup):
    for n in range(7):
        rename(admin_api, setup.practice_id, n)
    everything = trail(admin_api, setup.practice_id, "?limit=200").body["entries"]
    pages, cursor = [], ""
    while True:
        page = trail(admin_api, setup.practice_id, f"?limit=3{cursor}").body
        pages.append(page["entries"])
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert [len(p) for p in pages][:3] == [3, 3, 3] and sum(len(p) for p in pages) == len(everything)
    assert [e for p in pages for e in p] == everything
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    names = [e["changes"]["name"]["after"] for e in everything if e["action"] == "practice.update"]
    assert names == [f"Maple Clinic {n}" for n in reversed(range(7))]


def test_a_cursor_this_trail_did_not_give_is_refused_naming_it(admin_api, setup):
    for forged in ("not-a-cursor", "eyJhZnRlciI6ICJ4In0="):  # {"after": "x"}
        answer = trail(admin_api, setup.practice_id, f"?cursor={forged}")
        assert answer.status == 422 and answer.body["errors"][0]["field"] == "cursor", answer.body


def test_who_and_what_narrow_the_trail(admin_api, setup, manager):
    rename(admin_api, setup.practice_id, 1)
    rename(admin_api, setup.practice_id, 2, claims=manager)
    by_mia = trail(admin_api, setup.practice_id, "?actor=Mia@MapleFamilyClinic.com").body["entries"]
    assert [(e["actor"], e["action"]) for e in by_mia] == [("mia@maplefamilyclinic.com", "practice.update")]
    lines = trail(admin_api, setup.practice_id, "?action=line").body["entries"]
    assert lines and {e["action"].split(".")[0] for e in lines} == {"line"}
    exact = trail(admin_api, setup.practice_id, "?action=practice.update").body["entries"]
    assert len(exact) == 2 and {e["action"] for e in exact} == {"practice.update"}
    assert trail(admin_api, setup.practice_id, "?actor=nobody@clinic.test").body == {"entries": [],
                                                                                    "next_cursor": None}


def test_when_narrows_the_trail_to_a_time(admin_api, setup, clinic_clock):
    start = clinic_clock.move_to(datetime.now(UTC) + timedelta(days=3))
    rename(admin_api, setup.practice_id, "early")
    later = clinic_clock.move_to(start + timedelta(days=2))
    rename(admin_api, setup.practice_id, "late")

    def names(query):
        return [e["changes"]["name"]["after"] for e in trail(admin_api, setup.practice_id, query).body["entries"]
                if e["action"] == "practice.update"]

    assert names(f"?since={at(later - timedelta(hours=1))}") == ["Maple Clinic late"]
    assert names(f"?since={at(start - timedelta(hours=1))}&until={at(start + timedelta(days=1))}") == [
        "Maple Clinic early"]
    assert names(f"?until={at(start - timedelta(hours=1))}") == []


@pytest.mark.parametrize("query, field", [
    ("?since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "until"),
    ("?since=yesterday", "since"),
    ("?since=2030-01-01T00:00:00", "since"),  # a time without its zone is not a moment
    ("?action=DROP TABLE", "action"),
    ("?limit=0", "limit"),
])
def test_a_filter_that_cannot_be_used_is_refused_naming_it(admin_api, setup, query, field):
    answer = trail(admin_api, setup.practice_id, query.replace(" ", "%20"))
    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["field"] == field


def test_staff_may_not_read_or_export_the_trail(admin_api, setup, lambda_context):
    user = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                     {"email": "sam@maplefamilyclinic.com", "name": "Sam", "role": "staff",
                      "line_ids": [setup.line["line_id"]]}).body
    staff = claims_of(user, "")
    assert trail(admin_api, setup.practice_id, claims=staff).status == 403
    assert export(lambda_context, setup.practice_id, claims=staff)["statusCode"] == 403


def test_the_first_opening_of_a_thread_in_a_session_is_recorded_once(admin_api, setup, text_in):
    text_in("Can I move my appointment?")
    thread = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"
    morning = {**ADMIN, "origin_jti": "session-morning", "auth_time": "Mon Dec 7 09:00:00 UTC 2026"}
    for _ in range(3):  # the console polls the open thread
        assert admin_api("GET", thread, claims=morning).status == 200

    def reads():
        return [e for e in trail(admin_api, setup.practice_id).body["entries"] if e["action"] == "conversation.read"]

    [first] = reads()
    assert first["actor"] == ADMIN["email"] and first["entity"] == "conversation"
    assert first["entity_id"].startswith(f"{setup.line['line_id']}/")
    assert PHONE not in json.dumps(first) and PHONE[-4:] not in first["entity_id"]
    afternoon = {**morning, "origin_jti": "session-afternoon"}
    assert admin_api("GET", thread, claims=afternoon).status == 200
    assert [e["entity_id"] for e in reads()] == [first["entity_id"]] * 2  # the same conversation, named alike
    # Its owner's actions name the conversation the same way.
    assert admin_api("POST", f"{thread}/close").status == 200
    closed = [e for e in trail(admin_api, setup.practice_id).body["entries"] if e["action"] == "conversation.close"]
    assert closed[0]["entity_id"] == first["entity_id"]


def test_the_export_is_the_filtered_trail_as_csv_and_goes_on_the_trail(admin_api, setup, manager, lambda_context):
    rename(admin_api, setup.practice_id, 1)
    rename(admin_api, setup.practice_id, 2, claims=manager)
    shown = trail(admin_api, setup.practice_id, "?action=practice").body["entries"]
    answer = export(lambda_context, setup.practice_id, "?action=practice", claims=manager)
    assert answer["statusCode"] == 200
    headers = {k.lower(): v[0] for k, v in answer["multiValueHeaders"].items()}
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"] == f'attachment; filename="audit-{setup.practice_id}.csv"'
    rows = list(csv.DictReader(io.StringIO(answer["body"])))
    assert [(r["actor"], r["action"], r["entity_id"]) for r in rows] == [
        (e["actor"], e["action"], e["entity_id"]) for e in shown]
    assert json.loads(rows[0]["changes"])["name"]["after"] == "Maple Clinic 2"
    [noted] = [e for e in trail(admin_api, setup.practice_id).body["entries"] if e["action"] == "audit.export"]
    assert noted["actor"] == "mia@maplefamilyclinic.com"
    assert noted["changes"]["filters"]["after"] == {"action": "practice"}
    assert noted["changes"]["entries"]["after"] == len(rows)


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text():
    entry = AuditEntry(at=datetime(2030, 1, 1, tzinfo=UTC), actor="=HYPERLINK(\"x\")", action="practice.update",
                       entity="practice", entity_id="-1+1", changes={"name": {"before": "a", "after": "b"}})
    [row] = list(csv.DictReader(io.StringIO(audit_csv([entry]))))
    assert row["actor"] == "'=HYPERLINK(\"x\")" and row["entity_id"] == "'-1+1"
    assert json.loads(row["changes"]) == {"name": {"after": "b", "before": "a"}}


def test_times_long_before_or_after_any_entry_still_answer(admin_api, setup, lambda_context):
    rename(admin_api, setup.practice_id, 1)
    wide = f"?since={at(datetime(1036, 3, 7, tzinfo=UTC))}&until={at(datetime(9999, 12, 31, tzinfo=UTC))}"
    assert [e["action"] for e in trail(admin_api, setup.practice_id, wide).body["entries"]][:1] == ["practice.update"]
    assert export(lambda_context, setup.practice_id, wide)["statusCode"] == 200
    assert trail(admin_api, setup.practice_id, f"?until={at(datetime(1036, 3, 7, tzinfo=UTC))}").body["entries"] == []
