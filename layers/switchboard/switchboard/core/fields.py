"""The base model and field types shared by request and response models: validated, normalised, and
described in the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from switchboard.core.phones import InvalidPhoneNumber, parse_us_number


class DomainModel(BaseModel):
    """Every model's base. Validators are built when a model is first used, not when its module is
    imported: a function only pays for the models its requests touch (see the README's cold starts)."""

    model_config = ConfigDict(defer_build=True)


def _phone(value: str) -> str:
    try:
        return parse_us_number(value)
    except InvalidPhoneNumber as error:
        raise ValueError(error.message) from None


def _email(value: str) -> str:
    # email_validator (~20 ms) loads when an address is first checked, not when a model is defined.
    from pydantic.networks import validate_email

    return validate_email(value)[1]


UsPhoneNumber = Annotated[str, Field(max_length=40), AfterValidator(_phone)]
"""A US/Canada number in any common format; validated to E.164."""

EmailAddress = Annotated[str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})]
"""An email address, checked and normalised as pydantic's EmailStr does."""
