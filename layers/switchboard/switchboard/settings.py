"""Settings read from the environment once, at cold start, failing fast with the variable's name."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(RuntimeError):
    """A function started without the environment it needs."""


class _EnvSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> _EnvSettings:
        source = dict(os.environ if environ is None else environ)
        values = {
            field.alias or name: source[field.alias or name]
            for name, field in cls.model_fields.items()
            if source.get(field.alias or name, "") != ""
        }
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {'missing' if e['type'] == 'missing' else e['msg']}"
                for e in error.errors()
            )
            raise SettingsError(f"{cls.__name__} is not configured: {problems}") from None


class StoreSettings(_EnvSettings):
    """Where the table lives."""

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    region: str = Field(alias="AWS_REGION", min_length=1)
    dynamodb_endpoint: str | None = Field(default=None, alias="DYNAMODB_ENDPOINT")


class DeploymentSettings(_EnvSettings):
    """Which deployment this is and how the outside world reaches it."""

    environment: Literal["local", "demo", "prod"] = Field(alias="ENVIRONMENT")
    public_base_url: str | None = Field(default=None, alias="PUBLIC_BASE_URL")


class CarrierSettings(_EnvSettings):
    """Where the carrier credentials are kept; `api_url` points the real client at the local sandbox."""

    secret_name: str = Field(alias="TWILIO_SECRET_NAME", min_length=1)
    api_url: str | None = Field(default=None, alias="CARRIER_API_URL")


class QueueSettings(_EnvSettings):
    outbound_queue_url: str = Field(alias="OUTBOUND_QUEUE_URL", min_length=1)
    inbound_events_queue_url: str = Field(alias="INBOUND_EVENTS_QUEUE_URL", min_length=1)


@cache
def store_settings() -> StoreSettings:
    return StoreSettings.from_environ()  # type: ignore[return-value]


@cache
def deployment_settings() -> DeploymentSettings:
    return DeploymentSettings.from_environ()  # type: ignore[return-value]


@cache
def carrier_settings() -> CarrierSettings:
    return CarrierSettings.from_environ()  # type: ignore[return-value]


@cache
def queue_settings() -> QueueSettings:
    return QueueSettings.from_environ()  # type: ignore[return-value]
