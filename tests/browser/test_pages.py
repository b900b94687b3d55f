"""Every page renders (laptop and tablet widths, screenshots for people to look at), with labelled controls
and keyboard access; line detail, practice settings, patients and audit do their jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, TABLET, AdminApi, Console, unique, unused_mobile
from tests.clock import upcoming_dates

pytestmark = pytest.mark.browser

UNLABELLED = """() => [...document.querySelectorAll('main :is(input, select, textarea, button), header select')]
  .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 120))"""


def test_every_page_renders_with_labelled_controls_on_a_laptop_and_a_tablet(
    console: Console, practice: dict[str, Any], admin_api: AdminApi, simulator_reachable: bool
) -> None:
    line = admin_api.buy_line(practice["practice_id"], unique("Pediatrics"))
    page = console.page
    console.sign_in(practice_id=practice["practice_id"])
    pages = [("lines", "Phone numbers"), (f"lines/{line['line_id']}", line["display_name"]), ("workflows", "Workflows"),
             ("inbox", "Inbox"), ("settings", "Practice settings"), ("users", "Users"),
             ("integrations", "Integrations"), ("patients", "Patients"), ("audit", "Audit"),
             ("practices/new", "Open a practice")]
    if simulator_reachable:  # else its page logs the browser's CORS refusals (see needs_simulator)
        pages.append(("simulator", "Phone simulator"))
    for size_name, size in (("laptop", LAPTOP), ("tablet", TABLET)):
        page.set_viewport_size(size)
        for route, heading in pages:
            console.goto(route)
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            assert page.evaluate(UNLABELLED) == [], f"{route}: controls without a label"
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            assert fits, f"{route} scrolls sideways at {size_name} width"
            console.screenshot(f"{route.split('/')[0]}{'-detail' if '/' in route else ''}-{size_name}")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in (local stack)")
    console.screenshot("signin")


def test_the_console_is_usable_from_the_keyboard(console: Console, practice: dict[str, Any]) -> None:
    page = console.page
    page.goto(console.base + "signin")
    expect(page.get_by_role("heading", level=1)).to_be_focused()  # each page moves focus to its heading
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="/local/invitations")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("dev@clinic.test")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(console.stack.password_for("dev@clinic.test"))
    page.keyboard.press("Enter")  # submits the form
    page.get_by_role("navigation", name="Main").wait_for()
    page.select_option("#practice-select", practice["practice_id"])
    console.goto("lines")
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workflows")
    page.get_by_role("form", name="New workflow").get_by_label("Name").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Kind")).to_be_focused()


def test_line_detail_saves_hours_past_midnight_a_translation_and_call_forwarding(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    line = admin_api.buy_line(practice["practice_id"], unique("Urgent care"))
    elm = admin_api("POST", f"practices/{practice['practice_id']}/resources", {"name": unique("12 Elm Street")})
    page = console.page
    console.sign_in(practice_id=practice["practice_id"])
    console.goto(f"lines/{line['line_id']}")
    settings = page.get_by_role("form", name="Settings")
    settings.get_by_label("Timezone").select_option("America/New_York")
    settings.get_by_label("Location").select_option(elm["resource_id"])
    settings.get_by_label("This line keeps its own hours").check()
    settings.get_by_role("button", name="Add hours on Saturday").click()
    settings.get_by_label("Saturday span 1 opens").fill("20:00")
    settings.get_by_label("Saturday span 1 closes").fill("02:00")
    expect(settings.locator(".overnight").filter(has_text="closes the next day")).to_have_count(1)
    settings.get_by_label("Monday span 1 closes").fill("12:00")
    settings.get_by_role("button", name="Add hours on Monday").click()  # a second span, after lunch
    settings.get_by_label("Monday span 2 opens").fill("13:00")
    settings.get_by_label("Monday span 2 closes").fill("18:00")
    settings.get_by_label("This line has its own after-hours reply").check()
    settings.get_by_label("Message").fill("We are closed. For emergencies call 911.")
    settings.get_by_role("button", name="Add translation").click()
    settings.get_by_label("Translation 1 language").fill("es")
    settings.get_by_label("Translation 1 text").fill("Estamos cerrados. En caso de emergencia llame al 911.")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.")

    stored = admin_api("GET", f"practices/{practice['practice_id']}/lines/{line['line_id']}")
    assert stored["timezone"] == "America/New_York" and stored["location"] == elm["resource_id"]
    assert stored["hours"]["sat"] == [{"opens": "20:00", "closes": "02:00"}]
    assert len(stored["hours"]["mon"]) == 2
    assert stored["after_hours"]["translations"] == {"es": "Estamos cerrados. En caso de emergencia llame al 911."}

    forwarding = page.get_by_role("form", name="Call forwarding")
    forwarding.get_by_label("Forward calls").check()
    forwarding.get_by_label("Number 1", exact=True).fill("415-555-2671")
    forwarding.get_by_role("button", name="Add a number").click()
    forwarding.get_by_label("Number 2", exact=True).fill("(415) 555-26")
    forwarding.get_by_role("button", name="Save call forwarding").click()
    expect(forwarding.locator("[aria-invalid='true']")).to_have_count(1)
    expect(forwarding.get_by_label("Number 2", exact=True)).to_have_attribute("aria-invalid", "true")
    forwarding.get_by_label("Number 2", exact=True).fill("(415) 555-2672")
    forwarding.get_by_label("Speak a message").check()
    forwarding.get_by_label("Spoken message").fill("We are closed; please text this number.")
    forwarding.get_by_role("button", name="Save call forwarding").click()
    expect(forwarding.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".page-head .badge-calls-forwarding")).to_have_text("Forwarding")

    location = admin_api("POST", f"practices/{practice['practice_id']}/resources", {"name": unique("Elm St")})
    page.reload()
    linked = page.get_by_role("form", name="Linked locations")
    linked.get_by_label("Location to link").select_option(location["resource_id"])
    linked.get_by_role("button", name="Link location").click()
    expect(linked.get_by_role("button", name=f"Unlink {location['name']}")).to_be_visible()
    console.screenshot("line-detail-saved")


def test_practice_settings_and_the_audit_trail(console: Console, admin_api: AdminApi) -> None:
    # A practice of its own: the closure and the holiday calendar saved here must not close the session's practice
    # on the days they name (other tests text its patients).
    practice = admin_api("POST", "practices", {"name": unique("Cedar Clinic"), "timezone": "America/Los_Angeles"})
    first, last = upcoming_dates(days_ahead=21, length_days=3)
    page = console.page
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Practice settings")
    form = page.get_by_role("form", name=practice["name"])
    form.get_by_role("button", name="Add closure").click()
    form.get_by_label("From").first.fill(first)
    form.get_by_label("To", exact=True).first.fill(last)
    form.get_by_label("Reason").fill("Holidays")
    form.get_by_label("Public-holiday calendar").select_option("US")
    form.get_by_label("HELP reply").fill(f"{practice['name']}. Reply STOP to opt out. Emergencies: 911.")
    form.get_by_role("button", name="Save settings").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")

    quick = page.get_by_role("form", name="New quick response")
    quick.get_by_label("Title").fill("Directions")
    quick.get_by_label("Language").fill("en")
    quick.get_by_label("Text").fill("We are at 12 Elm Street, 2nd floor.")
    quick.get_by_role("button", name="Add quick response").click()
    expect(page.locator(".quick-list")).to_contain_text("Directions")

    console.nav("Audit")
    expect(page.locator("table.audit")).to_contain_text("practice.update")
    expect(page.locator("table.audit")).to_contain_text("holiday_calendar")

    # Narrowed to what was done to the practice's settings, by this admin, today; then downloaded.
    page.get_by_label("What").select_option(label="Practice settings")
    page.get_by_label("Who (email)").fill("dev@clinic.test")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.audit tbody tr").first).to_contain_text("practice.update")
    actions = page.locator("table.audit tbody tr td:nth-child(3) .mono").all_text_contents()
    assert actions and all(action.startswith("practice.") for action in actions), actions
    console.screenshot("audit-filtered")
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download CSV").click()
    saved = downloaded.value
    assert saved.suggested_filename == f"audit-{practice['practice_id']}.csv"
    lines = Path(saved.path()).read_text().splitlines()
    assert lines[0] == "at,actor,action,entity,entity_id,changes" and len(lines) == len(actions) + 1
    assert all(",dev@clinic.test,practice." in line for line in lines[1:])

    page.get_by_label("Who (email)").fill("nobody@clinic.test")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Nothing recorded matches.")).to_be_visible()
    page.get_by_label("From day").fill(last)
    page.get_by_label("To day").fill(first)
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".field", has=page.get_by_label("To day")).locator(".error")).to_have_text(
        "must not be before since")


def test_a_patient_is_added_changed_and_removed_on_the_patients_page(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Patients")
    record, name, phone = unique("MRN").replace(" ", "-"), unique("Ada Park"), unused_mobile(console.stack)
    form = page.get_by_role("form", name="Add a patient")
    form.get_by_label("Record id").fill(record)
    form.get_by_label("Name").fill(name)
    form.get_by_label("Mobile number").fill("555")
    form.get_by_role("button", name="Add patient").click()
    expect(form.locator(".field", has=page.get_by_label("Mobile number")).locator(".error")).not_to_be_empty()
    form.get_by_label("Mobile number").fill(phone[2:])
    form.get_by_role("button", name="Add patient").click()
    row = page.locator(f"tr[data-patient-id='{record}']")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}")
    page.get_by_role("button", name=f"Edit {name}").click()
    edit = page.get_by_role("form", name=f"Edit {name}")
    expect(edit.get_by_label("Name")).to_be_focused()
    edit.get_by_label("Name").fill(f"{name} Lee")
    edit.get_by_role("button", name="Save patient").click()
    expect(row).to_contain_text(f"{name} Lee")
    console.screenshot("patients")
    saved = [p for p in admin_api("GET", f"practices/{practice_id}/patients") if p["patient_id"] == record]
    assert [(p["name"], p["phone"]) for p in saved] == [(f"{name} Lee", phone)]
    page.get_by_role("button", name=f"Remove {name} Lee").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove patient").click()
    expect(row).to_have_count(0)
    assert not [p for p in admin_api("GET", f"practices/{practice_id}/patients") if p["patient_id"] == record]


def test_an_admin_turns_matching_across_practices_on_after_a_warning_and_off_again(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    page = console.page
    console.sign_in(practice_id=practice["practice_id"])
    console.nav("Patients")
    panel = page.get_by_role("region", name="Matching across practices")
    expect(panel).to_contain_text("Off: staff see only this practice")
    expect(panel).to_contain_text("compliance officer")
    try:
        panel.get_by_role("button", name="Turn on…").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("other practices’ patients")
        console.screenshot("patients-matching-warning")
        dialog.get_by_role("button", name="Turn on").click()
        expect(panel).to_contain_text("On: staff see other practices")
        assert admin_api("GET", "enterprise") == {"cross_practice_matching": True}
        panel.get_by_role("button", name="Turn off…").click()
        page.get_by_role("dialog").get_by_role("button", name="Turn off").click()
        expect(panel).to_contain_text("Off: staff see only this practice")
        assert admin_api("GET", "enterprise") == {"cross_practice_matching": False}
    finally:
        admin_api("PUT", "enterprise", {"cross_practice_matching": False})  # one setting for the whole stack
