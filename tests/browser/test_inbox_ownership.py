"""The inbox's views and ownership from the console: claim, assign, close and a patient's text reopening; and a
second staff member about to answer a patient a colleague just answered is shown that reply first."""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.browser.test_workflows_inbox import display, wait_for_text

pytestmark = pytest.mark.browser


@pytest.fixture
def practice(open_practice: dict[str, Any]) -> dict[str, Any]:
    return open_practice


def _text_in(console: Console, patient: str, line: dict[str, Any], body: str) -> None:
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"], "body": body})


def test_claim_assign_close_and_a_patient_text_reopens_through_the_views(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Front desk"))
    admin_api("POST", f"practices/{practice_id}/users", {
        "email": f"dana-{uuid.uuid4().hex[:6]}@maplefamilyclinic.com", "name": "Dana Reyes", "role": "staff",
        "line_ids": [line["line_id"]]})
    patient = unused_mobile(console.stack)
    _text_in(console, patient, line, "Can I move my appointment to Friday?")
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto("inbox")
    views = page.get_by_role("group", name="Views")
    conversations = page.get_by_role("navigation", name="Conversations")
    entry = conversations.get_by_role("link", name=re.compile(re.escape(display(patient))))

    views.get_by_role("button", name="Unassigned").click()
    expect(entry).to_be_visible(timeout=15000)
    entry.click()
    owning = page.get_by_role("group", name="Ownership")
    expect(owning).to_contain_text("Unassigned")
    owning.get_by_role("button", name="Claim").click()
    expect(owning).to_contain_text(re.compile(r"Assigned to \S"))
    expect(entry).to_have_count(0)  # no longer unassigned
    views.get_by_role("button", name="Mine").click()
    expect(entry).to_be_visible()
    console.screenshot("inbox-claimed")

    owning.get_by_label("Assign to").focus()
    owning.get_by_label("Assign to").select_option(label="Dana Reyes")
    expect(owning).to_contain_text("Assigned to Dana Reyes")
    expect(entry).to_have_count(0)  # Dana's now, not mine
    views.get_by_role("button", name="All open").click()
    expect(entry).to_contain_text("Assigned to Dana Reyes")

    owning.get_by_role("button", name="Close").click()
    expect(owning).to_contain_text("Closed")
    expect(entry).to_have_count(0)
    views.get_by_role("button", name="Closed").click()
    expect(entry).to_contain_text("Closed")
    console.screenshot("inbox-closed-view")

    _text_in(console, patient, line, "Sorry, one more thing")
    expect(entry).to_have_count(0, timeout=15000)  # the patient's text reopened it
    views.get_by_role("button", name="All open").click()
    expect(entry).to_be_visible()
    expect(owning).to_contain_text("Open")
    expect(owning.get_by_role("button", name="Close")).to_be_visible()

    owning.get_by_role("button", name="Close").click()
    expect(owning.get_by_role("button", name="Reopen")).to_be_visible()
    owning.get_by_role("button", name="Reopen").click()
    expect(owning.get_by_role("button", name="Close")).to_be_visible()
    audit = admin_api("GET", f"practices/{practice_id}/audit")
    changes = [e for e in audit["entries"] if e["action"].startswith("conversation.")
               and e["action"] != "conversation.read"][:5]
    assert [e["action"] for e in changes] == ["conversation.reopen", "conversation.close", "conversation.close",
                                              "conversation.assign", "conversation.claim"]
    ours = changes[-1]["entity_id"]  # the practice is shared with other tests: this patient's conversation
    opened = [e for e in audit["entries"] if e["action"] == "conversation.read" and e["entity_id"] == ours]
    assert len(opened) == 1 and opened[0]["actor"] == "dev@clinic.test"  # once in this sign-in, polls and all

    # The whole conversation for the patient's record.
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(downloaded.value.path()).read_text())))
    assert [(r["direction"], r["sender"], r["text"]) for r in rows] == [
        ("inbound", "Patient", "Can I move my appointment to Friday?"), ("inbound", "Patient", "Sorry, one more thing")]
    trail = admin_api("GET", f"practices/{practice_id}/audit?action=conversation.export")["entries"]
    assert [e["changes"]["messages"]["after"] for e in trail if e["entity_id"] == ours] == [2]


def test_a_colleagues_reply_sent_while_writing_is_shown_before_the_second_reply_goes(
    console: Console, browser: Any, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Replies"))
    email = f"pat-{uuid.uuid4().hex[:6]}@maplefamilyclinic.com"
    admin_api("POST", f"practices/{practice_id}/users",
              {"email": email, "name": "Pat Lee", "role": "staff", "line_ids": [line["line_id"]]})
    patient = unused_mobile(console.stack)
    _text_in(console, patient, line, "Do you have an opening tomorrow?")
    thread = f"inbox/{line['line_id']}/{urllib.parse.quote(patient)}"

    page = console.page  # the admin opens the thread and starts writing ...
    console.sign_in(practice_id=practice_id)
    console.goto(thread)
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Do you have an opening tomorrow?")
    page.get_by_role("combobox", name="Reply").fill("We have 2pm free.")

    context = browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="America/Los_Angeles")
    try:  # ... while Pat, on another screen, answers first
        colleague = Console(console.stack, context, context.new_page())
        colleague.sign_in(email)
        colleague.goto(thread)
        colleague.page.get_by_role("combobox", name="Reply").fill("Yes, 10am works.")
        colleague.page.get_by_role("button", name="Send", exact=True).click()
        expect(colleague.page.locator("#announcer")).to_have_text("Reply queued.")
    finally:
        context.close()

    page.get_by_role("button", name="Send", exact=True).click()
    warning = page.get_by_role("alert").filter(has_text="answered this patient")
    expect(warning).to_contain_text(f"{email} answered this patient")
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Yes, 10am works.")
    expect(page.get_by_role("combobox", name="Reply")).to_have_value("We have 2pm free.")  # kept, not sent
    console.screenshot("inbox-colleague-replied")
    wait_for_text(console.stack, patient, "Yes, 10am works.")
    assert "We have 2pm free." not in [m["body"] for m in sandbox_call(
        console.stack, "GET", f"/sandbox/messages?to={urllib.parse.quote(patient)}")["messages"]]

    page.get_by_role("button", name="Send", exact=True).click()  # read it; sending now is a choice
    expect(page.locator("#announcer")).to_have_text("Reply queued.")
    expect(warning).to_be_hidden()
    wait_for_text(console.stack, patient, "We have 2pm free.")
