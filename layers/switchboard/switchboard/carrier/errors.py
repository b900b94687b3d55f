"""What the carrier refused, or why it could not be reached, in our words.

Reasons are for people (a message's error reason, a log line) and never carry a phone number or a
message body: Twilio's own messages do ("The 'To' number +1415… is not a valid phone number"), so
they are dropped here and only the code survives.
"""

from __future__ import annotations

from switchboard.carrier.error_codes import GENERIC_REASON, Outcome, explain, lookup

_STATUS_REASONS: dict[int, str] = {
    400: "carrier refused the request",
    401: "carrier rejected our credentials",
    403: "carrier forbade the request",
    404: "not found at the carrier",
}


def outcome_for_code(code: int | None) -> Outcome:
    """What an error code means, for a refused send or a status callback's `ErrorCode`."""
    if code is None:
        return Outcome.REFUSED
    entry = lookup(code)
    if entry is not None and entry.outcome is not None:
        return entry.outcome
    if 30000 <= code < 31000:  # the 300xx family is about delivery after the carrier accepted
        return Outcome.UNDELIVERED
    return Outcome.REFUSED


def reason_for_code(code: int | None) -> str:
    """A short human reason for a carrier error code (no patient data)."""
    return explain(code).reason


class CarrierError(Exception):
    """Anything the carrier module raises about the carrier."""


class CarrierNotConfigured(CarrierError):
    """The carrier credentials are missing or malformed."""


class CarrierRefused(CarrierError):
    """The carrier answered and said no: retrying the same request will not help."""

    def __init__(
        self, code: int | None, reason: str, outcome: Outcome | None = None, *, status: int | None = None
    ) -> None:
        self.code = code
        self.reason = reason
        self.outcome = outcome if outcome is not None else outcome_for_code(code)
        self.status = status
        super().__init__(f"{reason} (carrier code {code})" if code is not None else reason)


class CarrierUnavailable(CarrierError):
    """The carrier could not be reached or is in trouble: retry later.

    `uncertain` means the request may have taken effect at the carrier (a read timeout, a broken
    connection or a 5xx on a write): look the message up before sending it again.
    """

    def __init__(self, reason: str, status: int | None = None, uncertain: bool = False) -> None:
        self.reason = reason
        self.status = status
        self.uncertain = uncertain
        super().__init__(f"{reason} (HTTP {status})" if status is not None else reason)


def refusal(code: int | None, status: int | None = None) -> CarrierRefused:
    reason = reason_for_code(code) if code is not None else _STATUS_REASONS.get(status or 400, "")
    return CarrierRefused(code, reason or GENERIC_REASON, outcome_for_code(code), status=status)


def _from_answer(status: int | None, code: int | None, *, write: bool) -> CarrierError:
    if code is not None and status is not None and code == status:
        code = None  # the SDK puts the HTTP status in `code` when the body had none
    if status == 429 or code == 20429:
        return CarrierUnavailable(reason_for_code(20429), status, uncertain=False)
    if status is None or status >= 500:
        return CarrierUnavailable("carrier had a server error", status, uncertain=write)
    return refusal(code, status)


def _code_in(text: str) -> int | None:
    import json

    try:
        code = json.loads(text).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _never_connected(error: BaseException) -> bool:
    """True when a requests ConnectionError happened before anything was sent (refused, no DNS)."""
    from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | NameResolutionError)


def translate(error: BaseException, *, method: str) -> CarrierError | None:
    """Our exception for an SDK or HTTP error, or None when `error` is not about the carrier.

    Imports lazily: this only runs after the SDK (and requests) were loaded to make the call.
    """
    from requests import exceptions as http_errors
    from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

    write = method.upper() != "GET"
    if isinstance(error, TwilioRestException | TwilioServiceException):
        return _from_answer(error.status, error.code, write=write)
    if isinstance(error, TwilioException):
        # A list page that did not answer 200: the SDK passes the raw response as the second arg.
        response = next((arg for arg in error.args if hasattr(arg, "status_code")), None)
        if response is None:
            return CarrierUnavailable("carrier answered unexpectedly", None, uncertain=write)
        return _from_answer(int(response.status_code), _code_in(str(response.text)), write=write)
    if isinstance(error, http_errors.ConnectTimeout):
        return CarrierUnavailable("carrier did not accept the connection in time", None, uncertain=False)
    if isinstance(error, http_errors.Timeout):
        return CarrierUnavailable("carrier did not answer in time", None, uncertain=write)
    if isinstance(error, http_errors.ConnectionError):
        if _never_connected(error):
            return CarrierUnavailable("could not connect to the carrier", None, uncertain=False)
        return CarrierUnavailable("connection to the carrier broke", None, uncertain=write)
    if isinstance(error, http_errors.RequestException):
        return CarrierUnavailable("could not talk to the carrier", None, uncertain=write)
    return None
