"""Call-to-text from the console to the patient's phone and back: a workflow's URL shown once, copied and
fired; the conversation in the inbox and a reply with a quick response; the phone simulator; a staff user
without line permission seeing an empty inbox; rotating and revoking a workflow."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.integration.conftest import REQUEST_TIMEOUT_SECONDS

pytestmark = pytest.mark.browser


@pytest.fixture
def practice(open_practice: dict[str, Any]) -> dict[str, Any]:
    """Patients text this module's practice and read the threads: it is open around the clock, so no after-hours
    reply joins a thread, whatever the day and time the tests run (the session's practice has weekday hours)."""
    return open_practice


def display(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def fire(url: str, caller: str) -> int:
    """The phone system's call: POST the caller's number to the workflow's URL."""
    data = urllib.parse.urlencode({"CALLER_ID_NUMBER": caller}).encode()
    request = urllib.request.Request(url, data, method="POST")
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
        return int(answer.status)


def texts_to(stack: Any, phone: str) -> list[str]:
    found = sandbox_call(stack, "GET", f"/sandbox/messages?to={urllib.parse.quote(phone)}")
    return [message["body"] for message in found["messages"]]


def wait_for_text(stack: Any, phone: str, body: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while body not in texts_to(stack, phone):
        assert time.monotonic() < deadline, f"the phone never got {body!r}: {texts_to(stack, phone)}"
        time.sleep(0.2)


def test_a_new_workflow_is_copied_fired_and_its_conversation_answered_with_a_quick_response(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Call center"))
    quick = admin_api("POST", f"practices/{practice_id}/quick-responses", {
        "title": unique("Opening hours"), "language": "en", "body": "We are open 8 to 5, Monday to Friday."})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Workflows")

    form = page.get_by_role("form", name="New workflow")
    name = unique("Missed calls")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Texts from line").select_option(line["line_id"])
    form.get_by_role("button", name="Create workflow").click()

    shown = page.get_by_role("textbox", name="Webhook URL")
    expect(shown).to_have_value(re.compile(r"/webhook/phone-system/local_"))
    url = shown.input_value()
    page.get_by_role("button", name="Copy URL").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url

    patient = unused_mobile(console.stack)
    test = page.get_by_role("form", name="Test the webhook")
    test.get_by_label("Caller’s number").fill(display(patient))
    test.get_by_role("button", name="Send test").click()
    expect(test.get_by_role("status")).to_contain_text("Queued")
    expect(page.locator(f"tr:has-text('{name}')")).to_be_visible()
    console.screenshot("workflows-created")
    other = unused_mobile(console.stack)
    assert fire(url, other) == 202  # the phone system calls the copied URL
    wait_for_text(console.stack, patient, "Thanks for calling Maple Family Clinic! Reply to this text and our team "
                                          "will answer here.")
    wait_for_text(console.stack, other, "Thanks for calling Maple Family Clinic! Reply to this text and our team "
                                        "will answer here.")
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms",
                 {"from": patient, "to": line["number"], "body": "Can I book for Tuesday?"})

    console.nav("Inbox")
    conversations = page.get_by_role("navigation", name="Conversations")
    conversation = conversations.get_by_role("link", name=re.compile(re.escape(display(patient))))
    expect(conversation).to_contain_text("1 unread")
    expect(conversation).to_contain_text("Unverified")
    conversation.click()
    thread = page.get_by_role("log", name="Messages")
    expect(thread).to_contain_text("Thanks for calling Maple Family Clinic")
    expect(thread).to_contain_text("Can I book for Tuesday?")
    expect(conversation).not_to_contain_text("unread")

    reply = page.get_by_role("combobox", name="Reply")
    reply.press_sequentially("!!open")
    picker = page.get_by_role("listbox", name="Quick responses")
    expect(picker.get_by_role("option")).to_contain_text([quick["title"]])
    reply.press("Enter")
    expect(reply).to_have_value(quick["body"])
    expect(page.locator(".reply .counter")).to_have_text("37 characters · 1 SMS (GSM-7)")
    console.screenshot("inbox-thread")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(thread.locator(".message.outbound").last).to_contain_text(quick["body"])
    expect(reply).to_have_value("")
    wait_for_text(console.stack, patient, quick["body"])

    text = {"from": patient, "to": line["number"], "body": "Perfect!"}
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms", text)
    expect(thread.locator(".message.inbound").last).to_have_text(re.compile("^Perfect!"))  # no reload: the page polls


def test_the_phone_simulator_shows_the_texts_a_phone_got_and_sends_texts_and_calls(
    console: Console, practice: dict[str, Any], admin_api: AdminApi, needs_simulator: None
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Simulated"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("Abandoned"), "kind": "abandoned_call", "line_id": line["line_id"],
        "template": "Sorry we missed your call to {practice_name}. Text us here."})
    patient = unused_mobile(console.stack)
    assert fire(workflow["webhook_url"], patient) == 202
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Phone simulator")

    page.get_by_label("Patient’s phone").fill(display(patient))
    page.get_by_label("Patient’s phone").press("Tab")
    phone = page.get_by_role("log", name="Texts on this phone")
    expect(phone).to_contain_text("Sorry we missed your call to Maple Family Clinic. Text us here.")
    page.get_by_label("Line", exact=True).select_option(line["number"])
    page.get_by_label("Text", exact=True).fill("Is the clinic open on Saturday?")
    page.get_by_role("button", name="Send text").click()
    expect(page.locator(".twiml pre")).to_contain_text("<Response")
    expect(phone).to_contain_text("Is the clinic open on Saturday?")
    page.get_by_role("button", name="Place call").click()
    expect(page.locator(".twiml h3")).to_have_text("Call answered by Switchboard")
    expect(page.locator(".twiml pre")).to_contain_text("<Say")
    console.screenshot("simulator")

    console.nav("Inbox")
    conversation = page.get_by_role("navigation", name="Conversations").get_by_role(
        "link", name=re.compile(re.escape(display(patient))))
    expect(conversation).to_contain_text("Is the clinic open on Saturday?")


def test_a_staff_user_without_line_permission_sees_an_empty_inbox(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Reception"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("After calls"), "kind": "abandoned_call", "line_id": line["line_id"],
        "template": "Sorry we missed you at {practice_name}. Reply here."})
    patient = unused_mobile(console.stack)
    assert fire(workflow["webhook_url"], patient) == 202
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Users")
    email = f"frontdesk-{uuid.uuid4().hex[:6]}@maplefamilyclinic.com"
    form = page.get_by_role("form", name="Add a user")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Name").fill("Fran Desk")
    form.get_by_label("Role").select_option("staff")
    form.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("form", name=email)).to_be_visible()
    console.screenshot("users")

    page.get_by_role("button", name="Sign out").click()
    console.sign_in(email)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Inbox")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    conversations = page.get_by_role("navigation", name="Conversations")
    expect(conversations).to_contain_text("you have permission on no lines")
    expect(conversations.get_by_role("link")).to_have_count(0)
    console.screenshot("inbox-staff-empty")

    page.get_by_role("button", name="Sign out").click()  # the manager gives the line ...
    console.sign_in(practice_id=practice_id)
    console.nav("Users")
    row = page.get_by_role("form", name=email)
    row.get_by_label(f"{line['display_name']} · {line['number_display']}").check()
    row.get_by_role("button", name=f"Save {email}").click()
    expect(page.locator("#announcer")).to_have_text(f"{email} saved.")
    page.get_by_role("button", name="Sign out").click()  # ... and the staff user sees its conversations
    console.sign_in(email)
    expect(conversations.get_by_role("link", name=re.compile(re.escape(display(patient))))).to_be_visible()


def test_an_opted_out_patient_is_marked_and_cannot_be_answered(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Opt-outs"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("Calls"), "kind": "call_to_text", "line_id": line["line_id"],
        "template": "Thanks for calling {practice_name}."})
    patient = unused_mobile(console.stack)
    assert fire(workflow["webhook_url"], patient) == 202
    wait_for_text(console.stack, patient, "Thanks for calling Maple Family Clinic.")
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"], "body": "STOP"})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"inbox/{line['line_id']}/{urllib.parse.quote(patient)}")

    expect(page.locator(".thread-head")).to_contain_text("Opted out")
    expect(page.get_by_role("combobox", name="Reply")).to_be_disabled()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(page.locator(".reply .warning")).to_contain_text("opted out")


def test_a_text_the_carrier_filtered_says_so_in_words_with_twilios_code(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Filtered"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("Calls"), "kind": "call_to_text", "line_id": line["line_id"],
        "template": "Thanks for calling {practice_name}."})
    patient = unused_mobile(console.stack)
    sandbox_call(console.stack, "POST", "/sandbox/faults", {"final_status": "undelivered", "error_code": 30007})
    assert fire(workflow["webhook_url"], patient) == 202
    wait_for_text(console.stack, patient, "Thanks for calling Maple Family Clinic.")
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"inbox/{line['line_id']}/{urllib.parse.quote(patient)}")

    expect(page.locator(".message .error")).to_contain_text(
        "Not delivered — filtered as spam by the carrier (Twilio 30007). Call the patient")
    expect(page.locator(".message .error")).not_to_contain_text(patient[2:])


def status_of(url: str, caller: str) -> int:
    try:
        return fire(url, caller)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_rotating_and_revoking_a_workflow_ask_first_and_stop_the_old_url(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Rotation"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("Spanish line"), "kind": "call_to_text", "language": "Spanish", "line_id": line["line_id"],
        "template": "Gracias por llamar a {practice_name}."})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Workflows")

    page.get_by_role("button", name=f"Rotate the URL of {workflow['name']}").click()
    dialog = page.get_by_role("dialog", name=f"Rotate the URL of {workflow['name']}?")
    expect(dialog).to_contain_text("the old one stops working at once")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert status_of(workflow["webhook_url"], unused_mobile(console.stack)) == 202

    page.get_by_role("button", name=f"Rotate the URL of {workflow['name']}").click()
    dialog.get_by_role("button", name="Rotate URL").click()
    rotated = page.get_by_role("textbox", name="Webhook URL")
    expect(rotated).to_have_value(re.compile("/webhook/"))
    assert rotated.input_value() != workflow["webhook_url"]
    assert status_of(workflow["webhook_url"], unused_mobile(console.stack)) == 404
    assert status_of(rotated.input_value(), unused_mobile(console.stack)) == 202

    new_url = rotated.input_value()
    page.get_by_role("button", name=f"Revoke {workflow['name']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke workflow").click()
    expect(page.locator(f"tr:has-text('{workflow['name']}') .badge-failed")).to_have_text("Revoked")
    expect(rotated).to_have_count(0)  # the shown-once URL is gone with the workflow
    assert status_of(new_url, unused_mobile(console.stack)) == 404


def test_a_workflows_text_how_often_a_caller_is_texted_and_its_wait_are_edited_in_place(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Hang-ups"))
    workflow = admin_api("POST", f"practices/{practice_id}/workflows", {
        "name": unique("Hang-ups"), "kind": "abandoned_call", "line_id": line["line_id"],
        "template": "Sorry we missed you - {practice_name}."})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Workflows")
    page.get_by_role("button", name=f"Edit {workflow['name']}").click()
    form = page.get_by_role("form", name=f"Edit {workflow['name']}")
    expect(form.get_by_label("Text", exact=True)).to_be_focused()
    expect(form.get_by_label("Text a caller at most once in")).to_have_value("")  # the practice's window
    form.get_by_label("Text", exact=True).fill("{practice_name} " + "x" * 260)
    form.get_by_role("button", name="Save workflow").click()
    expect(form.locator(".field", has=page.get_by_label("Text", exact=True)).locator(".error")).to_contain_text("255")
    console.screenshot("workflow-edit-refused")
    form.get_by_label("Text", exact=True).fill("Sorry we missed your call at {practice_name}. Reply here any time.")
    form.get_by_label("Text a caller at most once in").select_option(label="24 hours (once a day)")
    expect(form.get_by_label("Wait before texting")).to_have_value("0")
    form.get_by_label("Wait before texting").select_option(label="2 minutes")
    form.get_by_role("button", name="Save workflow").click()
    expect(form).to_have_count(0)
    expect(page.locator(f"tr:has-text('{workflow['name']}')")).to_contain_text("waits 2 min")
    saved = admin_api("GET", f"practices/{practice_id}/workflows/{workflow['workflow_id']}")
    assert saved["template"] == "Sorry we missed your call at {practice_name}. Reply here any time."
    assert (saved["duplicate_window_minutes"], saved["delay_minutes"]) == (1440, 2)
    new = page.get_by_role("form", name="New workflow")
    expect(new.get_by_label("Wait before texting")).to_be_hidden()  # a caller who asked for a text gets it at once
    new.get_by_label("Kind").select_option(label="Abandoned call")
    expect(new.get_by_label("Wait before texting")).to_be_visible()
    console.screenshot("workflow-wait")
    caller = unused_mobile(console.stack)
    assert status_of(workflow["webhook_url"], caller) == 202
    assert status_of(workflow["webhook_url"], caller) == 200  # a duplicate: once a day now


def test_someone_serving_two_practices_picks_between_exactly_those(console: Console, admin_api: AdminApi) -> None:
    first = admin_api("POST", "practices", {"name": unique("Birch Clinic"), "timezone": "America/Chicago"})
    second = admin_api("POST", "practices", {"name": unique("Cedar Clinic"), "timezone": "America/Chicago"})
    admin_api("POST", "practices", {"name": unique("Elm Clinic"), "timezone": "America/Chicago"})  # not theirs
    email = f"agent-{uuid.uuid4().hex[:6]}@callcenter.example"
    for practice_id, role in ((first["practice_id"], "staff"), (second["practice_id"], "manager")):
        admin_api("POST", f"practices/{practice_id}/users", {"email": email, "name": "Call Agent", "role": role})
    console.sign_in(email)  # the invitation: a new password, then the authenticator
    page = console.page
    picker = page.locator("#practice-select option")
    expect(picker).to_have_count(2)
    assert sorted(picker.all_inner_texts()) == sorted([first["name"], second["name"]])
    page.select_option("#practice-select", second["practice_id"])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users")).to_be_visible()  # a manager there
    page.select_option("#practice-select", first["practice_id"])
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)  # staff here


def test_integration_keys_are_made_shown_once_listed_and_revoked_and_campaigns_listed(
    console: Console, practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Reminders"))
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.nav("Integrations")
    system = unique("Scheduling")
    form = page.get_by_role("form", name="New key")
    form.get_by_label("Which system uses it").fill(system)
    form.get_by_role("button", name="Make key").click()
    shown = page.get_by_role("textbox", name="Integration key")
    expect(shown).to_have_value(re.compile(r"\S{20,}"))
    key = shown.input_value()
    row = page.locator("table.keys tr", has_text=system)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Never")
    console.screenshot("integrations-key-shown-once")

    patient = admin_api("POST", f"practices/{practice_id}/patients", {
        "patient_id": unique("P").replace(" ", "-"), "name": "Ada Park", "phone": unused_mobile(console.stack)})
    started = console.stack.request("POST", "/local/v1/campaigns", headers={"X-Api-Key": key}, json_body={
        "name": unique("Flu clinic"), "line_id": line["line_id"], "template": "Flu shots are in this week.",
        "recipients": [{"patient_id": patient["patient_id"]}]})
    assert started.status == 201, started.body
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("table.campaigns")).to_contain_text(started.json()["name"])
    expect(page.locator("table.keys tr", has_text=system)).not_to_contain_text("Never")  # the campaign used it

    page.get_by_role("button", name=f"Revoke {system}").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(page.locator("table.keys tr", has_text=system)).to_contain_text("Revoked")
    expect(shown).to_have_count(0)
    campaign = f"/local/v1/campaigns/{started.json()['campaign_id']}"
    refused = console.stack.request("GET", campaign, headers={"X-Api-Key": key})
    assert refused.status == 401 and "revoked" in refused.json()["message"]

    # A manager starts one from the console, to patients picked from the practice's list.
    page.get_by_role("button", name="Refresh").click()  # the list of patients to pick from is read with the page
    console.nav("Inbox")
    console.nav("Integrations")
    form = page.get_by_role("form", name="Start a campaign")
    name = unique("Recall")
    form.get_by_label("Campaign name").fill(name)
    form.get_by_label("Texts from line").select_option(line["line_id"])
    form.get_by_label("Text", exact=True).fill("Hi {first_name}, it is time for your check-up.")
    form.get_by_role("button", name="Start campaign").click()
    expect(form.locator("fieldset.recipients + .error")).not_to_be_empty()  # nobody picked
    form.get_by_label(f"Ada Park ({patient['patient_id']})").check()
    form.get_by_role("button", name="Start campaign").click()
    expect(page.locator("table.campaigns tr", has_text=name)).to_contain_text("1 recipients")
    console.screenshot("integrations-campaign-started")
    mine = [c for c in admin_api("GET", f"practices/{practice_id}/campaigns") if c["name"] == name]
    assert [c["counts"]["recipients"] for c in mine] == [1]
