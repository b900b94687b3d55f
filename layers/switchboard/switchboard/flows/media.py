"""A patient's pictures and files, copied from the carrier into the stack's bucket and then deleted at the carrier;
and the pictures staff attach to a reply.

Each item moves on its own: fetched and kept (or refused, with its reason), recorded on the message, and
only then deleted at the carrier, so a job run twice, or cut off anywhere, keeps every file once and
never deletes one it has not kept. The carrier being unreachable leaves the rest for the queue's retry.
"""

from __future__ import annotations

from switchboard.aws.jobs import KeepMedia
from switchboard.carrier import Carrier, carrier
from switchboard.carrier.media import MediaRefused, media_ref
from switchboard.core.errors import InvalidInput, RuleRefused
from switchboard.core.observability import logger
from switchboard.data import lines as line_store
from switchboard.data import media as media_store
from switchboard.data.messages import load_message, new_message_id
from switchboard.rules.addresses import LineOwner
from switchboard.rules.media import SENDABLE_TYPES, MediaItem, MediaState, why_not_kept, why_not_sendable


def keep_media(job: KeepMedia) -> list[MediaItem]:
    """The message's items once every one is kept or refused and gone from the carrier. CarrierUnavailable
    when the carrier should be asked again later (what was done stays done)."""
    message = load_message(job.message)
    if message is None or message.practice_id != job.practice_id:
        logger.warning("media of a message that is not stored")
        return []
    items = media_store.items_of(message)
    if not any(item.state is MediaState.WAITING or item.at_carrier for item in items):
        return items
    account = carrier()
    for index, item in enumerate(items):
        if item.state is MediaState.WAITING:
            items[index] = item = _keep(account, job, item)
            media_store.record(message, items)
        if item.at_carrier and item.url:
            account.delete_media(media_ref(item.url, account.account_sid))
            items[index] = item.changed(at_carrier=False)
            media_store.record(message, items)
    return items


def _keep(account: Carrier, job: KeepMedia, item: MediaItem) -> MediaItem:
    assert item.url is not None
    try:
        fetched = account.fetch_media(item.url)
    except MediaRefused as refused:
        logger.info("a patient's file was not kept", extra={"reason": refused.reason, "n": item.n})
        # The carrier's own copy is still deleted (it keeps media until told to); an address not the
        # carrier's names nothing to delete.
        return item.changed(state=MediaState.REFUSED, reason=refused.reason,
                            at_carrier=_is_carriers(account, item.url))
    if reason := why_not_kept(fetched.content_type, fetched.data):
        logger.info("a patient's file was not kept", extra={"reason": reason, "n": item.n})
        return item.changed(state=MediaState.REFUSED, reason=reason)
    key = media_store.object_key(job.practice_id, job.message, item.n)
    media_store.put(key, fetched.content_type, fetched.data)
    return item.changed(state=MediaState.KEPT, content_type=fetched.content_type, size=len(fetched.data), key=key)


def _is_carriers(account: Carrier, url: str) -> bool:
    try:
        media_ref(url, account.account_sid)
    except MediaRefused:
        return False
    return True


def line_sends_pictures(owner: LineOwner) -> bool:
    """Whether the line's number sends MMS: the carrier is asked once, and its answer kept on the line."""
    item, _ = line_store.load(owner.practice_id, owner.line_id)
    if item.sends_pictures is None:
        if not item.carrier_sid:
            return False
        line_store.record_sends_pictures(item, carrier().sends_pictures(item.carrier_sid))
    return bool(item.sends_pictures)


def attach(owner: LineOwner, content_type: str, data: bytes) -> tuple[str, str, int]:
    """Keep a picture staff will send in a reply from the line: its id, type and size. InvalidInput naming
    `content_type` or `data` when it cannot be sent; RuleRefused when the line's number sends no pictures."""
    content_type = content_type.split(";")[0].strip().lower()
    if reason := why_not_sendable(content_type, data):
        raise InvalidInput(reason, field="data" if content_type in SENDABLE_TYPES else "content_type")
    if not line_sends_pictures(owner):
        raise RuleRefused("this line's number cannot send pictures (MMS); send the text alone", field="attachment")
    attachment_id = new_message_id()
    media_store.put(media_store.attachment_key(owner.practice_id, owner.line_id, attachment_id), content_type, data)
    return attachment_id, content_type, len(data)


def attached(owner: LineOwner, attachment_ids: list[str]) -> tuple[MediaItem, ...]:
    """The pictures a reply sends, each one staff attached on this line; InvalidInput naming `attachment_ids`
    for one that is not there."""
    items = []
    for n, attachment_id in enumerate(attachment_ids):
        key = media_store.attachment_key(owner.practice_id, owner.line_id, attachment_id)
        found = media_store.attachment(key)
        if found is None:
            raise InvalidInput(f"no attached picture {attachment_id} on this line (attach it first)",
                               field="attachment_ids")
        content_type, size = found
        items.append(MediaItem(n=n, declared_type=content_type, state=MediaState.KEPT, content_type=content_type,
                               size=size, key=key, at_carrier=False))
    return tuple(items)
