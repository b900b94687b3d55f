"""The practice's business address: saved as the carrier's Address, required before a landline is text-enabled,
named on every hosted order; and the order's letter of authorization as the poller reads it."""

import pytest

from tests.claims import ADMIN, claims_of
from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, loa


@pytest.fixture
def practice_id(admin_api, carrier_account):
    return admin_api("POST", "/api/practices", {"name": "Maple Clinic", "timezone": "America/Chicago"}).body[
        "practice_id"]


def put_address(admin_api, practice_id, claims=ADMIN, **changes):
    return admin_api("PUT", f"/api/practices/{practice_id}/address", {**PRACTICE_ADDRESS, **changes}, claims=claims)


def text_enable(admin_api, practice_id, number="3125550142"):
    return admin_api("POST", f"/api/practices/{practice_id}/lines",
                     {"display_name": "Main landline", "number": number, "authorization": loa(),
                      "contact": ORDER_CONTACT})


def test_the_address_is_saved_at_the_carrier_and_shown_on_the_practice(admin_api, practice_id, carrier_account):
    answer = put_address(admin_api, practice_id, region="il", postal_code="60606-1234")
    assert answer.status == 200, answer.body
    [address] = carrier_account.addresses()
    assert (address["customer_name"], address["street"], address["street_secondary"], address["city"],
            address["region"], address["postal_code"], address["iso_country"]) == (
        "Maple Family Clinic LLC", "200 W Madison St", "Suite 400", "Chicago", "IL", "60606-1234", "US")
    shown = admin_api("GET", f"/api/practices/{practice_id}").body["address"]
    assert shown == {**PRACTICE_ADDRESS, "region": "IL", "postal_code": "60606-1234", "address_sid": address["sid"]}


def test_saving_again_updates_the_same_carrier_address_and_is_audited(admin_api, practice_id, carrier_account):
    first = put_address(admin_api, practice_id).body["address"]["address_sid"]
    again = put_address(admin_api, practice_id, street="1 N State St", street_secondary=None).body["address"]
    assert again["address_sid"] == first
    assert [(a["sid"], a["street"]) for a in carrier_account.addresses()] == [(first, "1 N State St")]
    trail = admin_api("GET", f"/api/practices/{practice_id}/audit").body["entries"]
    assert [entry["action"] for entry in trail] == ["practice.address", "practice.address", "practice.create"]
    assert trail[0]["actor"] == ADMIN["email"]
    assert trail[0]["changes"]["street"] == {"before": "200 W Madison St", "after": "1 N State St"}


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("region", "Illinois", "two-letter code"),
    ("region", "ZZ", "two-letter code"),
    ("postal_code", "6060", "pattern"),
    ("postal_code", "60606-12", "pattern"),
    ("iso_country", "CA", "'US'"),
    ("street", "  ", "at least 1 character"),
    ("customer_name", "", "at least 1 character"),
    ("city", "x" * 101, "at most 100"),
])
def test_a_bad_address_is_refused_naming_the_field(admin_api, practice_id, carrier_account, field, value, reason):
    answer = put_address(admin_api, practice_id, **{field: value})
    assert answer.status == 422, answer.body
    [error] = answer.body["errors"]
    assert error["field"] == field and reason in error["reason"]
    assert carrier_account.addresses() == []
    assert admin_api("GET", f"/api/practices/{practice_id}").body["address"] is None


def test_a_missing_field_is_named(admin_api, practice_id, carrier_account):
    body = {k: v for k, v in PRACTICE_ADDRESS.items() if k != "city"}
    answer = admin_api("PUT", f"/api/practices/{practice_id}/address", body)
    assert answer.status == 422
    assert answer.body["errors"] == [{"field": "city", "reason": "is required"}]


def test_an_address_the_carrier_refuses_is_a_409_at_address_and_nothing_is_kept(admin_api, practice_id,
                                                                                 carrier_account):
    answer = put_address(admin_api, practice_id, postal_code="00000")
    assert answer.status == 409, answer.body
    [error] = answer.body["errors"]
    assert error["field"] == "address"
    assert "could not be validated (Twilio 21628)" in error["reason"] and "ZIP code" in error["reason"]
    assert admin_api("GET", f"/api/practices/{practice_id}").body["address"] is None


def test_text_enabling_without_an_address_is_a_422_telling_the_admin_to_add_it(admin_api, practice_id,
                                                                               carrier_account):
    answer = text_enable(admin_api, practice_id)
    assert answer.status == 422, answer.body
    [error] = answer.body["errors"]
    assert error["field"] == "address"
    assert "add the practice's business address first" in error["reason"]
    assert carrier_account.hosted_orders() == []
    assert admin_api("GET", f"/api/practices/{practice_id}/lines").body == []


def test_the_hosted_order_and_its_retry_name_the_practices_address(admin_api, practice_id, carrier_account,
                                                                   status_poller):
    sid = put_address(admin_api, practice_id).body["address"]["address_sid"]
    line = text_enable(admin_api, practice_id).body
    [first] = carrier_account.hosted_orders()
    assert first["address_sid"] == sid
    carrier_account.fail_order(first["sid"], "LOA signer does not match the account")
    status_poller()
    assert admin_api("POST", f"/api/practices/{practice_id}/lines/{line['line_id']}/order/retry").status == 200
    assert [o["address_sid"] for o in carrier_account.hosted_orders()] == [sid, sid]


def test_an_address_the_carrier_no_longer_knows_is_refused_at_address(admin_api, practice_id, carrier_account):
    put_address(admin_api, practice_id)
    with carrier_account.store.change() as state:
        state["addresses"].clear()  # deleted in Twilio's console
    answer = text_enable(admin_api, practice_id)
    assert answer.status == 409, answer.body
    assert answer.body["errors"][0]["field"] == "address"
    assert "does not know the practice's address" in answer.body["errors"][0]["reason"]
    assert put_address(admin_api, practice_id).status == 200  # saved again: made anew at the carrier
    assert text_enable(admin_api, practice_id).status == 201


def test_the_poller_keeps_the_letter_of_authorizations_status_on_the_card(admin_api, practice_id, carrier_account,
                                                                          status_poller):
    put_address(admin_api, practice_id)
    line = text_enable(admin_api, practice_id).body
    assert line["hosted_order"]["loa_status"] is None
    path = f"/api/practices/{practice_id}/lines/{line['line_id']}"
    sid = carrier_account.hosted_orders()[0]["sid"]

    carrier_account.advance_clock(3 * 60)  # the number is verified; Twilio sends the letter
    status_poller()
    sent = admin_api("GET", path).body["hosted_order"]
    assert (sent["status"], sent["loa_status"]) == ("pending-loa", "signing")
    assert sent["loa_summary"] == f"sent to {ORDER_CONTACT['email']} — not signed yet"

    carrier_account.sign_loa(sid)
    status_poller()
    signed = admin_api("GET", path).body
    assert (signed["status"], signed["hosted_order"]["loa_status"]) == ("pending", "signed")
    assert signed["hosted_order"]["loa_summary"] == "signed"
    trail = admin_api("GET", f"/api/practices/{practice_id}/audit").body["entries"]
    assert trail[0]["action"] == "line.order"
    assert trail[0]["changes"]["hosted_order"]["after"]["loa_status"] == "signed"


def test_another_practices_manager_and_staff_cannot_set_the_address(admin_api, practice_id, carrier_account):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    bo = admin_api("POST", f"/api/practices/{other}/users",
                   {"email": "bo@oak.com", "name": "Bo", "role": "manager", "line_ids": []}).body
    sue = admin_api("POST", f"/api/practices/{practice_id}/users",
                    {"email": "sue@maple.com", "name": "Sue", "role": "staff", "line_ids": []}).body
    assert put_address(admin_api, practice_id, claims=claims_of(bo)).status == 404
    assert put_address(admin_api, practice_id, claims=claims_of(sue)).status == 403
    assert put_address(admin_api, "01JNOPE").status == 404
    assert carrier_account.addresses() == []
    assert put_address(admin_api, other, claims=claims_of(bo)).status == 200
