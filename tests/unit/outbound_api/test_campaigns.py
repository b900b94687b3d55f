"""Campaigns: verified patients only, at the line's rate, with counts that add up."""

import time
from collections import Counter
from email.utils import parsedate_to_datetime

import time_machine

from switchboard.campaign_runner import run_campaigns
from switchboard.data.models import PatientItem

NOON_CHICAGO = "2026-11-23T18:00Z"


def patients(admin_api, setup, count):
    """Verified patients, as a records import would leave them."""
    with PatientItem.batch_write() as batch:
        for n in range(count):
            phone = f"+1415555{1000 + n:04d}"
            batch.save(PatientItem(f"PRACTICE#{setup.practice_id}", f"PATIENT#P{n:03d}", practice_id=setup.practice_id,
                                   patient_id=f"P{n:03d}", name=f"Pat {n}", phone=phone, gsi1pk=f"PHONE#{phone}",
                                   gsi1sk=f"PATIENT#{setup.practice_id}#P{n:03d}"))
    return [{"patient_id": f"P{n:03d}", "variables": {"first_name": f"Pat{n}"}} for n in range(count)]


def start(integration, key, setup, recipients, rate=30.0):
    return integration("POST", "/v1/campaigns", {
        "name": "Flu shots", "line_id": setup.line["line_id"], "template": "Hi {first_name}, flu shots are in!",
        "recipients": recipients, "rate_per_second": rate}, key=key)


def drain(queues, carrier_account, expected, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queues.deliver()
        if len([m for m in carrier_account.messages() if m["body"].startswith("Hi Pat")]) >= expected:
            return
        time.sleep(0.2)


def test_a_campaign_finishes_with_counts_that_add_up_and_never_exceeds_the_rate(
        integration, key, setup, admin_api, queues, carrier_account):
    recipients = patients(admin_api, setup, 40)
    started = start(integration, key, setup, recipients, rate=20.0)
    assert started.status == 201, started.body
    campaign_id = started.body["campaign_id"]
    with time_machine.travel(NOON_CHICAGO, tick=True):
        assert run_campaigns()["queued"] == 40
    drain(queues, carrier_account, 40)
    sent = [m for m in carrier_account.messages() if m["body"].startswith("Hi Pat")]
    assert len(sent) == 40 and len({m["to"] for m in sent}) == 40
    per_second = Counter(parsedate_to_datetime(m["date_created"]).replace(microsecond=0) for m in sent)
    assert max(per_second.values()) <= 20
    with time_machine.travel(NOON_CHICAGO, tick=True):
        run_campaigns()  # finds nothing left: the campaign finishes
    counts = integration("GET", f"/v1/campaigns/{campaign_id}", key=key).body
    assert counts["status"] == "finished"
    c = counts["counts"]
    assert c["recipients"] == 40 and c["queued"] == 40 and c["pending"] == 0
    assert c["sent"] + c["failed"] + c["suppressed"] == 40


def test_the_default_rate_is_one_a_second_per_line(integration, key, setup, admin_api, queues):
    recipients = patients(admin_api, setup, 3)
    assert start(integration, key, setup, recipients, rate=1.0).status == 201
    with time_machine.travel(NOON_CHICAGO, tick=False):
        run_campaigns()
    delays = sorted(int(m["Attributes"].get("SentTimestamp", 0)) for m in queues.messages(wait=4))
    assert len(delays) == 3  # spread over three seconds by the queue's per-message delay


def test_only_verified_patients_can_be_recipients(integration, key, setup, admin_api, intake):
    intake("4155559999")  # an unverified caller
    recipients = patients(admin_api, setup, 2) + [{"patient_id": "+14155559999"}, {"patient_id": "NOBODY"}]
    answer = start(integration, key, setup, recipients)
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "recipients"
    assert "+14155559999" in answer.body["errors"][0]["reason"] and "NOBODY" in answer.body["errors"][0]["reason"]


def test_cancel_stops_what_has_not_been_sent(integration, key, setup, admin_api, queues, carrier_account):
    recipients = patients(admin_api, setup, 10)
    campaign_id = start(integration, key, setup, recipients, rate=2.0).body["campaign_id"]
    with time_machine.travel(NOON_CHICAGO, tick=False):
        run_campaigns()
    canceled = integration("POST", f"/v1/campaigns/{campaign_id}/cancel", key=key)
    assert canceled.body["status"] == "canceled"
    drain(queues, carrier_account, 10, timeout=7)
    assert [m for m in carrier_account.messages() if m["body"].startswith("Hi Pat")] == []
    counts = integration("GET", f"/v1/campaigns/{campaign_id}", key=key).body["counts"]
    assert counts["suppressed"] == 10 and counts["sent"] == 0


def test_campaigns_wait_for_quiet_hours_to_end(integration, key, setup, admin_api, queues):
    recipients = patients(admin_api, setup, 2)
    start(integration, key, setup, recipients)
    with time_machine.travel("2026-11-24T04:30Z", tick=False):  # 22:30 in Chicago
        assert run_campaigns()["queued"] == 0


def test_a_campaign_of_another_practice_is_not_found(integration, key, setup, admin_api):
    recipients = patients(admin_api, setup, 1)
    campaign_id = start(integration, key, setup, recipients).body["campaign_id"]
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    other_key = admin_api("POST", f"/api/practices/{other}/api-keys", {"name": "Oak"}).body["key"]
    assert integration("GET", f"/v1/campaigns/{campaign_id}", key=other_key).status == 404
