"""Twilio's Lookup v2 (`line_type_intelligence`), and the landlines it and the Messages API know."""

from __future__ import annotations

from local.carrier_sandbox import phones
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.http import Reply, Request, Route, json_reply, route


class Lookups:
    def __init__(self, context: Context) -> None:
        self.context = context

    def routes(self) -> list[Route]:
        return [route("lookups", "GET", r"/v2/PhoneNumbers/(?P<number>[^/]+)", self.lookup)]

    def landlines(self) -> list[str]:
        """The landlines registered through the control API (the fixed ones are in `phones`)."""
        with self.context.store.read() as state:
            return list(state["landlines"])

    def add_landlines(self, *numbers: str) -> None:
        with self.context.store.change() as state:
            state["landlines"] = sorted(set(state["landlines"]) | set(numbers))

    def remove_landline(self, number: str) -> None:
        with self.context.store.change() as state:
            state["landlines"] = [n for n in state["landlines"] if n != number]

    def lookup(self, request: Request) -> Reply:
        number = request.groups["number"].strip()
        fields = {f.strip() for f in (request.param("Fields") or "").split(",")}
        valid = phones.is_valid(number) and number != "+15005550001"
        with self.context.store.read() as state:
            landline = valid and phones.is_landline(number, state["landlines"])
        intelligence = None
        if valid and "line_type_intelligence" in fields:
            intelligence = {
                "error_code": None,
                "mobile_country_code": None if landline else "310",
                "mobile_network_code": None if landline else "260",
                "carrier_name": "Sandbox Landline Co." if landline else "Sandbox Wireless",
                "type": "landline" if landline else "mobile",
            }
        return json_reply(
            {
                "calling_country_code": "1" if number.startswith("+1") else None,
                "country_code": "US" if valid and number.startswith("+1") else None,
                "phone_number": number,
                "national_format": phones.friendly(number) if valid else None,
                "valid": valid,
                "validation_errors": [] if valid else ["NOT_A_NUMBER"],
                "caller_name": None,
                "sim_swap": None,
                "call_forwarding": None,
                "line_status": None,
                "line_type_intelligence": intelligence,
                "identity_match": None,
                "reassigned_number": None,
                "sms_pumping_risk": None,
                "phone_number_quality_score": None,
                "pre_fill": None,
                "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{number}",
            }
        )
