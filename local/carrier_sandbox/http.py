"""The sandbox's HTTP side: requests and replies, Twilio's error shape and list pages, routing and the server."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from local.carrier_sandbox.context import Context

log = logging.getLogger("carrier_sandbox")

API_VERSION = "2010-04-01"
ACCOUNT = r"/2010-04-01/Accounts/(?P<account>[^/]+)"
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
    21628: "The address you have provided cannot be validated.",
    22109: "Invalid Address SID",
    22112: "Unable to update the Hosted Number Order in its current status.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The From phone number {from_} is not a valid, SMS-capable inbound phone number "
    "or short code for your account.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: {from_} via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21620: "Invalid media URL(s)",
    21623: "Number of media files exceeds allowed limit",
}


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


def list_page(request: Request, key: str, records: list[dict[str, Any]]) -> Reply:
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


Handler = Callable[[Request], Reply]
Route = tuple[str, str, re.Pattern[str], Handler]


# Twilio's media storage URLs are unguessable and short-lived: fetched without the account's auth.
UNAUTHENTICATED_APIS = frozenset({"sandbox", "twiliocdn"})


def route(api: str, method: str, pattern: str, handler: Handler) -> Route:
    """`api` is the first label of the Twilio host (`api`, `numbers`, `lookups`), `twiliocdn` for its media
    storage (`*.twiliocdn.com`), or `sandbox`."""
    return api, method, re.compile(f"^{pattern}$"), handler


def _split_api(path: str) -> tuple[str, str]:
    """(api, path within it): `/api.twilio.com/2010-04-01/…` → ("api", "/2010-04-01/…")."""
    first, _, rest = path.lstrip("/").partition("/")
    if first.endswith("twilio.com"):
        return first.split(".")[0], "/" + rest
    if first.endswith(".twiliocdn.com"):
        return "twiliocdn", "/" + rest
    if path.startswith("/sandbox/") or path == "/sandbox":
        return "sandbox", path
    if path.startswith("/v2/HostedNumber"):
        return "numbers", path
    if path.startswith("/v2/PhoneNumbers"):
        return "lookups", path
    if path.startswith("/v1/"):
        return "messaging", path
    return "api", path


class Router:
    """Serves a request from its route: Twilio's APIs need the account's Basic auth, the control API and media
    storage URLs none."""

    def __init__(self, context: Context, routes: list[Route]) -> None:
        self.context = context
        self.routes = routes

    def handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        api, path = _split_api(unquote(parts.path))
        query = parse_qs(parts.query, keep_blank_values=True)
        form: dict[str, list[str]] = {}
        if body and "application/x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
            form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        request = Request(method, path, query, form, headers, body)
        allowed: list[str] = []
        for route_api, route_method, pattern, handler in self.routes:
            match = pattern.match(path) if route_api == api else None
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            request.groups = match.groupdict()
            try:
                if api not in UNAUTHENTICATED_APIS:
                    refused = self._authenticate(request)
                    if refused is not None:
                        return refused
                return handler(request)
            except (ValueError, KeyError, TypeError) as error:
                if api == "sandbox":
                    return json_reply({"error": f"bad request: {error!r}"}, 400)
                return twilio_error(400, 20001)
            except Exception:
                log.exception("carrier sandbox could not serve %s %s", method, handler.__name__)
                return twilio_error(500, 20500)
        if allowed:
            return twilio_error(405, 20004) if api != "sandbox" else json_reply({"error": "method not allowed"}, 405)
        return twilio_error(404, 20404, path=path)

    def _authenticate(self, request: Request) -> Reply | None:
        account_sid = self.context.account_sid
        expected = base64.b64encode(f"{account_sid}:{self.context.auth_token}".encode()).decode()
        if (request.headers.get("Authorization") or "") != f"Basic {expected}":
            reply = twilio_error(401, 20003)
            reply.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return reply
        account = request.groups.get("account")
        if account is not None and account != account_sid:
            return twilio_error(404, 20404, path=request.path)
        return None


Dispatch = Callable[[str, str, Message, bytes], Reply]


class Server(ThreadingHTTPServer):
    """Hands every request to `dispatch` (method, path with query, headers, body)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatch) -> None:
        super().__init__(address, _Handler)
        self.dispatch = dispatch

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("carrier sandbox connection error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: Server
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
        reply = self.server.dispatch(method, self.path, self.headers, body)
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
