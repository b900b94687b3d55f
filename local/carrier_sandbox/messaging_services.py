"""Twilio's Messaging Services and US A2P 10DLC registration: services, their sender pools, the campaign on
each service and the brand behind it, and what US carriers do with a local number's texts outside a
registered campaign (accepted, then failed with 30034)."""

from __future__ import annotations

import logging
from typing import Any

from local.carrier_sandbox import phones
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.http import Reply, Request, Route, json_reply, route, twilio_error
from local.carrier_sandbox.state import iso8601, new_sid, public

log = logging.getLogger("carrier_sandbox")

V1 = "https://messaging.twilio.com/v1"
CAMPAIGN_STATUSES = ("PENDING", "IN_PROGRESS", "VERIFIED", "FAILED", "SUSPENDED")
BRAND_STATUSES = ("PENDING", "IN_REVIEW", "APPROVED", "FAILED", "SUSPENDED")
UNREGISTERED = 30034
ALREADY_IN_SERVICE, IN_ANOTHER_SERVICE = 21710, 21712


def _v1_page(key: str, records: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {key: records, "meta": {"key": key, "page": 0, "page_size": max(len(records), 50), "url": url,
                                   "first_page_url": url, "previous_page_url": None, "next_page_url": None}}


class MessagingServices:
    def __init__(self, context: Context) -> None:
        self.context = context

    def routes(self) -> list[Route]:
        service = r"/v1/Services/(?P<service>MG[0-9a-f]+)"
        return [
            route("messaging", "POST", r"/v1/Services", self.create_service),
            route("messaging", "GET", r"/v1/Services", self.list_services),
            route("messaging", "GET", service, self.fetch_service),
            route("messaging", "DELETE", service, self.delete_service),
            route("messaging", "POST", rf"{service}/PhoneNumbers", self.add_number),
            route("messaging", "GET", rf"{service}/PhoneNumbers", self.list_numbers),
            route("messaging", "DELETE", rf"{service}/PhoneNumbers/(?P<number>PN[0-9a-f]+)", self.remove_number),
            route("messaging", "GET", rf"{service}/Compliance/Usa2p", self.list_campaigns),
            route("messaging", "GET", r"/v1/a2p/BrandRegistrations/(?P<brand>BN[0-9a-f]+)", self.fetch_brand),
            route("sandbox", "GET", r"/sandbox/services", self.control_list),
            route("sandbox", "POST", r"/sandbox/services/(?P<service>MG[0-9a-f]+)/campaign", self.control_campaign),
        ]

    # -- the Messaging API ------------------------------------------------------------------

    def create_service(self, request: Request) -> Reply:
        name = request.param("FriendlyName")
        if not name:
            return twilio_error(400, 20001)
        sid, now = new_sid("MG"), iso8601(self.context.store.now())
        service = {
            "sid": sid, "account_sid": self.context.account_sid, "friendly_name": name[:64],
            "date_created": now, "date_updated": now,
            "inbound_request_url": request.param("InboundRequestUrl"), "inbound_method": "POST",
            "use_inbound_webhook_on_number": (request.param("UseInboundWebhookOnNumber") or "").lower() == "true",
            "status_callback": request.param("StatusCallback"), "sticky_sender": True, "usecase": "undeclared",
            "us_app_to_person_registered": False, "url": f"{V1}/Services/{sid}",
            "links": {"phone_numbers": f"{V1}/Services/{sid}/PhoneNumbers",
                      "us_app_to_person": f"{V1}/Services/{sid}/Compliance/Usa2p"},
            "_numbers": [], "_campaign": None,
        }
        with self.context.store.change() as state:
            state.setdefault("services", {})[sid] = service
            initial = self.context.settings.new_campaign_status
            if initial:
                self._set_campaign(state, service, initial, None, [])
        return json_reply(public(service), 201)

    def list_services(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            found = [public(s) for s in state.get("services", {}).values()]
        return json_reply(_v1_page("services", found, f"{V1}/Services"))

    def fetch_service(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            service = state.get("services", {}).get(request.groups["service"])
            return json_reply(public(service)) if service else twilio_error(404, 20404, path=request.path)

    def delete_service(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            if state.get("services", {}).pop(request.groups["service"], None) is None:
                return twilio_error(404, 20404, path=request.path)
        return Reply(204)

    def add_number(self, request: Request) -> Reply:
        number_sid = request.param("PhoneNumberSid") or ""
        with self.context.store.change() as state:
            services = state.get("services", {})
            service = services.get(request.groups["service"])
            if service is None:
                return twilio_error(404, 20404, path=request.path)
            number = state["numbers"].get(number_sid)
            if number is None:
                return twilio_error(400, 21421)
            if number_sid in service["_numbers"]:
                return twilio_error(409, ALREADY_IN_SERVICE)
            if any(number_sid in other["_numbers"] for other in services.values()):
                return twilio_error(409, IN_ANOTHER_SERVICE)
            service["_numbers"].append(number_sid)
            return json_reply(self._pool_entry(service, number), 201)

    def list_numbers(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            service = state.get("services", {}).get(request.groups["service"])
            if service is None:
                return twilio_error(404, 20404, path=request.path)
            found = [self._pool_entry(service, state["numbers"][sid]) for sid in service["_numbers"]
                     if sid in state["numbers"]]
        return json_reply(_v1_page("phone_numbers", found, f"{V1}/Services/{service['sid']}/PhoneNumbers"))

    def remove_number(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            service = state.get("services", {}).get(request.groups["service"])
            if service is None or request.groups["number"] not in service["_numbers"]:
                return twilio_error(404, 20404, path=request.path)
            service["_numbers"].remove(request.groups["number"])
        return Reply(204)

    def list_campaigns(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            service = state.get("services", {}).get(request.groups["service"])
            if service is None:
                return twilio_error(404, 20404, path=request.path)
            found = [public(service["_campaign"])] if service["_campaign"] else []
        return json_reply(_v1_page("compliance", found, f"{V1}/Services/{service['sid']}/Compliance/Usa2p"))

    def fetch_brand(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            brand = state.get("brands", {}).get(request.groups["brand"])
            return json_reply(public(brand)) if brand else twilio_error(404, 20404, path=request.path)

    # -- what sends see ---------------------------------------------------------------------

    def send_problem(self, state: dict[str, Any], *, from_: str, service_sid: str | None) -> tuple[int, int] | None:
        """(HTTP status, code) refusing a send at once, or None. A MessagingServiceSid must name a service of the
        account holding `from_`."""
        if not service_sid:
            return None
        service = state.get("services", {}).get(service_sid)
        if service is None:
            return 404, 20404
        pool = {state["numbers"][sid]["phone_number"] for sid in service["_numbers"] if sid in state["numbers"]}
        if from_ not in pool:
            return 400, 21606
        return None

    def unregistered(self, state: dict[str, Any], from_: str) -> bool:
        """Whether US carriers block a text from this number of the account: a local (10DLC) number outside a
        Messaging Service whose campaign is verified on an approved brand. Numbers the account does not hold (the
        lenient `strict_from` off) and Twilio's test From are not judged."""
        if from_ == phones.MAGIC_FROM or phones.is_toll_free(from_):
            return False
        numbers = {n["phone_number"]: sid for sid, n in state["numbers"].items()}
        if from_ not in numbers:
            return False
        for service in state.get("services", {}).values():
            if numbers[from_] in service["_numbers"]:
                return not self._registered(state, service)
        return True

    # -- the control API --------------------------------------------------------------------

    def every(self) -> list[dict[str, Any]]:
        with self.context.store.read() as state:
            brands = state.get("brands", {})
            return [public(s) | {"phone_number_sids": list(s["_numbers"]),
                                 "campaign": public(s["_campaign"]) if s["_campaign"] else None,
                                 "brand": public(brands[s["_campaign"]["brand_registration_sid"]])
                                 if s["_campaign"] else None}
                    for s in state.get("services", {}).values()]

    def move_campaign(self, service_sid: str, status: str | None, brand_status: str | None,
                      errors: list[str]) -> bool:
        """The service's campaign (and its brand) to a state; None removes the campaign. False: no such service."""
        if status is not None and status not in CAMPAIGN_STATUSES:
            raise ValueError(f"campaign_status must be one of {', '.join(CAMPAIGN_STATUSES)} or null")
        if brand_status is not None and brand_status not in BRAND_STATUSES:
            raise ValueError(f"brand_status must be one of {', '.join(BRAND_STATUSES)}")
        with self.context.store.change() as state:
            service = state.get("services", {}).get(service_sid)
            if service is None:
                return False
            if status is None:
                service["_campaign"] = None
                service["us_app_to_person_registered"] = False
            else:
                self._set_campaign(state, service, status, brand_status, errors)
        log.info("carrier sandbox: the campaign on %s is now %s", service_sid, status)
        return True

    def control_list(self, request: Request) -> Reply:
        return json_reply({"services": self.every()})

    def control_campaign(self, request: Request) -> Reply:
        """`{"campaign_status": "IN_PROGRESS"|…|null, "brand_status"?: "APPROVED"|…, "errors"?: ["why", …]}`;
        null removes the campaign from the service."""
        document = request.json()
        try:
            moved = self.move_campaign(request.groups["service"], document.get("campaign_status"),
                                       document.get("brand_status"), [str(e) for e in document.get("errors") or []])
        except ValueError as error:
            return json_reply({"error": str(error)}, 400)
        if not moved:
            return json_reply({"error": "no such service"}, 404)
        return json_reply(next(s for s in self.every() if s["sid"] == request.groups["service"]))

    # -- helpers ------------------------------------------------------------------------------

    def _set_campaign(self, state: dict[str, Any], service: dict[str, Any], status: str, brand_status: str | None,
                      errors: list[str]) -> None:
        brands = state.setdefault("brands", {})
        campaign = service["_campaign"]
        now = iso8601(self.context.store.now())
        if campaign is None:
            brand_sid, campaign_sid = new_sid("BN"), new_sid("QE")
            brands[brand_sid] = {"sid": brand_sid, "account_sid": self.context.account_sid, "status": "APPROVED",
                                 "errors": [], "date_created": now, "date_updated": now,
                                 "url": f"{V1}/a2p/BrandRegistrations/{brand_sid}"}
            campaign = service["_campaign"] = {
                "sid": campaign_sid, "account_sid": self.context.account_sid,
                "brand_registration_sid": brand_sid, "messaging_service_sid": service["sid"],
                "description": "Patient texting for a clinic", "us_app_to_person_usecase": "CUSTOMER_CARE",
                "campaign_id": "C" + campaign_sid[2:8].upper(), "date_created": now,
                "url": f"{V1}/Services/{service['sid']}/Compliance/Usa2p/{campaign_sid}"}
        campaign.update({"campaign_status": status, "date_updated": now,
                         "errors": [{"description": e} for e in errors]})
        if brand_status:
            brands[campaign["brand_registration_sid"]].update({"status": brand_status, "date_updated": now})
        service["us_app_to_person_registered"] = self._registered(state, service)

    @staticmethod
    def _registered(state: dict[str, Any], service: dict[str, Any]) -> bool:
        campaign = service["_campaign"]
        if not campaign or campaign["campaign_status"] != "VERIFIED":
            return False
        brand = state.get("brands", {}).get(campaign["brand_registration_sid"]) or {}
        return brand.get("status") == "APPROVED"

    @staticmethod
    def _pool_entry(service: dict[str, Any], number: dict[str, Any]) -> dict[str, Any]:
        return {"sid": number["sid"], "account_sid": number["account_sid"], "service_sid": service["sid"],
                "phone_number": number["phone_number"], "country_code": "US",
                "capabilities": [k.upper() for k, v in number["capabilities"].items() if v],
                "url": f"{V1}/Services/{service['sid']}/PhoneNumbers/{number['sid']}"}
