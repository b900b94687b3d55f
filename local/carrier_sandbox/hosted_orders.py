"""Twilio's hosted-number orders (numbers.twilio.com v2): create, fetch, list, moved along the sandbox clock."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from local.carrier_sandbox import phones
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.http import Reply, Request, Route, json_reply, route, twilio_error
from local.carrier_sandbox.numbers import number_resource, owned
from local.carrier_sandbox.state import iso8601, new_sid, public

log = logging.getLogger("carrier_sandbox")

ORDER_STEPS = ("received", "pending-verification", "verified", "pending-loa", "carrier-processing", "completed")
_SETTLED = ("completed", "failed")
# Twilio holds an action-required order until the clinic acts; the sandbox's control endpoint moves it on.
_HELD = "action-required"
# Twilio lets an order be cancelled (deleted) only while it is still `received`.
_CANCELLABLE = ("twilio-processing", "received")
# An order past `pending-loa` has its letter of authorization signed.
_LOA_SIGNED = ("carrier-processing", "testing", "completed")


class HostedOrders:
    def __init__(self, context: Context) -> None:
        self.context = context

    def routes(self) -> list[Route]:
        return [
            route("numbers", "POST", r"/v2/HostedNumber/Orders", self.create_order),
            route("numbers", "GET", r"/v2/HostedNumber/Orders", self.list_orders),
            route("numbers", "GET", r"/v2/HostedNumber/Orders/(?P<sid>[^/]+)", self.fetch_order),
            route("numbers", "DELETE", r"/v2/HostedNumber/Orders/(?P<sid>[^/]+)", self.delete_order),
            route("numbers", "GET", r"/v2/HostedNumber/AuthorizationDocuments/(?P<sid>[^/]+)",
                  self.fetch_authorization_document),
        ]

    def every(self) -> list[dict[str, Any]]:
        """Every hosted-number order, oldest first, in its current status."""
        with self.context.store.change() as state:
            self.settle(state)
            return [public(o) for o in sorted(state["orders"].values(), key=lambda o: o["_created"])]

    def force(self, sid: str, status: str, failure_reason: str | None,
              next_step: str | None = None) -> dict[str, Any] | None:
        """Moves an order now (unless it has ended): `completed`, `failed` with a reason, or
        `action-required` with a reason and the next step the clinic must take (the order then waits)."""
        with self.context.store.change() as state:
            order = state["orders"].get(sid)
            if order is None:
                return None
            if order["status"] not in _SETTLED:
                order["_forced"] = status
                order["failure_reason"] = failure_reason if status != "completed" else None
                order["next_step"] = next_step if status == _HELD else None
            self.settle(state)
            return public(order)

    def sign_loa(self, sid: str) -> dict[str, Any] | None:
        """The signer signs the order's letter of authorization (its authorization document turns `signed`)."""
        with self.context.store.change() as state:
            order = state["orders"].get(sid)
            if order is None:
                return None
            order["_loa_signed"] = True
            self.settle(state)
            return public(order)

    def settle(self, state: dict[str, Any]) -> None:
        """Moves orders along the sandbox clock; a completed order's number joins the account."""
        now = self.context.store.now()
        step_seconds = max(self.context.settings.order_step_seconds, 1e-6)
        for order in state["orders"].values():
            if order["status"] in _SETTLED:
                continue
            if order["_forced"]:
                status = order["_forced"]
            else:
                elapsed = now - float(order["_created"])
                status = ORDER_STEPS[min(int(elapsed // step_seconds), len(ORDER_STEPS) - 1)]
            if status != order["status"]:
                order["status"], order["date_updated"] = status, iso8601(now)
            if status == "completed" and not order["incoming_phone_number_sid"]:
                resource = number_resource(
                    self.context,
                    order["phone_number"],
                    origin="hosted",
                    capabilities={"voice": False, "sms": True, "mms": False, "fax": False},
                    friendly_name=order["friendly_name"],
                    sms_url=order["_sms_url"],
                    sms_method=order["_sms_method"],
                )
                state["numbers"][resource["sid"]] = resource
                order["incoming_phone_number_sid"] = resource["sid"]

    def create_order(self, request: Request) -> Reply:
        number, contact, email = (request.param(n) for n in ("PhoneNumber", "ContactPhoneNumber", "Email"))
        address_sid = request.param("AddressSid")
        if not number or not contact or not email or not address_sid:
            return twilio_error(400, 20001)
        if not phones.is_valid(number):
            return twilio_error(400, 21421)
        with self.context.store.change() as state:
            self.settle(state)
            if address_sid not in state["addresses"]:
                return twilio_error(400, 22109)
            if number in owned(state):
                return twilio_error(400, 21422)
            sid, now = new_sid("HR"), self.context.store.now()
            order = {
                "sid": sid,
                "account_sid": self.context.account_sid,
                "incoming_phone_number_sid": None,
                "address_sid": address_sid,
                "signing_document_sid": new_sid("PX"),
                "phone_number": number,
                "capabilities": {"sms": True, "voice": False},
                "friendly_name": request.param("FriendlyName") or number,
                "status": ORDER_STEPS[0],
                "failure_reason": None,
                "date_created": iso8601(now),
                "date_updated": iso8601(now),
                "email": email,
                "cc_emails": request.form.get("CcEmails", []),
                "url": f"https://numbers.twilio.com/v2/HostedNumber/Orders/{sid}",
                "contact_title": request.param("ContactTitle"),
                "contact_phone_number": contact,
                "bulk_hosting_request_sid": None,
                "next_step": None,
                "verification_attempts": 0,
                "verification_call_sids": None,
                "verification_call_delay": 0,
                "verification_call_extension": None,
                "verification_code": None,
                "verification_type": "phone-call",
                "_created": now,
                "_forced": None,
                "_loa_signed": False,
                "_sms_url": request.param("SmsUrl") or "",
                "_sms_method": request.param("SmsMethod") or "POST",
                "_status_callback_url": request.param("StatusCallbackUrl"),
            }
            state["orders"][sid] = order
        log.info("carrier sandbox took hosted order %s for %s", sid, phones.mask(number))
        return json_reply(public(order), 201)

    def fetch_order(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            self.settle(state)
            order = state["orders"].get(request.groups["sid"])
            return json_reply(public(order)) if order else twilio_error(404, 20404, path=request.path)

    def fetch_authorization_document(self, request: Request) -> Reply:
        """The order's letter of authorization, sent to its email for signing once the number is verified."""
        with self.context.store.change() as state:
            self.settle(state)
            sid = request.groups["sid"]
            order = next((o for o in state["orders"].values() if o["signing_document_sid"] == sid), None)
            if order is None:
                return twilio_error(404, 20404, path=request.path)
            return json_reply({
                "sid": sid,
                "address_sid": order["address_sid"],
                "status": _loa_status(order),
                "email": order["email"],
                "cc_emails": order["cc_emails"],
                "date_created": order["date_created"],
                "date_updated": order["date_updated"],
                "url": f"https://numbers.twilio.com/v2/HostedNumber/AuthorizationDocuments/{sid}",
                "links": {"dependent_hosted_number_orders":
                          f"https://numbers.twilio.com/v2/HostedNumber/AuthorizationDocuments/{sid}/DependentHostedNumberOrders"},
            })

    def delete_order(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            self.settle(state)
            order = state["orders"].get(request.groups["sid"])
            if order is None:
                return twilio_error(404, 20404, path=request.path)
            if order["status"] not in _CANCELLABLE:
                return twilio_error(400, 22112)
            del state["orders"][order["sid"]]
        log.info("carrier sandbox cancelled hosted order %s", order["sid"])
        return Reply(204)

    def list_orders(self, request: Request) -> Reply:
        status, number = request.param("Status"), request.param("PhoneNumber")
        with self.context.store.change() as state:
            self.settle(state)
            found = [
                public(o)
                for o in sorted(state["orders"].values(), key=lambda o: o["_created"], reverse=True)
                if (status is None or o["status"] == status) and (number is None or o["phone_number"] == number)
            ]
        size = max(1, min(int(request.param("PageSize") or 50), 1000))
        page = max(0, int(request.param("Page") or 0))
        url = "https://numbers.twilio.com/v2/HostedNumber/Orders"

        def page_url(n: int) -> str:
            return f"{url}?{urlencode({'PageSize': size, 'Page': n})}"

        more = (page + 1) * size < len(found)
        meta = {
            "page": page,
            "page_size": size,
            "first_page_url": page_url(0),
            "previous_page_url": page_url(page - 1) if page else None,
            "url": page_url(page),
            "next_page_url": page_url(page + 1) if more else None,
            "key": "items",
        }
        return json_reply({"items": found[page * size : (page + 1) * size], "meta": meta})


def _loa_status(order: dict[str, Any]) -> str:
    """`opened` until the order waits on the letter, `signing` while it is with the signer, then `signed`."""
    if order.get("_loa_signed") or order["status"] in _LOA_SIGNED:
        return "signed"
    return "signing" if order["status"] == "pending-loa" else "opened"
