"""Records as CSV for people and other systems: the audit trail, and a conversation for the patient's record."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence

from switchboard.rules.audit import AuditEntry
from switchboard.rules.conversations import Message
from switchboard.rules.messages import SenderKind

AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "changes")
CONVERSATION_COLUMNS = ("at", "direction", "sender", "status", "text", "pictures", "problem")
# A cell a spreadsheet would run as a formula (OWASP's list for CSV injection) is written as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SENDERS = {SenderKind.PATIENT: "Patient", SenderKind.WORKFLOW: "Workflow", SenderKind.AUTO_RESPONSE: "Automatic reply",
           SenderKind.INTEGRATION: "Clinic system", SenderKind.CAMPAIGN: "Campaign", SenderKind.SYSTEM: "Switchboard",
           SenderKind.STAFF: "Staff"}


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([_cell(text) for text in row] for row in rows)
    return out.getvalue()


def audit_csv(entries: Iterable[AuditEntry]) -> str:
    """The entries, a header row first; their changes as JSON in one column."""
    return _table(AUDIT_COLUMNS, ((entry.at.isoformat(), entry.actor, entry.action, entry.entity, entry.entity_id,
                                   json.dumps(entry.changes, sort_keys=True, separators=(",", ":"))
                                   if entry.changes else "") for entry in entries))


def sender_of(message: Message, names: Mapping[str, str]) -> str:
    """Who wrote a message, in words: a staff member or workflow by name (`names` by id or email) when known; a
    staff member no longer with the practice by the address they replied as."""
    kind = SENDERS.get(message.sender, str(message.sender))
    named = names.get(message.sender_id or "") or (message.sender_id if message.sender is SenderKind.STAFF else None)
    return f"{kind}: {named}" if named else kind


def conversation_csv(messages: Iterable[Message], names: Mapping[str, str]) -> str:
    """A conversation's messages, oldest first, with when, who, how it went and what it said."""
    return _table(CONVERSATION_COLUMNS, ((
        message.created_at.isoformat(), message.direction.value, sender_of(message, names), message.status.value,
        message.body or "", str(len(message.media)), message.error.reason if message.error else "")
        for message in messages))
