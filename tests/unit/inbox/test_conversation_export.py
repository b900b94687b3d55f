"""A conversation exported as CSV for the patient's record: every message oldest first, with when, who (by name),
how it went and what it said; the export goes on the audit trail; only staff with the line may export."""

import csv
import io

from tests.claims import claims_of
from tests.unit.conftest import load_function, rest_event
from tests.unit.inbox.test_ownership import PHONE, dana, path  # noqa: F401  (the same patient and colleague)


def export(lambda_context, thread, claims):
    handler = load_function("admin_api").lambda_handler
    return handler(rest_event("GET", f"{thread}/export", claims=claims), lambda_context)


def test_the_export_lists_every_message_with_who_wrote_it_and_goes_on_the_trail(
        admin_api, setup, text_in, path, dana, lambda_context):  # noqa: F811
    text_in("=1+1 is my question")
    answer = admin_api("POST", f"{path}/messages", {"body": "We can see you at 3pm.", "draft_id": "d-1"},
                       claims=dana["claims"])
    assert answer.status == 202, answer.body
    text_in("Thanks!")

    exported = export(lambda_context, path, dana["claims"])
    assert exported["statusCode"] == 200
    headers = {k.lower(): v[0] for k, v in exported["multiValueHeaders"].items()}
    assert headers["content-type"].startswith("text/csv") and "attachment" in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported["body"])))
    assert [(r["direction"], r["sender"], r["text"]) for r in rows] == [
        ("inbound", "Patient", "'=1+1 is my question"),  # a spreadsheet shows it, never runs it
        ("outbound", "Staff: Dana (dana@maplefamilyclinic.com)", "We can see you at 3pm."),
        ("inbound", "Patient", "Thanks!")]
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    assert rows[1]["status"] in ("queued", "sending", "sent", "delivered") and rows[1]["pictures"] == "0"

    trail = admin_api("GET", f"/api/practices/{setup.practice_id}/audit").body["entries"]
    [noted] = [e for e in trail if e["action"] == "conversation.export"]
    assert noted["actor"] == "dana@maplefamilyclinic.com"
    assert noted["changes"]["messages"]["after"] == 3 and noted["changes"]["format"]["after"] == "csv"
    [opened] = [e for e in trail if e["action"] == "conversation.read"] or [None]
    assert opened is None  # exporting is not opening; the entry names the conversation as every other does
    assert PHONE not in noted["entity_id"] and noted["entity_id"].startswith(f"{setup.line['line_id']}/")


def test_staff_without_the_line_cannot_export_it(admin_api, setup, text_in, path, lambda_context):  # noqa: F811
    text_in("Hello")
    user = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                     {"email": "lee@maplefamilyclinic.com", "name": "Lee", "role": "staff", "line_ids": []}).body
    assert export(lambda_context, path, claims_of(user, "staff"))["statusCode"] in (403, 404)
    trail = admin_api("GET", f"/api/practices/{setup.practice_id}/audit").body["entries"]
    assert not [e for e in trail if e["action"] == "conversation.export"]
