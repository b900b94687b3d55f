"""A line's routing in the console: its location picked from the practice's, the timezone its times follow,
ring groups that ring in order with a ring time, after hours that ring then take a voicemail, errors at the field."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, unique

pytestmark = pytest.mark.browser


def test_a_location_picked_from_the_practices_is_named_on_the_card_and_the_timezone_heads_the_forwarding(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    name = unique("Front desk")
    line = admin_api.buy_line(practice_id, name)
    place = admin_api("POST", f"practices/{practice_id}/resources", {"name": unique("Oak Street clinic")})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"lines/{line['line_id']}")
    forwarding = page.get_by_role("form", name="Call forwarding")
    expect(forwarding.locator(".zone-note")).to_have_text(
        f"Times below are in {practice['timezone']}: this line has no timezone of its own, so it uses the practice’s.")

    settings = page.get_by_role("form", name="Settings")
    first = settings.locator("select, input, textarea").first
    expect(first).to_have_attribute("name", "timezone")
    expect(settings.get_by_text("Calls and after-hours replies follow this timezone")).to_be_visible()
    location = settings.get_by_label("Location")
    expect(location.locator("option").first).to_have_text("None")
    location.select_option(label=place["name"])
    settings.get_by_label("Timezone").select_option("America/Chicago")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.")
    expect(forwarding.locator(".zone-note")).to_have_text("Times below are in America/Chicago.")
    console.screenshot("line-location-and-timezone")

    page.reload()
    console.settled()
    expect(page.get_by_role("form", name="Settings").get_by_label("Location")).to_have_value(place["resource_id"])
    console.nav("Phone numbers")
    expect(page.get_by_role("article", name=name)).to_contain_text(place["name"])


def test_an_in_order_ring_group_and_after_hours_ring_then_voicemail_are_kept_and_summarised_on_the_card(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    name = unique("Urgent care")
    line = admin_api.buy_line(practice_id, name)
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"lines/{line['line_id']}")
    forwarding = page.get_by_role("form", name="Call forwarding")
    forwarding.get_by_label("Forward calls").check()
    during = forwarding.get_by_role("group", name="During open hours")
    during.get_by_label("Number 1", exact=True).fill("415-555-2681")
    during.get_by_role("button", name="Add a number").click()
    during.get_by_label("Number 2", exact=True).fill("(415) 555-2682")
    during.get_by_label("Ring in order").check()
    during.get_by_label("Ring time per number (seconds)").fill("15")
    forwarding.get_by_label("Ring other numbers").check()
    after = forwarding.get_by_role("group", name="After-hours ring")
    after.get_by_label("After-hours number 1").fill("415-555-2690")
    after.get_by_label("Ring time (seconds)").fill("25")
    forwarding.get_by_label("Then voicemail if nobody answers").check()
    forwarding.get_by_label("Greeting").fill("Please leave a message after the tone.")
    forwarding.get_by_label("Longest message (seconds)").fill("90")
    console.screenshot("line-routing-in-order-then-voicemail")
    forwarding.get_by_role("button", name="Save call forwarding").click()
    expect(forwarding.get_by_role("status")).to_have_text("Saved.")
    expect(page.locator(".page-head")).to_contain_text("in order")

    page.reload()
    console.settled()
    forwarding = page.get_by_role("form", name="Call forwarding")
    during = forwarding.get_by_role("group", name="During open hours")
    expect(during.get_by_label("Ring in order")).to_be_checked()
    expect(during.get_by_label("Ring time per number (seconds)")).to_have_value("15")
    expect(during.get_by_label("Number 2", exact=True)).to_have_value("(415) 555-2682")
    expect(forwarding.get_by_label("Ring other numbers")).to_be_checked()
    expect(forwarding.get_by_label("Then voicemail if nobody answers")).to_be_checked()
    expect(forwarding.get_by_label("Greeting")).to_have_value("Please leave a message after the tone.")
    expect(forwarding.get_by_label("Longest message (seconds)")).to_have_value("90")
    stored = admin_api("GET", f"practices/{practice_id}/lines/{line['line_id']}")["forwarding"]
    assert stored["open_hours"]["mode"] == "in_order" and stored["open_hours"]["timeout_seconds"] == 15
    assert stored["after_hours"]["ring"]["timeout_seconds"] == 25
    assert stored["after_hours"]["voicemail"]["max_seconds"] == 90

    console.nav("Phone numbers")
    summary = page.get_by_role("article", name=name)
    expect(summary).to_contain_text("(415) 555-2682 in order")
    expect(summary).to_contain_text("then voicemail")
    console.screenshot("line-card-routing-summary")


def test_a_ring_time_out_of_range_is_shown_at_its_field(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    line = admin_api.buy_line(practice["practice_id"], unique("Billing"))
    page = console.page
    console.sign_in(practice_id=practice["practice_id"])
    console.goto(f"lines/{line['line_id']}")
    forwarding = page.get_by_role("form", name="Call forwarding")
    forwarding.get_by_label("Forward calls").check()
    during = forwarding.get_by_role("group", name="During open hours")
    during.get_by_label("Number 1", exact=True).fill("415-555-2683")
    during.get_by_label("Ring time (seconds)").fill("3")
    forwarding.get_by_role("button", name="Save call forwarding").click()
    ring_time = during.get_by_label("Ring time (seconds)")
    expect(ring_time).to_have_attribute("aria-invalid", "true")
    expect(forwarding.locator("[aria-invalid='true']")).to_have_count(1)
    error = forwarding.locator(f"[id='{ring_time.get_attribute('id')}-error']")
    expect(error).to_be_visible()
    expect(error).to_contain_text("5")
    console.screenshot("line-routing-ring-time-error")
    ring_time.fill("30")
    forwarding.get_by_role("button", name="Save call forwarding").click()
    expect(forwarding.get_by_role("status")).to_have_text("Saved.")


def test_a_ring_window_rings_its_own_group_and_is_kept(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    name = unique("Lunch desk")
    line = admin_api.buy_line(practice_id, name)
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"lines/{line['line_id']}")
    forwarding = page.get_by_role("form", name="Call forwarding")
    forwarding.get_by_label("Forward calls").check()
    forwarding.get_by_role("group", name="During open hours").get_by_label("Number 1", exact=True).fill("415-555-2684")
    forwarding.get_by_role("button", name="Add a ring window").click()
    forwarding.get_by_label("Window 1 name").fill("Lunch")
    days = forwarding.get_by_role("group", name="Window 1 days")
    days.get_by_label("Friday").uncheck()
    window = forwarding.get_by_role("group", name="Window 1 rings")
    window.get_by_label("Window 1 number 1", exact=True).fill("415-555-2685")
    window.get_by_role("button", name="Add a number").click()
    window.get_by_label("Window 1 number 2", exact=True).fill("415-555-2686")
    window.get_by_label("Ring in order").check()
    forwarding.get_by_role("button", name="Save call forwarding").click()
    expect(forwarding.get_by_role("status")).to_have_text("Saved.")

    page.reload()
    console.settled()
    forwarding = page.get_by_role("form", name="Call forwarding")
    expect(forwarding.get_by_label("Window 1 name")).to_have_value("Lunch")
    expect(forwarding.get_by_role("group", name="Window 1 days").get_by_label("Friday")).not_to_be_checked()
    expect(forwarding.get_by_role("group", name="Window 1 rings").get_by_label("Ring in order")).to_be_checked()
    expect(page.locator(".page-head")).to_contain_text("Lunch (Mon, Tue, Wed, Thu 12:00–13:00) rings")
    console.screenshot("line-routing-ring-window")
