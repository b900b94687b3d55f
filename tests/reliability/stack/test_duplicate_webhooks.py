"""A phone system that fires the same webhook many times at once still gets one text to the caller."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.reliability.conftest import eventually, new_phone
from tests.reliability.stack.concurrently import at_once, concurrently

pytestmark = pytest.mark.integration


def one_text_each(stack, clinic, caller: str) -> None:
    stack.wait_idle()
    assert eventually(lambda: len([m for m in stack.sent_from(clinic.line["number"]) if m["to"] == caller]) >= 1)
    stack.wait_idle()
    assert len([m for m in stack.sent_from(clinic.line["number"]) if m["to"] == caller]) == 1


def test_the_same_webhook_twenty_times_at_once_through_the_gateway_sends_one_text(stack):
    clinic, caller = stack.new_clinic(), new_phone()
    replies = at_once(20, lambda _: stack.call_webhook(clinic, caller))
    statuses = Counter(reply.status for reply in replies)
    assert statuses == {202: 1, 200: 19}, statuses
    first = next(reply.body["message_id"] for reply in replies if reply.status == 202)
    assert all(reply.body == {"status": "duplicate", "message_id": first} for reply in replies if reply.status == 200)
    one_text_each(stack, clinic, caller)
    path = f"/api/practices/{clinic.practice_id}/workflows/{clinic.workflow['workflow_id']}"
    counted = eventually(lambda: (c := stack.api("GET", path).body["counts"])["received"] == 20 and c)
    assert counted and (counted["duplicates"], counted["texted"]) == (19, 1), stack.api("GET", path).body["counts"]


def test_the_same_webhook_twenty_times_in_twenty_concurrent_instances_sends_one_text(stack):
    clinic, caller = stack.new_clinic(), new_phone()
    token = clinic.webhook_url.rsplit("/", 1)[1]
    results = concurrently(stack, "webhook", token, caller, "20")
    assert len(results) == 20
    queued = [r for r in results if r.get("status") == 202]
    assert len(queued) == 1, results
    others = [r for r in results if r.get("status") != 202]
    assert all(r["status"] == 200 and r["body"]["status"] == "duplicate" for r in others), others
    assert {r["body"]["message_id"] for r in others} <= {queued[0]["body"]["message_id"]}
    one_text_each(stack, clinic, caller)


def test_call_to_text_and_abandoned_call_for_one_call_at_the_same_moment_send_one_text(stack):
    clinic, caller = stack.new_clinic(), new_phone()
    abandoned = stack.api("POST", f"/api/practices/{clinic.practice_id}/workflows",
                          {"name": "Abandoned", "kind": "abandoned_call", "vendor": "jive",
                           "line_id": clinic.line["line_id"], "template": "Sorry we missed you at {practice_name}."})
    assert abandoned.status == 201
    urls = [clinic.webhook_url, abandoned.body["webhook_url"]] * 3
    replies = at_once(len(urls), lambda i: stack.http("GET", f"{urls[i]}?CALLER_ID_NUMBER={caller[2:]}"))
    assert sorted(reply.status for reply in replies) == [200] * 5 + [202]
    one_text_each(stack, clinic, caller)
