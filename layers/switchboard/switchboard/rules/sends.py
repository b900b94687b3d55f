"""What a clinic's system asks to send: a text or a template with its variables, to a phone or a patient."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from switchboard.core.errors import InvalidInput
from switchboard.core.fields import DomainModel, UsPhoneNumber
from switchboard.rules import templates

MAX_BODY = 1600
Variables = dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")],
                 Annotated[str, StringConstraints(max_length=200)]]


def _template(template: str) -> str:
    templates.parse(template)
    return template


TextTemplate = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY), AfterValidator(_template)]


class SendRequest(DomainModel):
    """To a phone or a verified patient; from a location (resource) or a line; text or template + variables."""

    model_config = ConfigDict(extra="forbid")

    to: UsPhoneNumber | None = None
    patient_id: str | None = Field(default=None, max_length=64)
    resource_id: str | None = Field(default=None, max_length=40)
    line_id: str | None = Field(default=None, max_length=40)
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)] | None = None
    template: TextTemplate | None = None
    variables: Variables = Field(default_factory=dict, max_length=40)
    idempotency_key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
    urgent: bool = False

    @model_validator(mode="after")
    def _one_of_each(self) -> SendRequest:
        if (self.to is None) == (self.patient_id is None):
            raise ValueError("give either to (a phone) or patient_id")
        if (self.resource_id is None) == (self.line_id is None):
            raise ValueError("give either resource_id (the location's line is used) or line_id")
        if (self.text is None) == (self.template is None):
            raise ValueError("give either text or template (with variables)")
        return self


class SendResult(DomainModel):
    message_id: str
    status: str
    line_id: str
    from_number: str
    send_at: datetime | None = Field(default=None, description="When a message held back by quiet hours will go")


def render(template: str, variables: Mapping[str, str], *, field: str = "variables") -> str:
    """The text a template and its variables make; InvalidInput for a missing value or a text too long."""
    try:
        text = templates.render(template, variables)
    except templates.TemplateError as error:
        raise InvalidInput(str(error), field="template") from None
    except KeyError as missing:
        raise InvalidInput(f"no value for {{{missing.args[0]}}}", field=field) from None
    if len(text) > MAX_BODY:
        raise InvalidInput(f"renders to {len(text)} characters; the limit is {MAX_BODY}", field=field)
    return text
