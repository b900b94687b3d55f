"""What the carrier's campaign and brand states mean for a practice's texts."""

from datetime import UTC, datetime

import pytest

from switchboard.rules.registration import RegistrationState, registration_from

NOW = datetime.now(UTC)


@pytest.mark.parametrize(("campaign", "brand", "state"), [
    (None, None, RegistrationState.NOT_REGISTERED),
    ("VERIFIED", "APPROVED", RegistrationState.REGISTERED),
    ("VERIFIED", None, RegistrationState.REGISTERED),
    ("PENDING", "APPROVED", RegistrationState.IN_REVIEW),
    ("IN_PROGRESS", "APPROVED", RegistrationState.IN_REVIEW),
    ("VERIFIED", "IN_REVIEW", RegistrationState.IN_REVIEW),
    ("FAILED", "APPROVED", RegistrationState.FAILED),
    ("SUSPENDED", "APPROVED", RegistrationState.FAILED),
    ("VERIFIED", "SUSPENDED", RegistrationState.FAILED),
])
def test_the_campaign_and_its_brand_decide_the_state(campaign, brand, state):
    registration = registration_from(campaign, brand, [], NOW)
    assert registration.state is state
    assert registration.can_send is (state is RegistrationState.REGISTERED)


def test_a_failed_campaign_says_why_and_what_to_do():
    registration = registration_from("FAILED", "APPROVED", ["Sample messages do not match the use case"], NOW)
    assert registration.reason == "Sample messages do not match the use case"
    assert "Sample messages do not match" in registration.summary
    assert "resubmit" in registration.next_step
    assert "failed (Sample messages do not match the use case)" in registration.refusal()
    assert "30034" in registration.refusal()


def test_a_failure_without_a_reason_still_names_the_carriers_word():
    assert registration_from("SUSPENDED", None, [], NOW).reason == "the carrier says suspended"


def test_only_a_failure_carries_a_reason():
    assert registration_from("IN_PROGRESS", None, ["still looking"], NOW).reason is None
