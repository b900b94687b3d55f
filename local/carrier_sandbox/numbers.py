"""Twilio's phone-number APIs: available numbers, and the account's incoming numbers (buy, list, fetch, update,
release)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from local.carrier_sandbox import phones
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.http import (
    ACCOUNT,
    API_VERSION,
    Reply,
    Request,
    Route,
    json_reply,
    list_page,
    route,
    twilio_error,
)
from local.carrier_sandbox.state import new_sid, rfc2822

if TYPE_CHECKING:  # hosted_orders imports this module for the number resource
    from local.carrier_sandbox.hosted_orders import HostedOrders

log = logging.getLogger("carrier_sandbox")

_SETTINGS = {
    "FriendlyName": "friendly_name",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
}


def owned(state: dict[str, Any]) -> set[str]:
    """The account's numbers, and those a live hosted order is bringing in: neither can be bought."""
    pending = {o["phone_number"] for o in state["orders"].values() if o["status"] not in ("failed",)}
    return {n["phone_number"] for n in state["numbers"].values()} | pending


def number_resource(context: Context, number: str, **settings: Any) -> dict[str, Any]:
    sid, now = new_sid("PN"), rfc2822(context.store.now())
    return {
        "account_sid": context.account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": now,
        "date_updated": now,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "friendly_name": phones.friendly(number),
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": number,
        "sid": sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": f"/{API_VERSION}/Accounts/{context.account_sid}/IncomingPhoneNumbers/{sid}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": "",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    } | settings


def _settings_in(request: Request) -> dict[str, str]:
    return {field: request.param(name) or "" for name, field in _SETTINGS.items() if name in request.form}


class Numbers:
    """Every read settles the hosted orders first, so a completed order's number is there."""

    def __init__(self, context: Context, orders: HostedOrders) -> None:
        self.context = context
        self.orders = orders

    def routes(self) -> list[Route]:
        available = rf"{ACCOUNT}/AvailablePhoneNumbers/(?P<country>[^/]+)/Local\.json"
        numbers = rf"{ACCOUNT}/IncomingPhoneNumbers\.json"
        number = rf"{ACCOUNT}/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json"
        return [
            route("api", "GET", available, self.available_numbers),
            route("api", "POST", numbers, self.buy_number),
            route("api", "GET", numbers, self.list_numbers),
            route("api", "GET", number, self.fetch_number),
            route("api", "POST", number, self.update_number),
            route("api", "DELETE", number, self.release_number),
        ]

    def incoming(self) -> list[dict[str, Any]]:
        """The account's numbers (bought, or hosted by a completed order), as the REST API shows them."""
        with self.context.store.change() as state:
            self.orders.settle(state)
            return [dict(n) for n in state["numbers"].values()]

    def find(self, phone_number: str) -> dict[str, Any] | None:
        with self.context.store.change() as state:
            self.orders.settle(state)
            return next((dict(n) for n in state["numbers"].values() if n["phone_number"] == phone_number), None)

    def available_numbers(self, request: Request) -> Reply:
        area_code, contains = request.param("AreaCode") or "", request.param("Contains")
        size = max(1, min(int(request.param("PageSize") or 50), 1000))
        with self.context.store.read() as state:
            taken = owned(state)
        city, region, postal_code = phones.AREA_CODES.get(area_code, ("", "", ""))
        numbers = []
        if request.groups["country"] == "US":
            for number in phones.candidates(area_code, contains):
                if number in taken:
                    continue
                numbers.append(
                    {
                        "friendly_name": phones.friendly(number),
                        "phone_number": number,
                        "lata": None,
                        "locality": city or None,
                        "rate_center": city.upper()[:10] or None,
                        "latitude": None,
                        "longitude": None,
                        "region": region or None,
                        "postal_code": postal_code or None,
                        "iso_country": "US",
                        "address_requirements": "none",
                        "beta": False,
                        "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
                    }
                )
                if len(numbers) >= size:
                    break
        return list_page(request, "available_phone_numbers", numbers)

    def buy_number(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            self.orders.settle(state)
            taken = owned(state)
            number = request.param("PhoneNumber")
            if number is None and request.param("AreaCode"):
                number = next((n for n in phones.candidates(request.param("AreaCode") or "") if n not in taken), None)
            if not number or not phones.is_valid(number):
                return twilio_error(400, 21421)
            if number in taken:
                return twilio_error(400, 21422)
            resource = number_resource(self.context, number, **_settings_in(request))
            state["numbers"][resource["sid"]] = resource
        log.info("carrier sandbox sold %s as %s", phones.mask(number), resource["sid"])
        return json_reply(resource, 201)

    def list_numbers(self, request: Request) -> Reply:
        number = request.param("PhoneNumber")
        with self.context.store.change() as state:
            self.orders.settle(state)
            found = [n for n in state["numbers"].values() if number is None or n["phone_number"] == number]
            return list_page(request, "incoming_phone_numbers", sorted(found, key=lambda n: n["phone_number"]))

    def fetch_number(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            self.orders.settle(state)
            number = state["numbers"].get(request.groups["sid"])
            return json_reply(number) if number else twilio_error(404, 20404, path=request.path)

    def update_number(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            number = state["numbers"].get(request.groups["sid"])
            if number is None:
                return twilio_error(404, 20404, path=request.path)
            number.update(_settings_in(request), date_updated=rfc2822(self.context.store.now()))
            return json_reply(number)

    def release_number(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            number = state["numbers"].pop(request.groups["sid"], None)
        if number is None:
            return twilio_error(404, 20404, path=request.path)
        log.info("carrier sandbox released %s", number["sid"])
        return Reply(204)
