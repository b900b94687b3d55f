"""Searching the inbox from the console: by the last digits of a number, by a word of a patient's text, a search
that cannot be made told beside the box, and Clear back to the view."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.browser.test_workflows_inbox import display
from tests.clock import wait_until

pytestmark = pytest.mark.browser


def test_search_by_last_digits_and_by_a_word_then_clear(console: Console, open_practice: dict[str, Any],
                                                        admin_api: AdminApi) -> None:
    practice_id = open_practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Search desk"))
    word = f"zq{uuid.uuid4().hex[:6]}"  # a word no other test's text has
    found, other = unused_mobile(console.stack), unused_mobile(console.stack)
    for patient, body in ((found, f"Is the {word} form ready?"), (other, "See you soon")):
        sandbox_call(console.stack, "POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"],
                                                                      "body": body})
    # The index is written from the table's stream, moments after each text: the console searches once it is.
    assert wait_until(lambda: admin_api("GET", f"practices/{practice_id}/search?q={word}")["conversations"],
                      within=60, every=0.2), "the text was never indexed"
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto("inbox")
    conversations = page.get_by_role("navigation", name="Conversations")
    box = conversations.get_by_role("searchbox", name="Search conversations")
    hit = conversations.get_by_role("link", name=re.compile(re.escape(display(found))))
    miss = conversations.get_by_role("link", name=re.compile(re.escape(display(other))))
    expect(miss).to_be_visible(timeout=15000)

    page.keyboard.press("/")
    expect(box).to_be_focused()
    box.fill(word.upper())
    box.press("Enter")
    expect(hit).to_be_visible()
    expect(miss).to_have_count(0)
    expect(page.get_by_role("group", name="Views")).to_be_hidden()
    console.screenshot("inbox-search-word")

    box.fill(found[-4:])
    box.press("Enter")
    expect(hit).to_be_visible()
    expect(miss).to_have_count(0)

    box.fill("55501")
    box.press("Enter")
    expect(conversations.get_by_text(re.compile("last 7 or last 4 digits"))).to_be_visible()
    expect(box).to_have_attribute("aria-invalid", "true")
    console.screenshot("inbox-search-refused")

    conversations.get_by_role("button", name="Clear").click()
    expect(miss).to_be_visible()
    expect(page.get_by_role("group", name="Views")).to_be_visible()
