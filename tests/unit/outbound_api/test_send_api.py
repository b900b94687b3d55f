"""The integration send API: the right line, once per key, inside quiet hours."""

from datetime import UTC, datetime

import pytest
import time_machine

from switchboard.data.models import ConversationItem, MessageItem
from switchboard.sending import release_due

PHONE = "+14155552671"
NOON_CHICAGO = "2026-11-23T18:00Z"
LATE_CHICAGO = "2026-11-24T04:30Z"  # 22:30 in Chicago


def send(integration, key, **fields):
    body = {"to": "4155552671", "text": "Reminder: your appointment is tomorrow at 9.", "idempotency_key": "appt-1",
            **fields}
    with time_machine.travel(fields.pop("at", NOON_CHICAGO), tick=False):
        return integration("POST", "/v1/messages", {k: v for k, v in body.items() if k != "at"}, key=key)


def test_a_send_for_a_location_goes_from_that_locations_line(integration, key, location, setup, queues,
                                                             carrier_account):
    answer = send(integration, key, resource_id=location["resource_id"])
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "queued" and answer.body["line_id"] == setup.line["line_id"]
    queues.deliver()
    sent = carrier_account.messages(to=PHONE)
    assert [(m["from"], m["body"]) for m in sent] == [(setup.line["number"],
                                                       "Reminder: your appointment is tomorrow at 9.")]


def test_the_same_idempotency_key_never_sends_twice_and_answers_the_first_result(integration, key, location, queues,
                                                                                 carrier_account):
    first = send(integration, key, resource_id=location["resource_id"])
    again = send(integration, key, resource_id=location["resource_id"])
    assert again.status == 202 and again.body == first.body
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1
    other = send(integration, key, resource_id=location["resource_id"], text="Something else")
    assert other.status == 409 and other.body["errors"][0]["field"] == "idempotency_key"


def test_a_template_with_variables(integration, key, setup, queues, carrier_account):
    answer = send(integration, key, line_id=setup.line["line_id"], text=None,
                  template="Hi {first_name}, see you {when}.", variables={"first_name": "Ann", "when": "Friday at 9"})
    assert answer.status == 202
    queues.deliver()
    assert carrier_account.messages(to=PHONE)[0]["body"] == "Hi Ann, see you Friday at 9."
    missing = send(integration, key, line_id=setup.line["line_id"], text=None, template="Hi {first_name}",
                   idempotency_key="appt-2")
    assert missing.status == 422 and missing.body["errors"][0]["field"] == "variables"


def test_a_verified_patient_by_id(integration, key, setup, admin_api, queues, carrier_account):
    admin_api("POST", f"/api/practices/{setup.practice_id}/patients",
              {"patient_id": "MRN-1", "name": "Ann Lee", "phone": "(415) 555-0123"})
    assert send(integration, key, to=None, patient_id="MRN-1", line_id=setup.line["line_id"]).status == 202
    queues.deliver()
    assert len(carrier_account.messages(to="+14155550123")) == 1


def test_refusal_a_location_without_a_line(integration, key, admin_api, setup):
    bare = admin_api("POST", f"/api/practices/{setup.practice_id}/resources", {"name": "Annex"}).body
    answer = send(integration, key, resource_id=bare["resource_id"])
    assert answer.status == 409
    assert answer.body["errors"][0] == {"field": "resource_id",
                                        "reason": "this location has no line to text from; link it to a line first"}


@pytest.mark.parametrize("state", ["disable"])
def test_refusal_a_line_that_is_not_enabled(integration, key, admin_api, setup, state):
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/{state}")
    answer = send(integration, key, line_id=setup.line["line_id"])
    assert answer.status == 409 and "the line is disabled" in answer.body["message"]


def test_refusal_a_pending_line(integration, key, admin_api, setup):
    loa = {"signer_name": "Dana Reyes", "signer_title": "Owner", "signer_email": "dana@maplefamilyclinic.com",
           "signed_on": "2026-11-02"}
    pending = admin_api("POST", f"/api/practices/{setup.practice_id}/lines",
                        {"display_name": "Landline", "number": "3125550142", "authorization": loa}).body
    answer = send(integration, key, line_id=pending["line_id"])
    assert answer.status == 409 and "the line is pending: texts from it would fail" in answer.body["message"]


def test_refusal_an_opted_out_patient_and_a_landline(integration, key, setup, queues):
    ConversationItem(f"LINE#{setup.line['line_id']}", f"CONV#{PHONE}", line_id=setup.line["line_id"],
                     practice_id=setup.practice_id, phone=PHONE, opted_out=True,
                     last_activity_at=datetime.now(UTC)).save()
    opted_out = send(integration, key, line_id=setup.line["line_id"])
    assert opted_out.status == 409 and "opted out" in opted_out.body["message"]
    ConversationItem(f"LINE#{setup.line['line_id']}", "CONV#+14155550193", line_id=setup.line["line_id"],
                     practice_id=setup.practice_id, phone="+14155550193", not_textable=True,
                     last_activity_at=datetime.now(UTC)).save()
    landline = send(integration, key, line_id=setup.line["line_id"], to="4155550193", idempotency_key="x-2")
    assert landline.status == 409 and "not a mobile number" in landline.body["message"]
    assert queues.messages() == []


def test_a_revoked_key_is_401_and_a_missing_one_too(integration, key, admin_api, setup):
    key_id = admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]["key_id"]
    admin_api("POST", f"/api/practices/{setup.practice_id}/api-keys/{key_id}/revoke")
    assert send(integration, key, line_id=setup.line["line_id"]).status == 401
    assert send(integration, None, line_id=setup.line["line_id"]).status == 401


def test_a_key_of_another_practice_finds_nothing_of_this_one(integration, admin_api, setup):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    other_key = admin_api("POST", f"/api/practices/{other}/api-keys", {"name": "Oak EMR"}).body["key"]
    answer = send(integration, other_key, line_id=setup.line["line_id"])
    assert answer.status == 404
    assert answer.body["errors"][0]["field"] == "line_id"


def test_keys_are_shown_once_stored_hashed_and_record_their_last_use(admin_api, key, setup, integration):
    from switchboard.data.models import ApiKeyItem, ApiKeyLookupItem

    stored = [item.serialize() for item in ApiKeyItem.scan()] + [item.serialize() for item in ApiKeyLookupItem.scan()]
    assert key not in str(stored)
    assert admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]["last_used_at"] is None
    send(integration, key, line_id=setup.line["line_id"])
    listed = admin_api("GET", f"/api/practices/{setup.practice_id}/api-keys").body[0]
    assert listed["last_used_at"] is not None and "key" not in listed


def test_a_send_at_22_30_is_scheduled_for_08_00_and_goes_when_its_time_comes(integration, key, setup, queues,
                                                                            carrier_account):
    answer = send(integration, key, line_id=setup.line["line_id"], at=LATE_CHICAGO)
    assert answer.status == 202
    assert answer.body["status"] == "scheduled"
    assert answer.body["send_at"] == "2026-11-24T14:00:00Z"  # 08:00 in Chicago
    assert queues.messages() == []
    assert release_due(datetime(2026, 11, 24, 13, 59, tzinfo=UTC)) == 0
    assert release_due(datetime(2026, 11, 24, 14, 0, tzinfo=UTC)) == 1
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1
    assert release_due(datetime(2026, 11, 24, 14, 1, tzinfo=UTC)) == 0


def test_an_urgent_send_ignores_quiet_hours(integration, key, setup):
    answer = send(integration, key, line_id=setup.line["line_id"], at=LATE_CHICAGO, urgent=True)
    assert answer.body["status"] == "queued" and answer.body["send_at"] is None


def test_quiet_hours_are_configurable_per_practice(integration, key, setup, admin_api):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"quiet_hours": {"starts": "23:00", "ends": "07:00"}})
    assert send(integration, key, line_id=setup.line["line_id"], at=LATE_CHICAGO).body["status"] == "queued"


def test_the_send_api_is_documented(integration):
    document = integration("GET", "/v1/openapi.json").body
    assert "/v1/messages" in document["paths"] and "/v1/campaigns" in document["paths"]
    assert MessageItem is not None
