"""Closing a line in the console: an emergency close from the line's page shown on its card until reopened, and the
line's own part-day closure kept by the closures editor."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, unique
from tests.clock import upcoming_dates

pytestmark = pytest.mark.browser


def test_close_a_line_now_shows_closed_until_on_its_card_then_reopen_it(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    name = unique("Walk-in desk")
    line = admin_api.buy_line(practice_id, name)
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"lines/{line['line_id']}")
    panel = page.get_by_role("form", name="Emergency close")
    expect(panel.get_by_label("Reopens at")).not_to_have_value("")  # two hours ahead, on the line's clock
    panel.get_by_label("Reason").fill("Burst pipe in the waiting room")
    console.screenshot("line-emergency-close-form")
    panel.get_by_role("button", name="Close now").click()
    expect(page.locator(".page-head .closed-now")).to_contain_text("Closed until")
    expect(page.locator(".page-head .closed-now")).to_contain_text("— Burst pipe in the waiting room")
    stored = admin_api("GET", f"practices/{practice_id}/lines/{line['line_id']}")
    assert stored["closed_now"]["reason"] == "Burst pipe in the waiting room"
    assert datetime.fromisoformat(stored["closed_now"]["until"]) > datetime.now(UTC)

    console.nav("Phone numbers")
    card = page.get_by_role("article", name=name)
    expect(card.locator(".closed-now")).to_contain_text("Closed until")
    expect(card.locator(".closed-now")).to_contain_text("Burst pipe in the waiting room")
    console.screenshot("line-card-closed-until")

    card.get_by_role("link", name=name).click()
    console.settled()
    page.get_by_role("form", name="Emergency close").get_by_role("button", name="Reopen now").click()
    expect(page.locator(".page-head .closed-now")).to_have_count(0)
    expect(page.get_by_role("form", name="Emergency close").get_by_role("button", name="Close now")).to_be_visible()
    assert admin_api("GET", f"practices/{practice_id}/lines/{line['line_id']}")["closed_now"] is None
    console.nav("Phone numbers")
    expect(page.get_by_role("article", name=name).locator(".closed-now")).to_have_count(0)


def test_an_emergency_close_without_a_reason_is_refused_at_its_field(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    line = admin_api.buy_line(practice["practice_id"], unique("Pharmacy"))
    page = console.page
    console.sign_in(practice_id=practice["practice_id"])
    console.goto(f"lines/{line['line_id']}")
    panel = page.get_by_role("form", name="Emergency close")
    panel.get_by_role("button", name="Close now").click()
    expect(panel.get_by_label("Reason")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".page-head .closed-now")).to_have_count(0)


def test_a_part_day_closure_of_the_line_is_saved_and_kept(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Front desk"))
    day, _ = upcoming_dates(days_ahead=25)
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"lines/{line['line_id']}")
    settings = page.get_by_role("form", name="Settings")
    closures = settings.get_by_role("group", name="This line’s own closures")
    closures.get_by_role("button", name="Add closure").click()
    closures.get_by_label("From", exact=True).fill(day)
    closures.get_by_label("To", exact=True).fill(day)
    closures.get_by_label("From time").fill("12:00")
    closures.get_by_label("Reason").fill("Holiday party")
    console.screenshot("line-part-day-closure")
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.")
    stored = admin_api("GET", f"practices/{practice_id}/lines/{line['line_id']}")["closures"]
    assert stored == [{"starts": day, "ends": day, "from_time": "12:00", "until_time": None, "reason": "Holiday party"}]

    page.reload()
    console.settled()
    closures = page.get_by_role("form", name="Settings").get_by_role("group", name="This line’s own closures")
    expect(closures.get_by_label("From time")).to_have_value("12:00")
    expect(closures.get_by_label("Until time")).to_have_value("")

    closures.get_by_label("Until time").fill("11:00")  # before it began on a one-day closure
    page.get_by_role("form", name="Settings").get_by_role("button", name="Save settings").click()
    expect(closures.get_by_label("Until time")).to_have_attribute("aria-invalid", "true")
