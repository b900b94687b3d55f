"""Campaigns: verified patients only, at the line's rate, with counts that add up."""

import time
from collections import Counter
from email.utils import parsedate_to_datetime

import pytest

from switchboard.data.models import PatientItem
from switchboard.flows.campaigns import run_campaigns
from tests.claims import claims_of
from tests.clock import PATIENCE


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


def campaign_texts(carrier_account):
    return [m for m in carrier_account.messages() if m["body"].startswith("Hi Pat")]


def drain(queues, done, within=PATIENCE):
    """Hand the queue's jobs to the consumer, as its event source would, until `done()` (or `within` seconds)."""
    deadline = time.monotonic() + within
    while True:
        queues.deliver()
        if done() or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def test_a_campaign_finishes_with_counts_that_add_up_and_never_exceeds_the_rate(
        integration, key, setup, admin_api, queues, carrier_account, clinic_clock, week):
    recipients = patients(admin_api, setup, 40)
    started = start(integration, key, setup, recipients, rate=20.0)
    assert started.status == 201, started.body
    campaign_id = started.body["campaign_id"]
    clinic_clock.move_to(week.at("mon", "12:00"), tick=True)
    assert run_campaigns()["queued"] == 40
    drain(queues, lambda: len(campaign_texts(carrier_account)) >= 40)
    sent = campaign_texts(carrier_account)
    assert len(sent) == 40 and len({m["to"] for m in sent}) == 40
    per_second = Counter(parsedate_to_datetime(m["date_created"]).replace(microsecond=0) for m in sent)
    assert max(per_second.values()) <= 20
    run_campaigns()  # finds nothing left: the campaign finishes
    counts = integration("GET", f"/v1/campaigns/{campaign_id}", key=key).body
    assert counts["status"] == "finished"
    c = counts["counts"]
    assert c["recipients"] == 40 and c["queued"] == 40 and c["pending"] == 0
    assert c["sent"] + c["failed"] + c["suppressed"] == 40


def test_the_default_rate_is_one_a_second_per_line(integration, key, setup, admin_api, queues, clinic_clock, week):
    recipients = patients(admin_api, setup, 3)
    assert start(integration, key, setup, recipients, rate=1.0).status == 201
    clinic_clock.move_to(week.at("mon", "12:00"), tick=True)  # the queue's delays run out as the clock runs
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


def test_cancel_stops_what_has_not_been_sent(integration, key, setup, admin_api, queues, carrier_account,
                                            clinic_clock, week):
    recipients = patients(admin_api, setup, 10)
    campaign_id = start(integration, key, setup, recipients, rate=2.0).body["campaign_id"]
    clinic_clock.move_to(week.at("mon", "12:00"), tick=True)
    run_campaigns()
    canceled = integration("POST", f"/v1/campaigns/{campaign_id}/cancel", key=key)
    assert canceled.body["status"] == "canceled"
    drain(queues, lambda: queues.jobs_left() == 0)  # every job handed to the consumer, delayed ones too
    assert queues.jobs_left() == 0
    assert campaign_texts(carrier_account) == []
    counts = integration("GET", f"/v1/campaigns/{campaign_id}", key=key).body["counts"]
    assert counts["suppressed"] == 10 and counts["sent"] == 0


def test_campaigns_wait_for_quiet_hours_to_end(integration, key, setup, admin_api, queues, clinic_clock, week):
    recipients = patients(admin_api, setup, 2)
    start(integration, key, setup, recipients)
    clinic_clock.move_to(week.at("mon", "22:30"))
    assert run_campaigns()["queued"] == 0


def test_a_campaign_of_another_practice_is_not_found(integration, key, setup, admin_api):
    recipients = patients(admin_api, setup, 1)
    campaign_id = start(integration, key, setup, recipients).body["campaign_id"]
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    other_key = admin_api("POST", f"/api/practices/{other}/api-keys", {"name": "Oak"}).body["key"]
    assert integration("GET", f"/v1/campaigns/{campaign_id}", key=other_key).status == 404


def test_a_campaign_template_with_format_options_or_a_missing_variable_is_refused(integration, key, setup,
                                                                                  admin_api):
    recipients = patients(admin_api, setup, 2)
    bad = integration("POST", "/v1/campaigns", {"name": "Flu", "line_id": setup.line["line_id"],
                                                "template": "Hi {first_name:d}", "recipients": recipients}, key=key)
    assert bad.status == 422 and bad.body["errors"][0]["field"] == "template"
    recipients[1]["variables"] = {}
    missing = start(integration, key, setup, recipients)
    assert missing.status == 422 and missing.body["errors"][0]["field"] == "recipients[1].variables"
    assert "{first_name}" in missing.body["errors"][0]["reason"]


@pytest.mark.parametrize("breakage", [
    {"template": "Hi {first_name:d}"},  # stored before templates were checked
    {"line_id": "GONE"},
])
def test_a_campaign_that_cannot_run_stops_alone_and_every_other_campaign_runs(
        integration, key, setup, admin_api, queues, carrier_account, clinic_clock, week, breakage):
    from switchboard.data.models import CampaignItem

    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    number = admin_api("GET", f"/api/practices/{other}/available-numbers?area_code=415").body[0]["phone_number"]
    oak_line = admin_api("POST", f"/api/practices/{other}/lines/purchase",
                         {"display_name": "Oak desk", "number": number}).body
    broken = start(integration, key, setup, patients(admin_api, setup, 2)).body["campaign_id"]
    stored = CampaignItem.get(f"PRACTICE#{setup.practice_id}", f"CAMPAIGN#{broken}")
    stored.update(actions=[getattr(CampaignItem, name).set(value) for name, value in breakage.items()])
    oak_key = admin_api("POST", f"/api/practices/{other}/api-keys", {"name": "Oak"}).body["key"]
    with PatientItem.batch_write() as batch:
        batch.save(PatientItem(f"PRACTICE#{other}", "PATIENT#OAK1", practice_id=other, patient_id="OAK1",
                               name="Pat Oak", phone="+14155557777", gsi1pk="PHONE#+14155557777",
                               gsi1sk=f"PATIENT#{other}#OAK1"))
    healthy = integration("POST", "/v1/campaigns", {
        "name": "Oak recall", "line_id": oak_line["line_id"], "template": "Time for a check-up, Pat.",
        "recipients": [{"patient_id": "OAK1"}]}, key=oak_key)
    assert healthy.status == 201, healthy.body
    clinic_clock.move_to(week.at("mon", "12:00"), tick=True)
    tally = run_campaigns()
    assert tally["failed"] == 1 and tally["queued"] == 1
    drain(queues, lambda: bool(carrier_account.messages(to="+14155557777")))
    assert [m["body"] for m in carrier_account.messages(to="+14155557777")] == ["Time for a check-up, Pat."]
    stopped = integration("GET", f"/v1/campaigns/{broken}", key=key).body
    assert stopped["status"] == "failed" and stopped["failure"]
    assert stopped["counts"]["pending"] == 2 and not campaign_texts(carrier_account)
    assert run_campaigns()["campaigns"] == 1  # the failed campaign is no longer run; the finished one last time


def test_a_run_that_read_recipients_before_another_run_queued_them_texts_no_one_twice(
        integration, key, setup, admin_api, queues, carrier_account, clinic_clock, week, monkeypatch):
    from switchboard.data import campaigns as campaign_store

    assert start(integration, key, setup, patients(admin_api, setup, 5)).status == 201
    clinic_clock.move_to(week.at("mon", "12:00"), tick=True)
    (campaign,) = campaign_store.running()
    stale = campaign_store.pending_recipients(campaign.campaign_id, limit=10)
    assert run_campaigns()["queued"] == 5
    monkeypatch.setattr(campaign_store, "pending_recipients", lambda *_, **__: stale)  # read before the first run
    assert run_campaigns()["queued"] == 0
    drain(queues, lambda: queues.jobs_left() == 0)
    assert len(campaign_texts(carrier_account)) == 5


def test_a_manager_starts_a_campaign_from_the_console_and_it_runs_like_any_other(
        admin_api, setup, queues, carrier_account, clinic_clock, week):
    recipients = patients(admin_api, setup, 3)
    path = f"/api/practices/{setup.practice_id}/campaigns"
    body = {"name": "Flu shots", "line_id": setup.line["line_id"], "template": "Hi {first_name}, flu shots are in!",
            "recipients": recipients}
    sam = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                    {"email": "sam@maple.com", "name": "Sam", "role": "staff", "line_ids": []}).body
    assert admin_api("POST", path, body, claims=claims_of(sam)).status == 403
    unknown = admin_api("POST", path, {**body, "recipients": [{"patient_id": "P404"}]})
    assert unknown.status == 422 and unknown.body["errors"][0]["field"] == "recipients"
    assert admin_api("GET", path).body == []  # nothing was half-started
    started = admin_api("POST", path, body)
    assert started.status == 201, started.body
    clinic_clock.move_to(week.at("mon", "12:00"), tick=True)
    assert run_campaigns()["queued"] == 3
    drain(queues, lambda: len(campaign_texts(carrier_account)) >= 3)
    assert sorted(m["body"] for m in campaign_texts(carrier_account)) == [
        f"Hi Pat{n}, flu shots are in!" for n in range(3)]
    run_campaigns()
    (listed,) = admin_api("GET", path).body
    assert (listed["campaign_id"], listed["status"]) == (started.body["campaign_id"], "finished")
    trail = admin_api("GET", f"/api/practices/{setup.practice_id}/audit?action=campaign.create").body["entries"]
    assert [(e["entity_id"], e["actor"]) for e in trail] == [(listed["campaign_id"], "admin@clinic.test")]
