"""A local API Gateway (REST, Lambda proxy integration) for the template's `Api` events.

Routes come from template.yaml (`{param}` and greedy `{proxy+}` paths, `ANY`). Each request becomes the
REST (v1) proxy event API Gateway would send, the handler runs in one of its function's instances (see
local.workers), and its proxy response goes back over HTTP. The API answers both under the stage, like the
execute-api URL (`http://127.0.0.1:3000/local/api/...`), and at the root (`http://127.0.0.1:3000/api/...`)
like a custom domain; the event is the same either way (`path` without the stage, `requestContext.path` with it).

API Gateway's own answers are kept: unknown route or method -> 403 `{"message":"Missing Authentication
Token"}`, no/invalid token on an authenticated route -> 401 `{"message":"Unauthorized"}`, a handler that
raises or returns something malformed -> 502 `{"message": "Internal server error"}` (traceback logged), one
stopped at its function's `Timeout` (local.workers) -> 504 `{"message": "Endpoint request timed out"}`,
a body over 10 MB -> 413. Bodies that are not text (by Content-Type, or not UTF-8) arrive base64-encoded
with `isBase64Encoded: true`.

Local-only endpoints (`/local/cognito`, `/local/schedules/<Fn>/run`, `/local/schedules/<Fn>/runs/<run_id>`, ...)
are registered by local.stack and are matched first, so under the stage prefix they shadow API paths `/token`,
`/schedules/...`.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.runtime import FunctionTimedOut
from local.template import Route

log = logging.getLogger("local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/javascript",
        "application/graphql",
        "application/x-ndjson",
    }
)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query as sent, e.g. /local/api/practices?limit=5
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json"), *headers], json.dumps(payload).encode("utf-8"))


def _error(status: int, message: str, error_type: str) -> HttpResponse:
    return json_response(status, {"message": message}, [("x-amzn-ErrorType", error_type)])


class MalformedProxyResponse(ValueError):
    """The handler returned something API Gateway would reject (it answers 502)."""


@dataclass(frozen=True)
class ApiRoute:
    """A template route compiled for matching."""

    route: Route
    pattern: re.Pattern[str]
    specificity: tuple[int, int, int]

    @classmethod
    def compile(cls, route: Route) -> ApiRoute:
        parts: list[str] = []
        statics = params = greedy = 0
        for segment in route.path.strip("/").split("/") if route.path.strip("/") else []:
            if match := re.fullmatch(r"\{(\w+)\+\}", segment):
                parts.append(f"(?P<{match.group(1)}>.+)")
                greedy += 1
            elif match := re.fullmatch(r"\{(\w+)\}", segment):
                parts.append(f"(?P<{match.group(1)}>[^/]+)")
                params += 1
            else:
                parts.append(re.escape(segment))
                statics += 1
        pattern = re.compile("/" + "/".join(parts) + "/?" if parts else "/")
        # API Gateway prefers the most specific resource: fewer greedy, then more literal segments.
        return cls(route, pattern, (greedy, -statics, params))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else {name: unquote(value) for name, value in found.groupdict().items()}


class RouteTable:
    """The API's resources: a path finds its resource first, then the method (exact before ANY)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = sorted((ApiRoute.compile(route) for route in routes), key=lambda r: r.specificity)

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for candidate in self.routes:
            params = candidate.match(path)
            if params is None:
                continue
            resource = [r for r in self.routes if r.route.path == candidate.route.path]
            for wanted in (method.upper(), "ANY"):
                for api_route in resource:
                    if api_route.route.method == wanted:
                        return api_route.route, params
            return None
        return None


def split_stage(path: str, stage: str) -> str:
    """The resource path of a request made under `/<stage>/...` or at the root."""
    prefix = f"/{stage}"
    if path == prefix:
        return "/"
    if path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return path


def _is_text(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    return (
        not media_type
        or media_type.startswith("text/")
        or media_type in _TEXT_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def proxy_event(
    request: HttpRequest,
    route: Route,
    path_parameters: Mapping[str, str],
    stage: str,
    claims: Mapping[str, str] | None = None,
    request_id: str | None = None,
    account_id: str = "123456789012",
    api_id: str = "local",
) -> dict[str, Any]:
    """The API Gateway REST (v1) Lambda proxy event for a request matched to `route`."""
    url = urlsplit(request.target)
    path = split_stage(unquote(url.path) or "/", stage)
    request_id = request_id or str(uuid.uuid4())

    multi_headers: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, value in request.headers:
        key = names.setdefault(name.lower(), name)
        multi_headers.setdefault(key, []).append(value)
    host = request.header("Host") or "127.0.0.1"
    for name, value in (
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", host.rpartition(":")[2] if ":" in host else "80"),
        ("X-Forwarded-Proto", "http"),
        ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
    ):
        if name.lower() not in names:
            names[name.lower()] = name
            multi_headers[name] = [value]

    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        multi_query.setdefault(name, []).append(value)

    body: str | None = None
    is_base64 = False
    if request.body:
        if _is_text(request.header("Content-Type")):
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                is_base64 = True
        else:
            is_base64 = True
        if is_base64:
            body = base64.b64encode(request.body).decode("ascii")

    now = time.time()
    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.path).hex[:6],
        "resourcePath": route.path,
        "httpMethod": request.method,
        "extendedRequestId": request_id,
        "requestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "path": f"/{stage}{path}",
        "stage": stage,
        "protocol": "HTTP/1.1",
        "domainName": host,
        "domainPrefix": host.split(".")[0].split(":")[0],
        "identity": {
            "sourceIp": request.source_ip,
            "userAgent": request.header("User-Agent"),
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "user": None,
            "userArn": None,
        },
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": dict(claims)}

    return {
        "resource": route.path,
        "path": path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_response(result: Any) -> HttpResponse:
    """A Lambda proxy response as HTTP; raises MalformedProxyResponse where API Gateway answers 502."""
    if not isinstance(result, dict) or "statusCode" not in result:
        raise MalformedProxyResponse(f"not a proxy response (no statusCode): {str(result)[:200]}")
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise MalformedProxyResponse(f"statusCode is not a number: {result['statusCode']!r}") from None
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string, got {type(body).__name__}")
    raw = (base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")) if body else b""

    multi = {str(k): [str(v) for v in values] for k, values in (result.get("multiValueHeaders") or {}).items()}
    headers: list[tuple[str, str]] = [(name, value) for name, values in multi.items() for value in values]
    in_multi = {name.lower() for name in multi}
    headers += [(str(k), str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() not in in_multi]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status, headers, raw)


LocalEndpoint = Callable[[HttpRequest, dict[str, list[str]], dict[str, str]], HttpResponse]


class Gateway:
    """The routing and event shaping, independent of the HTTP server (unit-testable without sockets)."""

    def __init__(
        self,
        routes: Iterable[Route],
        invoke: Callable[[str, dict[str, Any], str], Any],
        stage: str,
        verify_token: Callable[[str | None], Mapping[str, Any] | None],
        shape_claims: Callable[[Mapping[str, Any]], dict[str, str]],
        after_request: Callable[[], None] | None = None,
    ) -> None:
        self.table = RouteTable(routes)
        self.after_request = after_request  # run after each signed-in request (what it changed is kept)
        self.invoke = invoke
        self.stage = stage
        self.verify_token = verify_token
        self.shape_claims = shape_claims
        self._local: list[tuple[str, re.Pattern[str], LocalEndpoint]] = []

    def add_local_endpoint(self, method: str, path_pattern: str, endpoint: LocalEndpoint) -> None:
        """A local-only endpoint; `path_pattern` is a regex with named groups, e.g. `/local/x/(?P<id>[^/]+)`."""
        self._local.append((method.upper(), re.compile(path_pattern), endpoint))

    def handle(self, request: HttpRequest) -> HttpResponse:
        url = urlsplit(request.target)
        for method, pattern, endpoint in self._local:
            if (found := pattern.fullmatch(url.path)) and method == request.method:
                query: dict[str, list[str]] = {}
                for name, value in parse_qsl(url.query, keep_blank_values=True):
                    query.setdefault(name, []).append(value)
                return endpoint(request, query, found.groupdict())

        path = split_stage(unquote(url.path) or "/", self.stage)
        matched = self.table.find(request.method, path)
        if matched is None:
            return _error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
        route, params = matched

        claims: dict[str, str] | None = None
        if route.needs_auth:
            verified = self.verify_token(request.header("Authorization"))
            if verified is None:
                return _error(401, "Unauthorized", "UnauthorizedException")
            claims = self.shape_claims(verified)

        request_id = str(uuid.uuid4())
        event = proxy_event(request, route, params, self.stage, claims, request_id)
        try:
            response = http_response(self.invoke(route.function_id, event, request_id))
        except FunctionTimedOut as timed_out:
            log.error("%s on %s %s: %s", route.function_id, request.method, _masked(url.path), timed_out)
            return json_response(504, {"message": "Endpoint request timed out"},
                                 [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", "IntegrationTimeout")])
        except Exception:
            log.exception("%s failed on %s %s", route.function_id, request.method, url.path)
            return json_response(502, {"message": "Internal server error"}, [("x-amzn-RequestId", request_id)])
        finally:
            if claims is not None and self.after_request is not None:
                self.after_request()
        response.headers.append(("x-amzn-RequestId", request_id))
        return response


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer

    def _serve(self) -> None:
        started = time.monotonic()
        try:
            body = self._read_body()
        except _BodyTooLarge:
            self._send(HttpResponse(413, [("Content-Type", "application/json")], b'{"message":"Request Too Long"}'))
            self.close_connection = True
            return
        request = HttpRequest(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        response = self.server.gateway.handle(request)
        self._send(response)
        log.info(
            '%s "%s %s" %d %.0f ms',
            self.client_address[0],
            self.command,
            _masked(self.path.split("?")[0]),
            response.status,
            (time.monotonic() - started) * 1000,
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            size = 0
            while (length := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                size += length
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            if length <= 8 * MAX_BODY_BYTES:  # read it away so the client sees the 413, not a broken pipe
                while length > 0:
                    length -= len(self.rfile.read(min(length, 1 << 16)) or b"x" * length)
            raise _BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class _BodyTooLarge(Exception):
    pass


def _masked(path: str) -> str:
    """A request path fit for the log: phone numbers in it keep only their last four digits."""
    return re.sub(r"(?:%2B|\+)?\d{3,}(\d{4})", r"***\1", path)


class GatewayServer(ThreadingHTTPServer):
    """The HTTP side: binds at construction (so the port is known early), serves on a thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, gateway: Gateway | None = None) -> None:
        super().__init__((host, port), _RequestHandler)
        self.gateway: Gateway = gateway  # type: ignore[assignment]  # set before start() when bound early
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.gateway is None:
            raise RuntimeError("GatewayServer.start() before its gateway was set")
        self._thread = threading.Thread(target=self.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
        self.server_close()
