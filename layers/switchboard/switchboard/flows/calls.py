"""Voice calls to a texting line: find the line, follow its links, decide where the call goes and where it goes
on to when nobody answers, and put a voicemail in the caller's conversation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from switchboard.core.errors import InvalidInput, NotFound
from switchboard.core.observability import logger
from switchboard.data import call_routing as store
from switchboard.data import voicemails
from switchboard.data.call_routing import LineForCalls
from switchboard.data.intake import note_reached
from switchboard.data.numbers import line_for_number
from switchboard.rules.call_routing import (
    AFTER_HOURS,
    DIAL_STATUSES,
    MAX_LINK_CHAIN,
    MAX_RING_GROUP,
    MAX_RING_WINDOWS,
    NOBODY_ANSWERED,
    NOT_FOR_CALLS,
    OPEN_HOURS,
    WINDOW,
    CallRules,
    HangUp,
    Hop,
    Route,
    Say,
    Voicemail,
    route_call,
    shown_caller,
)
from switchboard.rules.line_status import LineStatus

UNKNOWN_NUMBER = "Sorry, this number is not in service. Goodbye."
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_GROUP = re.compile(rf"^({OPEN_HOURS}|{AFTER_HOURS}|{WINDOW}\d{{1,2}})$")
_RECORDING_URL = re.compile(r"^https?://[^\s/?#]+/\S*$")


def _followed(line: LineForCalls) -> LineForCalls:
    """The line whose rules apply: the line itself, or the end of its chain of links."""
    current = line
    for _ in range(MAX_LINK_CHAIN):
        linked = (current.forwarding or {}).get("linked_line_id")
        if not linked:
            return current
        target = store.linked_line(linked)
        if target is None:
            logger.warning("linked line missing; treating the call as unrouted", extra={"line_id": current.line_id})
            return current.without_forwarding()
        current = target
    return current.without_forwarding()


def hop_of(query: Mapping[str, str]) -> Hop | None:
    """The ring group a <Dial>'s action URL names (None on a fresh call); a malformed one is refused by name."""
    group, position = query.get("group"), query.get("position", "0")
    if group is None:
        if "position" in query:
            raise InvalidInput("is given without a group", field="position")
        return None
    if not _GROUP.match(group) or (group.startswith(WINDOW) and int(group.removeprefix(WINDOW)) >= MAX_RING_WINDOWS):
        raise InvalidInput(f"is not {OPEN_HOURS}, {AFTER_HOURS} or {WINDOW}<n>", field="group")
    if not position.isascii() or not position.isdigit() or int(position) >= MAX_RING_GROUP:
        raise InvalidInput(f"is not a number from 0 to {MAX_RING_GROUP - 1}", field="position")
    return Hop(group, int(position))


def answer_call(params: dict[str, str], after: Hop | None = None, at: datetime | None = None) -> Route:
    """Where a call goes: a fresh one by the line's rules, one whose <Dial> ended (`after`) on by its DialCallStatus."""
    now = at or datetime.now(UTC)
    dial_status = params.get("DialCallStatus")
    if after is not None and dial_status not in DIAL_STATUSES:
        raise InvalidInput("is not one of the carrier's dial statuses", field="DialCallStatus")
    owner = line_for_number(params.get("To", ""))
    if owner is None:
        logger.warning("call to a number no line has")
        return HangUp() if after else Say(UNKNOWN_NUMBER)
    line = store.line_for_calls(owner.practice_id, owner.line_id)
    if line is None:
        raise NotFound("no such line")
    if line.status != LineStatus.ENABLED:
        return HangUp() if after else Say(NOT_FOR_CALLS)
    rules = _followed(line)
    caller = params.get("From", "")
    if after is None and _E164.match(caller):
        note_reached(owner.practice_id, caller, now)  # an abandoned call's text waiting for them will not go
    route = route_call(CallRules.from_stored(rules.forwarding), rules.hours, now,
                       caller_id=shown_caller(caller, line.number), after=after, dial_status=dial_status)
    if isinstance(route, Voicemail):
        call_sid = params.get("CallSid", "")
        if not _E164.match(caller) or not call_sid:
            # A withheld caller's message could reach no conversation: better told so than recorded for nobody.
            return Say(NOBODY_ANSWERED)
        voicemails.offer_voicemail(call_sid, owner, caller, now)
    return route


def receive_voicemail(params: dict[str, str], at: datetime | None = None) -> bool:
    """Put a finished recording in the caller's conversation on the line called; False when there was nothing
    to add (not finished yet, an unknown call, or a retried callback)."""
    if params.get("RecordingStatus") != "completed":
        return False
    sid, url = params.get("RecordingSid", ""), params.get("RecordingUrl", "")
    seconds = params.get("RecordingDuration", "0")
    if not sid:
        raise InvalidInput("is missing", field="RecordingSid")
    if not _RECORDING_URL.match(url):
        raise InvalidInput("is not an http(s) URL", field="RecordingUrl")
    if not seconds.isascii() or not seconds.isdigit():
        raise InvalidInput("is not a whole number of seconds", field="RecordingDuration")
    call = voicemails.voicemail_call(params.get("CallSid", ""))
    if call is None:
        owner, caller = line_for_number(params.get("To", "")), params.get("From", "")
        call = (owner, caller) if owner and _E164.match(caller) else None
    if call is None:
        logger.warning("recording of a call that was offered no voicemail ignored")
        return False
    ref = voicemails.record_voicemail(call[0], call[1], recording_sid=sid, recording_url=url, seconds=int(seconds),
                                      at=at or datetime.now(UTC))
    return ref is not None
