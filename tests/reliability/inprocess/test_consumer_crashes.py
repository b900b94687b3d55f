"""The outbound consumer dies at the worst moments; the patient still gets exactly one text."""

from __future__ import annotations

import os

import boto3
import pytest

from switchboard.data.models import MessageItem
from tests.clock import past_an_attempt
from tests.reliability.inprocess.conftest import forget_carrier

CALLER = "+14155550123"


def texts(sandbox, phone=CALLER):
    return sandbox.messages(to=phone)


def only_message() -> MessageItem:
    messages = list(MessageItem.scan())
    assert len(messages) == 1
    return messages[0]


def after_the_attempt_must_have_ended(clinic_clock, queues):
    """A retry inside the attempt's lease waits (it may still be running); after it, the retry looks it up."""
    assert len(queues.deliver()["batchItemFailures"]) == 1
    past_an_attempt(clinic_clock)


def workflow_counts(admin_api, setup):
    path = f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}"
    return admin_api("GET", path).body["counts"]


def test_a_consumer_that_dies_between_the_carriers_accept_and_our_write_does_not_text_twice(
        intake, queues, carrier_account, monkeypatch, admin_api, setup, clinic_clock):
    from switchboard.data import deliveries

    record_accepted, crashes = deliveries.record_accepted, []

    def dies_once(*args, **kwargs):
        if not crashes:
            crashes.append(True)
            raise RuntimeError("the consumer died before recording the carrier's answer")
        return record_accepted(*args, **kwargs)

    monkeypatch.setattr(deliveries, "record_accepted", dies_once)
    assert intake(CALLER).status == 202
    assert len(queues.deliver()["batchItemFailures"]) == 1
    assert len(texts(carrier_account)) == 1
    crashed = only_message()
    assert (crashed.status, crashed.carrier_sid) == ("sending", None)

    after_the_attempt_must_have_ended(clinic_clock, queues)
    assert queues.deliver()["batchItemFailures"] == []
    assert len(texts(carrier_account)) == 1
    recorded = only_message()
    assert recorded.carrier_sid == texts(carrier_account)[0]["sid"]
    assert workflow_counts(admin_api, setup)["texted"] == 1
    assert queues.deliver()["batchItemFailures"] == []  # nothing left to do
    assert len(texts(carrier_account)) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_carrier_that_accepts_then_answers_an_error_is_looked_up_not_resent(intake, queues, carrier_account, status):
    carrier_account.add_faults({"accept_then_fail": True, "status": status})
    intake(CALLER)
    assert len(queues.deliver()["batchItemFailures"]) == 1
    assert queues.deliver()["batchItemFailures"] == []  # the attempt ended with an unclear answer: look it up
    assert len(texts(carrier_account)) == 1
    assert only_message().carrier_sid == texts(carrier_account)[0]["sid"]


def test_a_send_that_times_out_after_the_carrier_took_it_is_found_not_resent(intake, queues, carrier_account,
                                                                              monkeypatch):
    from switchboard.carrier import http

    monkeypatch.setattr(http, "DEFAULT_TIMEOUT", 0.5)
    forget_carrier()
    carrier_account.add_faults({"hang": 3})
    intake(CALLER)
    assert len(queues.deliver()["batchItemFailures"]) == 1
    assert only_message().status == "sending"
    assert queues.deliver()["batchItemFailures"] == []
    assert len(texts(carrier_account)) == 1
    assert only_message().carrier_sid == texts(carrier_account)[0]["sid"]


def test_a_consumer_that_dies_after_claiming_but_before_calling_the_carrier_sends_once(intake, queues,
                                                                                       carrier_account, monkeypatch,
                                                                                       clinic_clock):
    from switchboard.carrier.client import Carrier

    send_message, crashes = Carrier.send_message, []

    def dies_once(self, *args, **kwargs):
        if not crashes:
            crashes.append(True)
            raise RuntimeError("the consumer died before calling the carrier")
        return send_message(self, *args, **kwargs)

    monkeypatch.setattr(Carrier, "send_message", dies_once)
    intake(CALLER)
    assert len(queues.deliver()["batchItemFailures"]) == 1
    assert texts(carrier_account) == []
    assert only_message().status == "sending"
    after_the_attempt_must_have_ended(clinic_clock, queues)
    assert queues.deliver()["batchItemFailures"] == []
    assert len(texts(carrier_account)) == 1


def test_a_job_delivered_twice_in_one_batch_sends_once(intake, queues, carrier_account):
    """SQS hands a job out at least once: a second copy in the same batch finds the first one's work done."""
    intake(CALLER)
    job = queues.messages()[0]
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=os.environ["OUTBOUND_QUEUE_URL"], MessageBody=job["Body"])
    sqs.change_message_visibility(QueueUrl=os.environ["OUTBOUND_QUEUE_URL"], ReceiptHandle=job["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert queues.deliver()["batchItemFailures"] == []
    assert len(texts(carrier_account)) == 1
    assert queues.deliver() == {"batchItemFailures": []}
    assert len(texts(carrier_account)) == 1


def test_a_second_copy_of_a_job_that_reads_the_message_mid_send_never_sends_it_too(intake, queues, carrier_account,
                                                                                   monkeypatch, clinic_clock):
    """Copy B reads the message after copy A claimed it and before A's send shows at the carrier: B must wait
    for A's attempt to end, then find A's text, never send its own."""
    from switchboard.carrier.client import Carrier
    from switchboard.data.messages import send_job
    from switchboard.flows import delivery

    send_message, second = Carrier.send_message, []

    def copy_b_runs_mid_send(self, *args, **kwargs):
        if not second:
            second.append(True)
            with pytest.raises(delivery.RetryLater):
                delivery.deliver(send_job(only_message()))  # B: `sending`, A's text not at the carrier yet
        return send_message(self, *args, **kwargs)

    monkeypatch.setattr(Carrier, "send_message", copy_b_runs_mid_send)
    intake(CALLER)
    assert queues.deliver()["batchItemFailures"] == []  # A
    assert len(texts(carrier_account)) == 1
    past_an_attempt(clinic_clock)
    assert delivery.deliver(send_job(only_message())) is delivery.Delivery.ALREADY_DONE
    assert len(texts(carrier_account)) == 1
