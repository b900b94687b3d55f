"""The carrier's errors in our words: what each code means, and what may be retried."""

from __future__ import annotations

import re

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.response import Response
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from switchboard.carrier import CarrierRefused, CarrierUnavailable, Outcome, outcome_for_code, reason_for_code
from switchboard.carrier.errors import translate

pytestmark = pytest.mark.no_aws  # touches no AWS: the unit tier's moto set-up is skipped

PATIENT = "+14155552671"


def rest_error(status: int, code: int | None, method: str = "POST") -> TwilioRestException:
    message = f"Unable to create record: The 'To' number {PATIENT} is not a valid phone number."
    return TwilioRestException(status, f"/Accounts/AC1/Messages.json?To={PATIENT}", message, code, method)


@pytest.mark.parametrize(
    ("code", "outcome", "reason"),
    [
        (21610, Outcome.OPTED_OUT, "recipient opted out"),
        (21614, Outcome.NOT_TEXTABLE, "not a mobile number"),
        (21635, Outcome.NOT_TEXTABLE, "not a mobile number"),
        (21211, Outcome.INVALID_NUMBER, "invalid phone number"),
        (21612, Outcome.REFUSED, "carrier cannot route to this number"),
    ],
)
def test_a_refused_send_maps_to_its_outcome_and_a_human_reason(code: int, outcome: Outcome, reason: str) -> None:
    error = translate(rest_error(400, code), method="POST")

    assert isinstance(error, CarrierRefused)
    assert (error.code, error.outcome, error.reason, error.status) == (code, outcome, reason, 400)


@pytest.mark.parametrize("code", [21610, 21614, 21211, 20003, 99999, None])
def test_no_reason_ever_carries_the_patients_number(code: int | None) -> None:
    error = translate(rest_error(400, code), method="POST")

    assert error is not None
    assert not re.search(r"\d{7}", str(error)), str(error)
    assert "4155552671" not in repr(error.args)


@pytest.mark.parametrize(
    ("status", "code", "method", "uncertain"),
    [
        (429, 20429, "POST", False),
        (429, None, "POST", False),
        (400, 20429, "POST", False),
        (500, 20500, "POST", True),
        (503, None, "POST", True),
        (502, 502, "DELETE", True),
        (500, 20500, "GET", False),
    ],
)
def test_rate_limits_and_server_errors_are_unavailable(
    status: int, code: int | None, method: str, uncertain: bool
) -> None:
    error = translate(rest_error(status, code, method), method=method)

    assert isinstance(error, CarrierUnavailable)
    assert (error.status, error.uncertain) == (status, uncertain)


def test_a_problem_details_error_is_translated_like_a_rest_error() -> None:
    problem = TwilioServiceException("https://twilio.com/errors/21610", "Unsubscribed", 400, 21610)

    error = translate(problem, method="POST")

    assert isinstance(error, CarrierRefused) and error.outcome is Outcome.OPTED_OUT


def test_a_list_page_that_did_not_answer_200_is_translated_from_its_response() -> None:
    page_error = TwilioException("Unable to fetch page", Response(503, '{"code": 20503, "status": 503}'))

    error = translate(page_error, method="GET")

    assert isinstance(error, CarrierUnavailable) and (error.status, error.uncertain) == (503, False)


def test_the_http_status_the_sdk_puts_in_code_is_not_a_carrier_code() -> None:
    error = translate(rest_error(404, 404, "DELETE"), method="DELETE")

    assert isinstance(error, CarrierRefused)
    assert (error.code, error.status, error.reason) == (None, 404, "not found at the carrier")


def test_a_read_timeout_on_a_send_is_uncertain() -> None:
    error = translate(requests.exceptions.ReadTimeout("read timed out"), method="POST")

    assert isinstance(error, CarrierUnavailable) and error.uncertain and error.status is None


def test_a_read_timeout_on_a_fetch_is_not_uncertain() -> None:
    error = translate(requests.exceptions.ReadTimeout("read timed out"), method="GET")

    assert isinstance(error, CarrierUnavailable) and not error.uncertain


def test_a_connect_timeout_never_reached_the_carrier() -> None:
    error = translate(requests.exceptions.ConnectTimeout("connect timed out"), method="POST")

    assert isinstance(error, CarrierUnavailable) and not error.uncertain


def test_a_refused_connection_never_reached_the_carrier() -> None:
    refused = MaxRetryError(None, "/", NewConnectionError(None, "Connection refused"))  # type: ignore[arg-type]

    error = translate(requests.exceptions.ConnectionError(refused), method="POST")

    assert isinstance(error, CarrierUnavailable) and not error.uncertain


def test_a_connection_broken_mid_send_is_uncertain() -> None:
    broken = ProtocolError("Connection aborted.", ConnectionResetError())

    error = translate(requests.exceptions.ConnectionError(broken), method="POST")

    assert isinstance(error, CarrierUnavailable) and error.uncertain


def test_errors_that_are_not_about_the_carrier_are_left_alone() -> None:
    assert translate(KeyError("sid"), method="POST") is None


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (30003, Outcome.UNDELIVERED),
        (30005, Outcome.UNDELIVERED),
        (30006, Outcome.NOT_TEXTABLE),
        (30007, Outcome.SPAM_FILTERED),
        (30008, Outcome.UNDELIVERED),
        (21610, Outcome.OPTED_OUT),
        (None, Outcome.REFUSED),
    ],
)
def test_status_callback_error_codes_have_outcomes(code: int | None, outcome: Outcome) -> None:
    assert outcome_for_code(code) is outcome


def test_status_callback_error_codes_have_human_reasons() -> None:
    assert reason_for_code(30006) == "not a mobile number"
    assert reason_for_code(30007) == "filtered as spam by the carrier"
    assert reason_for_code(12345) == "carrier error 12345"
