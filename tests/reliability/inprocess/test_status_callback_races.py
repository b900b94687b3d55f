"""Delivery status callbacks arrive late, twice and out of order: the most advanced status wins."""

from __future__ import annotations

import itertools
import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.carrier import sign
from switchboard.data.models import MessageItem
from tests.reliability.conftest import new_phone
from tests.unit.conftest import webhook_event

RANK = {"queued": 1, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}
ON_THE_WAY = ["queued", "sending", "sent"]
TERMINAL = ["delivered", "undelivered", "failed"]


@pytest.fixture
def status_callback(call_api, carrier_account):
    def post(sid: str, status: str):
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": carrier_account.account_sid, "ApiVersion": "2010-04-01"}
        if status in ("undelivered", "failed"):
            params["ErrorCode"] = "30003"
        url = f"{os.environ.get('PUBLIC_BASE_URL', 'https://api.test/local').rstrip('/')}/twilio/status"
        event = webhook_event("POST", "/twilio/status", body=urlencode(params),
                              content_type="application/x-www-form-urlencoded",
                              headers={"X-Twilio-Signature": sign(url, params, carrier_account.auth_token)},
                              resource="/twilio/status")
        answer = call_api("status_callback", event)
        assert answer.status == 200
        return answer

    return post


@pytest.fixture
def sent_message(intake, queues):
    """A fresh caller's text, accepted by the carrier (its status `sending`); returns a way to read it again."""

    def send():
        caller = new_phone()
        message_id = intake(caller).body["message_id"]
        assert queues.deliver()["batchItemFailures"] == []
        message = next(m for m in MessageItem.scan() if m.message_id == message_id)
        assert message.carrier_sid and message.status == "sending"
        return message.carrier_sid, lambda: MessageItem.get(message.pk, message.sk, consistent_read=True)

    return send


def most_advanced(statuses: list[str]) -> str:
    """Forward only: the highest rank wins, and among finals the first to arrive."""
    best = "sending"
    for status in statuses:
        if RANK[status] > RANK[best]:
            best = status
    return best


@pytest.mark.parametrize("order", list(itertools.permutations(["sending", "sent", "delivered"])))
def test_every_order_of_sending_sent_delivered_ends_delivered(order, sent_message, status_callback):
    sid, read = sent_message()
    for status in [*order, *order[::-1]]:  # and each one again, late
        status_callback(sid, status)
    assert read().status == "delivered"


@pytest.mark.parametrize("order", list(itertools.permutations(["sent", "undelivered", "sending"])))
def test_an_undelivered_report_in_any_order_keeps_its_error_and_is_never_overwritten(order, sent_message,
                                                                                    status_callback):
    sid, read = sent_message()
    for status in order:
        status_callback(sid, status)
    message = read()
    assert (message.status, message.error_code) == ("undelivered", 30003)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(on_the_way=st.lists(st.sampled_from(ON_THE_WAY), max_size=5), final=st.sampled_from(TERMINAL),
       late=st.lists(st.sampled_from(ON_THE_WAY + TERMINAL), max_size=4), data=st.data())
def test_shuffled_and_repeated_callbacks_leave_the_most_advanced_status(on_the_way, final, late, data,
                                                                        sent_message, status_callback):
    callbacks = data.draw(st.permutations([*on_the_way, final, *late]))
    sid, read = sent_message()
    for status in callbacks:
        status_callback(sid, status)
    assert read().status == most_advanced(callbacks)
