"""Lines through the admin API, with the real twilio client talking to the carrier sandbox."""

import pytest

from switchboard.data.models import LineItem
from switchboard.data.table import Item
from tests.claims import ADMIN
from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, days_from_now, recently_signed

LOA = {"signer_name": "Dana Reyes", "signer_title": "Practice Director", "signer_email": "dana@maplefamilyclinic.com",
       "signed_on": recently_signed()}


def open_practice(admin_api, name="Maple Clinic"):
    """A practice with its business address saved, ready to text-enable landlines."""
    practice_id = admin_api("POST", "/api/practices", {"name": name, "timezone": "America/Chicago"}).body[
        "practice_id"]
    assert admin_api("PUT", f"/api/practices/{practice_id}/address", PRACTICE_ADDRESS).status == 200
    return practice_id


@pytest.fixture
def practice_id(admin_api, carrier_account):
    return open_practice(admin_api)


@pytest.fixture
def bought(admin_api, practice_id, carrier_account):
    """A purchased (enabled) line."""
    number = admin_api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415").body[0]["phone_number"]
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/purchase",
                       {"display_name": "Front desk", "number": number})
    assert answer.status == 201, answer.body
    return answer.body


def text_enable(admin_api, practice_id, number="3125550142", **loa):
    return admin_api("POST", f"/api/practices/{practice_id}/lines",
                     {"display_name": "Main landline", "number": number, "authorization": {**LOA, **loa},
                      "contact": ORDER_CONTACT})


def kinds_stored() -> list[str]:
    return sorted(type(item).__name__ for item in Item.scan() if type(item).__name__ != "AuditItem")


def test_search_and_buy_a_number_enables_the_line_with_our_webhooks(admin_api, practice_id, carrier_account):
    offered = admin_api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415")
    assert offered.status == 200
    number = offered.body[0]["phone_number"]
    assert number.startswith("+1415")
    line = admin_api("POST", f"/api/practices/{practice_id}/lines/purchase",
                     {"display_name": "Front desk", "number": number}).body
    assert line["status"] == "enabled"
    assert line["source"] == "purchased"
    held = carrier_account.incoming_numbers()
    assert [n["phone_number"] for n in held] == [number]
    assert held[0]["sms_url"] == "https://api.test/local/twilio/sms"
    assert held[0]["voice_url"] == "https://api.test/local/twilio/voice"


@pytest.mark.parametrize("typed", ["3125550142", "(312) 555-0142", "312.555.0142", "+1 312 555 0142", "13125550142"])
def test_landline_number_is_accepted_as_people_type_it_and_goes_pending(admin_api, practice_id, carrier_account,
                                                                       typed):
    answer = text_enable(admin_api, practice_id, typed)
    assert answer.status == 201, answer.body
    assert answer.body["number"] == "+13125550142"
    assert answer.body["number_display"] == "(312) 555-0142"
    assert answer.body["status"] == "pending"
    assert answer.body["authorization"]["signer_title"] == "Practice Director"


@pytest.mark.parametrize("title", ["Receptionist", "Office Assistant", "Medical Assistant", "Assistant Director",
                                   "Nurse", "Billing Coordinator"])
def test_authorization_from_a_staff_level_title_is_refused_with_the_reason(admin_api, practice_id, carrier_account,
                                                                           title):
    answer = text_enable(admin_api, practice_id, signer_title=title)
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "authorization.signer_title"
    assert "director level or above" in answer.body["errors"][0]["reason"]
    assert kinds_stored() == ["PracticeItem"]
    assert carrier_account.hosted_orders() == []


@pytest.mark.parametrize("title", ["Practice Director", "Owner", "CEO", "Vice President, Operations",
                                   "Chief Medical Officer", "Executive Director"])
def test_director_level_titles_may_authorize(admin_api, practice_id, carrier_account, title):
    assert text_enable(admin_api, practice_id, signer_title=title).status == 201


def test_authorization_needs_every_fact(admin_api, practice_id, carrier_account):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines",
                       {"display_name": "Main", "number": "3125550142",
                        "authorization": {"signer_name": "Dana Reyes", "signer_title": "Owner"},
                        "contact": ORDER_CONTACT})
    assert answer.status == 422
    assert {e["field"] for e in answer.body["errors"]} == {"authorization.signer_email", "authorization.signed_on"}
    future = text_enable(admin_api, practice_id, signed_on=days_from_now(3).isoformat())
    assert future.body["errors"][0]["field"] == "authorization.signed_on"


def test_pending_line_becomes_enabled_after_the_carrier_completes_the_order(admin_api, practice_id, carrier_account,
                                                                           status_poller):
    line = text_enable(admin_api, practice_id).body
    status_poller()
    assert admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body["status"] == "pending"
    carrier_account.complete_order(carrier_account.hosted_orders()[0]["sid"])
    status_poller()
    now = admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body
    assert now["status"] == "enabled"
    assert now["status_changed_at"] > line["status_changed_at"]


def test_failed_order_shows_failed_with_the_carriers_reason(admin_api, practice_id, carrier_account, status_poller):
    line = text_enable(admin_api, practice_id).body
    carrier_account.fail_order(carrier_account.hosted_orders()[0]["sid"], "LOA signer does not match the account")
    status_poller()
    now = admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body
    assert now["status"] == "failed"
    assert now["status_reason"] == "LOA signer does not match the account"


def test_action_required_order_shows_its_next_step_and_then_completes(admin_api, practice_id, carrier_account,
                                                                       status_poller):
    line = text_enable(admin_api, practice_id).body
    sid = carrier_account.hosted_orders()[0]["sid"]
    carrier_account.fail_order(sid, "The service address does not match the carrier's records",
                               status="action-required", next_step="Upload a bill that shows the service address")
    status_poller()
    waiting = admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body
    assert waiting["status"] == "pending"
    assert waiting["hosted_order"]["status"] == "action-required"
    assert waiting["hosted_order"]["next_step"] == "Upload a bill that shows the service address"
    assert waiting["status_reason"] == "Action needed: Upload a bill that shows the service address"
    assert waiting["hosted_order"]["loa_email"] == ORDER_CONTACT["email"]  # Twilio emails the LOA to the contact
    carrier_account.complete_order(sid)
    status_poller()
    done = admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body
    assert done["status"] == "enabled"
    assert done["hosted_order"]["status"] == "completed"
    assert done["hosted_order"]["next_step"] is None
    trail = admin_api("GET", f"/api/practices/{practice_id}/audit").body["entries"]
    assert [entry["action"] for entry in trail][:2] == ["line.enabled", "line.order"]


def test_cancel_a_pending_order_deletes_it_at_the_carrier_and_frees_the_number(admin_api, practice_id,
                                                                               carrier_account):
    line = text_enable(admin_api, practice_id).body
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/{line['line_id']}/order/cancel")
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "released"
    assert answer.body["status_reason"] == "the carrier order was cancelled"
    assert carrier_account.hosted_orders() == []
    again = text_enable(admin_api, practice_id)
    assert again.status == 201, again.body
    trail = admin_api("GET", f"/api/practices/{practice_id}/audit").body["entries"]
    assert "line.order_cancel" in [entry["action"] for entry in trail]


def test_an_order_the_carrier_has_moved_past_received_cannot_be_cancelled(admin_api, practice_id, carrier_account):
    line = text_enable(admin_api, practice_id).body
    carrier_account.advance_clock(3600)
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/{line['line_id']}/order/cancel")
    assert answer.status == 409, answer.body
    assert "no longer lets it be cancelled" in answer.body["errors"][0]["reason"]
    assert admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body["status"] == "pending"


def test_only_a_pending_hosted_order_can_be_cancelled(admin_api, practice_id, bought):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/{bought['line_id']}/order/cancel")
    assert answer.status == 409
    assert answer.body["errors"][0]["field"] == "status"


def test_retry_a_failed_order_places_a_new_one_for_the_same_line(admin_api, practice_id, carrier_account,
                                                                 status_poller):
    line = text_enable(admin_api, practice_id).body
    first = carrier_account.hosted_orders()[0]["sid"]
    assert admin_api("POST", f"/api/practices/{practice_id}/lines/{line['line_id']}/order/retry").status == 409
    carrier_account.fail_order(first, "LOA signer does not match the account")
    status_poller()
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/{line['line_id']}/order/retry")
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "pending"
    assert answer.body["hosted_order"]["status"] == "received"
    orders = carrier_account.hosted_orders()
    assert len(orders) == 2 and orders[1]["sid"] != first and orders[1]["phone_number"] == line["number"]
    carrier_account.complete_order(orders[1]["sid"])
    status_poller()
    assert admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body["status"] == "enabled"
    trail = admin_api("GET", f"/api/practices/{practice_id}/audit").body["entries"]
    assert "line.order_retry" in [entry["action"] for entry in trail]


def test_the_order_names_the_admin_as_contact_not_the_landline(admin_api, practice_id, carrier_account,
                                                                status_poller):
    contact = {"phone": "(415) 555-0199", "email": "office.admin@maplefamilyclinic.com"}
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines",
                       {"display_name": "Main landline", "number": "3125550142", "authorization": LOA,
                        "contact": contact})
    assert answer.status == 201, answer.body
    order = carrier_account.hosted_orders()[0]
    assert order["contact_phone_number"] == "+14155550199"
    assert order["email"] == "office.admin@maplefamilyclinic.com"
    assert answer.body["order_contact"] == {"phone": "+14155550199", "email": contact["email"]}
    carrier_account.fail_order(order["sid"], "LOA was not signed in time")
    status_poller()
    admin_api("POST", f"/api/practices/{practice_id}/lines/{answer.body['line_id']}/order/retry")
    assert carrier_account.hosted_orders()[1]["contact_phone_number"] == "+14155550199"


@pytest.mark.parametrize(("contact", "field"), [
    ({"phone": "312-555-0142", "email": "office.admin@maplefamilyclinic.com"}, "contact.phone"),
    ({"phone": "not a phone", "email": "office.admin@maplefamilyclinic.com"}, "contact.phone"),
    ({"phone": "4155550199", "email": "not-an-email"}, "contact.email"),
    (None, "contact"),
])
def test_a_bad_contact_is_refused_naming_the_field_and_nothing_is_ordered(admin_api, practice_id, carrier_account,
                                                                          contact, field):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines",
                       {"display_name": "Main landline", "number": "3125550142", "authorization": LOA,
                        **({"contact": contact} if contact else {})})
    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["field"] == field
    assert carrier_account.hosted_orders() == []


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("312555014", "10 digits"), ("+44 20 7946 0958", "US or Canadian"), ("call me", "digits"),
     ("(555) 555-5555", "valid US or Canadian")],
)
def test_bad_line_number_is_refused_naming_the_field_and_nothing_is_written(admin_api, practice_id, typed, reason):
    answer = text_enable(admin_api, practice_id, typed)
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "number"
    assert reason in answer.body["errors"][0]["reason"]
    assert typed not in str(answer.body)
    assert kinds_stored() == ["PracticeItem"]


def test_a_number_belongs_to_one_line_in_the_whole_enterprise(admin_api, practice_id, carrier_account):
    other = open_practice(admin_api, "Oak")
    assert text_enable(admin_api, practice_id, "3125550142").status == 201
    again = text_enable(admin_api, other, "(312) 555-0142")
    assert again.status == 409
    assert again.body["errors"][0]["field"] == "number"
    assert "Maple" not in str(again.body)
    assert kinds_stored() == ["LineItem", "NumberClaim", "PracticeItem", "PracticeItem"]


def test_line_for_an_unknown_practice_is_404_and_claims_no_number(admin_api, carrier_account):
    assert text_enable(admin_api, "01JNOPE").status == 404
    assert kinds_stored() == []


def test_missing_display_name_is_named(admin_api, practice_id):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines", {"number": "3125550142", "authorization": LOA,
                                                                       "contact": ORDER_CONTACT})
    assert answer.status == 422
    assert answer.body["errors"] == [{"field": "display_name", "reason": "is required"}]


def add_location(admin_api, practice_id, name="Downtown"):
    return admin_api("POST", f"/api/practices/{practice_id}/resources", {"name": name}).body


def test_configure_a_line(admin_api, practice_id, bought):
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    downtown = add_location(admin_api, practice_id)
    changes = {
        "display_name": "Pediatrics",
        "timezone": "America/Denver",
        "location": downtown["resource_id"],
        "hours": {"mon": [{"opens": "07:00", "closes": "19:00"}]},
        "after_hours": {"text": "We are closed.", "translations": {"es": "Estamos cerrados."}},
        "help_text": "Call 555 for the front desk.",
        "version": bought["version"],
    }
    answer = admin_api("PATCH", path, changes)
    assert answer.status == 200, answer.body
    line = admin_api("GET", path).body
    assert line["display_name"] == "Pediatrics"
    assert line["after_hours"]["translations"] == {"es": "Estamos cerrados."}
    assert line["hours"]["mon"] == [{"opens": "07:00", "closes": "19:00"}]
    assert (line["location"], line["location_name"]) == (downtown["resource_id"], "Downtown")
    cleared = admin_api("PATCH", path, {"hours": None, "timezone": None}).body
    assert cleared["hours"] is None and cleared["timezone"] is None
    assert (cleared["location"], cleared["location_name"]) == (downtown["resource_id"], "Downtown")


def test_a_lines_location_is_named_on_every_card(admin_api, practice_id, bought):
    north = add_location(admin_api, practice_id, "North")
    admin_api("PATCH", f"/api/practices/{practice_id}/lines/{bought['line_id']}", {"location": north["resource_id"]})
    [card] = admin_api("GET", f"/api/practices/{practice_id}/lines").body
    assert (card["location"], card["location_name"]) == (north["resource_id"], "North")
    cleared = admin_api("PATCH", f"/api/practices/{practice_id}/lines/{bought['line_id']}", {"location": None}).body
    assert (cleared["location"], cleared["location_name"]) == (None, None)


@pytest.mark.parametrize("location", ["Downtown", "01JNOSUCHRESOURCE000000000"])
def test_a_location_that_is_not_one_of_the_practices_is_refused_at_the_field(admin_api, practice_id, bought,
                                                                               location):
    add_location(admin_api, practice_id)
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    answer = admin_api("PATCH", path, {"location": location, "version": bought["version"]})
    assert answer.status == 422
    [error] = answer.body["errors"]
    assert error["field"] == "location" and "this practice's locations" in error["reason"]
    assert admin_api("GET", path).body["version"] == bought["version"]


def test_another_practices_location_is_refused(admin_api, practice_id, bought):
    other = admin_api("POST", "/api/practices", {"name": "Birch Clinic", "timezone": "America/Chicago"}).body
    theirs = add_location(admin_api, other["practice_id"], "Birch Street")
    answer = admin_api("PATCH", f"/api/practices/{practice_id}/lines/{bought['line_id']}",
                       {"location": theirs["resource_id"]})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "location"
    assert "Birch" not in str(answer.body)


def test_a_location_typed_before_locations_were_picked_is_shown_and_kept(admin_api, practice_id, bought):
    item = LineItem.get(f"PRACTICE#{practice_id}", f"LINE#{bought['line_id']}")
    item.settings = {**(item.settings or {}), "location": "12 Elm Street, 2nd floor"}
    item.save()
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    shown = admin_api("GET", path).body
    assert (shown["location"], shown["location_name"]) == (None, "12 Elm Street, 2nd floor")
    renamed = admin_api("PATCH", path, {"display_name": "Reception"})
    assert renamed.status == 200, renamed.body
    assert renamed.body["location_name"] == "12 Elm Street, 2nd floor"
    resent = admin_api("PATCH", path, {"location": "12 Elm Street, 2nd floor"})
    assert resent.status == 200, resent.body
    [card] = admin_api("GET", f"/api/practices/{practice_id}/lines").body
    assert (card["location"], card["location_name"]) == (None, "12 Elm Street, 2nd floor")


def test_two_admins_saving_one_line_one_gets_a_conflict_and_nothing_is_lost(admin_api, practice_id, bought):
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    north, south = add_location(admin_api, practice_id, "North"), add_location(admin_api, practice_id, "South")
    assert admin_api("PATCH", path, {"location": north["resource_id"], "version": bought["version"]}).status == 200
    stale = admin_api("PATCH", path, {"location": south["resource_id"], "version": bought["version"]})
    assert stale.status == 409
    assert admin_api("GET", path).body["location_name"] == "North"


def test_disable_and_enable(admin_api, practice_id, bought):
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    assert admin_api("POST", f"{path}/disable").body["status"] == "disabled"
    assert admin_api("POST", f"{path}/disable").status == 409
    assert admin_api("POST", f"{path}/enable").body["status"] == "enabled"


def test_a_pending_line_cannot_be_enabled_by_hand(admin_api, practice_id, carrier_account):
    line = text_enable(admin_api, practice_id).body
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/{line['line_id']}/enable")
    assert answer.status == 409
    assert "pending" in answer.body["message"]


def test_making_another_line_primary_moves_the_badge(admin_api, practice_id, bought, carrier_account):
    second = text_enable(admin_api, practice_id).body
    base = f"/api/practices/{practice_id}/lines"
    assert admin_api("POST", f"{base}/{bought['line_id']}/primary").body["primary"] is True
    assert admin_api("POST", f"{base}/{second['line_id']}/primary").body["primary"] is True
    primaries = [line["line_id"] for line in admin_api("GET", base).body if line["primary"]]
    assert primaries == [second["line_id"]]


def test_resource_links_to_an_enabled_line_and_answers_which_line_texts_for_it(admin_api, practice_id, bought):
    resource = admin_api("POST", f"/api/practices/{practice_id}/resources", {"name": "Downtown"}).body
    path = f"/api/practices/{practice_id}/resources/{resource['resource_id']}/line"
    assert admin_api("GET", path).body is None
    assert admin_api("PUT", path, {"line_id": bought["line_id"]}).body["line_id"] == bought["line_id"]
    assert admin_api("GET", path).body["number"] == bought["number"]
    assert admin_api("PUT", path, {"line_id": None}).body["line_id"] is None


def test_resource_on_a_pending_line_is_refused_saying_why(admin_api, practice_id, carrier_account):
    line = text_enable(admin_api, practice_id).body
    resource = admin_api("POST", f"/api/practices/{practice_id}/resources", {"name": "Downtown"}).body
    answer = admin_api("PUT", f"/api/practices/{practice_id}/resources/{resource['resource_id']}/line",
                       {"line_id": line["line_id"]})
    assert answer.status == 409
    assert "pending" in answer.body["message"] and "texts from it would fail" in answer.body["message"]


def test_resource_on_a_disabled_line_is_refused(admin_api, practice_id, bought):
    admin_api("POST", f"/api/practices/{practice_id}/lines/{bought['line_id']}/disable")
    resource = admin_api("POST", f"/api/practices/{practice_id}/resources", {"name": "Downtown"}).body
    answer = admin_api("PUT", f"/api/practices/{practice_id}/resources/{resource['resource_id']}/line",
                       {"line_id": bought["line_id"]})
    assert answer.status == 409
    assert "disabled" in answer.body["message"]


def test_release_of_an_enabled_line_is_refused(admin_api, practice_id, bought, carrier_account):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines/{bought['line_id']}/release",
                       {"confirm_number": bought["number"]})
    assert answer.status == 409
    assert "disable the line" in answer.body["message"]
    assert len(carrier_account.incoming_numbers()) == 1


def test_release_with_a_wrong_confirmation_is_refused(admin_api, practice_id, bought, carrier_account):
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    admin_api("POST", f"{path}/disable")
    answer = admin_api("POST", f"{path}/release", {"confirm_number": "(415) 555-0000"})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "confirm_number"
    assert len(carrier_account.incoming_numbers()) == 1


def test_release_refuses_while_a_resource_points_at_the_line_and_names_it(admin_api, practice_id, bought):
    resource = admin_api("POST", f"/api/practices/{practice_id}/resources", {"name": "Downtown"}).body
    admin_api("PUT", f"/api/practices/{practice_id}/resources/{resource['resource_id']}/line",
              {"line_id": bought["line_id"]})
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    admin_api("POST", f"{path}/disable")
    answer = admin_api("POST", f"{path}/release", {"confirm_number": bought["number_display"]})
    assert answer.status == 409
    assert "resource 'Downtown'" in answer.body["message"]


def test_release_gives_the_number_back_and_frees_it(admin_api, practice_id, bought, carrier_account):
    path = f"/api/practices/{practice_id}/lines/{bought['line_id']}"
    admin_api("POST", f"{path}/disable")
    answer = admin_api("POST", f"{path}/release", {"confirm_number": bought["number_display"]})
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "released"
    assert carrier_account.incoming_numbers() == []
    assert admin_api("GET", f"/api/practices/{practice_id}/lines").body == []
    assert "NumberClaim" not in kinds_stored()


def test_every_change_is_in_the_audit_trail_with_who_and_what(admin_api, practice_id, bought):
    admin_api("PATCH", f"/api/practices/{practice_id}/lines/{bought['line_id']}", {"help_text": "Call 555."})
    trail = admin_api("GET", f"/api/practices/{practice_id}/audit").body["entries"]
    assert [entry["action"] for entry in trail] == ["line.update", "line.create", "practice.address",
                                                    "practice.create"]
    assert trail[0]["actor"] == ADMIN["email"]
    assert trail[0]["changes"] == {"help_text": {"before": None, "after": "Call 555."}}


def enabled_lines(practice_id: str, first: int, last: int) -> None:
    with LineItem.batch_write() as batch:
        for n in range(first, last):
            batch.save(LineItem(f"PRACTICE#{practice_id}", f"LINE#x{n}", practice_id=practice_id, line_id=f"x{n}",
                                display_name="x", number=f"+1415{n:07d}", source="purchased", status="enabled"))


def test_poller_reads_only_pending_lines_however_many_are_enabled(admin_api, practice_id, carrier_account,
                                                                  status_poller, dynamodb_reads):
    for n in range(3):
        assert text_enable(admin_api, practice_id, f"31255501{n:02d}").status == 201
    status_poller()  # learns each order's letter of authorization: a write per line, once
    enabled_lines(practice_id, 0, 10)
    with dynamodb_reads() as beside_ten:
        status_poller()
    enabled_lines(practice_id, 10, 10_000)
    with dynamodb_reads() as beside_ten_thousand:
        status_poller()
    assert beside_ten.items_read == beside_ten_thousand.items_read == 3 + 1
    # pending orders; the practices with a Messaging Service (their registration); where the message reconciler
    # stopped, and its page of messages in flight
    assert beside_ten.operations == beside_ten_thousand.operations == ["Query", "Query", "GetItem", "Query"]


def test_a_hosted_lines_forwarding_is_refused_and_its_card_says_calls_stay_with_the_clinic(admin_api, practice_id,
                                                                                         carrier_account):
    line = text_enable(admin_api, practice_id).body
    answer = admin_api("PUT", f"/api/practices/{practice_id}/lines/{line['line_id']}/forwarding",
                       {"forwarding": {"open_hours": {"numbers": ["+13125550101"]}}})
    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["field"] == "forwarding"
    assert "phone company" in answer.body["errors"][0]["reason"]
    card = admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}").body
    assert card["routing_summary"].startswith("Calls go to the clinic's own phone system")
