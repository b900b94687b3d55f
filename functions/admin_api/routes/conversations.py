"""The staff inbox: conversations of permitted lines, threads, marking read, owning and closing them, answering a
patient's apparent request to stop, search; SMS segment counts. Replies are in `replies.py`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import AwareDatetime, ConfigDict, StringConstraints

from switchboard.carrier.error_codes import failure
from switchboard.core.errors import NotFound
from switchboard.core.fields import DomainModel
from switchboard.core.phones import parse_us_number
from switchboard.data import audit, inbox, search, users, workflows
from switchboard.data import conversations as store
from switchboard.data.models import ConversationItem
from switchboard.flows import opt_out_requests, ownership
from switchboard.rules.access import Caller, require_line, require_member
from switchboard.rules.addresses import LineOwner
from switchboard.rules.conversations import Assignee, DeliveryError, InboxEntry, InboxView, Message
from switchboard.rules.exports import conversation_csv
from switchboard.rules.search import parse_search
from switchboard.rules.segments import count_segments

from .identity import current_caller, current_session

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
LineId = Annotated[str, Path(min_length=1, max_length=40)]
Phone = Annotated[str, Path(min_length=1, max_length=40, description="The patient's number, E.164")]
Cursor = Annotated[str | None, Query(max_length=8000)]


class InboxPage(DomainModel):
    conversations: list[InboxEntry]
    next_cursor: str | None


class Thread(DomainModel):
    conversation: InboxEntry
    messages: list[Message]
    next_cursor: str | None


class Assignment(DomainModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Annotated[str | None, StringConstraints(min_length=1, max_length=128)]
    """The user to own the conversation; null gives it to nobody (Unassigned)."""


class Snooze(DomainModel):
    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime


class SegmentRequest(DomainModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(max_length=1600)]


class SegmentAnswer(DomainModel):
    characters: int
    segments: int
    encoding: str


def _shown(message: Message) -> Message:
    """A message as staff read it: one that did not go says why, in words, with the carrier's code."""
    code = int(message.error_code) if message.error_code is not None else None
    why = failure(message.status.value, code, message.error_reason)
    if why is None:
        return message
    return message.model_copy(update={"error": DeliveryError(code=why.code, reason=why.reason,
                                                              what_to_do=why.what_to_do)})


def _listed(entry: InboxEntry) -> InboxEntry:
    """A conversation as staff read it: a last text that failed says why, in the carrier table's words."""
    failed = entry.last_text_failed
    why = failure("failed", failed.code, failed.reason or None) if failed else None
    if failed is None or why is None:
        return entry
    return entry.model_copy(update={"last_text_failed": failed.model_copy(update={"reason": why.reason})})


def stored_conversation(caller: Caller, practice_id: str, line_id: str, phone: str) -> ConversationItem:
    """The stored conversation on a line the caller may use."""
    require_line(caller, practice_id, line_id)
    e164 = parse_us_number(phone, field="phone") if not phone.startswith("+") or phone.startswith("+1") else phone
    found = store.load_conversation(line_id, e164)
    if found is None or found.practice_id != practice_id:
        raise NotFound("no such conversation")
    return found


def conversation_for(caller: Caller, practice_id: str, line_id: str, phone: str) -> tuple[str, InboxEntry]:
    """The conversation on a line the caller may use, and the patient's number as stored."""
    found = stored_conversation(caller, practice_id, line_id, phone)
    return found.phone, _listed(inbox.to_entry(found))


@router.get(
    "/api/practices/<practice_id>/inbox",
    summary="Conversations of the lines you may use, by last activity; one page per call",
)
def list_inbox(
    practice_id: PracticeId,
    cursor: Cursor = None,
    view: Annotated[InboxView, Query(description="unassigned, mine, open (every open one), snoozed, closed")]
    = InboxView.OPEN,
    unread: Annotated[bool, Query()] = False,
    line_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    active_since: Annotated[AwareDatetime | None, Query(
        description="only conversations active at or after this time (the console polls with its newest)")] = None,
) -> InboxPage:
    caller = current_caller(router)
    require_member(caller, practice_id)
    staff_lines = caller.staff_lines(practice_id)
    lines = None if staff_lines is None else set(staff_lines)
    if line_id is not None:
        lines = {line_id} & lines if lines is not None else {line_id}
    which = inbox.InboxFilter(view, caller.subject, datetime.now(UTC), unread_only=unread, active_since=active_since)
    if lines is None:
        page = inbox.inbox_page(practice_id, which, limit=limit, cursor=cursor)
    elif lines:
        page = inbox.lines_inbox_page(practice_id, lines, which, limit=limit, cursor=cursor)
    else:
        page = inbox.Page([], None)
    return InboxPage(
        conversations=[_listed(inbox.to_entry(item)) for item in page.items], next_cursor=page.cursor
    )


@router.get(
    "/api/practices/<practice_id>/search",
    summary="Conversations of the lines you may use found by phone (or its last 4 or 7 digits), patient name, "
            "or words of a text; open or closed; one page per call",
)
def search_conversations(
    practice_id: PracticeId,
    q: Annotated[str, Query(min_length=1, max_length=200, description=(
        "a phone number as typed, its last 4 or 7 digits, a patient's name or its start, or words of a text"))],
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> InboxPage:
    caller = current_caller(router)
    require_member(caller, practice_id)
    page = search.search_page(practice_id, parse_search(q), caller.staff_lines(practice_id), limit=limit,
                              cursor=cursor)
    return InboxPage(conversations=[_listed(inbox.to_entry(item)) for item in page.items],
                     next_cursor=page.cursor)


@router.get(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>",
    summary="A conversation and a page of its messages (oldest first); its first opening in a sign-in session "
            "goes on the audit trail",
)
def read_thread(
    practice_id: PracticeId,
    line_id: LineId,
    phone: Phone,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Thread:
    caller = current_caller(router)
    found = stored_conversation(caller, practice_id, line_id, phone)
    page = inbox.thread_page(line_id, found.phone, limit=limit, cursor=cursor)
    if cursor is None:  # HIPAA asks who saw which patient's texts: the first opening in a session is recorded
        audit.record_read(found, user_id=caller.subject, session=current_session(router), actor=caller.email,
                          at=datetime.now(UTC))
    messages = [_shown(inbox.to_message(item)) for item in reversed(page.items)]
    return Thread(conversation=_listed(inbox.to_entry(found)), messages=messages, next_cursor=page.cursor)


@router.get(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/export",
    summary="The whole conversation as CSV for the patient's record (when, direction, who, status, text, pictures, "
            "problem), oldest first; the export goes on the audit trail",
)
def export_thread(practice_id: PracticeId, line_id: LineId, phone: Phone) -> Response[str]:
    caller = current_caller(router)
    found = stored_conversation(caller, practice_id, line_id, phone)
    messages, cursor = [], None
    while True:
        page = inbox.thread_page(line_id, found.phone, limit=200, cursor=cursor)
        messages += [_shown(inbox.to_message(item)) for item in page.items]
        if not (cursor := page.cursor):
            break
    messages.reverse()
    people = users.list_users(practice_id)
    names = {key: f"{user.name} ({user.email})" for user in people for key in (user.user_id, user.email)}
    names |= {workflow.workflow_id: workflow.name for workflow in workflows.list_workflows(practice_id)}
    audit.note_conversation(found, actor=caller.email, action="conversation.export",
                            details={"format": "csv", "messages": len(messages)})
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=conversation_csv(messages, names),
                    headers={"Content-Disposition": 'attachment; filename="conversation.csv"',
                             "Cache-Control": "no-store"})


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/read", summary="Mark a conversation read"
)
def mark_read(practice_id: PracticeId, line_id: LineId, phone: Phone) -> InboxEntry:
    e164, conversation = conversation_for(current_caller(router), practice_id, line_id, phone)
    store.mark_read(line_id, e164, datetime.now(UTC))
    return conversation.model_copy(update={"unread": 0})


@router.get(
    "/api/practices/<practice_id>/lines/<line_id>/assignees",
    summary="The users who may own the line's conversations (to assign one to), by name",
)
def list_assignees(practice_id: PracticeId, line_id: LineId) -> list[Assignee]:
    require_line(current_caller(router), practice_id, line_id)
    return ownership.assignees(LineOwner(practice_id, line_id))


Change = Callable[[LineOwner, str, Caller], ConversationItem]


def _changed(practice_id: str, line_id: str, phone: str, change: Change) -> InboxEntry:
    """A staff action on a conversation of a line the caller may use: the conversation as it is afterwards."""
    caller = current_caller(router)
    e164, _ = conversation_for(caller, practice_id, line_id, phone)
    return _listed(inbox.to_entry(change(LineOwner(practice_id, line_id), e164, caller)))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/assignee",
    summary="Give the conversation to a user who may use its line, or to nobody (user_id null); audited",
)
def assign(practice_id: PracticeId, line_id: LineId, phone: Phone,
           assignment: Annotated[Assignment, Body()]) -> InboxEntry:
    return _changed(practice_id, line_id, phone, lambda owner, e164, caller: ownership.assign(
        owner, e164, assignment.user_id, actor=caller.email))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/claim",
    summary="Take an unassigned conversation for yourself (409 when a colleague owns it); audited",
)
def claim(practice_id: PracticeId, line_id: LineId, phone: Phone) -> InboxEntry:
    return _changed(practice_id, line_id, phone, lambda owner, e164, caller: ownership.claim(
        owner, e164, user_id=caller.subject, name=caller.email, actor=caller.email))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/close",
    summary="Close the conversation (a new patient text opens it again); audited",
)
def close(practice_id: PracticeId, line_id: LineId, phone: Phone) -> InboxEntry:
    return _changed(practice_id, line_id, phone,
                    lambda owner, e164, caller: ownership.close(owner, e164, actor=caller.email))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/reopen",
    summary="Open a closed or snoozed conversation again; audited",
)
def reopen(practice_id: PracticeId, line_id: LineId, phone: Phone) -> InboxEntry:
    return _changed(practice_id, line_id, phone,
                    lambda owner, e164, caller: ownership.reopen(owner, e164, actor=caller.email))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/snooze",
    summary="Keep the conversation out of the views until a time (a patient's text wakes it sooner); audited",
)
def snooze(practice_id: PracticeId, line_id: LineId, phone: Phone, request: Annotated[Snooze, Body()]
           ) -> InboxEntry:
    return _changed(practice_id, line_id, phone, lambda owner, e164, caller: ownership.snooze(
        owner, e164, request.until, actor=caller.email))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/opt-out",
    summary="Opt the patient out on this line, as their STOP would (staff decided they asked to stop)",
)
def opt_out(practice_id: PracticeId, line_id: LineId, phone: Phone) -> InboxEntry:
    return _changed(practice_id, line_id, phone,
                    lambda owner, e164, caller: opt_out_requests.opt_out(owner, e164, staff=caller.email))


@router.post(
    "/api/practices/<practice_id>/lines/<line_id>/conversations/<phone>/opt-out-request/dismiss",
    summary="The patient's text was not a request to stop: clear the flag, keep them opted in",
)
def dismiss_opt_out_request(practice_id: PracticeId, line_id: LineId, phone: Phone) -> InboxEntry:
    return _changed(practice_id, line_id, phone,
                    lambda owner, e164, caller: opt_out_requests.dismiss(owner, e164, staff=caller.email))


@router.post("/api/segments", summary="Characters and SMS segments a draft will cost (GSM-7 or UCS-2)")
def segments(request: Annotated[SegmentRequest, Body()]) -> SegmentAnswer:
    current_caller(router)
    counted = count_segments(request.text)
    return SegmentAnswer(characters=counted.characters, segments=counted.segments, encoding=counted.encoding)
