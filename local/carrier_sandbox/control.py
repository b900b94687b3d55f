"""The control API (`/sandbox/...`, JSON, no auth): what the tests see and change, over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from local.carrier_sandbox import keywords
from local.carrier_sandbox.addresses import Addresses
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.hosted_orders import HostedOrders
from local.carrier_sandbox.http import Reply, Request, Route, json_reply, route
from local.carrier_sandbox.lookups import Lookups
from local.carrier_sandbox.messages import Messages
from local.carrier_sandbox.messaging_services import CAMPAIGN_STATUSES
from local.carrier_sandbox.numbers import Numbers
from local.carrier_sandbox.state import iso8601, parse_time


class Control:
    def __init__(
        self,
        context: Context,
        messages: Messages,
        numbers: Numbers,
        orders: HostedOrders,
        lookups: Lookups,
        addresses: Addresses,
        url: Callable[[], str],
    ) -> None:
        self.context = context
        self._addresses = addresses
        self._messages, self._numbers, self._orders, self._lookups = messages, numbers, orders, lookups
        self._url = url

    def routes(self) -> list[Route]:
        return [
            route("sandbox", "GET", r"/sandbox/health", self.health),
            route("sandbox", "GET", r"/sandbox/account", self.account),
            route("sandbox", "GET", r"/sandbox/messages", self.messages),
            route("sandbox", "GET", r"/sandbox/numbers", self.numbers),
            route("sandbox", "GET", r"/sandbox/orders", self.orders),
            route("sandbox", "GET", r"/sandbox/opt-outs", self.opt_outs),
            route("sandbox", "POST", r"/sandbox/advanced-opt-out/(?P<number>[^/]+)", self.set_advanced_opt_out),
            route("sandbox", "DELETE", r"/sandbox/advanced-opt-out/(?P<number>[^/]+)", self.clear_advanced_opt_out),
            route("sandbox", "POST", r"/sandbox/reset", self.reset),
            route("sandbox", "GET", r"/sandbox/landlines", self.landlines),
            route("sandbox", "POST", r"/sandbox/landlines", self.add_landlines),
            route("sandbox", "DELETE", r"/sandbox/landlines/(?P<number>[^/]+)", self.remove_landline),
            route("sandbox", "GET", r"/sandbox/faults", self.faults),
            route("sandbox", "POST", r"/sandbox/faults", self.add_faults),
            route("sandbox", "DELETE", r"/sandbox/faults", self.clear_faults),
            route("sandbox", "POST", r"/sandbox/orders/(?P<sid>[^/]+)/complete", self.complete_order),
            route("sandbox", "POST", r"/sandbox/orders/(?P<sid>[^/]+)/fail", self.fail_order),
            route("sandbox", "POST", r"/sandbox/orders/(?P<sid>[^/]+)/sign-loa", self.sign_loa),
            route("sandbox", "GET", r"/sandbox/addresses", self.addresses),
            route("sandbox", "GET", r"/sandbox/clock", self.clock),
            route("sandbox", "POST", r"/sandbox/clock", self.set_clock),
            route("sandbox", "GET", r"/sandbox/config", self.config),
            route("sandbox", "POST", r"/sandbox/config", self.set_config),
        ]

    def health(self, request: Request) -> Reply:
        return json_reply({"ok": True})

    def account(self, request: Request) -> Reply:
        context = self.context
        return json_reply({"account_sid": context.account_sid, "auth_token": context.auth_token, "url": self._url()})

    def messages(self, request: Request) -> Reply:
        found = self._messages.recorded(to=request.param("to"), from_=request.param("from"))
        direction = request.param("direction")
        return json_reply({"messages": [m for m in found if direction is None or m["direction"] == direction]})

    def numbers(self, request: Request) -> Reply:
        return json_reply({"numbers": self._numbers.incoming()})

    def orders(self, request: Request) -> Reply:
        return json_reply({"orders": self._orders.every()})

    def opt_outs(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            pairs = [dict(zip(("sender", "recipient"), p.split("|"), strict=True)) for p in state["opt_outs"]]
        return json_reply({"opt_outs": pairs})

    def set_advanced_opt_out(self, request: Request) -> Reply:
        """Advanced Opt-Out on the Messaging Service of this number, with its texts ({"stop", "start", "help"})."""
        with self.context.store.change() as state:
            keywords.set_advanced_opt_out(state, request.groups["number"], request.json())
            return json_reply({"number": request.groups["number"],
                               "texts": keywords.advanced_opt_out(state, request.groups["number"])})

    def clear_advanced_opt_out(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            keywords.set_advanced_opt_out(state, request.groups["number"], None)
        return json_reply({"number": request.groups["number"], "texts": None})

    def reset(self, request: Request) -> Reply:
        self.context.store.reset()
        return json_reply({"ok": True})

    def landlines(self, request: Request) -> Reply:
        return json_reply({"landlines": self._lookups.landlines()})

    def add_landlines(self, request: Request) -> Reply:
        document = request.json()
        numbers = [str(n) for n in document.get("phone_numbers", [])]
        if document.get("phone_number"):
            numbers.append(str(document["phone_number"]))
        self._lookups.add_landlines(*numbers)
        return self.landlines(request)

    def remove_landline(self, request: Request) -> Reply:
        self._lookups.remove_landline(request.groups["number"])
        return self.landlines(request)

    def faults(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            return json_reply({"faults": state["faults"], "rate": state["fault_rate"], "to": state.get("faults_for")})

    def add_faults(self, request: Request) -> Reply:
        document = request.json()
        if "rate" in document:
            fault = {k: v for k, v in document.items() if k not in ("rate", "seed")}
            fault = {k: v for k, v in fault.items() if k != "to"}
            self._messages.faults.set_rate(document["rate"], seed=document.get("seed"), **fault)
            if "to" in document:
                self._messages.faults.add(to=document["to"])
        else:
            faults = document.get("faults", [{k: v for k, v in document.items() if k != "to"}])
            self._messages.faults.add(*faults, to=document.get("to"))
        return self.faults(request)

    def clear_faults(self, request: Request) -> Reply:
        self._messages.faults.clear()
        return self.faults(request)

    def complete_order(self, request: Request) -> Reply:
        order = self._orders.force(request.groups["sid"], "completed", None)
        return json_reply(order) if order else json_reply({"error": "no such order"}, 404)

    def sign_loa(self, request: Request) -> Reply:
        order = self._orders.sign_loa(request.groups["sid"])
        return json_reply(order) if order else json_reply({"error": "no such order"}, 404)

    def addresses(self, request: Request) -> Reply:
        return json_reply({"addresses": self._addresses.every()})

    def fail_order(self, request: Request) -> Reply:
        document = request.json()
        reason = str(document.get("failure_reason") or "The carrier rejected the order")
        order = self._orders.force(request.groups["sid"], str(document.get("status") or "failed"), reason,
                                   next_step=document.get("next_step"))
        return json_reply(order) if order else json_reply({"error": "no such order"}, 404)

    def clock(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            now, offset = self.context.store.now(), state["clock_offset"]
        return json_reply({"now": iso8601(now), "offset_seconds": offset})

    def set_clock(self, request: Request) -> Reply:
        document = request.json()
        if "set" in document:
            moment = parse_time(str(document["set"]))
            if moment is None:
                return json_reply({"error": "'set' must be an ISO 8601 time"}, 400)
            self.context.advance_clock(moment - self.context.store.now())
        else:
            self.context.advance_clock(float(document.get("advance", 0)))
        return self.clock(request)

    def config(self, request: Request) -> Reply:
        settings = self.context.settings
        return json_reply(
            {
                "message_delays": list(settings.message_delays),
                "order_step_seconds": settings.order_step_seconds,
                "strict_from": settings.strict_from,
                "new_campaign_status": settings.new_campaign_status,
            }
        )

    def set_config(self, request: Request) -> Reply:
        document = request.json()
        settings = self.context.settings
        if "message_delays" in document:
            settings.message_delays = tuple(float(d) for d in document["message_delays"]) or (0.05,)
        if "order_step_seconds" in document:
            settings.order_step_seconds = float(document["order_step_seconds"])
        if "strict_from" in document:
            settings.strict_from = bool(document["strict_from"])
        if "new_campaign_status" in document:
            status = document["new_campaign_status"]
            if status is not None and status not in CAMPAIGN_STATUSES:
                return json_reply({"error": f"new_campaign_status must be one of {', '.join(CAMPAIGN_STATUSES)} "
                                   "or null"}, 400)
            settings.new_campaign_status = status
        return self.config(request)
