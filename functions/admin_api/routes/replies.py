"""Staff replying to a patient: a text, pictures attached to it (MMS, on lines whose number sends them), or both."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Self

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ConfigDict, Field, StringConstraints, model_validator

from switchboard.core.errors import InvalidInput
from switchboard.core.fields import DomainModel
from switchboard.flows import media, staff_replies
from switchboard.rules.access import require_line
from switchboard.rules.addresses import LineOwner

from .conversations import LineId, Phone, PracticeId, conversation_for
from .identity import carrier_webhooks, current_caller

router = Router()
AttachmentId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{26}$")]


class Draft(DomainModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1600)] = ""
    attachment_ids: Annotated[list[AttachmentId], Field(max_length=5)] = []
    """Pictures attached on this line (`…/attachments`), sent with the text as an MMS."""
    # The console names each draft once: Send pressed again after a lost answer sends it once.
    draft_id: Annotated[str | None, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")] = None
    # The newest message the thread showed: a colleague's reply after it stops this one (409), to be read first.
    seen_message_id: Annotated[str | None, StringConstraints(pattern=r"^[0-9A-Z]{26}$")] = None

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not self.body and not self.attachment_ids:
            raise ValueError("write a reply, or attach a picture")
        return self


class Picture(DomainModel):
    model_config = ConfigDict(extra="forbid")

    content_type: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    # Lambda takes at most 6 MB in a request; the picture's own limit is checked with its reason.
    data: Annotated[str, StringConstraints(min_length=1, max_length=6_000_000)]
    """The picture, base64 (at most 3.5 MB once decoded)."""


class Attached(DomainModel):
    attachment_id: str
    content_type: str
    size: int


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/attachments",
    summary="Attach a picture to a reply (JPEG, PNG or GIF, up to 3.5 MB) on a line whose number sends MMS",
    responses={201: {"description": "Kept, to be named in the reply's attachment_ids"}},
)
def attach(practice_id: PracticeId, line_id: LineId, phone: Phone,
           picture: Annotated[Picture, Body()]) -> tuple[Attached, int]:
    caller = current_caller(router)
    require_line(caller, practice_id, line_id)
    conversation_for(caller, practice_id, line_id, phone)
    try:
        data = base64.b64decode(picture.data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the picture is not base64", field="data") from None
    attachment_id, content_type, size = media.attach(LineOwner(practice_id, line_id), picture.content_type, data)
    return Attached(attachment_id=attachment_id, content_type=content_type, size=size), 201


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/messages",
    summary="Reply to a patient (queued; the carrier sends it)",
    responses={202: {"description": "Queued"}},
)
def reply(
    practice_id: PracticeId, line_id: LineId, phone: Phone, draft: Annotated[Draft, Body()]
) -> tuple[dict[str, str], int]:
    caller = current_caller(router)
    require_line(caller, practice_id, line_id)
    e164, _ = conversation_for(caller, practice_id, line_id, phone)
    owner = LineOwner(practice_id, line_id)
    queued = staff_replies.reply_from_staff(
        owner,
        e164,
        draft.body,
        replier=staff_replies.Replier(caller.subject, caller.email, draft.seen_message_id),
        status_callback=carrier_webhooks(router).status_url,
        draft_id=draft.draft_id,
        media=media.attached(owner, draft.attachment_ids),
    )
    return {"status": "queued", "message_id": queued.message_id}, 202
