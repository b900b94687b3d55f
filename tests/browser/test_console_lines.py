"""Phone numbers in the console: buy, text-enable (the practice's address first; pending, its letter of
authorization and next steps on the card, then enabled by the poller), errors beside their fields, release with
the typed number."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, sandbox_call, unique
from tests.clock import recently_signed

pytestmark = pytest.mark.browser

# The letter of authorization (signed recently: never in the future) and the admin Twilio contacts.
ORDER_FORM = {"Signer’s name": "Dana Reyes", "Signer’s title": "Practice Director",
              "Signer’s email": "dana@maplefamilyclinic.com", "Signed on": recently_signed(),
              "Your phone": "(415) 555-0199", "Your email": "office.admin@maplefamilyclinic.com"}


# The practice's business address as typed in Practice settings (the State is picked from its list).
BUSINESS_ADDRESS = {"Business name": "Aspen Family Medicine LLC", "Street": "1 Market St",
                    "Suite, floor (optional)": "Suite 300", "City": "San Francisco", "ZIP code": "94105"}
# The sandbox's order reaches `pending-loa` (its letter sent for signing) three steps of a minute in.
LOA_SENT_AFTER_SECONDS = 3 * 60


def card(console: Console, name: str) -> Any:
    return console.page.get_by_role("article", name=name)


def open_add_line(console: Console, how: str) -> Any:
    page = console.page
    page.get_by_role("button", name="Add line").click()
    page.get_by_role("radio", name=how).check()
    return page.get_by_role("form", name="Buy a new number" if how.startswith("Buy") else "Text-enable a landline")


def error_beside(form: Any, label: str) -> Any:
    """The error paragraph that the labelled control points at (aria-describedby)."""
    control = form.get_by_label(label, exact=True)
    ids = control.get_attribute("aria-describedby").split()
    return form.locator(", ".join(f"[id='{i}'].error" for i in ids))


def test_buying_a_number_adds_an_enabled_card(console: Console, practice: dict[str, Any]) -> None:
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Phone numbers")
    name = unique("Front desk")
    form = open_add_line(console, "Buy a new number")
    form.get_by_label("Area code").fill("415")
    form.get_by_role("button", name="Search numbers").click()
    choices = form.get_by_role("radio")
    expect(choices.first).to_be_visible()
    picked = choices.nth(2)
    picked.check()
    number = picked.get_attribute("value")
    form.get_by_label("Display name").fill(name)
    console.screenshot("lines-buy")
    form.get_by_role("button", name="Buy number").click()

    added = card(console, name)
    expect(added).to_contain_text(f"({number[2:5]}) {number[5:8]}-{number[8:]}")
    expect(added.locator(".badge-enabled")).to_have_text("Enabled")
    expect(added.locator(".badge-calls-unassigned")).to_have_text("Unassigned")
    expect(console.page.get_by_role("status")).to_contain_text("ready to text")


def save_business_address(console: Console) -> None:
    console.nav("Practice settings")
    form = console.page.get_by_role("form", name="Business address")
    for label, value in BUSINESS_ADDRESS.items():
        form.get_by_label(label).fill(value)
    form.get_by_label("State").select_option("CA")
    form.get_by_role("button", name="Save address").click()
    expect(form.locator(".saved-address")).to_contain_text("Saved with Twilio as Address AD")
    console.screenshot("settings-address")


def test_text_enabled_landline_is_pending_until_the_poller_sees_the_order_complete(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    console.sign_in(practice_id=practice["practice_id"])
    save_business_address(console)
    console.nav("Phone numbers")
    name = unique("Main office")
    form = open_add_line(console, "Text-enable a landline the clinic owns")
    form.get_by_label("Display name").fill(name)
    form.get_by_label("Landline number").fill("(628) 555-0191")
    for label, value in ORDER_FORM.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name="Text-enable").click()

    pending = card(console, name)
    expect(pending.locator(".badge-pending")).to_have_text("Pending")
    expect(console.page.get_by_role("status")).to_contain_text("pending")

    order = next(o for o in sandbox_call(console.stack, "GET", "/sandbox/orders")["orders"]
                 if o["phone_number"] == "+16285550191")
    assert order["address_sid"].startswith("AD")
    sandbox_call(console.stack, "POST", "/sandbox/clock", {"advance": LOA_SENT_AFTER_SECONDS})
    console.stack.run_schedule("StatusPollerFunction")
    loa = pending.locator(".loa-status")
    expect(loa).to_have_text("sent to office.admin@maplefamilyclinic.com — not signed yet")
    console.screenshot("lines-pending")
    sandbox_call(console.stack, "POST", f"/sandbox/orders/{order['sid']}/sign-loa")
    console.stack.run_schedule("StatusPollerFunction")
    expect(loa).to_have_text("signed")
    expect(loa).to_have_attribute("data-loa", "signed")

    sandbox_call(console.stack, "POST", f"/sandbox/orders/{order['sid']}/complete")
    console.stack.run_schedule("StatusPollerFunction")

    expect(pending.locator(".badge-enabled")).to_have_text("Enabled")  # the page re-reads pending lines every 4 s


def test_text_enabling_waits_for_the_practices_address_and_an_order_needing_action_shows_its_next_step(
    console: Console, admin_api: AdminApi
) -> None:
    practice = admin_api("POST", "practices", {"name": unique("Aspen Clinic"), "timezone": "America/Los_Angeles"})
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Phone numbers")
    name = unique("Reception")
    form = open_add_line(console, "Text-enable a landline the clinic owns")
    expect(form.locator(".address-needed")).to_contain_text("add the address in Practice settings")
    form.get_by_label("Display name").fill(name)
    form.get_by_label("Landline number").fill("(628) 555-0195")
    for label, value in ORDER_FORM.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name="Text-enable").click()
    refusal = form.locator("[data-field='address'] + .error")
    expect(refusal).to_contain_text("add the practice's business address first")
    console.screenshot("lines-address-needed")
    assert not [o for o in sandbox_call(console.stack, "GET", "/sandbox/orders")["orders"]
                if o["phone_number"] == "+16285550195"]

    save_business_address(console)
    console.nav("Phone numbers")
    form = open_add_line(console, "Text-enable a landline the clinic owns")
    expect(form.locator(".practice-address")).to_contain_text("Ordered for Aspen Family Medicine LLC")
    form.get_by_label("Display name").fill(name)
    form.get_by_label("Landline number").fill("(628) 555-0195")
    for label, value in ORDER_FORM.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name="Text-enable").click()
    pending = card(console, name)
    expect(pending.locator(".badge-pending")).to_have_text("Pending")

    order = next(o for o in sandbox_call(console.stack, "GET", "/sandbox/orders")["orders"]
                 if o["phone_number"] == "+16285550195")
    sandbox_call(console.stack, "POST", f"/sandbox/orders/{order['sid']}/fail",
                 {"status": "action-required", "failure_reason": "The bill does not show the service address",
                  "next_step": "Upload a phone bill that shows the service address"})
    console.stack.run_schedule("StatusPollerFunction")
    expect(pending.locator(".next-step")).to_have_text("Upload a phone bill that shows the service address")
    expect(pending.locator(".badge-pending")).to_have_text("Pending")
    console.screenshot("lines-action-required")


def test_a_bad_number_and_an_unqualified_signer_show_their_errors_beside_the_fields(
    console: Console, practice: dict[str, Any]
) -> None:
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Phone numbers")
    form = open_add_line(console, "Text-enable a landline the clinic owns")
    form.get_by_label("Display name").fill(unique("Typo"))
    form.get_by_label("Landline number").fill("555-12")
    for label, value in ORDER_FORM.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name="Text-enable").click()

    expect(error_beside(form, "Landline number")).to_contain_text("10 digits")
    expect(form.get_by_label("Landline number")).to_have_attribute("aria-invalid", "true")
    console.screenshot("lines-error")

    form.get_by_label("Landline number").fill("(628) 555-0193")
    form.get_by_label("Signer’s title").fill("Receptionist")
    form.get_by_role("button", name="Text-enable").click()
    expect(error_beside(form, "Signer’s title")).to_contain_text("director level")
    expect(error_beside(form, "Landline number")).to_be_hidden()


def test_releasing_a_line_needs_its_number_typed_again(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    line = admin_api.buy_line(practice["practice_id"], unique("Old fax"))
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Phone numbers")
    page = console.page
    old = card(console, line["display_name"])
    old.locator("summary").click()
    old.get_by_role("button", name="Disable texting").click()
    expect(old.locator(".badge-disabled")).to_have_text("Disabled")

    old.locator("summary").click()
    old.get_by_role("button", name="Release number…").click()
    dialog = page.get_by_role("dialog")
    release = dialog.get_by_role("button", name="Release number")
    expect(release).to_be_disabled()
    typed = dialog.get_by_label(f"Type {line['number_display']} to confirm")
    typed.fill("(415) 000-0000")
    expect(release).to_be_disabled()
    typed.fill(line["number"][2:])  # typed without formatting: the digits are what count
    console.screenshot("lines-release-dialog", full_page=False)
    expect(release).to_be_enabled()
    release.click()

    expect(dialog).to_be_hidden()
    expect(old).to_have_count(0)
    expect(page.locator("#announcer")).to_have_text(f"{line['number_display']} was released.")


def test_making_another_line_primary_moves_the_badge(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    first = admin_api.buy_line(practice["practice_id"], unique("Primary A"))
    second = admin_api.buy_line(practice["practice_id"], unique("Primary B"))
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Phone numbers")
    for line in (first, second):
        chosen = card(console, line["display_name"])
        chosen.locator("summary").click()
        chosen.get_by_role("button", name="Set as primary").click()
        expect(chosen.locator(".badge-primary")).to_have_text("Primary")
    expect(card(console, first["display_name"]).locator(".badge-primary")).to_have_count(0)
    expect(console.page.locator(".badge-primary")).to_have_count(1)


def test_registration_shows_on_the_practice_and_every_line_card_and_follows_the_carrier(
        console: Console, admin_api: AdminApi) -> None:
    practice = admin_api("POST", "practices", {"name": unique("Birch Clinic"), "timezone": "America/Chicago"})
    line = admin_api.buy_line(practice["practice_id"], unique("Front desk"))
    service = admin_api("GET", f"practices/{practice['practice_id']}")["messaging_service_sid"]
    sandbox_call(console.stack, "POST", f"/sandbox/services/{service}/campaign",
                 {"campaign_status": "FAILED", "errors": ["The opt-in flow is not described"]})
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Practice settings")
    panel = console.page.get_by_role("region", name="Carrier registration (A2P 10DLC)")
    panel.get_by_role("button", name="Check now").click()
    expect(panel.locator(".badge-registration-failed")).to_have_text("A2P failed")
    expect(panel).to_contain_text("The opt-in flow is not described")
    expect(panel).to_contain_text("resubmit the campaign")
    console.screenshot("practice-registration-failed")

    console.nav("Phone numbers")
    shown = card(console, line["display_name"])
    expect(shown.locator(".badge-registration-failed")).to_have_text("A2P failed")
    expect(shown.locator(".registration-note")).to_contain_text("registration failed")
    console.screenshot("lines-registration-failed")

    sandbox_call(console.stack, "POST", f"/sandbox/services/{service}/campaign", {"campaign_status": "VERIFIED"})
    admin_api("POST", f"practices/{practice['practice_id']}/registration/check")
    console.page.get_by_role("button", name="Refresh").click()
    expect(shown.locator(".badge-registration-registered")).to_have_text("A2P registered")
    expect(shown.locator(".registration-note")).to_have_count(0)
    console.screenshot("lines-registration-registered")
