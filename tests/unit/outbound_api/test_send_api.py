"""The integration send API: the right line, once per key, inside quiet hours."""

from datetime import UTC, datetime

import pytest

from switchboard.data.models import ConversationItem, MessageItem
from switchboard.flows.sends import release_due
from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, api_time, recently_signed

PHONE = "+14155552671"
NOON = ("mon", "12:00")  # in Chicago, in the coming week
LATE = ("mon", "22:30")


def test_a_send_for_a_location_goes_from_that_locations_line(send, key, location, setup, queues,
                                                             carrier_account):
    answer = send(key, resource_id=location["resource_id"])
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "queued" and answer.body["line_id"] == setup.line["line_id"]
    queues.deliver()
    sent = carrier_account.messages(to=PHONE)
    assert [(m["from"], m["body"]) for m in sent] == [(setup.line["number"],
                                                       "Reminder: your appointment is tomorrow at 9.")]


def test_the_same_idempotency_key_never_sends_twice_and_answers_the_first_result(send, key, location, queues,
                                                                                 carrier_account):
    first = send(key, resource_id=location["resource_id"])
    again = send(key, resource_id=location["resource_id"])
    assert again.status == 202 and again.body == first.body
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1
    other = send(key, resource_id=location["resource_id"], text="Something else")
    assert other.status == 409 and other.body["errors"][0]["field"] == "idempotency_key"


def test_a_template_with_variables(send, key, setup, queues, carrier_account):
    answer = send(key, line_id=setup.line["line_id"], text=None,
                  template="Hi {first_name}, see you {when}.", variables={"first_name": "Ann", "when": "Friday at 9"})
    assert answer.status == 202
    queues.deliver()
    assert carrier_account.messages(to=PHONE)[0]["body"] == "Hi Ann, see you Friday at 9."
    missing = send(key, line_id=setup.line["line_id"], text=None, template="Hi {first_name}",
                   idempotency_key="appt-2")
    assert missing.status == 422 and missing.body["errors"][0]["field"] == "variables"


def test_a_verified_patient_by_id(send, key, setup, admin_api, queues, carrier_account):
    admin_api("POST", f"/api/practices/{setup.practice_id}/patients",
              {"patient_id": "MRN-1", "name": "Ann Lee", "phone": "(415) 555-0123"})
    assert send(key, to=None, patient_id="MRN-1", line_id=setup.line["line_id"]).status == 202
    queues.deliver()
    assert len(carrier_account.messages(to="+14155550123")) == 1


def test_refusal_a_location_without_a_line(send, key, admin_api, setup):
    bare = admin_api("POST", f"/api/practices/{setup.practice_id}/resources", {"name": "Annex"}).body
    answer = send(key, resource_id=bare["resource_id"])
    assert answer.status == 409
    assert answer.body["errors"][0] == {"field": "resource_id",
                                        "reason": "this location has no line to text from; link it to a line first"}


@pytest.mark.parametrize("state", ["disable"])
def test_refusal_a_line_that_is_not_enabled(send, key, admin_api, setup, state):
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/{state}")
    answer = send(key, line_id=setup.line["line_id"])
    assert answer.status == 409 and "the line is disabled" in answer.body["message"]


def test_refusal_a_pending_line(send, key, admin_api, setup):
    loa = {"signer_name": "Dana Reyes", "signer_title": "Owner", "signer_email": "dana@maplefamilyclinic.com",
           "signed_on": recently_signed()}
    assert admin_api("PUT", f"/api/practices/{setup.practice_id}/address", PRACTICE_ADDRESS).status == 200
    pending = admin_api("POST", f"/api/practices/{setup.practice_id}/lines",
                        {"display_name": "Landline", "number": "3125550142", "authorization": loa,
                         "contact": ORDER_CONTACT}).body
    answer = send(key, line_id=pending["line_id"])
    assert answer.status == 409 and "the line is pending: texts from it would fail" in answer.body["message"]


def test_refusal_an_opted_out_patient_and_a_landline(send, key, setup, queues):
    ConversationItem(f"LINE#{setup.line['line_id']}", f"CONV#{PHONE}", line_id=setup.line["line_id"],
                     practice_id=setup.practice_id, phone=PHONE, opted_out=True,
                     last_activity_at=datetime.now(UTC)).save()
    opted_out = send(key, line_id=setup.line["line_id"])
    assert opted_out.status == 409 and "opted out" in opted_out.body["message"]
    ConversationItem(f"LINE#{setup.line['line_id']}", "CONV#+14155550193", line_id=setup.line["line_id"],
                     practice_id=setup.practice_id, phone="+14155550193", not_textable=True,
                     last_activity_at=datetime.now(UTC)).save()
    landline = send(key, line_id=setup.line["line_id"], to="4155550193", idempotency_key="x-2")
    assert landline.status == 409 and "not a mobile number" in landline.body["message"]
    assert queues.messages() == []


def test_a_revoked_key_is_401_and_a_missing_one_too(send, key, admin_api, setup):
    key_id = admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]["key_id"]
    admin_api("POST", f"/api/practices/{setup.practice_id}/api-keys/{key_id}/revoke")
    assert send(key, line_id=setup.line["line_id"]).status == 401
    assert send(None, line_id=setup.line["line_id"]).status == 401


def test_a_key_of_another_practice_finds_nothing_of_this_one(send, admin_api, setup):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    other_key = admin_api("POST", f"/api/practices/{other}/api-keys", {"name": "Oak EMR"}).body["key"]
    answer = send(other_key, line_id=setup.line["line_id"])
    assert answer.status == 404
    assert answer.body["errors"][0]["field"] == "line_id"


def test_keys_are_shown_once_stored_hashed_and_record_their_last_use(admin_api, key, setup, send):
    from switchboard.data.models import ApiKeyItem, ApiKeyLookupItem

    stored = [item.serialize() for item in ApiKeyItem.scan()] + [item.serialize() for item in ApiKeyLookupItem.scan()]
    assert key not in str(stored)
    assert admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]["last_used_at"] is None
    send(key, line_id=setup.line["line_id"])
    listed = admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]
    assert listed["last_used_at"] is not None and "key" not in listed


def test_a_send_at_22_30_is_scheduled_for_08_00_and_goes_when_its_time_comes(send, key, setup, queues,
                                                                            carrier_account, clinic_clock, week):
    answer = send(key, line_id=setup.line["line_id"], at=LATE)
    assert answer.status == 202
    assert answer.body["status"] == "scheduled"
    assert answer.body["send_at"] == api_time(week.at("tue", "08:00"))
    assert queues.messages() == []
    assert release_due(clinic_clock.move_to(week.at("tue", "07:59"))) == 0
    assert release_due(clinic_clock.move_to(week.at("tue", "08:00"))) == 1
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1
    assert release_due(clinic_clock.move_to(week.at("tue", "08:01"))) == 0


def test_an_urgent_send_ignores_quiet_hours(send, key, setup):
    answer = send(key, line_id=setup.line["line_id"], at=LATE, urgent=True)
    assert answer.body["status"] == "queued" and answer.body["send_at"] is None


def test_quiet_hours_are_configurable_per_practice(send, key, setup, admin_api):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"quiet_hours": {"starts": "23:00", "ends": "07:00"}})
    assert send(key, line_id=setup.line["line_id"], at=LATE).body["status"] == "queued"


def test_the_send_api_is_documented(integration):
    document = integration("GET", "/v1/openapi.json").body
    assert "/v1/messages" in document["paths"] and "/v1/campaigns" in document["paths"]
    assert MessageItem is not None


def test_a_key_joins_the_apis_usage_plan_and_is_deleted_from_the_gateway_when_revoked(admin_api, key, setup):
    import boto3

    gateway = boto3.client("apigateway")
    (plan,) = gateway.get_usage_plans()["items"]
    (joined,) = gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert gateway.get_api_key(apiKey=joined["id"], includeValue=True)["value"] == key
    key_id = admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]["key_id"]
    assert gateway.get_api_key(apiKey=joined["id"])["tags"] == {"switchboard:usage-plan": plan["id"]}
    assert admin_api("POST", f"/api/practices/{setup.practice_id}/api-keys/{key_id}/revoke").status == 200
    assert gateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
    assert gateway.get_api_keys(includeValues=True)["items"] == []


@pytest.mark.parametrize("template", ["Hi {first_name:d}", "Hi {a:{b}}", "Hi {a:>50000000}", "Hi {x!r}",
                                      "Hi {a.b}", "Hi {a[0]}", "Hi {0}"])
def test_a_template_that_is_not_plain_placeholders_is_a_422_naming_it(send, key, setup, template, queues,
                                                                      carrier_account):
    answer = send(key, line_id=setup.line["line_id"], text=None, template=template,
                  variables={"first_name": "Ann", "a": "x", "b": "y", "x": "z"})
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "template", answer.body
    queues.deliver()
    assert carrier_account.messages(to=PHONE) == []


def test_a_send_while_the_queue_service_is_down_is_accepted_once_and_goes_once_it_is_back(
        send, key, setup, queue_outage, queues, carrier_account):
    first = send(key, line_id=setup.line["line_id"])
    again = send(key, line_id=setup.line["line_id"])  # the client retries: same key
    assert first.status == again.status == 202 and again.body == first.body
    queue_outage["down"] = False
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1

