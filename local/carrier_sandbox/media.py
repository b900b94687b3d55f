"""Twilio's Media subresource of Messages: an MMS's files, stored with their message and served as Twilio serves
them (Basic auth, then a 307 to a storage URL on media.twiliocdn.com), and a send's MediaUrls fetched as Twilio
fetches them before it hands the message to the carrier."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

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

MAX_MEDIA = 10
FETCH_TIMEOUT_SECONDS = 10.0
RETRIEVAL_FAILURE, INVALID_CONTENT_TYPE = 11200, 12300
FAILURE_MESSAGES = {RETRIEVAL_FAILURE: "HTTP retrieval failure", INVALID_CONTENT_TYPE: "Invalid Content-Type"}
SENDABLE_PREFIXES = ("image/", "audio/", "video/")
SENDABLE_TYPES = frozenset({
    "text/vcard", "text/x-vcard", "text/csv", "text/rtf", "text/richtext", "text/calendar", "text/directory",
    "text/plain", "application/pdf", "application/vcard", "application/vnd.apple.pkpass",
})

# MediaUrls of tests point at servers on this machine: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sendable(content_type: str) -> bool:
    """A content type Twilio accepts for an MMS (its list of accepted content types)."""
    return content_type.startswith(SENDABLE_PREFIXES) or content_type in SENDABLE_TYPES


def is_media_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def host_of(url: str) -> str:
    """What a log may say of a MediaUrl: presigned URLs carry credentials in their query."""
    return urlsplit(url).hostname or "?"


def decode(items: Any) -> list[tuple[str, bytes]]:
    """The simulator's `media`: up to 10 `{"content_type", "data" (base64)}`; ValueError says what is wrong."""
    if not isinstance(items, list):
        raise ValueError("'media' must be a list of {\"content_type\", \"data\"}")
    if len(items) > MAX_MEDIA:
        raise ValueError(f"at most {MAX_MEDIA} media items, as Twilio delivers")
    decoded = []
    for i, item in enumerate(items):
        content_type = item.get("content_type") if isinstance(item, dict) else None
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(content_type, str) or not content_type or not isinstance(data, str):
            raise ValueError(f"media[{i}] needs a 'content_type' and base64 'data'")
        try:
            decoded.append((content_type, base64.b64decode(data, validate=True)))
        except binascii.Error:
            raise ValueError(f"media[{i}].data is not valid base64") from None
    return decoded


class Media:
    def __init__(self, context: Context) -> None:
        self.context = context

    def routes(self) -> list[Route]:
        message = rf"{ACCOUNT}/Messages/(?P<message>[^/]+)"
        return [
            route("api", "GET", rf"{message}/Media\.json", self.list_media),
            route("api", "GET", rf"{message}/Media/(?P<sid>[^/.]+)\.json", self.fetch_media),
            route("api", "DELETE", rf"{message}/Media/(?P<sid>[^/.]+)\.json", self.delete_media),
            route("api", "GET", rf"{message}/Media/(?P<sid>[^/.]+)", self.redirect),
            route("twiliocdn", "GET", r"/(?P<account>[^/]+)/(?P<token>[^/]+)", self.serve),
            route("sandbox", "GET", r"/sandbox/messages/(?P<message>[^/]+)/media", self.inspect),
        ]

    def add(
        self, state: dict[str, Any], message: dict[str, Any], items: list[tuple[str, bytes]]
    ) -> list[dict[str, Any]]:
        """Stores files as the message's Media resources (and counts them in its `num_media`)."""
        added = []
        for content_type, data in items:
            sid, now = new_sid("ME"), self.context.store.now()
            record = {
                "account_sid": self.context.account_sid,
                "content_type": content_type,
                "date_created": rfc2822(now),
                "date_updated": rfc2822(now),
                "parent_sid": message["sid"],
                "sid": sid,
                "uri": f"/{API_VERSION}/Accounts/{self.context.account_sid}/Messages/{message['sid']}/Media/{sid}.json",
                "_data": base64.b64encode(data).decode(),  # the state is JSON
                "_size": len(data),
                "_token": secrets.token_hex(32),
                "_deleted": False,
                "_created": now,
            }
            state["media"][sid] = record
            added.append(record)
        message["num_media"] = str(len(self._of(state, message["sid"])))
        return added

    def url(self, record: dict[str, Any]) -> str:
        """The `MediaUrl{n}` of a webhook: the resource without its extension."""
        return f"https://api.twilio.com{record['uri'].removesuffix('.json')}"

    def retrieve(self, urls: list[str]) -> tuple[list[tuple[str, bytes]], int | None]:
        """Each MediaUrl fetched as Twilio fetches it: (content type, bytes) each, or the code that fails the send."""
        fetched = []
        for url in urls:
            request = urllib.request.Request(url, headers={"User-Agent": "TwilioProxy/1.1"})
            try:
                if not is_media_url(url):
                    raise ValueError("not an http(s) URL")
                with _OPENER.open(request, timeout=FETCH_TIMEOUT_SECONDS) as answer:
                    content_type = (answer.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                    data = answer.read()
            except (urllib.error.URLError, OSError, ValueError) as error:
                # The error's text can hold the URL, so only its kind is logged.
                why = type(error).__name__
                if isinstance(error, urllib.error.HTTPError):
                    why = f"HTTP {error.code}"
                    error.close()
                log.warning("carrier sandbox could not fetch media from %s: %s", host_of(url), why)
                return [], RETRIEVAL_FAILURE
            if not sendable(content_type):
                log.warning("carrier sandbox: media from %s is %r, not sendable", host_of(url), content_type)
                return [], INVALID_CONTENT_TYPE
            fetched.append((content_type, data))
        return fetched, None

    def every(self, message_sid: str) -> list[dict[str, Any]]:
        """What the sandbox keeps of a message's media, oldest first (data in base64, None once deleted)."""
        with self.context.store.read() as state:
            return [
                {"sid": r["sid"], "message_sid": r["parent_sid"], "content_type": r["content_type"], "size": r["_size"],
                 "deleted": r["_deleted"], "data": r["_data"], "date_created": r["date_created"]}
                for r in self._of(state, message_sid, deleted=True)
            ]

    def summary(self, state: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """Message sid → its media's sid, content type, size and whether it was deleted."""
        found: dict[str, list[dict[str, Any]]] = {}
        for r in sorted(state["media"].values(), key=lambda r: r["_created"]):
            found.setdefault(r["parent_sid"], []).append(
                {"sid": r["sid"], "content_type": r["content_type"], "size": r["_size"], "deleted": r["_deleted"]}
            )
        return found

    def list_media(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            if request.groups["message"] not in state["messages"]:
                return twilio_error(404, 20404, path=request.path)
            return list_page(request, "media_list", [public(r) for r in self._of(state, request.groups["message"])])

    def fetch_media(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            record = self._find(state, request)
            return json_reply(public(record)) if record else twilio_error(404, 20404, path=request.path)

    def delete_media(self, request: Request) -> Reply:
        with self.context.store.change() as state:
            record = self._find(state, request)
            if record is None:
                return twilio_error(404, 20404, path=request.path)
            record.update(_deleted=True, _data=None, _token=None)  # Twilio deletes the stored file
        log.info("carrier sandbox deleted media %s of %s", record["sid"], record["parent_sid"])
        return Reply(204)

    def redirect(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            record = self._find(state, request)
            if record is None:
                return twilio_error(404, 20404, path=request.path)
            location = f"https://media.twiliocdn.com/{record['account_sid']}/{record['_token']}"
        return Reply(307, headers={"Location": location})

    def serve(self, request: Request) -> Reply:
        """A storage URL: no auth, as it is unguessable."""
        token = request.groups["token"]
        with self.context.store.read() as state:
            record = next((r for r in state["media"].values() if r["_token"] == token), None)
            if record is None or record["account_sid"] != request.groups["account"]:
                return twilio_error(404, 20404, path=request.path)
            return Reply(200, base64.b64decode(record["_data"]), record["content_type"])

    def inspect(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            if request.groups["message"] not in state["messages"]:
                return json_reply({"error": "no such message"}, 404)
        return json_reply({"media": self.every(request.groups["message"])})

    def _of(self, state: dict[str, Any], message_sid: str, *, deleted: bool = False) -> list[dict[str, Any]]:
        return sorted(
            (r for r in state["media"].values() if r["parent_sid"] == message_sid and (deleted or not r["_deleted"])),
            key=lambda r: r["_created"],
        )

    def _find(self, state: dict[str, Any], request: Request) -> dict[str, Any] | None:
        record = state["media"].get(request.groups["sid"])
        if record is None or record["_deleted"] or record["parent_sid"] != request.groups["message"]:
            return None
        return record
