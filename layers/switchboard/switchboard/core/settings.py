"""Settings read from the environment once, at cold start, failing fast with the variable's name.

Plain dataclasses rather than pydantic: every function reads these at init, and the webhook-facing
ones must not pay pydantic's import for four strings (see the README's cold-start figures).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, ClassVar, Self


class SettingsError(RuntimeError):
    """A function started without the environment it needs."""


@dataclass(frozen=True)
class Variable:
    """How one setting is read: its variable, whether it must be set, its shortest length, its choices."""

    name: str
    required: bool = True
    min_length: int = 1
    choices: tuple[str, ...] = ()
    pattern: str | None = None

    def problem(self, value: str | None) -> str | None:
        if value is None:
            return "missing" if self.required else None
        if len(value) < self.min_length:
            return f"must be at least {self.min_length} characters"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if self.pattern and not re.fullmatch(self.pattern, value):
            return "is not in the expected form"
        return None


class _EnvSettings:
    VARIABLES: ClassVar[dict[str, Variable]]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for field in fields(cls):  # type: ignore[arg-type]
            variable = cls.VARIABLES[field.name]
            value = source.get(variable.name) or None  # an empty variable counts as missing
            problem = variable.problem(value)
            if problem:
                problems.append(f"{variable.name}: {problem}")
            values[field.name] = value
        if problems:
            raise SettingsError(f"{cls.__name__} is not configured: {'; '.join(problems)}")
        return cls(**values)


@dataclass(frozen=True)
class StoreSettings(_EnvSettings):
    """Where the table lives."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "table_name": Variable("TABLE_NAME", min_length=3),
        "region": Variable("AWS_REGION"),
        "dynamodb_endpoint": Variable("DYNAMODB_ENDPOINT", required=False),
    }
    table_name: str
    region: str
    dynamodb_endpoint: str | None = None


@dataclass(frozen=True)
class DeploymentSettings(_EnvSettings):
    """Which deployment this is and how the outside world reaches it."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "environment": Variable("ENVIRONMENT", choices=("local", "demo", "prod")),
        "public_base_url": Variable("PUBLIC_BASE_URL", required=False, pattern=r"https?://[^/?#\s]+(/[^?#\s]*)?"),
    }
    environment: str
    public_base_url: str | None = None


@dataclass(frozen=True)
class CarrierSettings(_EnvSettings):
    """Where the carrier credentials are kept; `api_url` points the real client at the local sandbox."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "secret_name": Variable("TWILIO_SECRET_NAME"),
        "api_url": Variable("CARRIER_API_URL", required=False),
    }
    secret_name: str
    api_url: str | None = None


@dataclass(frozen=True)
class QueueSettings(_EnvSettings):
    """The work queues, and the first retry's delay (doubled on each later one)."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "outbound_queue_url": Variable("OUTBOUND_QUEUE_URL"),
        "follow_up_queue_url": Variable("FOLLOW_UP_QUEUE_URL"),
        "media_queue_url": Variable("MEDIA_QUEUE_URL"),
        "retry_base": Variable("RETRY_BASE_SECONDS", required=False, pattern=r"\d+(\.\d+)?"),
    }
    outbound_queue_url: str
    follow_up_queue_url: str
    media_queue_url: str
    retry_base: str | None = None

    @property
    def retry_base_seconds(self) -> float:
        return float(self.retry_base or 15)


@dataclass(frozen=True)
class MediaSettings(_EnvSettings):
    """Where patients' pictures and files are kept (encrypted with the stack's key), and the origin the console
    loads them from through short-lived links."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "bucket": Variable("MEDIA_BUCKET", min_length=3),
        "origin": Variable("MEDIA_ORIGIN", required=False, pattern=r"https?://[^/?#\s]+"),
    }
    bucket: str
    origin: str | None = None


@dataclass(frozen=True)
class ServiceSettings(_EnvSettings):
    """The deployment's other AWS services: its event bus, the integration API's usage plan, tracing."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "event_bus_name": Variable("EVENT_BUS_NAME", required=False),
        "usage_plan_parameter": Variable("USAGE_PLAN_PARAMETER", required=False),
        "trace_disabled": Variable("POWERTOOLS_TRACE_DISABLED", required=False),
    }
    event_bus_name: str | None = None
    usage_plan_parameter: str | None = None
    trace_disabled: str | None = None

    @property
    def tracing(self) -> bool:
        return (self.trace_disabled or "false").lower() not in ("1", "true")


@dataclass(frozen=True)
class LoginSettings(_EnvSettings):
    """The Cognito user pool that holds the console's logins."""

    VARIABLES: ClassVar[dict[str, Variable]] = {
        "user_pool_id": Variable("USER_POOL_ID", pattern=r"[\w-]+_[0-9a-zA-Z]+"),
    }
    user_pool_id: str


@cache
def store_settings() -> StoreSettings:
    return StoreSettings.from_environ()


@cache
def deployment_settings() -> DeploymentSettings:
    return DeploymentSettings.from_environ()


@cache
def carrier_settings() -> CarrierSettings:
    return CarrierSettings.from_environ()


@cache
def queue_settings() -> QueueSettings:
    return QueueSettings.from_environ()


@cache
def media_settings() -> MediaSettings:
    return MediaSettings.from_environ()


@cache
def service_settings() -> ServiceSettings:
    return ServiceSettings.from_environ()


@cache
def login_settings() -> LoginSettings:
    return LoginSettings.from_environ()
