"""Console: the static web console under `GET /console/...`, plus its `config.json`.

Where the files come from, first found wins:
  1. `CONSOLE_DIR` (a folder), when set;
  2. `console/` beside this file: what `sam build` packages (the `build-ConsoleFunction` target of the
     Makefile copies the repository's `console/` into the artifact next to `app.py`);
  3. the repository's own `console/` (two folders up): the local stack and the tests run this file
     in place, so an edited page shows on the next load after a restart of the stack.
Every file is read once at cold start into memory (the whole site is a few dozen KB): no file system
access per request, so no path can reach outside the site.

Answers: a known file with its content type, an ETag (304 on `If-None-Match`) and `Cache-Control:
no-cache` (file names carry no hash, so browsers revalidate rather than keep stale modules); any path
whose last segment has no dot is a page of the single-page app and gets `index.html`, with a `<base
href>` for the stage the request came through (`/prod/console/`, `/console/` on a custom domain);
`/console` redirects to `/console/`; anything else 404. `config.json` is rendered from the
environment: local sign-in (the local user pool's sign-in API, `/local/cognito`) and the carrier
sandbox's URL for the phone simulator when `ENVIRONMENT=local`, else Cognito's hosted UI:
`COGNITO_DOMAIN`, and the app client's id read at request time from the SSM parameter
`COGNITO_CLIENT_ID_PARAMETER` names (the client lists the API's URLs, and the API invokes this function,
so the function cannot refer to the client itself); both variables are required.
Every answer carries a strict Content-Security-Policy: scripts and styles from the site only, no inline
code, Trusted Types, fetches only to the same origin, Cognito and (locally) the sandbox.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import logger, metrics, tracer
from switchboard.core.settings import SettingsError

HERE = Path(__file__).resolve().parent
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


def site_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    candidates = [Path(environ["CONSOLE_DIR"])] if environ.get("CONSOLE_DIR") else []
    candidates += [HERE / "console", HERE.parent.parent / "console"]
    found = next((c for c in candidates if (c / "index.html").is_file()), None)
    if found is None:
        raise SettingsError(f"console files not found (no index.html in {', '.join(map(str, candidates))}); "
                            "set CONSOLE_DIR or package console/ beside app.py")
    return found


def load_site(root: Path) -> dict[str, tuple[bytes, str]]:
    """Every servable file under `root`: relative path -> (content, content type)."""
    return {path.relative_to(root).as_posix(): (path.read_bytes(), CONTENT_TYPES[path.suffix])
            for path in sorted(root.rglob("*")) if path.is_file() and path.suffix in CONTENT_TYPES}


def origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def console_config(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, Any]:
    """config.json as far as the environment says; in Cognito mode `client_id_parameter` names where the app
    client's id is (`with_client_id` reads it)."""
    environment = environ.get("ENVIRONMENT", "")
    if environment == "local":
        return {"environment": environment, "auth": {"mode": "local", "cognito_url": "/local/cognito"},
                "sandbox_url": (environ.get("CARRIER_API_URL") or "").rstrip("/") or None}
    needed = ("ENVIRONMENT", "COGNITO_DOMAIN", "COGNITO_CLIENT_ID_PARAMETER")
    missing = [name for name in needed if not environ.get(name)]
    if missing:
        raise SettingsError(f"console is not configured: {', '.join(missing)} missing")
    domain = environ["COGNITO_DOMAIN"].rstrip("/")
    domain = domain if domain.startswith("https://") else f"https://{domain}"
    auth = {"mode": "cognito", "domain": domain, "client_id_parameter": environ["COGNITO_CLIENT_ID_PARAMETER"]}
    return {"environment": environment, "sandbox_url": None, "auth": auth}


# The client id changes only if the stack replaces the app client; a warm container asks SSM at most this often.
CLIENT_ID_MAX_AGE_SECONDS = 300


def with_client_id(config: dict[str, Any]) -> dict[str, Any]:
    """config.json as the browser gets it: in Cognito mode, the parameter's name replaced by the client id."""
    auth = dict(config["auth"])
    name = auth.pop("client_id_parameter", None)
    if name is None:
        return config
    from aws_lambda_powertools.utilities import parameters

    auth["client_id"] = parameters.get_parameter(name, max_age=CLIENT_ID_MAX_AGE_SECONDS)
    return {**config, "auth": auth}


def security_headers(config: dict[str, Any], public_base_url: str | None, media_origin: str | None = None
                     ) -> dict[str, str]:
    others = {origin(config["auth"].get("domain")), origin(config["sandbox_url"]), origin(public_base_url)}
    connect = " ".join(["'self'", *sorted(o for o in others if o)])
    images = " ".join(["'self'", "data:", *([media] if (media := origin(media_origin)) else [])])
    policy = (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; "
              f"connect-src {connect}; base-uri 'self'; form-action 'none'; frame-ancestors 'none'; "
              "object-src 'none'; require-trusted-types-for 'script'; trusted-types 'none'")
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer", "Cross-Origin-Opener-Policy": "same-origin",
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()"}


CONFIG = console_config()
SITE = load_site(site_dir())
# Links to pictures are signed for the S3 endpoint the functions use: the local stand-in's, when one is set.
HEADERS = security_headers(CONFIG, os.environ.get("PUBLIC_BASE_URL"),
                           os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("MEDIA_ORIGIN"))


def base_href(event: APIGatewayProxyEvent) -> str:
    """`/<stage>/console/` as the browser called it: the request's full path less the resource's path."""
    full, path = event.request_context.path or "", event.path or ""
    prefix = full[: len(full) - len(path)] if path and full.endswith(path) else ""
    return f"{prefix}/console/"


def respond(status: int, body: bytes, content_type: str, event: APIGatewayProxyEvent, **extra: str) -> dict:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**HEADERS, "Content-Type": content_type, "Cache-Control": "no-cache", "ETag": etag, **extra}
    if status == 200 and etag in (event.get_header_value("If-None-Match") or ""):
        return {"statusCode": 304, "headers": headers, "body": ""}
    return {"statusCode": status, "headers": headers, "body": body.decode("utf-8")}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = APIGatewayProxyEvent(raw)
    base = base_href(event)
    wanted = (event.path_parameters or {}).get("proxy", "").strip("/")
    if not event.path.endswith("/") and not wanted:
        return {"statusCode": 301, "headers": {**HEADERS, "Location": base, "Cache-Control": "no-cache"}, "body": ""}
    if wanted == "config.json":
        body = json.dumps(with_client_id(CONFIG)).encode()
        return respond(200, body, CONTENT_TYPES[".json"], event, **{"Cache-Control": "no-store"})
    if wanted in SITE:
        body, content_type = SITE[wanted]
        return respond(200, body, content_type, event)
    if wanted and "." in wanted.rsplit("/", 1)[-1]:
        return respond(404, b"not found\n", CONTENT_TYPES[".txt"], event)
    page = SITE["index.html"][0].replace(b"<base href=\"/console/\">",
                                         f'<base href="{html.escape(base, quote=True)}">'.encode())
    return respond(200, page, CONTENT_TYPES[".html"], event)
