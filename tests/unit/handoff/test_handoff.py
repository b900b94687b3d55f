"""The table's stream as the webhooks' outbox: one write answers the webhook; the job reaches its queue once."""

import json
import os
from unittest import mock

import boto3

from switchboard.flows import handoff
from tests.unit.conftest import load_function


def waiting(url_variable: str) -> list[dict]:
    """The queue as it is, without running the stream first."""
    sqs = boto3.client("sqs")
    found = []
    while batch := sqs.receive_message(QueueUrl=os.environ[url_variable], MaxNumberOfMessages=10,
                                       VisibilityTimeout=0).get("Messages", []):
        found.extend(batch)
        if len(found) > 50:
            break
    return [json.loads(m["Body"]) for m in {m["MessageId"]: m for m in found}.values()]


def test_a_new_callers_text_reaches_the_outbound_queue_through_the_stream_only(intake, queues, setup):
    answer = intake("4155552671")
    assert answer.status == 202
    assert waiting("OUTBOUND_QUEUE_URL") == []  # the webhook wrote, and queued nothing itself
    assert queues.hand_off() >= 1
    jobs = waiting("OUTBOUND_QUEUE_URL")
    assert [job["send"]["message_id"] for job in jobs] == [answer.body["message_id"]]
    # What the send reads in one batch is named; the status URL, the phone's text and the body stay stored.
    assert set(jobs[0]) == {"send", "practice_id", "workflow_id", "campaign_id"}
    assert (jobs[0]["practice_id"], jobs[0]["workflow_id"], jobs[0]["campaign_id"]) == (
        setup.practice_id, setup.workflow["workflow_id"], None)
    queues.hand_off()
    assert len(waiting("OUTBOUND_QUEUE_URL")) == 1  # read once


def test_a_patients_text_reaches_the_inbound_events_queue_with_what_after_hours_needs(text_in, queues, setup):
    text_in("Can I come at 3?")
    assert waiting("FOLLOW_UP_QUEUE_URL") == []
    queues.hand_off()
    (event,) = waiting("FOLLOW_UP_QUEUE_URL")
    assert event["practice_id"] == setup.practice_id and event["body"] == "Can I come at 3?"
    assert event["message"]["line_id"] == setup.line["line_id"] and event["keyword"] is None
    assert event["received_at"].endswith("+00:00") and event["status_callback"].endswith("/twilio/status")


def test_items_without_a_handoff_are_skipped():
    assert handoff.hand_off({"kind": "conversation", "line_id": "L1"}) is None
    assert handoff.hand_off({"kind": "message", "status": "queued", "sender": "staff"}) is None
    assert waiting("OUTBOUND_QUEUE_URL") == [] and waiting("FOLLOW_UP_QUEUE_URL") == []


def stored(sequence: str, message_id: str) -> dict:
    return {"eventID": sequence, "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "dynamodb": {"SequenceNumber": sequence, "NewImage": {
                "kind": {"S": "message"}, "handoff": {"S": "outbound"}, "line_id": {"S": "L1"},
                "phone": {"S": "+14155552671"}, "message_id": {"S": message_id},
                "status_callback": {"S": "https://api.test/local/twilio/status"}}}}


def test_the_first_record_that_cannot_be_queued_stops_the_batch_so_the_retry_sends_nothing_twice(lambda_context):
    batch = {"Records": [stored("4200", "M1"), stored("4201", "M2"), stored("4202", "M3")]}
    real = __import__("switchboard.aws.queues", fromlist=["send"]).send
    calls = iter([real, RuntimeError("SQS is down")])

    def flaky(*args, **kwargs):
        step = next(calls, None)
        if isinstance(step, Exception):
            raise step
        return real(*args, **kwargs)

    with mock.patch("switchboard.aws.queues.send", side_effect=flaky):
        result = load_function("handoff").lambda_handler(batch, lambda_context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "4201"}, {"itemIdentifier": "4202"}]}
    assert [job["send"]["message_id"] for job in waiting("OUTBOUND_QUEUE_URL")] == ["M1"]
    retry = {"Records": batch["Records"][1:]}  # Lambda retries from the lowest reported sequence number
    assert load_function("handoff").lambda_handler(retry, lambda_context) == {"batchItemFailures": []}
    assert sorted(job["send"]["message_id"] for job in waiting("OUTBOUND_QUEUE_URL")) == ["M1", "M2", "M3"]
