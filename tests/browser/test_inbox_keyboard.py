"""The inbox by keyboard alone (next and previous conversation, reply, send, assign, close) and on a tablet."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ALWAYS_OPEN, AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.browser.test_workflows_inbox import display, wait_for_text

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def two_patients(console: Console, admin_api: AdminApi) -> dict[str, Any]:
    practice = admin_api("POST", "practices", {"name": unique("Hazel Clinic"), "timezone": "America/Chicago",
                                               "hours": ALWAYS_OPEN})
    line = admin_api.buy_line(practice["practice_id"], unique("Desk"))
    admin_api("POST", f"practices/{practice['practice_id']}/users", {
        "email": f"{unique('sky').replace(' ', '-')}@hazelclinic.com", "name": "Sky Moreno", "role": "staff",
        "line_ids": [line["line_id"]]})
    patients = [unused_mobile(console.stack), unused_mobile(console.stack)]
    for patient, body in zip(patients, ("Running late", "Need a refill"), strict=True):
        sandbox_call(console.stack, "POST", "/sandbox/inbound/sms",
                     {"from": patient, "to": line["number"], "body": body})
    return {"practice": practice, "line": line, "older": patients[0], "newer": patients[1]}


def test_the_inbox_works_by_keyboard_alone(console: Console, two_patients: dict[str, Any]) -> None:
    page = console.page
    console.sign_in(practice_id=two_patients["practice"]["practice_id"])
    console.goto("inbox")
    current = page.locator(".conversation[aria-current='true']")
    expect(page.locator(".conversation")).to_have_count(2, timeout=20000)

    page.keyboard.press("j")  # the newest conversation, focused in the list
    expect(current).to_contain_text(display(two_patients["newer"]))
    expect(current).to_be_focused()
    page.keyboard.press("j")
    expect(current).to_contain_text(display(two_patients["older"]))
    page.keyboard.press("k")
    expect(current).to_contain_text(display(two_patients["newer"]))
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Need a refill")

    page.keyboard.press("r")
    reply = page.get_by_role("combobox", name="Reply")
    expect(reply).to_be_focused()
    page.keyboard.type("Your refill is ready.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#announcer")).to_have_text("Reply queued.")
    wait_for_text(console.stack, two_patients["newer"], "Your refill is ready.")

    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")  # out of the reply box: letters are shortcuts again
    page.keyboard.press("a")
    assign = page.get_by_role("group", name="Ownership").get_by_label("Assign to")
    expect(assign).to_be_focused()
    expect(assign.locator("option")).to_have_count(2)  # "Assign to…" and the one colleague on the line
    page.keyboard.press("ArrowDown")  # the first colleague who may use the line
    expect(page.get_by_role("group", name="Ownership")).to_contain_text(re.compile(r"Assigned to \S"))

    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("e")
    expect(page.get_by_role("group", name="Ownership")).to_contain_text("Closed")
    expect(page.get_by_role("group", name="Ownership").get_by_role("button", name="Reopen")).to_be_visible()
    console.screenshot("inbox-keyboard")


def test_on_a_tablet_the_list_and_the_thread_take_the_screen_in_turn(
    console: Console, two_patients: dict[str, Any]
) -> None:
    page = console.page
    page.set_viewport_size(TABLET)
    console.sign_in(practice_id=two_patients["practice"]["practice_id"])
    console.goto("inbox")
    conversations = page.get_by_role("navigation", name="Conversations")
    entry = conversations.get_by_role("link", name=re.compile(re.escape(display(two_patients["older"]))))
    entry.click()
    thread = page.get_by_role("region", name="Conversation")
    expect(thread.get_by_role("log", name="Messages")).to_contain_text("Running late")
    expect(conversations).to_be_hidden()
    console.screenshot("inbox-tablet-thread")
    thread.get_by_role("link", name="All conversations").click()
    expect(conversations).to_be_visible()
    expect(thread).to_be_hidden()
