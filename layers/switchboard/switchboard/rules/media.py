"""A text's pictures and files: what a carrier webhook says a patient sent, and how each item stands.

An item is `waiting` until it is copied from the carrier into the stack's bucket, then `kept`; one that
cannot be kept (not the carrier's, gone from it, too large, a type not kept) is `refused` with its reason,
which staff see in place of the file. `at_carrier` stays true until the carrier's copy is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any

MAX_ITEMS = 10
"""A message carries at most 10 media items (Twilio's limit)."""


INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
"""Shown in the console as pictures; their first bytes must say the same."""
DOWNLOAD_TYPES = frozenset({"image/heic", "image/heif", "image/bmp", "image/tiff", "application/pdf", "text/vcard",
                            "text/x-vcard", "text/calendar", "audio/mpeg", "audio/mp4", "audio/amr", "audio/ogg",
                            "audio/wav", "video/mp4", "video/3gpp", "video/quicktime", "text/plain"})
"""Kept and offered as downloads: what phones send by MMS besides pictures."""
_SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
               "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",)}


def why_not_kept(content_type: str, data: bytes | None = None) -> str | None:
    """Why a file of this type (and these first bytes, once read) is not kept; None when it is. A picture shown
    inline must be the picture its type says, never a page or a script under a picture's name."""
    if content_type not in INLINE_TYPES | DOWNLOAD_TYPES:
        return f"{content_type or 'a file without a type'} is not a kind of file kept"
    signatures = _SIGNATURES.get(content_type)
    if data is not None and signatures and not (
            data.startswith(signatures) and (content_type != "image/webp" or data[8:12] == b"WEBP")):
        return f"the file is not the {content_type} it is said to be"
    return None


SENDABLE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
"""What staff may attach to a reply: the pictures every US carrier takes by MMS (the carrier resizes them)."""
MAX_ATTACHMENT_BYTES = 3_500_000
"""A picture staff attach, at most: its base64 in a request stays under Lambda's 6 MB payload."""


def why_not_sendable(content_type: str, data: bytes) -> str | None:
    """Why staff may not attach this file to a reply; None when they may."""
    if content_type not in SENDABLE_TYPES:
        return "attach a JPEG, PNG or GIF picture"
    if len(data) > MAX_ATTACHMENT_BYTES:
        return f"the picture is larger than {MAX_ATTACHMENT_BYTES / 1_000_000:.1f} MB"
    return why_not_kept(content_type, data)


class MediaState(StrEnum):
    WAITING = "waiting"
    KEPT = "kept"
    REFUSED = "refused"


@dataclass(frozen=True)
class MediaItem:
    """One picture or file of a text, as the message keeps it (a plain dataclass: the webhooks store these and
    stay clear of pydantic)."""

    n: int
    declared_type: str
    url: str | None = None  # where the carrier has it (read with the account's credentials)
    state: MediaState = MediaState.WAITING
    content_type: str | None = None  # as kept
    size: int | None = None
    key: str | None = None  # in the media bucket
    reason: str | None = None  # why it was refused
    at_carrier: bool = True

    def changed(self, **changes: Any) -> MediaItem:
        return replace(self, **changes)

    def stored(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state.value}

    @classmethod
    def from_stored(cls, document: Mapping[str, Any]) -> MediaItem:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in document.items() if key in known}
        return cls(**{**values, "state": MediaState(values.get("state", MediaState.WAITING))})


def media_in(params: Mapping[str, str]) -> list[MediaItem]:
    """The items a webhook's `NumMedia`, `MediaUrl{n}` and `MediaContentType{n}` describe, at most MAX_ITEMS; an
    item the webhook names without a URL is refused at once."""
    count = params.get("NumMedia", "0")
    total = min(int(count), MAX_ITEMS) if count.isdigit() else 0
    items = []
    for n in range(total):
        url, declared = params.get(f"MediaUrl{n}", ""), params.get(f"MediaContentType{n}", "")
        if url:
            items.append(MediaItem(n=n, url=url, declared_type=declared[:100]))
        else:
            items.append(MediaItem(n=n, declared_type=declared[:100], state=MediaState.REFUSED, at_carrier=False,
                                   reason="the carrier sent no address for this file"))
    return items


def media_of(stored: list[Any] | None) -> list[MediaItem]:
    return [MediaItem.from_stored(item) for item in stored or [] if isinstance(item, dict)]


def label(items: list[MediaItem]) -> str:
    """What a text without words shows in the conversation list."""
    pictures = sum(1 for item in items if item.declared_type.lower().startswith("image/"))
    if pictures == len(items):
        return "Picture" if pictures == 1 else f"{pictures} pictures"
    return "Attachment" if len(items) == 1 else f"{len(items)} attachments"
