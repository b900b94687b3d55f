"""The carrier sandbox: the account's state, its clock and HTTP server, and the APIs served over them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from email.message import Message
from pathlib import Path
from typing import Any

from local.carrier_sandbox.addresses import Addresses
from local.carrier_sandbox.calls import Calls
from local.carrier_sandbox.context import Context, Settings, Timers
from local.carrier_sandbox.control import Control
from local.carrier_sandbox.hosted_orders import HostedOrders
from local.carrier_sandbox.http import Reply, Router, Server
from local.carrier_sandbox.lookups import Lookups
from local.carrier_sandbox.messages import Messages
from local.carrier_sandbox.messaging_services import MessagingServices
from local.carrier_sandbox.numbers import Numbers
from local.carrier_sandbox.simulator import Simulator
from local.carrier_sandbox.state import Store

log = logging.getLogger("carrier_sandbox")


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
        callback_timeout: float = 15.0,  # how long Twilio waits for a webhook's answer
        new_campaign_status: str | None = "VERIFIED",
    ) -> None:
        self.store = Store(Path(data_dir))
        self.host, self.port = host, port
        self.api_base_url = api_base_url
        self.settings = Settings(tuple(message_delays) or (0.05,), order_step_seconds, strict_from, callback_timeout,
                                 new_campaign_status)
        self.context = Context(self.store, self.settings)
        self._orders = HostedOrders(self.context)
        self._numbers = Numbers(self.context, self._orders)
        self._services = MessagingServices(self.context)
        self._messages = Messages(self.context, self._orders, self._services)
        self._lookups = Lookups(self.context)
        self._addresses = Addresses(self.context)
        control = Control(self.context, self._messages, self._numbers, self._orders, self._lookups, self._addresses,
                          lambda: self.url)
        self._calls = Calls(self.context)
        simulator = Simulator(self.context, self._messages, self._numbers, self._calls)
        self._router = Router(
            self.context,
            [
                *self._messages.routes(),
                *self._numbers.routes(),
                *self._orders.routes(),
                *self._addresses.routes(),
                *self._lookups.routes(),
                *self._services.routes(),
                *control.routes(),
                *simulator.routes(),
                *self._calls.routes(),
            ],
        )
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

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
        self.context.stopping.clear()
        self.store.open()
        self.context.timers = Timers()
        self._server = Server((self.host, self.port), self.handle)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="carrier-sandbox", daemon=True
        )
        self._thread.start()
        self._messages.resume_deliveries()
        log.info("carrier sandbox listening on %s (account %s)", self.url, self.account_sid)
        return self

    def stop(self) -> None:
        self.context.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.context.timers is not None:
            self.context.timers.close()
        self._server = self._thread = self.context.timers = None
        self.store.close()

    def __enter__(self) -> CarrierSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- Python control API (the /sandbox endpoints do the same) -----------------------------

    def messages(self, *, to: str | None = None, from_: str | None = None) -> list[dict[str, Any]]:
        """Every message the sandbox accepted or received, oldest first, with its `status_callback` and `media`
        (`sid`, `content_type`, `size` and `deleted` of each file)."""
        return self._messages.recorded(to=to, from_=from_)

    def media(self, message_sid: str) -> list[dict[str, Any]]:
        """What is stored of a message's MMS media, oldest first: `sid`, `message_sid`, `content_type`, `size`,
        `deleted`, `data` (base64; None once deleted) and `date_created`."""
        return self._messages.media.every(message_sid)

    def receive_mms(self, *, to: str, from_: str, body: str, items: list[tuple[str, bytes]]) -> dict[str, str]:
        """A patient's MMS as the carrier stores it, without posting its webhook: the webhook's media
        parameters (`MessageSid`, `NumMedia`, `MediaUrl{n}`, `MediaContentType{n}`), for a caller that delivers
        the webhook itself."""
        with self.store.change() as state:
            message = self._messages.new_message(state, to=to, from_=from_, body=body, direction="inbound",
                                                 status="received", prefix="MM")
            added = self._messages.media.add(state, message, items)
        params = {"MessageSid": message["sid"], "NumMedia": str(len(added))}
        for n, record in enumerate(added):
            params[f"MediaUrl{n}"] = self._messages.media.url(record)
            params[f"MediaContentType{n}"] = record["content_type"]
        return params

    def incoming_numbers(self) -> list[dict[str, Any]]:
        """The account's numbers (bought, or hosted by a completed order), as the REST API shows them."""
        return self._numbers.incoming()

    def hosted_orders(self) -> list[dict[str, Any]]:
        """Every hosted-number order, oldest first, in its current status."""
        return self._orders.every()

    def addresses(self) -> list[dict[str, Any]]:
        """Every Address of the account, oldest first."""
        return self._addresses.every()

    def sign_loa(self, sid: str) -> dict[str, Any] | None:
        """The order's letter of authorization is signed now."""
        return self._orders.sign_loa(sid)

    def messaging_services(self) -> list[dict[str, Any]]:
        """Every Messaging Service with its sender pool's number sids, its campaign and the campaign's brand."""
        return self._services.every()

    def set_campaign(self, service_sid: str, campaign_status: str | None, *, brand_status: str | None = None,
                     errors: tuple[str, ...] = ()) -> None:
        """Moves the service's A2P 10DLC campaign (and its brand) to a state, as the carriers' review would."""
        self._services.move_campaign(service_sid, campaign_status, brand_status, list(errors))

    def calls(self) -> list[dict[str, Any]]:
        """Every call the phone simulator made, oldest first, with each TwiML step (as `GET /sandbox/calls`)."""
        return self._calls.every()

    def reset(self) -> None:
        self.store.reset()

    def register_landline(self, *numbers: str) -> None:
        self._lookups.add_landlines(*numbers)

    def add_faults(self, *faults: Mapping[str, Any], to: Iterable[str] | None = None) -> None:
        """Faults for the next `Messages.json` creates, in order (only those to `to`, when given; see the package
        docstring)."""
        self._messages.faults.add(*faults, to=to)

    def set_fault_rate(self, rate: float | None, *, seed: int | None = None, **fault: Any) -> None:
        self._messages.faults.set_rate(rate, seed=seed, **fault)

    def clear_faults(self) -> None:
        self._messages.faults.clear()

    def advance_clock(self, seconds: float) -> float:
        return self.context.advance_clock(seconds)

    def complete_order(self, sid: str) -> dict[str, Any] | None:
        return self._orders.force(sid, "completed", None)

    def fail_order(self, sid: str, failure_reason: str, status: str = "failed",
                   next_step: str | None = None) -> dict[str, Any] | None:
        return self._orders.force(sid, status, failure_reason, next_step)

    def handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> Reply:
        """Serves one request as the HTTP server does (path with its query, e.g. `/sandbox/health`)."""
        return self._router.handle(method, raw_path, headers, body)
