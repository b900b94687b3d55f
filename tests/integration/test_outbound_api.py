"""The integration API on the local stack: keys, sends from a location's line, quiet hours, campaigns."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest

from tests.clock import NO_QUIET_HOURS
from tests.integration.test_end_to_end import Console, eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def practice(local_stack):
    admin = Console(local_stack)
    _, p = admin("POST", "/api/practices", {"name": "Birch Pediatrics", "timezone": "America/Denver"})
    practice_id = p["practice_id"]
    _, offered = admin("GET", f"/api/practices/{practice_id}/available-numbers?area_code=720")
    _, line = admin("POST", f"/api/practices/{practice_id}/lines/purchase",
                    {"display_name": "Downtown desk", "number": offered[0]["phone_number"]})
    _, resource = admin("POST", f"/api/practices/{practice_id}/resources", {"name": "Downtown"})
    admin("PUT", f"/api/practices/{practice_id}/resources/{resource['resource_id']}/line", {"line_id": line["line_id"]})
    _, key = admin("POST", f"/api/practices/{practice_id}/api-keys", {"name": "EMR"})
    return {"admin": admin, "id": practice_id, "line": line, "resource": resource, "key": key["key"]}


def send(stack, key, body):
    answer = stack.request("POST", "/local/v1/messages", json_body=body, headers={"X-Api-Key": key})
    return answer.status, answer.json()


def to_phone(stack, phone):
    return stack.sandbox("GET", f"/sandbox/messages?to={urllib.parse.quote(phone)}")["messages"]


def test_a_key_sends_for_a_location_from_its_line_and_the_same_key_again_sends_nothing(local_stack, practice):
    body = {"to": "(720) 555-0111", "resource_id": practice["resource"]["resource_id"], "urgent": True,
            "text": "Your appointment at Downtown is tomorrow at 9.", "idempotency_key": "appt-42"}
    status, first = send(local_stack, practice["key"], body)
    assert status == 202, first
    assert eventually(lambda: to_phone(local_stack, "+17205550111"))
    assert to_phone(local_stack, "+17205550111")[0]["from"] == practice["line"]["number"]
    status, again = send(local_stack, practice["key"], body)
    assert (status, again) == (202, first)
    local_stack.wait_idle()
    assert len(to_phone(local_stack, "+17205550111")) == 1


def test_one_key_sent_by_several_callers_at_the_same_moment_stores_and_sends_one_text(local_stack, practice):
    from concurrent.futures import ThreadPoolExecutor

    body = {"to": "(720) 555-0133", "line_id": practice["line"]["line_id"], "urgent": True,
            "text": "Your results are ready.", "idempotency_key": "results-7"}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: send(local_stack, practice["key"], body), range(6)))
    assert {status for status, _ in answers} == {202}, answers
    assert len({answer["message_id"] for _, answer in answers}) == 1
    assert eventually(lambda: to_phone(local_stack, "+17205550133"))
    local_stack.wait_idle()
    assert len(to_phone(local_stack, "+17205550133")) == 1


def test_a_revoked_key_is_refused(local_stack, practice):
    admin = practice["admin"]
    _, made = admin("POST", f"/api/practices/{practice['id']}/api-keys", {"name": "old"})
    admin("POST", f"/api/practices/{practice['id']}/api-keys/{made['key_id']}/revoke")
    status, _ = send(local_stack, made["key"], {"to": "7205550112", "line_id": practice["line"]["line_id"],
                                                 "text": "x", "idempotency_key": "k"})
    assert status == 401


def test_a_send_in_quiet_hours_is_scheduled_and_goes_when_the_scheduler_reaches_its_time(local_stack, practice):
    # Quiet hours that began five minutes ago and end at a minute boundary at least 15 s away: time for the send
    # and one run of the scheduler before they end, whatever the time of day.
    now = datetime.now(ZoneInfo("America/Denver"))
    ends_at = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if ends_at - now < timedelta(seconds=15):
        ends_at += timedelta(minutes=1)
    quiet = {"starts": (now - timedelta(minutes=5)).strftime("%H:%M"), "ends": ends_at.strftime("%H:%M")}
    practice["admin"]("PATCH", f"/api/practices/{practice['id']}", {"quiet_hours": quiet})
    try:
        status, result = send(local_stack, practice["key"], {"to": "7205550113", "text": "Good morning!",
                                                             "line_id": practice["line"]["line_id"],
                                                             "idempotency_key": "q-1"})
        assert status == 202 and result["status"] == "scheduled", result
        send_at = datetime.fromisoformat(result["send_at"])
        local_stack.run_schedule("SendSchedulerFunction")
        assert datetime.now(UTC) < send_at, "the early run ended after the quiet hours: it proved nothing"
        local_stack.wait_idle()
        assert to_phone(local_stack, "+17205550113") == []

        time.sleep(max(0.0, (send_at - datetime.now(UTC)).total_seconds()) + 0.5)
        local_stack.run_schedule("SendSchedulerFunction")
        assert eventually(lambda: to_phone(local_stack, "+17205550113"))
        assert [m["body"] for m in to_phone(local_stack, "+17205550113")] == ["Good morning!"]
    finally:
        practice["admin"]("PATCH", f"/api/practices/{practice['id']}", {"quiet_hours": NO_QUIET_HOURS})


def test_a_60_patient_campaign_finishes_with_counts_that_add_up_within_the_line_rate(local_stack, practice):
    admin = practice["admin"]
    status, _ = admin("PATCH", f"/api/practices/{practice['id']}", {"quiet_hours": NO_QUIET_HOURS})
    assert status == 200
    for n in range(60):
        status, _ = admin("POST", f"/api/practices/{practice['id']}/patients",
                          {"patient_id": f"K{n:03d}", "name": f"Kid {n}", "phone": f"+1720555{2000 + n:04d}"})
        assert status == 201
    rate = 25.0
    answer = local_stack.request("POST", "/local/v1/campaigns", headers={"X-Api-Key": practice["key"]}, json_body={
        "name": "Flu clinic", "resource_id": practice["resource"]["resource_id"],
        "template": "Hi {first}, flu shots are in at Downtown.", "rate_per_second": rate,
        "recipients": [{"patient_id": f"K{n:03d}", "variables": {"first": f"Kid{n}"}} for n in range(60)]})
    assert answer.status == 201, answer.body
    campaign_id = answer.json()["campaign_id"]
    local_stack.run_schedule("SendSchedulerFunction")

    def sent():
        return [m for m in local_stack.sandbox("GET", "/sandbox/messages")["messages"]
                if m["body"].startswith("Hi Kid")]

    assert eventually(lambda: len(sent()) >= 60, timeout=180)  # 2.4 s at the rate; far longer on a busy machine
    messages = sent()
    assert len(messages) == 60 and len({m["to"] for m in messages}) == 60
    per_second = Counter(parsedate_to_datetime(m["date_created"]).replace(microsecond=0) for m in messages)
    assert max(per_second.values()) <= rate
    local_stack.run_schedule("SendSchedulerFunction")
    status = local_stack.request("GET", f"/local/v1/campaigns/{campaign_id}", headers={"X-Api-Key": practice["key"]})
    counts = status.json()
    assert counts["status"] == "finished"
    c = counts["counts"]
    assert c["recipients"] == 60 and c["queued"] == 60 and c["pending"] == 0
    assert eventually(lambda: local_stack.request("GET", f"/local/v1/campaigns/{campaign_id}",
                                                  headers={"X-Api-Key": practice["key"]}).json()["counts"]["sent"]
                      == 60, timeout=120)
    json.dumps(counts)
