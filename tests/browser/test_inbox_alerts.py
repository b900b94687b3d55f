"""New texts reach the console without a reload: the list, a count in the tab title, and desktop notifications
once the user turns them on (the browser asked once, a refusal honoured), naming no patient unless the user
chose to see the number and text in them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ALWAYS_OPEN, AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.browser.test_workflows_inbox import display
from tests.clock import wait_until

pytestmark = pytest.mark.browser

# The page's Notification API, recorded: what the operating system would show cannot be read from a test. The
# permission prompt answers `answer`, and counts how often it was asked.
RECORDED_NOTIFICATIONS = """
(() => {
  const answer = %s;
  let permission = sessionStorage.getItem('recorded.permission') || 'default';  // the browser remembers it
  window.__asked = 0;
  window.__shown = [];
  class Recorded {
    static get permission() { return permission; }
    static requestPermission() {
      window.__asked += 1;
      permission = answer;
      sessionStorage.setItem('recorded.permission', answer);
      return Promise.resolve(answer);
    }
    constructor(title, options) { window.__shown.push({ title, body: (options && options.body) || '' }); }
    close() {}
  }
  window.Notification = Recorded;
})();
"""


def _shown(page: Any, count: int | None = None) -> list[dict[str, str]]:
    """The notifications shown so far; with `count`, once that many are (the page's CSP forbids wait_for_function)."""
    if count is not None:
        wait_until(lambda: len(page.evaluate("window.__shown")) >= count, within=30)
    return list(page.evaluate("window.__shown"))


@pytest.fixture
def fresh(admin_api: AdminApi) -> dict[str, Any]:
    """A practice of its own, so no other test's texts count in its title."""
    practice = admin_api("POST", "practices", {"name": unique("Alder Clinic"), "timezone": "America/Chicago",
                                               "hours": ALWAYS_OPEN})
    return {"practice": practice, "line": admin_api.buy_line(practice["practice_id"], unique("Main"))}


def _text_in(console: Console, patient: str, line: dict[str, Any], body: str) -> None:
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"], "body": body})


def test_a_new_text_shows_in_the_list_the_title_and_a_notification_without_patient_details(
    console: Console, fresh: dict[str, Any]
) -> None:
    page = console.page
    page.add_init_script(RECORDED_NOTIFICATIONS % "'granted'")
    line = fresh["line"]
    console.sign_in(practice_id=fresh["practice"]["practice_id"])
    console.goto("inbox")
    settings = page.get_by_role("form", name="Alerts")
    expect(page).to_have_title(re.compile(r"^Inbox · Switchboard$"))
    settings.get_by_label("Desktop notifications").check()
    expect(settings).to_contain_text("Notifications are on")
    assert page.evaluate("window.__asked") == 1

    patient = unused_mobile(console.stack)
    _text_in(console, patient, line, "Is my prescription ready?")
    conversations = page.get_by_role("navigation", name="Conversations")
    expect(conversations.get_by_role("link", name=re.compile(re.escape(display(patient))))).to_be_visible(
        timeout=20000)
    expect(page).to_have_title(re.compile(r"^\(1\) Inbox · Switchboard$"))
    [shown] = _shown(page, 1)
    assert shown["title"] == "New text"
    assert line["display_name"] in shown["body"]
    assert patient[2:] not in shown["body"] and display(patient) not in shown["body"]
    assert "prescription" not in shown["body"]
    console.screenshot("inbox-alerts")

    settings.get_by_label("Show the patient's number and text in notifications").check()
    _text_in(console, patient, line, "Also, do you take walk-ins?")
    assert _shown(page, 2)[1]["body"] == f"{display(patient)}: Also, do you take walk-ins?"

    settings.get_by_label("Desktop notifications").uncheck()
    settings.get_by_label("Desktop notifications").check()
    assert page.evaluate("window.__asked") == 1  # granted once: not asked again
    page.reload()
    console.settled()
    expect(page.get_by_role("form", name="Alerts").get_by_label("Desktop notifications")).to_be_checked()


def test_notifications_refused_in_the_browser_stay_off_while_the_title_still_counts(
    console: Console, fresh: dict[str, Any]
) -> None:
    page = console.page
    page.add_init_script(RECORDED_NOTIFICATIONS % "'denied'")
    console.sign_in(practice_id=fresh["practice"]["practice_id"])
    console.goto("lines")  # not the inbox: the count is kept on every page
    console.goto("inbox")
    settings = page.get_by_role("form", name="Alerts")
    settings.get_by_label("Desktop notifications").click()  # the browser says no: it stays off
    expect(settings).to_contain_text("blocked for this site")
    expect(settings.get_by_label("Desktop notifications")).not_to_be_checked()
    console.nav("Phone numbers")
    _text_in(console, unused_mobile(console.stack), fresh["line"], "Hello?")
    expect(page).to_have_title(re.compile(r"^\(1\) Phone numbers · Switchboard$"), timeout=20000)
    assert _shown(page) == []
