"""The product on the local stack, driven over HTTP like a phone system, Twilio and the console would."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, loa, wait_until, weekday_days_from_now
from tests.integration.conftest import REQUEST_TIMEOUT_SECONDS, project_pythonpath

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PATIENT = "+14155552671"
EVENTUALLY_SECONDS = 60.0  # texts and statuses travel through queues and the carrier's callbacks: slow when busy


def texts_to(stack, phone: str = PATIENT) -> list[dict[str, Any]]:
    found = stack.sandbox("GET", f"/sandbox/messages?to={urllib.parse.quote(phone)}")["messages"]
    return [m for m in found if m.get("direction", "outbound-api").startswith("outbound")]


def eventually(check, timeout: float = EVENTUALLY_SECONDS):
    return wait_until(check, within=timeout, every=0.1)


class Console:
    """The admin API as the console calls it."""

    def __init__(self, stack, email: str = "dev@clinic.test", groups=("admin",)):
        self.stack, self.token = stack, stack.token(email, groups)

    def __call__(self, method: str, path: str, body: Any = None):
        answer = self.stack.request(method, f"/local{path}", token=self.token, json_body=body)
        return answer.status, (answer.json() if answer.body else None)


@pytest.fixture(scope="module")
def clinic(local_stack):
    admin = Console(local_stack)
    status, practice = admin("POST", "/api/practices", {"name": "Maple Family Clinic", "timezone": "America/Chicago",
                                                         "hours": {}})
    assert status == 201, practice
    p = practice["practice_id"]
    status, offered = admin("GET", f"/api/practices/{p}/available-numbers?area_code=415")
    assert status == 200 and offered
    status, line = admin("POST", f"/api/practices/{p}/lines/purchase",
                         {"display_name": "Front desk", "number": offered[0]["phone_number"]})
    assert status == 201, line
    status, saved = admin("PUT", f"/api/practices/{p}/address", PRACTICE_ADDRESS)
    assert status == 200, saved
    return {"admin": admin, "practice_id": p, "line": line, "address_sid": saved["address"]["address_sid"]}


def test_a_bought_number_is_enabled_and_a_landline_goes_pending_its_letter_signed_then_enabled(local_stack, clinic):
    admin, p = clinic["admin"], clinic["practice_id"]
    assert clinic["line"]["status"] == "enabled"
    status, landline = admin("POST", f"/api/practices/{p}/lines",
                             {"display_name": "Main landline", "number": "(312) 555-0142", "authorization": loa(),
                              "contact": ORDER_CONTACT})
    assert status == 201 and landline["status"] == "pending"
    order = next(o for o in local_stack.sandbox("GET", "/sandbox/orders")["orders"]
                 if o["phone_number"] == "+13125550142")
    assert order["address_sid"] == clinic["address_sid"]
    assert clinic["address_sid"] in {a["sid"] for a in local_stack.sandbox("GET", "/sandbox/addresses")["addresses"]}
    local_stack.sandbox("POST", f"/sandbox/orders/{order['sid']}/sign-loa")
    local_stack.run_schedule("StatusPollerFunction")
    status, signed = admin("GET", f"/api/practices/{p}/lines/{landline['line_id']}")
    assert (signed["status"], signed["hosted_order"]["loa_status"]) == ("pending", "signed")
    local_stack.sandbox("POST", f"/sandbox/orders/{order['sid']}/complete")
    local_stack.run_schedule("StatusPollerFunction")
    status, now = admin("GET", f"/api/practices/{p}/lines/{landline['line_id']}")
    assert now["status"] == "enabled"


def test_a_sandbox_failed_order_shows_failed_with_the_reason(local_stack, clinic):
    admin, p = clinic["admin"], clinic["practice_id"]
    status, landline = admin("POST", f"/api/practices/{p}/lines",
                             {"display_name": "Annex", "number": "(312) 555-0143", "authorization": loa(),
                              "contact": ORDER_CONTACT})
    order = next(o for o in local_stack.sandbox("GET", "/sandbox/orders")["orders"]
                 if o["phone_number"] == "+13125550143")
    local_stack.sandbox("POST", f"/sandbox/orders/{order['sid']}/fail", {"failure_reason": "Number is not portable"})
    local_stack.run_schedule("StatusPollerFunction")
    status, now = admin("GET", f"/api/practices/{p}/lines/{landline['line_id']}")
    assert (now["status"], now["status_reason"]) == ("failed", "Number is not portable")


def test_call_to_text_sends_one_text_delivered_and_a_repeat_is_a_duplicate(local_stack, clinic):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    status, workflow = admin("POST", f"/api/practices/{p}/workflows",
                             {"name": "Jive hold", "kind": "call_to_text", "vendor": "jive", "line_id": line["line_id"],
                              "template": "Thanks for calling {practice_name}! Text us here at {line_number}."})
    assert status == 201
    url = workflow["webhook_url"]
    assert url.startswith(local_stack.gateway_url + "/local/webhook/jive/local_")
    with urllib.request.urlopen(f"{url}?CALLER_ID_NUMBER=4155552671", timeout=REQUEST_TIMEOUT_SECONDS) as first:
        assert first.status == 202
        message_id = json.load(first)["message_id"]
    sent = eventually(lambda: texts_to(local_stack))
    assert len(sent) == 1
    assert sent[0]["from"] == line["number"]
    assert sent[0]["body"] == f"Thanks for calling Maple Family Clinic! Text us here at {line['number_display']}."
    thread_path = f"/api/practices/{p}/lines/{line['line_id']}/conversations/{urllib.parse.quote(PATIENT)}"
    delivered = eventually(lambda: admin("GET", thread_path)[1]["messages"][-1]["status"] == "delivered")
    assert delivered, admin("GET", thread_path)
    assert admin("GET", thread_path)[1]["messages"][-1]["message_id"] == message_id
    with urllib.request.urlopen(f"{url}?CALLER_ID_NUMBER=4155552671", timeout=REQUEST_TIMEOUT_SECONDS) as again:
        assert again.status == 200
        assert json.load(again) == {"status": "duplicate", "message_id": message_id}
    local_stack.wait_idle()
    assert len(texts_to(local_stack)) == 1


def test_an_inbound_text_reaches_permitted_staff_only_and_a_staff_reply_reaches_the_phone(local_stack, clinic):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    admin("POST", f"/api/practices/{p}/users", {"email": "pat@maplefamilyclinic.com", "name": "Pat",
                                                 "role": "staff", "line_ids": [line["line_id"]]})
    admin("POST", f"/api/practices/{p}/users", {"email": "lee@maplefamilyclinic.com", "name": "Lee",
                                                 "role": "staff", "line_ids": []})
    patient = "+14155550177"
    answer = local_stack.sandbox("POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"],
                                                                    "body": "Can I come at 3?"})
    assert answer["status"] == 200
    pat = Console(local_stack, "pat@maplefamilyclinic.com", ())
    lee = Console(local_stack, "lee@maplefamilyclinic.com", ())
    seen = pat("GET", f"/api/practices/{p}/inbox")[1]["conversations"]
    assert patient in [c["phone"] for c in seen]
    assert lee("GET", f"/api/practices/{p}/inbox")[1]["conversations"] == []
    status, _ = pat("POST", f"/api/practices/{p}/lines/{line['line_id']}/conversations/{urllib.parse.quote(patient)}"
                            "/messages", {"body": "Yes, 3 works."})
    assert status == 202
    assert eventually(lambda: "Yes, 3 works." in [m["body"] for m in texts_to(local_stack, patient)])


def test_a_patients_text_is_found_by_number_name_and_words_through_the_streams_index(local_stack, clinic):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    patient = "+14155550178"
    assert admin("POST", f"/api/practices/{p}/patients",
                 {"patient_id": "mrn-search", "name": "Rosa Delgado", "phone": patient})[0] == 201
    answer = local_stack.sandbox("POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"],
                                                                    "body": "Does the dentist take walk-ins?"})
    assert answer["status"] == 200

    def found(q: str, who: Console = admin) -> list[str]:
        status, page = who("GET", f"/api/practices/{p}/search?q={urllib.parse.quote(q)}")
        assert status == 200, page
        return [c["phone"] for c in page["conversations"]]

    assert eventually(lambda: found("0178") == [patient]), "the search index never listed the new text"
    assert eventually(lambda: found("rosa del") == [patient]), "the patient's name was never indexed"
    assert found("(415) 555-0178") == found("dentist walk") == [patient]
    admin("POST", f"/api/practices/{p}/users", {"email": "kim@maplefamilyclinic.com", "name": "Kim",
                                                 "role": "staff", "line_ids": []})
    assert found("dentist", Console(local_stack, "kim@maplefamilyclinic.com", ())) == []


def test_pictures_in_are_kept_shown_by_short_links_and_deleted_at_the_carrier_and_staff_send_one_back(
        local_stack, clinic):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    patient = "+14155550179"
    picture = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 8
    answer = local_stack.sandbox("POST", "/sandbox/inbound/sms", {
        "from": patient, "to": line["number"], "body": "Is this rash normal?",
        "media": [{"content_type": "image/jpeg", "data": base64.b64encode(picture).decode()}]})
    assert answer["status"] == 200
    path = f"/api/practices/{p}/lines/{line['line_id']}/conversations/{patient}"

    def media() -> list[dict]:
        status, thread = admin("GET", path)
        return thread["messages"][0]["media"] if status == 200 and thread["messages"] else []

    assert eventually(lambda: [m["state"] for m in media()] == ["kept"]), "the picture was never kept"
    (kept,) = media()
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(kept["url"], timeout=10) as opened:
        assert (opened.read(), opened.headers["Content-Type"]) == (picture, "image/jpeg")
    stored = local_stack.sandbox("GET", f"/sandbox/messages/{answer['message_sid']}/media")["media"]
    assert [m["deleted"] for m in stored] == [True]
    # Staff answer with a picture: the carrier fetches it from the bucket through the link it was given.
    status, attached = admin("POST", f"{path}/attachments",
                             {"content_type": "image/jpeg", "data": base64.b64encode(picture).decode()})
    assert status == 201, attached
    status, _ = admin("POST", f"{path}/messages", {"body": "Please come in today",
                                                   "attachment_ids": [attached["attachment_id"]]})
    assert status == 202
    assert eventually(lambda: [(m["status"], [f["size"] for f in m["media"]]) for m in texts_to(local_stack, patient)
                               if m.get("media")] == [("delivered", [len(picture)])]), "the picture never went"


def test_a_closed_period_gets_one_after_hours_reply_and_the_next_one_another(local_stack, clinic):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    admin("PATCH", f"/api/practices/{p}", {"hours": {}, "after_hours": {"text": "Closed now - we'll text back."}})
    patient = "+14155550188"
    for body in ("hello?", "anyone there?"):
        local_stack.sandbox("POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"], "body": body})
        local_stack.wait_idle()
    assert eventually(lambda: len(texts_to(local_stack, patient)) == 1)
    local_stack.wait_idle()
    assert [m["body"] for m in texts_to(local_stack, patient)] == ["Closed now - we'll text back."]
    # New hours mean a new closed period (it ends at a different opening): one more answer. The one opening is
    # three days from today, so the practice is still closed now, whatever the day and time.
    opening_day = weekday_days_from_now("America/Chicago", 3)
    admin("PATCH", f"/api/practices/{p}",
          {"closures": [], "hours": {opening_day: [{"opens": "03:00", "closes": "03:01"}]}})
    local_stack.sandbox("POST", "/sandbox/inbound/sms", {"from": patient, "to": line["number"], "body": "hi again"})
    assert eventually(lambda: len(texts_to(local_stack, patient)) == 2)


def test_a_voice_call_gets_twiml_from_the_lines_rules(local_stack, clinic):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    status, _ = admin("PUT", f"/api/practices/{p}/lines/{line['line_id']}/forwarding",
                      {"forwarding": {"after_hours": {"say": {"text": "We are closed. Please text us."}}}})
    assert status == 200
    answer = local_stack.sandbox("POST", "/sandbox/inbound/call", {"from": PATIENT, "to": line["number"]})
    assert answer["status"] == 200
    assert "<Say" in answer["body"] and "We are closed. Please text us." in answer["body"]
    assert "<Hangup" in answer["body"]


@pytest.mark.parametrize("function", ["admin_api", "status_poller", "webhook_intake", "outbound_messaging",
                                      "status_callback", "inbound_sms", "follow_up", "call_forwarding"])
def test_every_functions_sample_events_run_with_make_invoke(local_stack, function):
    for event in sorted((ROOT / "events" / function).glob("*.json")):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in project_pythonpath())}
        run = subprocess.run([sys.executable, "-m", "local.invoke", function, str(event),
                              "--data-dir", str(local_stack.data_dir)], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, env=env)
        assert run.returncode == 0, f"{event.name}: {run.stdout[-2000:]}{run.stderr[-2000:]}"
        result = json.loads(run.stdout)
        if "statusCode" in result:
            assert result["statusCode"] < 500, (event.name, result)


def _opted_out(admin, p, phone: str) -> bool:
    entries = admin("GET", f"/api/practices/{p}/inbox")[1]["conversations"]
    return any(c["phone"] == phone and c["opted_out"] for c in entries)


def _text(stack, line, phone: str, body: str) -> None:
    assert stack.sandbox("POST", "/sandbox/inbound/sms", {"from": phone, "to": line["number"], "body": body})[
        "status"] == 200
    stack.wait_idle()


@pytest.mark.parametrize("advanced", [False, True], ids=["twilio-defaults", "advanced-opt-out"])
def test_keywords_as_patients_type_them_get_one_answer_each(local_stack, clinic, advanced):
    admin, p, line = clinic["admin"], clinic["practice_id"], clinic["line"]
    admin("PATCH", f"/api/practices/{p}", {"hours": {}, "closures": [], "help_text": "Maple: call 312-555-0100.",
                                           "after_hours": {"text": "Closed now - we'll text back."}})
    number = urllib.parse.quote(line["number"])
    if advanced:
        local_stack.sandbox("POST", f"/sandbox/advanced-opt-out/{number}",
                {"help": "Maple: call 312-555-0100. Reply STOP to opt out.",
                 "stop": "Maple: you will get no more texts."})
    try:
        helped, stopped, worded, fullwidth = ("+1415555" + f"{n:04d}" for n in
                                          ((3101, 3102, 3103, 3104) if advanced else (3201, 3202, 3203, 3204)))
        _text(local_stack, line, helped, "HELP")
        local_stack.wait_idle()
        assert [m["body"] for m in texts_to(local_stack, helped)] == [
            "Maple: call 312-555-0100. Reply STOP to opt out." if advanced
            else "Reply STOP to unsubscribe. Msg&Data Rates May Apply."]

        for body in ("Stop. \U0001f621", "STOP"):
            _text(local_stack, line, stopped, body)
        assert len(texts_to(local_stack, stopped)) == 1  # one confirmation, the carrier's
        assert eventually(lambda: _opted_out(admin, p, stopped))

        for phone, body in ((worded, "opt out"), (fullwidth, "\uff33\uff34\uff2f\uff30")):
            _text(local_stack, line, phone, body)
            assert eventually(lambda phone=phone: _opted_out(admin, p, phone))

        yes = "+1415555" + ("3105" if advanced else "3205")
        _text(local_stack, line, yes, "Yes")
        assert eventually(lambda: [m["body"] for m in texts_to(local_stack, yes)] == ["Closed now - we'll text back."])
        assert not _opted_out(admin, p, yes)
    finally:
        if advanced:
            local_stack.sandbox("DELETE", f"/sandbox/advanced-opt-out/{number}")
