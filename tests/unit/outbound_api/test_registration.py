"""A2P 10DLC: one Messaging Service per practice, sends through it, and clinic-started texts refused until the
practice's campaign is registered."""

from tests.clock import wait_until
from tests.unit.outbound_api.test_campaigns import campaign_texts, patients, start
from tests.unit.outbound_api.test_send_api import PHONE


def service_of(carrier_account, practice_id, admin_api):
    sid = admin_api("GET", f"/api/practices/{practice_id}").body["messaging_service_sid"]
    return next(s for s in carrier_account.messaging_services() if s["sid"] == sid)


def test_a_practice_gets_one_messaging_service_holding_every_line_it_buys(admin_api, setup, carrier_account):
    number = admin_api("GET", f"/api/practices/{setup.practice_id}/available-numbers?area_code=312").body[0]
    second = admin_api("POST", f"/api/practices/{setup.practice_id}/lines/purchase",
                       {"display_name": "Billing", "number": number["phone_number"]})
    assert second.status == 201, second.body
    services = carrier_account.messaging_services()
    assert len(services) == 1 and "Maple Clinic" in services[0]["friendly_name"]
    owned = {n["phone_number"]: n["sid"] for n in carrier_account.incoming_numbers()}
    assert set(services[0]["phone_number_sids"]) == {owned[setup.line["number"]], owned[number["phone_number"]]}
    practice = admin_api("GET", f"/api/practices/{setup.practice_id}").body
    assert practice["registration"]["state"] == "registered"


def test_a_send_goes_through_the_practices_service_from_the_line_patients_know(send, key, setup, queues,
                                                                                 carrier_account, admin_api):
    assert send(key, line_id=setup.line["line_id"]).status == 202
    queues.deliver()
    service = service_of(carrier_account, setup.practice_id, admin_api)
    sent = carrier_account.messages(to=PHONE)
    assert [(m["from"], m["messaging_service_sid"]) for m in sent] == [(setup.line["number"], service["sid"])]


def test_an_unregistered_practice_is_refused_with_the_reason_until_its_campaign_is_verified(
        send, key, setup, queues, carrier_account, admin_api, status_poller):
    service = service_of(carrier_account, setup.practice_id, admin_api)
    carrier_account.set_campaign(service["sid"], "IN_PROGRESS")
    status_poller()
    practice = admin_api("GET", f"/api/practices/{setup.practice_id}").body
    assert practice["registration"]["state"] == "in_review"
    assert "review" in practice["registration"]["next_step"]

    refused = send(key, line_id=setup.line["line_id"])
    assert refused.status == 409
    error = refused.body["errors"][0]
    assert error["field"] == "line_id" and "A2P 10DLC registration is still in review" in error["reason"]
    assert carrier_account.messages(to=PHONE) == []

    carrier_account.set_campaign(service["sid"], "VERIFIED")
    assert admin_api("POST", f"/api/practices/{setup.practice_id}/registration/check").body[
        "registration"]["state"] == "registered"
    assert send(key, line_id=setup.line["line_id"]).status == 202


def test_a_failed_registration_refuses_campaigns_naming_what_the_review_found(integration, key, setup, admin_api,
                                                                              carrier_account, status_poller):
    service = service_of(carrier_account, setup.practice_id, admin_api)
    carrier_account.set_campaign(service["sid"], "FAILED", errors=("The opt-in flow is not described",))
    status_poller()
    registration = admin_api("GET", f"/api/practices/{setup.practice_id}").body["registration"]
    assert registration["state"] == "failed" and registration["reason"] == "The opt-in flow is not described"
    answer = start(integration, key, setup, patients(admin_api, setup, 2))
    assert answer.status == 409
    assert answer.body["errors"][0]["field"] == "line_id"
    assert "failed (The opt-in flow is not described)" in answer.body["errors"][0]["reason"]
    assert campaign_texts(carrier_account) == []


def test_texts_from_a_number_outside_a_registered_service_fail_at_the_carrier_with_30034(
        intake, setup, queues, carrier_account, admin_api):
    service = service_of(carrier_account, setup.practice_id, admin_api)
    carrier_account.set_campaign(service["sid"], None)  # the operator never registered a campaign
    assert intake().status == 202  # the caller asked for the text; the carriers block it
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1
    failed = wait_until(lambda: (m := carrier_account.messages(to=PHONE)[0])["status"] == "failed" and m)
    assert failed["error_code"] == 30034
