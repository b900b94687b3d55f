"""Twilio's Messages API: sends (refused as Twilio refuses them, or failed by injected faults), fetch, list, and
each accepted message's way to `delivered` with its status callbacks (an MMS's media fetched first)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping
from typing import Any

from local.carrier_sandbox import phones
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.hosted_orders import HostedOrders
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
from local.carrier_sandbox.media import FAILURE_MESSAGES, MAX_MEDIA, Media, host_of, is_media_url
from local.carrier_sandbox.messaging_services import UNREGISTERED, MessagingServices
from local.carrier_sandbox.state import Store, dlr_done, new_sid, parse_time, public, rfc2822

log = logging.getLogger("carrier_sandbox")

FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received"})
DEFAULT_ERROR_CODES = {429: 20429, 500: 20500, 503: 20503}
DEFAULT_FINAL_CODES = {"undelivered": 30003, "failed": 30008}
STATUS_MESSAGES = {"undelivered": "Unreachable destination handset", "failed": "Message could not be sent"}


class Faults:
    """The faults queued for the next creates, then those a fault rate draws (see the package docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._random = random.Random()

    def add(self, *faults: Mapping[str, Any], to: Iterable[str] | None = None) -> None:
        """Queue faults; with `to`, sends to other numbers pass them by (and the rate too), so a test's faults
        reach only its own recipients."""
        with self.store.change() as state:
            state["faults"].extend(dict(f) for f in faults)
            if to is not None:
                state["faults_for"] = sorted(set(to))

    def set_rate(self, rate: float | None, *, seed: int | None = None, **fault: Any) -> None:
        with self.store.change() as state:
            state["fault_rate"] = {"rate": rate, "seed": seed, **fault} if rate else None
            self._random = random.Random(seed)

    def clear(self) -> None:
        with self.store.change() as state:
            state["faults"] = []
            state["fault_rate"] = None
            state["faults_for"] = None

    def next(self, to: str) -> dict[str, Any] | None:
        with self.store.change() as state:
            scope = state.get("faults_for")
            if scope is not None and to not in scope:
                return None
            queue = state["faults"]
            if queue:
                fault = dict(queue[0])
                remaining = int(fault.get("count", 1)) - 1
                if remaining > 0:
                    queue[0]["count"] = remaining
                else:
                    queue.pop(0)
                return fault
            rate = state["fault_rate"]
            if rate and self._random.random() < float(rate["rate"]):
                return {k: v for k, v in rate.items() if k not in ("rate", "seed")}
        return None


class Messages:
    def __init__(self, context: Context, orders: HostedOrders, services: MessagingServices) -> None:
        self.context = context
        self.orders = orders
        self.services = services
        self.faults = Faults(context.store)
        self.media = Media(context)

    def routes(self) -> list[Route]:
        return [
            route("api", "POST", rf"{ACCOUNT}/Messages\.json", self.create_message),
            route("api", "GET", rf"{ACCOUNT}/Messages\.json", self.list_messages),
            route("api", "GET", rf"{ACCOUNT}/Messages/(?P<sid>[^/]+)\.json", self.fetch_message),
            *self.media.routes(),
        ]

    def recorded(self, *, to: str | None = None, from_: str | None = None) -> list[dict[str, Any]]:
        """Every message the sandbox accepted or received, oldest first, with its `status_callback` and `media`."""
        with self.context.store.read() as state:
            media = self.media.summary(state)
            return [
                public(m) | {"status_callback": m["_status_callback"], "media": media.get(m["sid"], [])}
                for m in sorted(state["messages"].values(), key=lambda m: m["_created"])
                if (to is None or m["to"] == to) and (from_ is None or m["from"] == from_)
            ]

    def create_message(self, request: Request) -> Reply:
        fault = self.faults.next(request.param("To") or "") or {}
        if fault.get("delay"):
            self.context.pause(float(fault["delay"]))
        accept = bool(fault.get("accept_then_fail") or fault.get("hang"))
        if not accept and (fault.get("status") or fault.get("code")):
            status = int(fault.get("status") or (429 if fault.get("code") == 20429 else 400))
            log.info("carrier sandbox: injected fault %s on a send", status)
            return twilio_error(status, int(fault.get("code") or DEFAULT_ERROR_CODES.get(status, 20001)))
        with self.context.store.change() as state:
            self.orders.settle(state)
            refused = self._refusal(request, state)
            if refused is not None:
                return refused
            final = str(fault.get("final_status") or "delivered")
            error_code = fault.get("error_code") or DEFAULT_FINAL_CODES.get(final)
            from_ = request.param("From") or ""
            if self.services.unregistered(state, from_):
                final, error_code = "failed", UNREGISTERED  # carriers block it after Twilio accepted it
            service_sid = request.param("MessagingServiceSid")
            media_urls = request.form.get("MediaUrl", [])
            message = self.new_message(
                state,
                to=request.param("To") or "",
                from_=from_,
                body=request.param("Body") or "",
                direction="outbound-api",
                status="accepted" if service_sid else "queued",
                status_callback=request.param("StatusCallback"),
                final=final,
                error_code=error_code,
                messaging_service_sid=service_sid,
                prefix="MM" if media_urls else "SM",
            )
            message["_media_urls"] = media_urls  # fetched on the way to delivery, as Twilio fetches them
        log.info("carrier sandbox accepted %s to %s%s", message["sid"], phones.mask(message["to"]),
                 f" with media from {', '.join(sorted({host_of(u) for u in media_urls}))}" if media_urls else "")
        self.schedule_delivery(message["sid"], 0)
        if fault.get("hang"):
            hang = fault["hang"]
            self.context.pause(30.0 if hang is True else float(hang))
        elif accept:
            status = int(fault.get("status") or 500)
            return twilio_error(status, int(fault.get("code") or DEFAULT_ERROR_CODES.get(status, 20500)))
        return json_reply(public(message), 201)

    def _refusal(self, request: Request, state: dict[str, Any]) -> Reply | None:
        to, from_, body = request.param("To"), request.param("From"), request.param("Body")
        if not to:
            return twilio_error(400, 21604)
        if not from_:
            return twilio_error(400, 21603)
        media_urls = request.form.get("MediaUrl", [])
        if not body and not media_urls:
            return twilio_error(400, 21602)
        if len(media_urls) > MAX_MEDIA:
            return twilio_error(400, 21623)
        if not all(is_media_url(u) for u in media_urls):
            return twilio_error(400, 21620)
        if not phones.is_valid(to):
            return twilio_error(400, 21211, to=to)
        owned = {n["phone_number"] for n in state["numbers"].values() if n["capabilities"].get("sms")}
        if self.context.settings.strict_from and from_ != phones.MAGIC_FROM and from_ not in owned:
            return twilio_error(400, 21606, from_=from_)
        if to in phones.MAGIC_TO_ERRORS:
            return twilio_error(400, phones.MAGIC_TO_ERRORS[to], to=to, from_=from_)
        if phones.is_landline(to, state["landlines"]):
            return twilio_error(400, 21614, to=to)
        problem = self.services.send_problem(state, from_=from_, service_sid=request.param("MessagingServiceSid"))
        if problem is not None:
            return twilio_error(problem[0], problem[1], from_=from_, path=request.path)
        if f"{from_}|{to}" in state["opt_outs"]:
            return twilio_error(400, 21610)
        if body and len(body) > 1600:
            return twilio_error(400, 21617)
        return None

    def new_message(
        self,
        state: dict[str, Any],
        *,
        to: str,
        from_: str,
        body: str,
        direction: str,
        status: str,
        status_callback: str | None = None,
        final: str = "delivered",
        error_code: int | None = None,
        messaging_service_sid: str | None = None,
        prefix: str = "SM",
    ) -> dict[str, Any]:
        """Stores a message (`prefix` MM for an MMS, as Twilio names them); one not yet final goes to `final` once
        `schedule_delivery` starts it."""
        account_sid = self.context.account_sid
        sid, now = new_sid(prefix), self.context.store.now()
        plan = {"delivered": ["sending", "sent", "delivered"], "undelivered": ["sending", "sent", "undelivered"]}
        message = {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": rfc2822(now),
            "date_sent": rfc2822(now) if direction == "inbound" else None,
            "date_updated": rfc2822(now),
            "direction": direction,
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": messaging_service_sid,
            "num_media": "0",
            "num_segments": str(phones.segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json",
            "_created": now,
            "_sent": now if direction == "inbound" else None,
            "_status_callback": status_callback,
            "_plan": [] if status in FINAL_STATUSES else plan.get(final, ["failed"]),
            "_error_code": error_code,
        }
        state["messages"][sid] = message
        return message

    def schedule_delivery(self, sid: str, step: int) -> None:
        delays = self.context.settings.message_delays
        self.context.call_later(delays[min(step, len(delays) - 1)], self._advance_message, sid, step)

    def resume_deliveries(self) -> None:
        with self.context.store.read() as state:
            pending = [sid for sid, m in state["messages"].items() if m["_plan"] and m["status"] not in FINAL_STATUSES]
        for sid in pending:
            self.schedule_delivery(sid, 0)

    def _advance_message(self, sid: str, step: int) -> None:
        self._fetch_media(sid)
        with self.context.store.change() as state:
            message = state["messages"].get(sid)
            if message is None or not message["_plan"]:
                return
            status = message["_plan"].pop(0)
            now = self.context.store.now()
            message["status"], message["date_updated"] = status, rfc2822(now)
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": self.context.account_sid,
                "From": message["from"],
                "To": message["to"],
                "ApiVersion": API_VERSION,
            }
            if status == "sent":
                message["date_sent"], message["_sent"] = rfc2822(now), now
            if status in ("failed", "undelivered"):
                code = int(message["_error_code"] or DEFAULT_FINAL_CODES[status])
                message["error_code"] = code
                message["error_message"] = FAILURE_MESSAGES.get(code, STATUS_MESSAGES[status])
                params["ErrorCode"] = str(code)
            if status in ("delivered", "undelivered"):
                params["RawDlrDoneDate"] = dlr_done(now)
            callback, more = message["_status_callback"], bool(message["_plan"])
        if callback:
            answer, _, problem = self.context.post_webhook(
                callback, params, timeout=self.context.settings.callback_timeout
            )
            if problem or (answer or 500) >= 400:
                log.warning("carrier sandbox: status callback for %s dropped (%s)", sid, problem or f"HTTP {answer}")
        if more:
            self.schedule_delivery(sid, step + 1)

    def _fetch_media(self, sid: str) -> None:
        """A send's MediaUrls, fetched before the carrier gets it; outside the lock, as each may take 10 s."""
        with self.context.store.read() as state:
            urls = list(state["messages"].get(sid, {}).get("_media_urls") or [])
        if not urls:
            return
        fetched, error_code = self.media.retrieve(urls)
        with self.context.store.change() as state:
            message = state["messages"].get(sid)
            if message is None:
                return
            message["_media_urls"] = []  # presigned URLs carry credentials: not kept once used
            if error_code is not None:
                message["_plan"], message["_error_code"] = ["failed"], error_code
            else:
                self.media.add(state, message, fetched)

    def fetch_message(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            message = state["messages"].get(request.groups["sid"])
            return json_reply(public(message)) if message else twilio_error(404, 20404, path=request.path)

    def list_messages(self, request: Request) -> Reply:
        to, from_ = request.param("To"), request.param("From")
        windows = [(op, request.param(f"DateSent{op}")) for op in ("", "<", ">")]
        with self.context.store.read() as state:
            found = [
                m
                for m in state["messages"].values()
                if (to is None or m["to"] == to)
                and (from_ is None or m["from"] == from_)
                and all(_sent_matches(m["_sent"], op, value) for op, value in windows if value)
            ]
            found.sort(key=lambda m: m["_created"], reverse=True)
            return list_page(request, "messages", [public(m) for m in found])


def _sent_matches(sent: float | None, op: str, value: str) -> bool:
    """Twilio's `DateSent`, `DateSent<` (on or before) and `DateSent>` (on or after) filters."""
    if sent is None:
        return False
    moment = parse_time(value)
    if moment is None:
        return True
    day = len(value.strip()) == 10  # a bare YYYY-MM-DD means the whole day
    if op == ">":
        return sent >= moment
    if op == "<":
        return sent < moment + 86400 if day else sent <= moment
    return moment <= sent < moment + 86400 if day else sent == moment
