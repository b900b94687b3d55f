"""The carrier sandbox's HTTP server: Twilio's REST API, the control API and the phone simulator."""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import logging
import random
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from local.carrier_sandbox import phones
from local.carrier_sandbox.state import Store, dlr_done, iso8601, new_sid, parse_time, rfc2822
from switchboard.carrier.signatures import sign

log = logging.getLogger("carrier_sandbox")

API_VERSION = "2010-04-01"
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "received"})
ORDER_STEPS = ("received", "pending-verification", "verified", "pending-loa", "carrier-processing", "completed")
DEFAULT_ERROR_CODES = {429: 20429, 500: 20500, 503: 20503}
DEFAULT_FINAL_CODES = {"undelivered": 30003, "failed": 30008}
ERROR_MESSAGES = {
    20001: "Invalid parameter",
    20004: "Method not allowed",
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    21421: "PhoneNumber is invalid.",
    21422: "PhoneNumber is not available.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The From phone number {from_} is not a valid, SMS-capable inbound phone number "
    "or short code for your account.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: {from_} via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
STATUS_MESSAGES = {"undelivered": "Unreachable destination handset", "failed": "Message could not be sent"}


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: Message
    body: bytes
    groups: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value


def json_reply(document: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(document).encode())


def twilio_error(status: int, code: int, **facts: str) -> Reply:
    message = ERROR_MESSAGES.get(code, "Error").format_map(_Defaults(facts))
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return json_reply({"code": code, "message": message, "more_info": more_info, "status": status}, status)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _public(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


class Timers:
    """Runs callables after a delay on a small pool, so slow callback receivers don't stall the clock."""

    def __init__(self, workers: int = 16) -> None:
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._ready = threading.Condition()
        self._order = itertools.count()
        self._closed = False
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="carrier-sandbox-timer")
        self._thread = threading.Thread(target=self._run, name="carrier-sandbox-clock", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        with self._ready:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._order), action, args))
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._heap.clear()
            self._ready.notify()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._ready.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._closed:
                    return
                _, _, action, args = heapq.heappop(self._heap)
            try:
                self._pool.submit(self._safely, action, args)
            except RuntimeError:  # pool shut down under us
                return

    @staticmethod
    def _safely(action: Callable[..., None], args: tuple[Any, ...]) -> None:
        try:
            action(*args)
        except Exception:
            log.exception("carrier sandbox timer failed")


Route = tuple[str, str, re.Pattern[str], str]
_ACCOUNT = r"/2010-04-01/Accounts/(?P<account>[^/]+)"


def _routes(*rows: tuple[str, str, str, str]) -> list[Route]:
    return [(api, method, re.compile(f"^{pattern}$"), handler) for api, method, pattern, handler in rows]


ROUTES = _routes(
    ("api", "POST", rf"{_ACCOUNT}/Messages\.json", "create_message"),
    ("api", "GET", rf"{_ACCOUNT}/Messages\.json", "list_messages"),
    ("api", "GET", rf"{_ACCOUNT}/Messages/(?P<sid>[^/]+)\.json", "fetch_message"),
    ("api", "GET", rf"{_ACCOUNT}/AvailablePhoneNumbers/(?P<country>[^/]+)/Local\.json", "available_numbers"),
    ("api", "POST", rf"{_ACCOUNT}/IncomingPhoneNumbers\.json", "buy_number"),
    ("api", "GET", rf"{_ACCOUNT}/IncomingPhoneNumbers\.json", "list_numbers"),
    ("api", "GET", rf"{_ACCOUNT}/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json", "fetch_number"),
    ("api", "POST", rf"{_ACCOUNT}/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json", "update_number"),
    ("api", "DELETE", rf"{_ACCOUNT}/IncomingPhoneNumbers/(?P<sid>[^/]+)\.json", "release_number"),
    ("numbers", "POST", r"/v2/HostedNumber/Orders", "create_order"),
    ("numbers", "GET", r"/v2/HostedNumber/Orders", "list_orders"),
    ("numbers", "GET", r"/v2/HostedNumber/Orders/(?P<sid>[^/]+)", "fetch_order"),
    ("lookups", "GET", r"/v2/PhoneNumbers/(?P<number>[^/]+)", "lookup"),
    ("sandbox", "GET", r"/sandbox/health", "control_health"),
    ("sandbox", "GET", r"/sandbox/account", "control_account"),
    ("sandbox", "GET", r"/sandbox/messages", "control_messages"),
    ("sandbox", "GET", r"/sandbox/numbers", "control_numbers"),
    ("sandbox", "GET", r"/sandbox/orders", "control_orders"),
    ("sandbox", "GET", r"/sandbox/opt-outs", "control_opt_outs"),
    ("sandbox", "POST", r"/sandbox/reset", "control_reset"),
    ("sandbox", "GET", r"/sandbox/landlines", "control_landlines"),
    ("sandbox", "POST", r"/sandbox/landlines", "control_add_landlines"),
    ("sandbox", "DELETE", r"/sandbox/landlines/(?P<number>[^/]+)", "control_remove_landline"),
    ("sandbox", "GET", r"/sandbox/faults", "control_faults"),
    ("sandbox", "POST", r"/sandbox/faults", "control_add_faults"),
    ("sandbox", "DELETE", r"/sandbox/faults", "control_clear_faults"),
    ("sandbox", "POST", r"/sandbox/orders/(?P<sid>[^/]+)/complete", "control_complete_order"),
    ("sandbox", "POST", r"/sandbox/orders/(?P<sid>[^/]+)/fail", "control_fail_order"),
    ("sandbox", "GET", r"/sandbox/clock", "control_clock"),
    ("sandbox", "POST", r"/sandbox/clock", "control_set_clock"),
    ("sandbox", "GET", r"/sandbox/config", "control_config"),
    ("sandbox", "POST", r"/sandbox/config", "control_set_config"),
    ("sandbox", "POST", r"/sandbox/inbound/sms", "simulate_sms"),
    ("sandbox", "POST", r"/sandbox/inbound/call", "simulate_call"),
)


def _split_api(path: str) -> tuple[str, str]:
    """(api, path within it): `/api.twilio.com/2010-04-01/…` → ("api", "/2010-04-01/…")."""
    first, _, rest = path.lstrip("/").partition("/")
    if first.endswith("twilio.com"):
        return first.split(".")[0], "/" + rest
    if path.startswith("/sandbox/") or path == "/sandbox":
        return "sandbox", path
    if path.startswith("/v2/HostedNumber"):
        return "numbers", path
    if path.startswith("/v2/PhoneNumbers"):
        return "lookups", path
    return "api", path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: CarrierSandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("carrier sandbox connection error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "CarrierSandbox/1.0"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.sandbox.handle(method, self.path, self.headers, body)
        try:
            self.send_response(reply.status)
            for name, value in {**reply.headers, **self._cors_headers()}.items():
                self.send_header(name, value)
            if reply.status != 204:
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status != 204:
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            log.info("carrier sandbox: the client left before the answer (%s)", reply.status)

    def do_OPTIONS(self) -> None:
        """CORS preflight: the console's phone simulator (a page of the local gateway) calls /sandbox/..."""
        allowed = self._cors_headers()
        self.send_response(204 if allowed else 403)
        for name, value in allowed.items():
            self.send_header(name, value)
        if allowed:
            self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cors_headers(self) -> dict[str, str]:
        """Pages on this machine (the local gateway) may read the control API; nothing else, no Twilio API."""
        origin = self.headers.get("Origin", "")
        if self.path.startswith("/sandbox/") and re.fullmatch(r"http://(127\.0\.0\.1|localhost)(:\d+)?", origin):
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines carry phone numbers (lookups, list filters)


class CarrierSandbox:
    """A local, Twilio-compatible carrier. See the package docstring for the API it serves."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_base_url: str | None = None,
        message_delays: tuple[float, ...] = (0.05, 0.05, 0.1),
        order_step_seconds: float = 60.0,
        strict_from: bool = True,
        callback_timeout: float = 5.0,
    ) -> None:
        self.store = Store(Path(data_dir))
        self.host, self.port = host, port
        self.api_base_url = api_base_url
        self.message_delays = tuple(message_delays) or (0.05,)
        self.order_step_seconds = order_step_seconds
        self.strict_from = strict_from
        self.callback_timeout = callback_timeout
        self._stopping = threading.Event()
        self._random = random.Random()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._timers: Timers | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def account_sid(self) -> str:
        return self.store.account_sid

    @property
    def auth_token(self) -> str:
        return self.store.auth_token

    @property
    def url(self) -> str:
        return (self.api_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def start(self) -> CarrierSandbox:
        self._stopping.clear()
        self.store.open()
        self._timers = Timers()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.sandbox = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="carrier-sandbox", daemon=True
        )
        self._thread.start()
        self._resume_deliveries()
        log.info("carrier sandbox listening on %s (account %s)", self.url, self.account_sid)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._timers is not None:
            self._timers.close()
        self._server = self._thread = self._timers = None
        self.store.close()

    def __enter__(self) -> CarrierSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- Python control API (the /sandbox endpoints call these) ------------------------------

    def messages(self, *, to: str | None = None, from_: str | None = None) -> list[dict[str, Any]]:
        """Every message the sandbox accepted or received, oldest first, with its `status_callback`."""
        with self.store.read() as state:
            return [
                _public(m) | {"status_callback": m["_status_callback"]}
                for m in sorted(state["messages"].values(), key=lambda m: m["_created"])
                if (to is None or m["to"] == to) and (from_ is None or m["from"] == from_)
            ]

    def incoming_numbers(self) -> list[dict[str, Any]]:
        """The account's numbers (bought, or hosted by a completed order), as the REST API shows them."""
        with self.store.change() as state:
            self._settle_orders(state)
            return [dict(n) for n in state["numbers"].values()]

    def hosted_orders(self) -> list[dict[str, Any]]:
        """Every hosted-number order, oldest first, in its current status."""
        with self.store.change() as state:
            self._settle_orders(state)
            return [_public(o) for o in sorted(state["orders"].values(), key=lambda o: o["_created"])]

    def reset(self) -> None:
        self.store.reset()

    def register_landline(self, *numbers: str) -> None:
        with self.store.change() as state:
            state["landlines"] = sorted(set(state["landlines"]) | set(numbers))

    def add_faults(self, *faults: Mapping[str, Any]) -> None:
        """Faults for the next `Messages.json` creates, in order (see the package docstring)."""
        with self.store.change() as state:
            state["faults"].extend(dict(f) for f in faults)

    def set_fault_rate(self, rate: float | None, *, seed: int | None = None, **fault: Any) -> None:
        with self.store.change() as state:
            state["fault_rate"] = {"rate": rate, "seed": seed, **fault} if rate else None
            self._random = random.Random(seed)

    def clear_faults(self) -> None:
        with self.store.change() as state:
            state["faults"] = []
            state["fault_rate"] = None

    def advance_clock(self, seconds: float) -> float:
        with self.store.change() as state:
            state["clock_offset"] = float(state["clock_offset"]) + seconds
            return self.store.now()

    def complete_order(self, sid: str) -> dict[str, Any] | None:
        return self._force_order(sid, "completed", None)

    def fail_order(self, sid: str, failure_reason: str, status: str = "failed") -> dict[str, Any] | None:
        return self._force_order(sid, status, failure_reason)

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        api, path = _split_api(unquote(parts.path))
        query = parse_qs(parts.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        if body and "application/x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
            form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        request = Request(method, path, query, form, headers, body)
        allowed: list[str] = []
        for route_api, route_method, pattern, name in ROUTES:
            match = pattern.match(path) if route_api == api else None
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            request.groups = match.groupdict()
            try:
                if api != "sandbox":
                    refused = self._authenticate(request)
                    if refused is not None:
                        return refused
                handler: Callable[[Request], Reply] = getattr(self, name)
                return handler(request)
            except (ValueError, KeyError, TypeError) as error:
                if api == "sandbox":
                    return json_reply({"error": f"bad request: {error!r}"}, 400)
                return twilio_error(400, 20001)
            except Exception:
                log.exception("carrier sandbox could not serve %s %s", method, name)
                return twilio_error(500, 20500)
        if allowed:
            return twilio_error(405, 20004) if api != "sandbox" else json_reply({"error": "method not allowed"}, 405)
        return twilio_error(404, 20404, path=path)

    def _authenticate(self, request: Request) -> Reply | None:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if (request.headers.get("Authorization") or "") != f"Basic {expected}":
            reply = twilio_error(401, 20003)
            reply.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return reply
        account = request.groups.get("account")
        if account is not None and account != self.account_sid:
            return twilio_error(404, 20404, path=request.path)
        return None

    def _pause(self, seconds: float) -> None:
        self._stopping.wait(max(float(seconds), 0.0))

    # -- messages ----------------------------------------------------------------------------

    def _next_fault(self) -> dict[str, Any] | None:
        with self.store.change() as state:
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

    def _refusal(self, request: Request, state: dict[str, Any]) -> Reply | None:
        to, from_, body = request.param("To"), request.param("From"), request.param("Body")
        if not to:
            return twilio_error(400, 21604)
        if not from_:
            return twilio_error(400, 21603)
        if not body and not request.param("MediaUrl"):
            return twilio_error(400, 21602)
        if not phones.is_valid(to):
            return twilio_error(400, 21211, to=to)
        owned = {n["phone_number"] for n in state["numbers"].values() if n["capabilities"].get("sms")}
        if self.strict_from and from_ != phones.MAGIC_FROM and from_ not in owned:
            return twilio_error(400, 21606, from_=from_)
        if to in phones.MAGIC_TO_ERRORS:
            return twilio_error(400, phones.MAGIC_TO_ERRORS[to], to=to, from_=from_)
        if self._is_landline(state, to):
            return twilio_error(400, 21614, to=to)
        if f"{from_}|{to}" in state["opt_outs"]:
            return twilio_error(400, 21610)
        if body and len(body) > 1600:
            return twilio_error(400, 21617)
        return None

    def create_message(self, request: Request) -> Reply:
        fault = self._next_fault() or {}
        if fault.get("delay"):
            self._pause(float(fault["delay"]))
        accept = bool(fault.get("accept_then_fail") or fault.get("hang"))
        if not accept and (fault.get("status") or fault.get("code")):
            status = int(fault.get("status") or (429 if fault.get("code") == 20429 else 400))
            log.info("carrier sandbox: injected fault %s on a send", status)
            return twilio_error(status, int(fault.get("code") or DEFAULT_ERROR_CODES.get(status, 20001)))
        with self.store.change() as state:
            self._settle_orders(state)
            refused = self._refusal(request, state)
            if refused is not None:
                return refused
            final = str(fault.get("final_status") or "delivered")
            message = self._new_message(
                state,
                to=request.param("To") or "",
                from_=request.param("From") or "",
                body=request.param("Body") or "",
                direction="outbound-api",
                status="queued",
                status_callback=request.param("StatusCallback"),
                final=final,
                error_code=fault.get("error_code") or DEFAULT_FINAL_CODES.get(final),
            )
        log.info("carrier sandbox accepted %s to %s", message["sid"], phones.mask(message["to"]))
        self._schedule_delivery(message["sid"], 0)
        if fault.get("hang"):
            hang = fault["hang"]
            self._pause(30.0 if hang is True else float(hang))
        elif accept:
            status = int(fault.get("status") or 500)
            return twilio_error(status, int(fault.get("code") or DEFAULT_ERROR_CODES.get(status, 20500)))
        return json_reply(_public(message), 201)

    def _new_message(
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
    ) -> dict[str, Any]:
        sid, now = new_sid("SM"), self.store.now()
        plan = {"delivered": ["sending", "sent", "delivered"], "undelivered": ["sending", "sent", "undelivered"]}
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": rfc2822(now),
            "date_sent": rfc2822(now) if direction == "inbound" else None,
            "date_updated": rfc2822(now),
            "direction": direction,
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(phones.segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json",
            "_created": now,
            "_sent": now if direction == "inbound" else None,
            "_status_callback": status_callback,
            "_plan": [] if status in FINAL_STATUSES else plan.get(final, ["failed"]),
            "_error_code": error_code,
        }
        state["messages"][sid] = message
        return message

    def _schedule_delivery(self, sid: str, step: int) -> None:
        if self._timers is not None:
            delay = self.message_delays[min(step, len(self.message_delays) - 1)]
            self._timers.call_later(delay, self._advance_message, sid, step)

    def _resume_deliveries(self) -> None:
        with self.store.read() as state:
            pending = [sid for sid, m in state["messages"].items() if m["_plan"] and m["status"] not in FINAL_STATUSES]
        for sid in pending:
            self._schedule_delivery(sid, 0)

    def _advance_message(self, sid: str, step: int) -> None:
        with self.store.change() as state:
            message = state["messages"].get(sid)
            if message is None or not message["_plan"]:
                return
            status = message["_plan"].pop(0)
            now = self.store.now()
            message["status"], message["date_updated"] = status, rfc2822(now)
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": self.account_sid,
                "From": message["from"],
                "To": message["to"],
                "ApiVersion": API_VERSION,
            }
            if status == "sent":
                message["date_sent"], message["_sent"] = rfc2822(now), now
            if status in ("failed", "undelivered"):
                code = int(message["_error_code"] or DEFAULT_FINAL_CODES[status])
                message["error_code"], message["error_message"] = code, STATUS_MESSAGES[status]
                params["ErrorCode"] = str(code)
            if status in ("delivered", "undelivered"):
                params["RawDlrDoneDate"] = dlr_done(now)
            callback, more = message["_status_callback"], bool(message["_plan"])
        if callback:
            answer, _, problem = self._post_webhook(callback, params, timeout=self.callback_timeout)
            if problem or (answer or 500) >= 400:
                log.warning("carrier sandbox: status callback for %s dropped (%s)", sid, problem or f"HTTP {answer}")
        if more:
            self._schedule_delivery(sid, step + 1)

    def fetch_message(self, request: Request) -> Reply:
        with self.store.read() as state:
            message = state["messages"].get(request.groups["sid"])
            return json_reply(_public(message)) if message else twilio_error(404, 20404, path=request.path)

    def list_messages(self, request: Request) -> Reply:
        to, from_ = request.param("To"), request.param("From")
        windows = [(op, request.param(f"DateSent{op}")) for op in ("", "<", ">")]
        with self.store.read() as state:
            found = [
                m
                for m in state["messages"].values()
                if (to is None or m["to"] == to)
                and (from_ is None or m["from"] == from_)
                and all(_sent_matches(m["_sent"], op, value) for op, value in windows if value)
            ]
            found.sort(key=lambda m: m["_created"], reverse=True)
            return self._page(request, "messages", [_public(m) for m in found])

    def _page(self, request: Request, key: str, records: list[dict[str, Any]]) -> Reply:
        """A 2010-04-01 list page (`page`, `page_size`, `uri`, `*_page_uri`, `start`, `end`)."""
        size = max(1, min(int(request.param("PageSize") or 50), 1000))
        page = max(0, int(request.param("Page") or 0))
        chunk = records[page * size : (page + 1) * size]
        filters = [(k, v[0]) for k, v in request.query.items() if k not in ("Page", "PageSize", "PageToken")]
        base = f"/{API_VERSION}{request.path.partition(API_VERSION)[2]}"

        def uri(number: int) -> str:
            token = [("PageToken", f"PA{number}")] if number else []
            return f"{base}?{urlencode([*filters, ('PageSize', size), ('Page', number), *token])}"

        more = (page + 1) * size < len(records)
        return json_reply(
            {
                key: chunk,
                "page": page,
                "page_size": size,
                "uri": uri(page),
                "first_page_uri": uri(0),
                "next_page_uri": uri(page + 1) if more else None,
                "previous_page_uri": uri(page - 1) if page else None,
                "start": page * size,
                "end": page * size + max(len(chunk) - 1, 0),
            }
        )

    # -- numbers -----------------------------------------------------------------------------

    def _is_landline(self, state: dict[str, Any], number: str) -> bool:
        return number in state["landlines"] or phones.is_landline_range(number) or number == "+15005550009"

    def _owned(self, state: dict[str, Any]) -> set[str]:
        pending = {o["phone_number"] for o in state["orders"].values() if o["status"] not in ("failed",)}
        return {n["phone_number"] for n in state["numbers"].values()} | pending

    def available_numbers(self, request: Request) -> Reply:
        area_code, contains = request.param("AreaCode") or "", request.param("Contains")
        size = max(1, min(int(request.param("PageSize") or 50), 1000))
        with self.store.read() as state:
            owned = self._owned(state)
        city, region, postal_code = phones.AREA_CODES.get(area_code, ("", "", ""))
        numbers = []
        if request.groups["country"] == "US":
            for number in phones.candidates(area_code, contains):
                if number in owned:
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
        return self._page(request, "available_phone_numbers", numbers)

    def _number_resource(self, number: str, **settings: Any) -> dict[str, Any]:
        sid, now = new_sid("PN"), rfc2822(self.store.now())
        return {
            "account_sid": self.account_sid,
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
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
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

    _NUMBER_SETTINGS = {
        "FriendlyName": "friendly_name",
        "SmsUrl": "sms_url",
        "SmsMethod": "sms_method",
        "SmsFallbackUrl": "sms_fallback_url",
        "VoiceUrl": "voice_url",
        "VoiceMethod": "voice_method",
        "StatusCallback": "status_callback",
        "StatusCallbackMethod": "status_callback_method",
    }

    def _settings_in(self, request: Request) -> dict[str, str]:
        return {
            field: request.param(name) or "" for name, field in self._NUMBER_SETTINGS.items() if name in request.form
        }

    def buy_number(self, request: Request) -> Reply:
        with self.store.change() as state:
            self._settle_orders(state)
            owned = self._owned(state)
            number = request.param("PhoneNumber")
            if number is None and request.param("AreaCode"):
                number = next((n for n in phones.candidates(request.param("AreaCode") or "") if n not in owned), None)
            if not number or not phones.is_valid(number):
                return twilio_error(400, 21421)
            if number in owned:
                return twilio_error(400, 21422)
            resource = self._number_resource(number, **self._settings_in(request))
            state["numbers"][resource["sid"]] = resource
        log.info("carrier sandbox sold %s as %s", phones.mask(number), resource["sid"])
        return json_reply(resource, 201)

    def list_numbers(self, request: Request) -> Reply:
        number = request.param("PhoneNumber")
        with self.store.change() as state:
            self._settle_orders(state)
            found = [n for n in state["numbers"].values() if number is None or n["phone_number"] == number]
            return self._page(request, "incoming_phone_numbers", sorted(found, key=lambda n: n["phone_number"]))

    def fetch_number(self, request: Request) -> Reply:
        with self.store.change() as state:
            self._settle_orders(state)
            number = state["numbers"].get(request.groups["sid"])
            return json_reply(number) if number else twilio_error(404, 20404, path=request.path)

    def update_number(self, request: Request) -> Reply:
        with self.store.change() as state:
            number = state["numbers"].get(request.groups["sid"])
            if number is None:
                return twilio_error(404, 20404, path=request.path)
            number.update(self._settings_in(request), date_updated=rfc2822(self.store.now()))
            return json_reply(number)

    def release_number(self, request: Request) -> Reply:
        with self.store.change() as state:
            number = state["numbers"].pop(request.groups["sid"], None)
        if number is None:
            return twilio_error(404, 20404, path=request.path)
        log.info("carrier sandbox released %s", number["sid"])
        return Reply(204)

    # -- hosted number orders ----------------------------------------------------------------

    def create_order(self, request: Request) -> Reply:
        number, contact, email = (request.param(n) for n in ("PhoneNumber", "ContactPhoneNumber", "Email"))
        if not number or not contact or not email:
            return twilio_error(400, 20001)
        if not phones.is_valid(number):
            return twilio_error(400, 21421)
        with self.store.change() as state:
            self._settle_orders(state)
            if number in self._owned(state):
                return twilio_error(400, 21422)
            sid, now = new_sid("HR"), self.store.now()
            order = {
                "sid": sid,
                "account_sid": self.account_sid,
                "incoming_phone_number_sid": None,
                "address_sid": request.param("AddressSid"),
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
                "_sms_url": request.param("SmsUrl") or "",
                "_sms_method": request.param("SmsMethod") or "POST",
                "_status_callback_url": request.param("StatusCallbackUrl"),
            }
            state["orders"][sid] = order
        log.info("carrier sandbox took hosted order %s for %s", sid, phones.mask(number))
        return json_reply(_public(order), 201)

    def fetch_order(self, request: Request) -> Reply:
        with self.store.change() as state:
            self._settle_orders(state)
            order = state["orders"].get(request.groups["sid"])
            return json_reply(_public(order)) if order else twilio_error(404, 20404, path=request.path)

    def list_orders(self, request: Request) -> Reply:
        status, number = request.param("Status"), request.param("PhoneNumber")
        with self.store.change() as state:
            self._settle_orders(state)
            found = [
                _public(o)
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

    def _settle_orders(self, state: dict[str, Any]) -> None:
        """Moves orders along the sandbox clock; a completed order's number joins the account."""
        now = self.store.now()
        for order in state["orders"].values():
            if order["status"] in ("completed", "failed", "action-required"):
                continue
            if order["_forced"]:
                status = order["_forced"]
            else:
                elapsed = now - float(order["_created"])
                status = ORDER_STEPS[min(int(elapsed // max(self.order_step_seconds, 1e-6)), len(ORDER_STEPS) - 1)]
            if status != order["status"]:
                order["status"], order["date_updated"] = status, iso8601(now)
            if status == "completed" and not order["incoming_phone_number_sid"]:
                resource = self._number_resource(
                    order["phone_number"],
                    origin="hosted",
                    capabilities={"voice": False, "sms": True, "mms": False, "fax": False},
                    friendly_name=order["friendly_name"],
                    sms_url=order["_sms_url"],
                    sms_method=order["_sms_method"],
                )
                state["numbers"][resource["sid"]] = resource
                order["incoming_phone_number_sid"] = resource["sid"]

    def _force_order(self, sid: str, status: str, failure_reason: str | None) -> dict[str, Any] | None:
        with self.store.change() as state:
            order = state["orders"].get(sid)
            if order is None:
                return None
            if order["status"] not in ("completed", "failed", "action-required"):
                order["_forced"] = status
                order["failure_reason"] = failure_reason
            self._settle_orders(state)
            return _public(order)

    # -- lookups -----------------------------------------------------------------------------

    def lookup(self, request: Request) -> Reply:
        number = request.groups["number"].strip()
        fields = {f.strip() for f in (request.param("Fields") or "").split(",")}
        valid = phones.is_valid(number) and number != "+15005550001"
        with self.store.read() as state:
            landline = valid and self._is_landline(state, number)
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

    # -- webhooks ----------------------------------------------------------------------------

    def _post_webhook(
        self, url: str, params: dict[str, str], *, method: str = "POST", timeout: float = 15.0
    ) -> tuple[int | None, str, str | None]:
        """(HTTP status, body, problem) of a signed webhook; unreachable URLs are logged, never raised."""
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        data: bytes | None = None
        if method.upper() == "GET":
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
            headers["X-Twilio-Signature"] = sign(url, {}, self.auth_token)
        else:
            data = urlencode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-Twilio-Signature"] = sign(url, params, self.auth_token)
        request = urllib.request.Request(url, data=data, headers=headers, method=method.upper())
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return int(answer.status), answer.read().decode("utf-8", errors="replace"), None
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode("utf-8", errors="replace"), None
        except (urllib.error.URLError, OSError, ValueError) as error:
            return None, "", str(error)

    def _geography(self, prefix: str, number: str) -> dict[str, str]:
        city, state, postal_code = phones.place(number)
        country = "US" if number.startswith("+1") else ""
        return {
            f"{prefix}City": city,
            f"{prefix}State": state,
            f"{prefix}Zip": postal_code,
            f"{prefix}Country": country,
        }

    def _incoming(self, to: str) -> dict[str, Any] | None:
        with self.store.change() as state:
            self._settle_orders(state)
            return next((dict(n) for n in state["numbers"].values() if n["phone_number"] == to), None)

    def simulate_sms(self, request: Request) -> Reply:
        """A patient's text to one of our numbers: Twilio's signed webhook to its SmsUrl."""
        document = request.json()
        from_, to, body = str(document["from"]), str(document["to"]), str(document.get("body", ""))
        media = [str(u) for u in document.get("media_urls", [])]
        number = self._incoming(to)
        if number is None or not number["sms_url"]:
            return json_reply({"error": "no incoming number with an SMS URL for that 'to'"}, 404)
        word = phones.keyword(body)
        with self.store.change() as state:
            pair = f"{to}|{from_}"
            if word in phones.STOP_WORDS and pair not in state["opt_outs"]:
                state["opt_outs"].append(pair)
            elif word in phones.START_WORDS and pair in state["opt_outs"]:
                state["opt_outs"].remove(pair)
            message = self._new_message(state, to=to, from_=from_, body=body, direction="inbound", status="received")
            message["num_media"] = str(len(media))
        sid = message["sid"]
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": str(len(media)),
            "NumSegments": message["num_segments"],
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
            **self._geography("From", from_),
            **self._geography("To", to),
        }
        for i, url in enumerate(media):
            params[f"MediaUrl{i}"], params[f"MediaContentType{i}"] = url, "image/jpeg"
        status, answer, problem = self._post_webhook(number["sms_url"], params, method=number["sms_method"])
        log.info("carrier sandbox delivered inbound %s from %s: %s", sid, phones.mask(from_), status)
        replies = self._reply_from_twiml(answer, to=from_, from_=to) if status and status < 300 else []
        return json_reply(
            {"status": status, "body": answer, "url": number["sms_url"], "message_sid": sid, "replies": replies}
            | ({"error": problem} if problem else {}),
            200 if status is not None else 502,
        )

    def _reply_from_twiml(self, twiml: str, *, to: str, from_: str) -> list[str]:
        """Sends the `<Message>`s of a TwiML answer, as Twilio would; their sids."""
        try:
            root = ElementTree.fromstring(twiml)
        except ElementTree.ParseError:
            return []
        sent: list[str] = []
        for element in root.iter("Message"):
            body_element = element.find("Body")
            text = (body_element.text if body_element is not None else element.text) or ""
            with self.store.change() as state:
                if f"{from_}|{to}" in state["opt_outs"]:
                    continue
                message = self._new_message(
                    state,
                    to=element.get("to") or to,
                    from_=element.get("from") or from_,
                    body=text.strip(),
                    direction="outbound-reply",
                    status="queued",
                    status_callback=element.get("action"),
                )
            sent.append(message["sid"])
            self._schedule_delivery(message["sid"], 0)
        return sent

    def simulate_call(self, request: Request) -> Reply:
        """A call to one of our numbers: Twilio's signed voice webhook to its VoiceUrl."""
        document = request.json()
        from_, to = str(document["from"]), str(document["to"])
        number = self._incoming(to)
        if number is None or not number["voice_url"]:
            return json_reply({"error": "no incoming number with a voice URL for that 'to'"}, 404)
        call_sid = new_sid("CA")
        params = {
            "CallSid": call_sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
            **self._geography("From", from_),
            **self._geography("To", to),
            **self._geography("Caller", from_),
            **self._geography("Called", to),
        }
        for key, name in (("forwarded_from", "ForwardedFrom"), ("caller_name", "CallerName")):
            if document.get(key):
                params[name] = str(document[key])
        status, answer, problem = self._post_webhook(number["voice_url"], params, method=number["voice_method"])
        return json_reply(
            {"status": status, "body": answer, "url": number["voice_url"], "call_sid": call_sid}
            | ({"error": problem} if problem else {}),
            200 if status is not None else 502,
        )

    # -- control endpoints -------------------------------------------------------------------

    def control_health(self, request: Request) -> Reply:
        return json_reply({"ok": True})

    def control_account(self, request: Request) -> Reply:
        return json_reply({"account_sid": self.account_sid, "auth_token": self.auth_token, "url": self.url})

    def control_messages(self, request: Request) -> Reply:
        found = self.messages(to=request.param("to"), from_=request.param("from"))
        direction = request.param("direction")
        return json_reply({"messages": [m for m in found if direction is None or m["direction"] == direction]})

    def control_numbers(self, request: Request) -> Reply:
        return json_reply({"numbers": self.incoming_numbers()})

    def control_orders(self, request: Request) -> Reply:
        return json_reply({"orders": self.hosted_orders()})

    def control_opt_outs(self, request: Request) -> Reply:
        with self.store.read() as state:
            pairs = [dict(zip(("sender", "recipient"), p.split("|"), strict=True)) for p in state["opt_outs"]]
        return json_reply({"opt_outs": pairs})

    def control_reset(self, request: Request) -> Reply:
        self.reset()
        return json_reply({"ok": True})

    def control_landlines(self, request: Request) -> Reply:
        with self.store.read() as state:
            return json_reply({"landlines": list(state["landlines"])})

    def control_add_landlines(self, request: Request) -> Reply:
        document = request.json()
        numbers = [str(n) for n in document.get("phone_numbers", [])]
        if document.get("phone_number"):
            numbers.append(str(document["phone_number"]))
        self.register_landline(*numbers)
        return self.control_landlines(request)

    def control_remove_landline(self, request: Request) -> Reply:
        with self.store.change() as state:
            state["landlines"] = [n for n in state["landlines"] if n != request.groups["number"]]
        return self.control_landlines(request)

    def control_faults(self, request: Request) -> Reply:
        with self.store.read() as state:
            return json_reply({"faults": state["faults"], "rate": state["fault_rate"]})

    def control_add_faults(self, request: Request) -> Reply:
        document = request.json()
        if "rate" in document:
            fault = {k: v for k, v in document.items() if k not in ("rate", "seed")}
            self.set_fault_rate(document["rate"], seed=document.get("seed"), **fault)
        else:
            self.add_faults(*document.get("faults", [document]))
        return self.control_faults(request)

    def control_clear_faults(self, request: Request) -> Reply:
        self.clear_faults()
        return self.control_faults(request)

    def control_complete_order(self, request: Request) -> Reply:
        order = self.complete_order(request.groups["sid"])
        return json_reply(order) if order else json_reply({"error": "no such order"}, 404)

    def control_fail_order(self, request: Request) -> Reply:
        document = request.json()
        reason = str(document.get("failure_reason") or "The carrier rejected the order")
        order = self.fail_order(request.groups["sid"], reason, str(document.get("status") or "failed"))
        return json_reply(order) if order else json_reply({"error": "no such order"}, 404)

    def control_clock(self, request: Request) -> Reply:
        with self.store.read() as state:
            now, offset = self.store.now(), state["clock_offset"]
        return json_reply({"now": iso8601(now), "offset_seconds": offset})

    def control_set_clock(self, request: Request) -> Reply:
        document = request.json()
        if "set" in document:
            moment = parse_time(str(document["set"]))
            if moment is None:
                return json_reply({"error": "'set' must be an ISO 8601 time"}, 400)
            self.advance_clock(moment - self.store.now())
        else:
            self.advance_clock(float(document.get("advance", 0)))
        return self.control_clock(request)

    def control_config(self, request: Request) -> Reply:
        return json_reply(
            {
                "message_delays": list(self.message_delays),
                "order_step_seconds": self.order_step_seconds,
                "strict_from": self.strict_from,
            }
        )

    def control_set_config(self, request: Request) -> Reply:
        document = request.json()
        if "message_delays" in document:
            self.message_delays = tuple(float(d) for d in document["message_delays"]) or (0.05,)
        if "order_step_seconds" in document:
            self.order_step_seconds = float(document["order_step_seconds"])
        if "strict_from" in document:
            self.strict_from = bool(document["strict_from"])
        return self.control_config(request)


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
