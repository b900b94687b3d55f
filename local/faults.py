"""Faults the local stack injects on purpose, to show that no text goes twice and none is lost when AWS and
Lambda misbehave the way they are allowed to (the carrier's own faults are the sandbox's: `/sandbox/faults`).

Set with `POST /local/faults` (a `FaultPlan` as JSON), read with `GET /local/faults` (the plan and how many of
each fault were injected), cleared with `DELETE /local/faults`. Each share is the chance, from 0 to 1, that
one occasion gets the fault; the draws come from `seed`, so a run can be repeated.

- `queue_send_failure`: an SQS `SendMessage` or `SendMessageBatch` a handler makes fails as if SQS could not
  be reached (the local stack's own sends are left alone);
- `crash_after_carrier_accept`: the carrier accepted a text (201) and the function's process dies at once,
  before it records anything: the invocation fails, as a Lambda crash or timeout would;
- `stream_redelivery`: a DynamoDB stream batch the function handled is handed to it again (streams deliver
  at least once);
- `queue_redelivery`: an SQS batch the function handled is handed to it again before it is deleted (SQS
  delivers at least once).

Redeliveries come straight after the first delivery, with the same receipt handles and receive counts. In the
stack, handlers run in worker processes (local.workers): each occasion there is drawn here, in the stack's
process, so one seeded plan and its counts cover every instance.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from local.aws_calls import calling_function

KINDS = ("queue_send_failure", "crash_after_carrier_accept", "stream_redelivery", "queue_redelivery")


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    queue_send_failure: float = 0.0
    crash_after_carrier_accept: float = 0.0
    stream_redelivery: float = 0.0
    queue_redelivery: float = 0.0

    @classmethod
    def parse(cls, document: Any) -> FaultPlan:
        """A plan from JSON; ValueError naming the field and the reason."""
        if not isinstance(document, Mapping):
            raise ValueError("the body must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: not a fault (known: {', '.join(sorted(known))})")
        seed = document.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError("seed: must be a whole number")
        shares: dict[str, float] = {}
        for kind in KINDS:
            share = document.get(kind, 0.0)
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
                raise ValueError(f"{kind}: must be a number from 0 to 1")
            shares[kind] = float(share)
        return cls(seed=seed, **shares)


class InvocationCrashed(BaseException):
    """The function's process died: nothing after this point of the invocation runs (no `except Exception`
    of the handler's catches it; the local runtime turns it into a failed invocation)."""


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.set(FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        # One draw sequence per kind: how often one kind comes up does not shift another kind's draws.
        with self._lock:
            self.plan, self.injected = plan, Counter()
            self._draws = {kind: random.Random(f"{plan.seed}:{kind}") for kind in KINDS}

    def clear(self) -> None:
        self.set(FaultPlan())

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {"plan": asdict(self.plan), "injected": {kind: self.injected[kind] for kind in KINDS}}

    def strikes(self, kind: str) -> bool:
        """Whether this occasion gets the fault `kind` (counted when it does)."""
        share = getattr(self.plan, kind)
        if not share:
            return False
        with self._lock:
            hit = self._draws[kind].random() < share
            if hit:
                self.injected[kind] += 1
            return hit


FAULTS = Faults()
_install_lock = threading.Lock()
_hooked = False


def _fail_queue_send(**_: Any) -> None:
    if calling_function(sys._getframe(1)) is not None and FAULTS.strikes("queue_send_failure"):
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com (fault injected)")


def install(*, carrier_when_imported: bool = False) -> None:
    """Hook every botocore client created from now on, and the carrier SDK's HTTP client (once); with
    `carrier_when_imported`, the carrier's client only once something imports it (a function instance that
    never talks to the carrier never pays for importing its SDK)."""
    global _hooked
    with _install_lock:
        if _hooked:
            return
        _hook_aws_clients()
        if carrier_when_imported and _CARRIER_MODULE not in sys.modules:
            sys.meta_path.insert(0, _AfterImport(_CARRIER_MODULE, _hook_carrier_client))
        else:
            _hook_carrier_client()
        _hooked = True


_CARRIER_MODULE = "twilio.http.http_client"


def _hook_aws_clients() -> None:
    import botocore.session

    create_client = botocore.session.Session.create_client

    def create_client_with_faults(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        for operation in ("SendMessage", "SendMessageBatch"):
            client.meta.events.register(f"before-call.sqs.{operation}", _fail_queue_send,
                                        unique_id=f"local-faults-{operation}")
        return client

    botocore.session.Session.create_client = create_client_with_faults  # type: ignore[method-assign]


def _hook_carrier_client() -> None:
    from twilio.http.http_client import TwilioHttpClient

    request = TwilioHttpClient.request

    def request_with_faults(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = request(self, method, url, *args, **kwargs)
        accepted = method.upper() == "POST" and url.split("?")[0].endswith("/Messages.json")
        if accepted and response.status_code == 201 and FAULTS.strikes("crash_after_carrier_accept"):
            raise InvocationCrashed("the process died after the carrier accepted a text (fault injected)")
        return response

    TwilioHttpClient.request = request_with_faults  # type: ignore[method-assign]


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs `then` right after the module `name` is first imported (then steps aside)."""

    def __init__(self, name: str, then: Callable[[], None]) -> None:
        self.name, self.then = name, then

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run_module = loader.exec_module
        then = self.then

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            then()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
