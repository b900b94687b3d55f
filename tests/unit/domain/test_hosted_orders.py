"""A hosted-number order's state: what the poller does with the line and what the card says."""

import pytest

from switchboard.rules.hosted_orders import (
    OrderOutcome,
    line_status,
    loa_may_change,
    loa_summary,
    order_state,
    outcome,
    status_reason,
)
from switchboard.rules.line_status import LineStatus


@pytest.mark.parametrize("status", ["twilio-processing", "received", "pending-verification", "verified",
                                    "pending-loa", "carrier-processing", "testing", "action-required"])
def test_every_state_short_of_completed_or_failed_keeps_the_line_pending(status):
    assert outcome(status) is OrderOutcome.WAIT
    assert line_status(status) is LineStatus.PENDING


def test_completed_enables_and_failed_fails():
    assert line_status("completed") is LineStatus.ENABLED
    assert line_status("failed") is LineStatus.FAILED


def test_action_required_says_the_next_step_on_the_card():
    state = order_state("action-required", next_step="Upload a utility bill showing the service address",
                        failure_reason="Address does not match the carrier's records", loa_email="dana@example.com")
    assert state.summary == "Action needed: Upload a utility bill showing the service address"
    assert state.next_step == "Upload a utility bill showing the service address"
    assert status_reason(state) == state.summary


def test_action_required_without_a_next_step_still_says_where_to_look():
    assert "Twilio's console" in order_state("action-required", next_step=None, failure_reason=None,
                                             loa_email=None).summary


def test_failed_order_carries_twilios_reason_and_no_next_step():
    state = order_state("failed", next_step="stale", failure_reason="LOA signer does not match", loa_email=None)
    assert state.summary == "The order failed: LOA signer does not match"
    assert state.next_step is None
    assert status_reason(state) == "LOA signer does not match"


def test_waiting_states_say_what_twilio_is_waiting_for():
    assert "letter of authorization" in order_state("pending-loa", next_step=None, failure_reason=None,
                                                    loa_email="dana@example.com").summary
    assert status_reason(order_state("completed", next_step=None, failure_reason=None, loa_email=None)) is None


def test_a_state_twilio_adds_later_is_shown_in_its_own_words():
    assert order_state("paused", next_step=None, failure_reason=None, loa_email=None).summary.endswith("paused")


@pytest.mark.parametrize(("loa_status", "words"), [
    (None, None),
    ("opened", "being prepared; Twilio emails it to dana@clinic.example for signing"),
    ("signing", "sent to dana@clinic.example — not signed yet"),
    ("signed", "signed"),
    ("canceled", "canceled; retry the order to send a new one"),
    ("expired", "Twilio reports it as expired"),
])
def test_the_card_says_where_the_letter_of_authorization_is(loa_status, words):
    assert loa_summary(loa_status, "dana@clinic.example") == words
    state = order_state("pending-loa", next_step=None, failure_reason=None, loa_email="dana@clinic.example",
                        loa_status=loa_status)
    assert (state.loa_status, state.loa_summary) == (loa_status, words)


def test_the_poller_stops_asking_about_a_letter_once_it_is_final_or_the_order_ended():
    assert loa_may_change("pending-loa", None) and loa_may_change("pending-loa", "signing")
    assert not loa_may_change("pending-loa", "signed")
    assert not loa_may_change("completed", "signing") and not loa_may_change("failed", None)
