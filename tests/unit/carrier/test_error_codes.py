"""The carrier's codes in staff's words: one table covers the send and delivery errors staff meet."""

from __future__ import annotations

import re

import pytest

from switchboard.carrier.error_codes import CODES, UNCONFIRMED, explain, failure
from switchboard.carrier.errors import reason_for_code

pytestmark = pytest.mark.no_aws  # touches no AWS: the unit tier's moto set-up is skipped

SEND_ERRORS = (21211, 21214, 21408, 21602, 21604, 21606, 21610, 21611, 21612, 21614, 21617, 21621, 21635, 21654,
               21703, 21704, 21705)
PHONE_OR_DIGIT_RUN = re.compile(r"\+?\d{7,}")


@pytest.mark.parametrize("code", SEND_ERRORS)
def test_every_send_error_staff_can_meet_has_a_plain_reason(code: int) -> None:
    assert CODES[code].reason


def test_every_delivery_error_from_30001_to_30036_has_a_plain_reason() -> None:
    missing = [code for code in range(30001, 30037) if code not in CODES]
    assert missing == []


def test_no_reason_or_advice_carries_a_number_and_unconfirmed_codes_are_all_in_the_table() -> None:
    texts = [t for entry in CODES.values() for t in (entry.reason, entry.what_to_do) if t]
    assert [t for t in texts if PHONE_OR_DIGIT_RUN.search(t)] == []
    assert UNCONFIRMED <= CODES.keys()


def test_a_known_code_is_explained_with_what_to_do() -> None:
    explained = explain(30007)
    assert (explained.code, explained.reason) == (30007, "filtered as spam by the carrier")
    assert explained.what_to_do and "Call the patient" in explained.what_to_do
    assert explain(21610).what_to_do and "START" in explain(21610).what_to_do


def test_an_unknown_code_is_named_not_guessed_at() -> None:
    explained = explain(39999)
    assert (explained.code, explained.reason, explained.what_to_do) == (39999, "carrier error 39999", None)


def test_errors_reads_the_same_table() -> None:
    assert all(reason_for_code(code) == entry.reason for code, entry in CODES.items())


@pytest.mark.parametrize(
    ("status", "code", "recorded", "shown"),
    [
        ("delivered", None, None, None),
        ("sent", 30007, None, None),
        ("undelivered", 30003, "whatever was stored", (30003, "recipient's phone is unreachable")),
        ("failed", None, "line is disabled", (None, "line is disabled")),
        ("failed", None, None, (None, "the carrier gave no reason")),
        ("suppressed", None, "recipient opted out", (None, "recipient opted out")),
    ],
)
def test_only_a_message_that_did_not_go_is_explained(status, code, recorded, shown) -> None:
    why = failure(status, code, recorded)
    assert ((why.code, why.reason) if why else None) == shown


@pytest.mark.parametrize("code", [21421, 21654, 30012, 30013])
def test_codes_about_our_own_set_up_do_not_send_staff_to_the_patient(code: int) -> None:
    # Twilio's dictionary: 21421 is a bad number in a purchase or messaging-service request, 21654 a template
    # sent without its id, 30012/30013 a delivery window set too short or too long; none is the patient's number.
    explained = explain(code)
    assert code not in UNCONFIRMED
    assert explained.what_to_do and "administrator" in explained.what_to_do
    assert "patient" not in explained.what_to_do
