"""The one place that knows Twilio: sends, numbers, hosted-number orders, lookups and signatures.

`import switchboard.carrier` is cheap; `Carrier` loads the Twilio SDK when first built, and the
HTTP clients (which load requests) are only imported on first use of their names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.carrier.client import (
    AvailableNumber,
    Carrier,
    CarrierMessage,
    Credentials,
    SentMessage,
    carrier,
    credentials,
)
from switchboard.carrier.errors import (
    CarrierError,
    CarrierNotConfigured,
    CarrierRefused,
    CarrierUnavailable,
    Outcome,
    outcome_for_code,
    reason_for_code,
)
from switchboard.carrier.hosted_numbers import HostedOrder, PostalAddress
from switchboard.carrier.signatures import is_signed_by_carrier, sign, webhook_url

if TYPE_CHECKING:
    from switchboard.carrier.http import CarrierHttpClient, SandboxHttpClient

__all__ = [
    "AvailableNumber",
    "Carrier",
    "CarrierError",
    "CarrierHttpClient",
    "CarrierMessage",
    "CarrierNotConfigured",
    "CarrierRefused",
    "CarrierUnavailable",
    "Credentials",
    "HostedOrder",
    "Outcome",
    "PostalAddress",
    "SandboxHttpClient",
    "SentMessage",
    "carrier",
    "credentials",
    "is_signed_by_carrier",
    "outcome_for_code",
    "reason_for_code",
    "sign",
    "webhook_url",
]


def __getattr__(name: str) -> Any:
    if name in ("CarrierHttpClient", "SandboxHttpClient"):
        from switchboard.carrier import http

        return getattr(http, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
