"""Patients' pictures and files in the media bucket (encrypted with the stack's key by the bucket's default),
their state on the message, and the short-lived links the console shows them through.

An object's key names the practice, line and message, never the phone. Links are presigned GETs that
answer with the kept type, inline for pictures and as a download for anything else, so nothing in the
bucket is ever rendered by a browser as a page.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from switchboard.core.settings import media_settings, store_settings
from switchboard.rules.addresses import MessageRef
from switchboard.rules.media import INLINE_TYPES, MediaItem, MediaState, media_of

from .models import MessageItem

LINK_SECONDS = 300
"""How long a link to a kept file works: long enough to load a page of a conversation."""
CARRIER_LINK_SECONDS = 3600
"""How long the carrier may take to fetch a picture staff attached (it fetches as it sends)."""

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
               "application/pdf": "pdf", "text/vcard": "vcf", "text/x-vcard": "vcf", "text/calendar": "ics",
               "text/plain": "txt", "audio/mpeg": "mp3", "video/mp4": "mp4", "video/3gpp": "3gp"}


@cache
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    # Regional virtual-hosted links (`<bucket>.s3.<region>.amazonaws.com`): the origin the console allows.
    config = Config(signature_version="s3v4", s3={"us_east_1_regional_endpoint": "regional"})
    return boto3.client("s3", region_name=store_settings().region, config=config)


def object_key(practice_id: str, ref: MessageRef, n: int) -> str:
    return f"media/{practice_id}/{ref.line_id}/{ref.message_id}/{n}"


def attachment_key(practice_id: str, line_id: str, attachment_id: str) -> str:
    return f"media/{practice_id}/{line_id}/attachments/{attachment_id}"


def attachment(key: str) -> tuple[str, int] | None:
    """A picture staff attached: its type and size; None when there is none under `key`."""
    try:
        found = _s3().head_object(Bucket=media_settings().bucket, Key=key)
    except _s3().exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return str(found["ContentType"]), int(found["ContentLength"])


def put(key: str, content_type: str, data: bytes) -> None:
    """Keep a file (the same file again, on a retry)."""
    _s3().put_object(Bucket=media_settings().bucket, Key=key, Body=data, ContentType=content_type)


def link(item: MediaItem, seconds: int = LINK_SECONDS) -> str | None:
    """A short-lived link to a kept item; None for one not kept."""
    if item.state is not MediaState.KEPT or not item.key or not item.content_type:
        return None
    name = f"file-{item.n + 1}.{_EXTENSIONS.get(item.content_type, 'bin')}"
    disposition = "inline" if item.content_type in INLINE_TYPES else f'attachment; filename="{name}"'
    return str(_s3().generate_presigned_url(
        "get_object", ExpiresIn=seconds,
        Params={"Bucket": media_settings().bucket, "Key": item.key, "ResponseContentType": item.content_type,
                "ResponseContentDisposition": disposition}))


def record(message: MessageItem, items: list[MediaItem]) -> None:
    """The message's items as they stand now (each copy of a job writes the same)."""
    message.update(actions=[MessageItem.media.set([item.stored() for item in items])])


def items_of(message: MessageItem) -> list[MediaItem]:
    return media_of(message.media)
