"""The inbox flags a patient's request to stop written in a sentence and marks a last text that failed."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.browser.test_workflows_inbox import fire, wait_for_text

pytestmark = pytest.mark.browser


@pytest.fixture
def practice(open_practice: dict[str, Any]) -> dict[str, Any]:
    return open_practice


def test_a_request_to_stop_in_a_sentence_is_confirmed_by_a_click_and_the_patient_opted_out(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Requests"))
    patient = unused_mobile(console.stack)
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms",
                 {"from": patient, "to": line["number"], "body": "Please stop texting me"})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"inbox/{line['line_id']}/{urllib.parse.quote(patient)}")

    banner = page.get_by_role("region", name="Opt-out request")
    expect(banner).to_contain_text("The patient may be asking to stop texts", timeout=15000)
    entry = page.locator(".conversation[aria-current='true']")
    expect(entry).to_contain_text("May want to stop texts")
    console.screenshot("inbox-opt-out-request")
    banner.get_by_role("button", name="Opt this patient out").click()
    dialog = page.get_by_role("dialog", name="Opt this patient out?")
    dialog.get_by_role("button", name="Opt out").click()

    expect(banner).to_be_hidden()
    expect(page.locator(".thread-head")).to_contain_text("Opted out")
    expect(page.locator(".message.note")).to_contain_text("after the patient asked")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(entry).to_contain_text("Opted out")
    expect(entry).not_to_contain_text("May want to stop texts")
    console.screenshot("inbox-opted-out-on-request")


def test_a_last_text_that_failed_shows_a_red_dot_with_the_reason_in_the_list(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Failed"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("Calls"), "kind": "call_to_text", "line_id": line["line_id"],
        "template": "Thanks for calling {practice_name}."})
    patient = unused_mobile(console.stack)
    sandbox_call(console.stack, "POST", "/sandbox/faults", {"final_status": "undelivered", "error_code": 30007})
    assert fire(workflow["webhook_url"], patient) == 202
    wait_for_text(console.stack, patient, "Thanks for calling Maple Family Clinic.")
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto("inbox")

    entry = page.locator(f".conversation[href*='{urllib.parse.quote(patient)}']")
    failed = entry.locator(".last-failed")
    expect(failed).to_have_text("Last text not delivered: filtered as spam by the carrier", timeout=15000)
    expect(failed.locator(".dot")).to_be_visible()
    console.screenshot("inbox-last-text-failed")
