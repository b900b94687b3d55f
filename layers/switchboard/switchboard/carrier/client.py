"""The carrier (Twilio) behind plain Python calls: sends, numbers, lookups (hosted numbers and Messaging Services
in their own modules).

`twilio.rest` (~200 ms with requests) is imported when the first `Carrier` is built, never at
module import. Nothing here logs a phone number or a message body, and no SDK object leaks out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from switchboard.carrier.errors import CarrierNotConfigured, CarrierRefused, refusal, translate
from switchboard.carrier.hosted_numbers import HostedNumberCalls
from switchboard.carrier.media import MediaCalls
from switchboard.carrier.messaging_services import MessagingServiceCalls

SECRET_MAX_AGE = 300


@dataclass(frozen=True, slots=True)
class Credentials:
    account_sid: str
    auth_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SentMessage:
    sid: str
    status: str
    num_segments: int


@dataclass(frozen=True, slots=True)
class CarrierMessage:
    sid: str
    status: str
    to: str
    from_: str
    error_code: int | None
    error_message: str | None
    body: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AvailableNumber:
    phone_number: str
    locality: str | None
    region: str | None


def credentials() -> Credentials:
    """The account's credentials from Secrets Manager (JSON `{"account_sid", "auth_token"}`).

    Powertools keeps the secret for SECRET_MAX_AGE seconds, so a warm function reads it once in a
    while and a rotated token is picked up without a redeploy.
    """
    from aws_lambda_powertools.utilities import parameters

    from switchboard.core.settings import carrier_settings

    name = carrier_settings().secret_name
    secret = parameters.get_secret(name, transform="json", max_age=SECRET_MAX_AGE)
    if not isinstance(secret, dict):
        raise CarrierNotConfigured(f"secret {name} is not a JSON object")
    missing = [key for key in ("account_sid", "auth_token") if not isinstance(secret.get(key), str)]
    if missing:
        raise CarrierNotConfigured(f"secret {name} lacks {', '.join(missing)}")
    return Credentials(account_sid=secret["account_sid"], auth_token=secret["auth_token"])


def carrier() -> Carrier:
    """The process's carrier, pointed at the sandbox when `CARRIER_API_URL` is set.

    Built once per set of credentials: the SDK client (and its connection pool) is reused across
    invocations, and a rotated secret gets a new one.
    """
    from switchboard.core.settings import carrier_settings

    return _carrier_for(credentials(), carrier_settings().api_url)


@lru_cache(maxsize=2)
def _carrier_for(account: Credentials, api_url: str | None) -> Carrier:
    return Carrier(account, api_url=api_url)


def _message(instance: Any) -> CarrierMessage:
    return CarrierMessage(
        sid=instance.sid,
        status=instance.status,
        to=instance.to,
        from_=instance.from_,
        error_code=int(instance.error_code) if instance.error_code is not None else None,
        body=instance.body,
        error_message=instance.error_message or None,
    )


class Carrier(MessagingServiceCalls, HostedNumberCalls, MediaCalls):
    """The real Twilio client; `api_url` sends it to the carrier sandbox instead of Twilio."""

    def __init__(self, credentials: Credentials, *, api_url: str | None = None, timeout: float | None = None) -> None:
        from twilio.rest import Client

        from switchboard.carrier.http import DEFAULT_TIMEOUT, CarrierHttpClient, SandboxHttpClient

        seconds = timeout or DEFAULT_TIMEOUT
        http_client = SandboxHttpClient(api_url, timeout=seconds) if api_url else CarrierHttpClient(timeout=seconds)
        self.account_sid = credentials.account_sid
        self._auth = (credentials.account_sid, credentials.auth_token)
        self._api_url = api_url.rstrip("/") if api_url else None
        self._timeout = seconds
        self._client = Client(credentials.account_sid, credentials.auth_token, http_client=http_client)

    @staticmethod
    def _call[T](method: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except Exception as error:
            ours = translate(error, method=method)
            if ours is None:
                raise
            raise ours from None  # the SDK's message and URL may carry a phone number

    def send_message(self, *, to: str, from_: str, body: str, status_callback: str,
                     messaging_service_sid: str | None = None, media_urls: list[str] | None = None) -> SentMessage:
        """Hands a text to the carrier (`queued`, or `accepted` through a Messaging Service); an empty
        `status_callback` asks for no callbacks. With a service, `from_` must be in its sender pool: the
        patient sees the line they know, and the service's A2P 10DLC campaign carries the text. `media_urls`
        make it an MMS: the carrier fetches each as it sends."""
        extra: dict[str, Any] = {"status_callback": status_callback} if status_callback else {}
        if media_urls:
            extra["media_url"] = media_urls
        if messaging_service_sid:
            extra["messaging_service_sid"] = messaging_service_sid
        message = self._call("POST", lambda: self._client.messages.create(to=to, from_=from_, body=body, **extra))
        return SentMessage(sid=message.sid, status=message.status, num_segments=int(message.num_segments or 1))

    def fetch_message(self, sid: str) -> CarrierMessage:
        return _message(self._call("GET", lambda: self._client.messages(sid).fetch()))

    def find_messages(self, *, to: str, from_: str, sent_after: datetime, limit: int = 100) -> list[CarrierMessage]:
        """Messages from `from_` to `to` that the carrier created at or after `sent_after`, newest first.

        For finding a send that may have reached the carrier before a crash. Twilio's `DateSent`
        filter skips messages not yet sent (no `date_sent`), so the list is filtered by To/From at
        the carrier and by `date_created` here.
        """
        since = sent_after if sent_after.tzinfo else sent_after.replace(tzinfo=UTC)
        found = self._call("GET", lambda: self._client.messages.list(to=to, from_=from_, limit=limit))
        return [_message(m) for m in found if m.date_created is None or m.date_created >= since]

    def search_numbers(self, *, area_code: str, contains: str | None = None, limit: int = 20) -> list[AvailableNumber]:
        """US local numbers that can text, in `area_code` (three digits)."""
        if not (len(area_code) == 3 and area_code.isdigit()):
            raise ValueError("area code must be three digits")
        filters: dict[str, Any] = {"area_code": int(area_code), "sms_enabled": True, "limit": limit}
        if contains:
            filters["contains"] = contains
        found = self._call("GET", lambda: self._client.available_phone_numbers("US").local.list(**filters))
        return [
            AvailableNumber(phone_number=n.phone_number, locality=n.locality or None, region=n.region or None)
            for n in found
        ]

    def buy_number(self, *, phone_number: str, sms_url: str, voice_url: str) -> str:
        """Buys `phone_number` with our webhooks on it; the incoming number's sid (PN…).

        No `StatusCallback`: on a number it is where Twilio reports the progress of its *calls*, which nothing
        here reads (message statuses are asked for per send)."""
        number = self._call(
            "POST",
            lambda: self._client.incoming_phone_numbers.create(
                phone_number=phone_number,
                sms_url=sms_url,
                sms_method="POST",
                voice_url=voice_url,
                voice_method="POST",
            ),
        )
        return str(number.sid)

    def update_number(self, sid: str, *, sms_url: str, voice_url: str) -> None:
        """Points a number at our webhooks, and clears a call-status callback an earlier purchase set."""
        self._call(
            "POST",
            lambda: self._client.incoming_phone_numbers(sid).update(
                sms_url=sms_url,
                sms_method="POST",
                voice_url=voice_url,
                voice_method="POST",
                status_callback="",
            ),
        )

    def sends_pictures(self, sid: str) -> bool:
        """Whether the account's number can send MMS, as the carrier lists its capabilities."""
        number = self._call("GET", lambda: self._client.incoming_phone_numbers(sid).fetch())
        capabilities = number.capabilities or {}
        return bool(capabilities.get("mms") or capabilities.get("MMS"))

    def release_number(self, sid: str) -> None:
        """Gives the number back; a number already gone counts as released."""
        try:
            self._call("DELETE", lambda: self._client.incoming_phone_numbers(sid).delete())
        except CarrierRefused as refused:
            if refused.status != 404:
                raise

    def line_type(self, phone_number: str) -> str:
        """`mobile`, `landline`, `fixedVoip`, `nonFixedVoip`, `tollFree`… or `unknown`.

        A number the carrier says is not valid raises CarrierRefused (INVALID_NUMBER).
        """
        found = self._call(
            "GET",
            lambda: self._client.lookups.v2.phone_numbers(phone_number).fetch(fields="line_type_intelligence"),
        )
        if found.valid is False:
            raise refusal(21211)
        intelligence = found.line_type_intelligence or {}
        return str(intelligence.get("type") or "unknown")
