"""PynamoDB models of the single table; which item has which key is tabled in `keys.py`."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

# Named here too: every kind of item is known (and importable from here) wherever a query may return one.
from .integration_items import (  # noqa: F401
    ApiKeyItem,
    ApiKeyLookupItem,
    CampaignItem,
    CursorItem,
    LineRateItem,
    RecipientItem,
    SendReceiptItem,
)
from .table import Item


class PracticeItem(Item, discriminator="practice"):
    practice_id = UnicodeAttribute()
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    hours = JSONAttribute()
    primary_line_id = UnicodeAttribute(null=True)
    settings = JSONAttribute(null=True)
    messaging_service_sid = UnicodeAttribute(null=True)  # the carrier's sender pool for its lines (MG…)
    registration = JSONAttribute(null=True)  # its A2P 10DLC campaign's state, as the poller last saw it
    address = JSONAttribute(null=True)  # its business address and the carrier's Address sid (AD…)
    version = VersionAttribute()


class LineItem(Item, discriminator="line"):
    practice_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    number = UnicodeAttribute()
    source = UnicodeAttribute()
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    status_changed_at = UTCDateTimeAttribute(null=True)
    carrier_sid = UnicodeAttribute(null=True)
    order_sid = UnicodeAttribute(null=True)
    messaging_service_sid = UnicodeAttribute(null=True)  # set once its number is in the practice's sender pool
    sends_pictures = BooleanAttribute(null=True)  # the number's MMS capability, as the carrier lists it
    settings = JSONAttribute(null=True)
    version = VersionAttribute()


class ResourceItem(Item, discriminator="resource"):
    practice_id = UnicodeAttribute()
    resource_id = UnicodeAttribute()
    name = UnicodeAttribute()
    line_id = UnicodeAttribute(null=True)
    version = VersionAttribute()


class MembershipItem(Item, discriminator="membership"):
    """A person's place in one practice: `USER#<sub>` / `PRACTICE#<id>`, listed per practice through gsi1."""
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    practice_id = UnicodeAttribute()
    line_ids = UnicodeSetAttribute(default=set)
    version = VersionAttribute()


class LegacyUserItem(Item, discriminator="user"):
    """A user as first stored, keyed by email (`USER#<email>` / `USER`); moved to a membership at sign-in."""
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    practice_id = UnicodeAttribute(null=True)
    line_ids = UnicodeSetAttribute(default=set)
    version = VersionAttribute()


class AuditItem(Item, discriminator="audit"):
    practice_id = UnicodeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    entity = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    changes = JSONAttribute()


class ReadMarkItem(Item, discriminator="read_mark"):
    """A conversation some sign-in session has opened (its audit entry is written with it); expires."""


class NumberClaim(Item, discriminator="number_claim"):
    """Holds a number for one line in the whole enterprise; written in the same transaction as the line."""

    practice_id = UnicodeAttribute()
    line_id = UnicodeAttribute()


class WorkflowItem(Item, discriminator="workflow"):
    practice_id = UnicodeAttribute()
    workflow_id = UnicodeAttribute()
    name = UnicodeAttribute()
    workflow_kind = UnicodeAttribute()
    vendor = UnicodeAttribute()
    language = UnicodeAttribute()
    line_id = UnicodeAttribute()
    template = UnicodeAttribute()
    enabled = BooleanAttribute(default=True)
    revoked = BooleanAttribute(default=False)
    token_hash = UnicodeAttribute()
    duplicate_window_minutes = NumberAttribute(null=True)  # None: the practice's
    delay_minutes = NumberAttribute(null=True)  # an abandoned-call text's wait; None: none
    version = VersionAttribute()


class TokenItem(Item, discriminator="token"):
    """What intake needs about a workflow, in one read by the token's hash."""

    practice_id = UnicodeAttribute()
    workflow_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    enabled = BooleanAttribute()
    duplicate_window_minutes = NumberAttribute(default=10)
    workflow_kind = UnicodeAttribute(null=True)
    delay_minutes = NumberAttribute(null=True)


class CountsItem(Item, discriminator="counts"):
    """Counters bumped with ADD; reasons are kept as `failed:<reason>` attributes written raw."""

    practice_id = UnicodeAttribute()
    workflow_id = UnicodeAttribute()


class ContactItem(Item, discriminator="contact"):
    practice_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    verified = BooleanAttribute(default=False)
    name = UnicodeAttribute(null=True)
    patient_id = UnicodeAttribute(null=True)
    not_textable = BooleanAttribute(default=False)


class ConversationItem(Item, discriminator="conversation"):
    line_id = UnicodeAttribute()
    practice_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    unread = NumberAttribute(default=0)
    last_activity_at = UTCDateTimeAttribute()
    opted_out = BooleanAttribute(default=False)
    not_textable = BooleanAttribute(default=False)
    verified = BooleanAttribute(default=False)
    workflow_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    matches = JSONAttribute(null=True)
    patient_id = UnicodeAttribute(null=True)
    last_message = JSONAttribute(null=True)
    last_staff_reply_at = UTCDateTimeAttribute(null=True)
    after_hours_period = UnicodeAttribute(null=True)
    replied = BooleanAttribute(null=True)
    mpsp_prompts = NumberAttribute(null=True)
    mpsp_message = UnicodeAttribute(null=True)  # the patient's text MPSP last acted on
    # START/UNSTOP/YES opts back in only a patient who was opted out: the text's write copies the state it found.
    opt_in_text = UnicodeAttribute(null=True)
    opted_out_before_opt_in = BooleanAttribute(null=True)
    opt_out_text = UnicodeAttribute(null=True)
    opted_out_before_opt_out = BooleanAttribute(null=True)
    opt_out_requested = JSONAttribute(null=True)  # {message_id, at}: a text that sounds like a request to stop
    last_text_failed = JSONAttribute(null=True)  # {message_id, code, reason}: until a later text is delivered
    conversation_id = UnicodeAttribute(null=True)  # names it in the audit trail without the patient's phone
    state = UnicodeAttribute(null=True)  # "closed", or absent: open (snoozed while snoozed_until is ahead)
    snoozed_until = UTCDateTimeAttribute(null=True)
    assignee_id = UnicodeAttribute(null=True)
    assignee_name = UnicodeAttribute(null=True)
    last_staff_reply_id = UnicodeAttribute(null=True)
    last_staff_reply_by = UnicodeAttribute(null=True)  # the user's id
    last_staff_reply_name = UnicodeAttribute(null=True)


class MessageItem(Item, discriminator="message"):
    message_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    practice_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    direction = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    sender = UnicodeAttribute()
    sender_id = UnicodeAttribute(null=True)
    workflow_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    error_code = NumberAttribute(null=True)
    error_reason = UnicodeAttribute(null=True)
    carrier_sid = UnicodeAttribute(null=True)
    attempt_started_at = UTCDateTimeAttribute(null=True)
    attempt_ended_at = UTCDateTimeAttribute(null=True)  # the attempt is known to be over (its answer unclear)
    status_callback = UnicodeAttribute(null=True)
    flag = UnicodeAttribute(null=True)
    keyword = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    send_at = UTCDateTimeAttribute(null=True)
    handoff = UnicodeAttribute(null=True)
    announced = BooleanAttribute(null=True)  # a patient's text told to other systems (once)
    recording_url = UnicodeAttribute(null=True)  # a voicemail's recording, at the carrier
    carrier_reply = UnicodeAttribute(null=True)  # what the carrier says to an opt word that changes the state
    media = JSONAttribute(null=True)  # its pictures and files (rules.media.MediaItem)


class SidItem(Item, discriminator="sid"):
    """Carrier message sid → our message, for status callbacks."""
    message_pk = UnicodeAttribute()
    message_sk = UnicodeAttribute()
    contact_pk = UnicodeAttribute()
    workflow_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    practice_id = UnicodeAttribute()


class EarlyStatusItem(Item, discriminator="early_status"):
    """A status callback that came before the send stored its sid (`SID#<sid>` / `EARLY`), applied once it is."""
    status = UnicodeAttribute()
    news = JSONAttribute()


class DedupeItem(Item, discriminator="dedupe"):
    """A caller's window at one practice: the text it queued, and, while that text waits (an abandoned call's),
    until when it waits and whether the caller reached the practice again meanwhile."""
    window_ends_at = NumberAttribute()
    message_id = UnicodeAttribute()
    line_id = UnicodeAttribute(null=True)
    workflow_id = UnicodeAttribute(null=True)
    held_until = NumberAttribute(null=True)  # epoch seconds
    reached_at = NumberAttribute(null=True)  # epoch seconds: a call to one of the practice's lines


class PatientItem(Item, discriminator="patient"):
    """A verified patient from the clinic's records; several may share one phone."""
    practice_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    name = UnicodeAttribute()
    phone = UnicodeAttribute()


class EnterpriseItem(Item, discriminator="enterprise"):
    cross_practice_matching = BooleanAttribute(default=False)
    version = VersionAttribute()


class InboundSidItem(Item, discriminator="inbound_sid"):
    """Marks a carrier message sid as stored, so a retried webhook stores nothing twice."""


class VoicemailCallItem(Item, discriminator="voicemail_call"):
    """A call that was offered voicemail: which line and caller, since the carrier's recording callback names
    only the call."""
    practice_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    phone = UnicodeAttribute()


class SearchTermItem(Item, discriminator="search_term"):
    """One conversation under one term it is found by (`FIND#<practice>#<term digest>` / `<line>#<e164>`)."""
    practice_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    phone = UnicodeAttribute()


class QuickResponseItem(Item, discriminator="quick_response"):
    practice_id = UnicodeAttribute()
    quick_response_id = UnicodeAttribute()
    title = UnicodeAttribute()
    language = UnicodeAttribute()
    body = UnicodeAttribute()
