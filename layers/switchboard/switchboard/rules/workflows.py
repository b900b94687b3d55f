"""Workflows: a call-to-text or abandoned-call webhook that texts callers from one line.

The webhook token is the workflow's credential: high entropy, stored only as a SHA-256 hash, and
prefixed with its environment so a demo URL can never reach production.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from switchboard.core.fields import DomainModel
from switchboard.rules import templates
from switchboard.rules.lines import DisplayName
from switchboard.rules.tokens import WorkflowKind

__all__ = ["WorkflowKind"]

MAX_TEXT_LENGTH = 255
LONGEST_PRACTICE_NAME = "W" * 120
LONGEST_LINE_NUMBER = "(999) 999-9999"
PLACEHOLDERS = frozenset({"practice_name", "line_number"})

VendorLabel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
LanguageLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


def render_template(template: str, *, practice_name: str, line_number: str) -> str:
    return templates.render(template, {"practice_name": practice_name, "line_number": line_number})


def check_template(template: str) -> None:
    """Refuse, at save time, a template that could render past 255 characters or names an unknown field."""
    unknown = templates.placeholders(template) - PLACEHOLDERS
    if unknown:
        raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {{practice_name}} or {{line_number}}")
    longest = render_template(template, practice_name=LONGEST_PRACTICE_NAME, line_number=LONGEST_LINE_NUMBER)
    if len(longest) > MAX_TEXT_LENGTH:
        raise ValueError(f"can reach {len(longest)} characters with the longest practice name; "
                         f"the limit is {MAX_TEXT_LENGTH}")


def _checked(template: str) -> str:
    check_template(template)
    return template


MessageTemplate = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_checked)]


# How long a caller is texted only once: ten minutes to a day ("once per caller per day"); None follows the
# practice's setting.
DuplicateWindow = Annotated[int | None, Field(default=None, ge=10, le=1440, description=(
    "minutes in which a caller is texted once (10 to 1440); null: the practice's setting"))]


# How long an abandoned-call text waits, in case the caller rings back or asks for a text meanwhile.
MAX_DELAY_MINUTES = 10
ONLY_ABANDONED_CALLS_WAIT = "only an abandoned-call workflow waits before texting"
TextDelay = Annotated[int, Field(ge=0, le=MAX_DELAY_MINUTES, description=(
    "minutes an abandoned-call text waits before it goes (0 to 10); cancelled if the caller reaches the practice "
    "again meanwhile"))]


class NewWorkflow(DomainModel):
    model_config = ConfigDict(extra="forbid")

    name: DisplayName
    kind: WorkflowKind
    vendor: VendorLabel = "phone-system"
    language: LanguageLabel = "English"
    line_id: str = Field(min_length=1, max_length=40)
    template: MessageTemplate
    enabled: bool = True
    duplicate_window_minutes: DuplicateWindow = None
    delay_minutes: TextDelay = 0


def may_wait(kind: WorkflowKind, delay_minutes: int) -> bool:
    """A call-to-text caller asked for a text: it goes at once."""
    return not delay_minutes or kind is WorkflowKind.ABANDONED_CALL


class WorkflowChanges(DomainModel):
    model_config = ConfigDict(extra="forbid")

    name: DisplayName | None = None
    language: LanguageLabel | None = None
    line_id: str | None = Field(default=None, min_length=1, max_length=40)
    template: MessageTemplate | None = None
    enabled: bool | None = None
    duplicate_window_minutes: DuplicateWindow = None
    delay_minutes: TextDelay | None = None
    version: int | None = Field(default=None, ge=1)


class WorkflowCounts(DomainModel):
    received: int = 0
    texted: int = 0
    delivered: int = 0
    duplicates: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] = Field(default_factory=dict)
    opted_out: int = 0
    not_textable: int = 0
    canceled: int = 0
    replied: int = 0

    @property
    def suppressed(self) -> int:
        return self.opted_out + self.not_textable


class Workflow(DomainModel):
    workflow_id: str
    practice_id: str
    name: str
    kind: WorkflowKind
    vendor: str
    language: str
    line_id: str
    template: str
    enabled: bool
    revoked: bool = False
    duplicate_window_minutes: int | None = None
    delay_minutes: int = 0
    version: int
    created_at: datetime
    counts: WorkflowCounts = Field(default_factory=WorkflowCounts)


class WorkflowWithUrl(Workflow):
    """Shown once, when the workflow is created or its token rotated."""

    webhook_url: str


def webhook_url(base_url: str, vendor: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/webhook/{vendor}/{token}"
