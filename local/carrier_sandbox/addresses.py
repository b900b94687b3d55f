"""Twilio's Addresses (2010-04-01 `Addresses.json`): create, fetch, update, list; hosted orders name one by sid."""

from __future__ import annotations

import logging
from typing import Any

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
from local.carrier_sandbox.state import new_sid, public, rfc2822

log = logging.getLogger("carrier_sandbox")

REQUIRED = ("CustomerName", "Street", "City", "Region", "PostalCode", "IsoCountry")
_FIELDS = {"CustomerName": "customer_name", "Street": "street", "StreetSecondary": "street_secondary",
           "City": "city", "Region": "region", "PostalCode": "postal_code", "FriendlyName": "friendly_name"}
# Twilio validates addresses against postal data; the sandbox refuses this one ZIP so tests can see a refusal.
UNDELIVERABLE_POSTAL_CODE = "00000"


class Addresses:
    def __init__(self, context: Context) -> None:
        self.context = context

    def routes(self) -> list[Route]:
        addresses = rf"{ACCOUNT}/Addresses\.json"
        address = rf"{ACCOUNT}/Addresses/(?P<sid>[^/]+)\.json"
        return [
            route("api", "POST", addresses, self.create_address),
            route("api", "GET", addresses, self.list_addresses),
            route("api", "GET", address, self.fetch_address),
            route("api", "POST", address, self.update_address),
        ]

    def every(self) -> list[dict[str, Any]]:
        with self.context.store.read() as state:
            return [public(a) for a in sorted(state["addresses"].values(), key=lambda a: a["_created"])]

    def create_address(self, request: Request) -> Reply:
        if any(not request.param(name) for name in REQUIRED):
            return twilio_error(400, 20001)
        if request.param("PostalCode") == UNDELIVERABLE_POSTAL_CODE:
            return twilio_error(400, 21628)
        sid, now = new_sid("AD"), self.context.store.now()
        address = {
            "sid": sid,
            "account_sid": self.context.account_sid,
            "customer_name": None,
            "friendly_name": None,
            "street": None,
            "street_secondary": None,
            "city": None,
            "region": None,
            "postal_code": None,
            "iso_country": request.param("IsoCountry"),
            "emergency_enabled": request.param("EmergencyEnabled") == "true",
            "validated": True,
            "verified": False,
            "date_created": rfc2822(now),
            "date_updated": rfc2822(now),
            "uri": f"/{API_VERSION}/Accounts/{self.context.account_sid}/Addresses/{sid}.json",
            "_created": now,
        }
        _apply(address, request)
        with self.context.store.change() as state:
            state["addresses"][sid] = address
        log.info("carrier sandbox took address %s", sid)
        return json_reply(public(address), 201)

    def update_address(self, request: Request) -> Reply:
        if request.param("PostalCode") == UNDELIVERABLE_POSTAL_CODE:
            return twilio_error(400, 21628)
        with self.context.store.change() as state:
            address = state["addresses"].get(request.groups["sid"])
            if address is None:
                return twilio_error(404, 20404, path=request.path)
            _apply(address, request)
            address["date_updated"] = rfc2822(self.context.store.now())
            return json_reply(public(address))

    def fetch_address(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            address = state["addresses"].get(request.groups["sid"])
            return json_reply(public(address)) if address else twilio_error(404, 20404, path=request.path)

    def list_addresses(self, request: Request) -> Reply:
        return list_page(request, "addresses", self.every())


def _apply(address: dict[str, Any], request: Request) -> None:
    for param, name in _FIELDS.items():
        value = request.param(param)
        if value is not None:
            address[name] = value
