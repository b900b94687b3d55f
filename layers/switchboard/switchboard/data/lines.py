"""Storing and reading lines, and the enterprise-wide claim on each number."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite
from ulid import ULID

from switchboard.errors import Conflict, NotFound
from switchboard.lines import Line, LineSource, LineStatus, NewLine

from .models import LineItem, NumberClaim, PracticeItem, connection
from .practices import practice_key


def _line(item: LineItem) -> Line:
    return Line(
        line_id=item.line_id,
        practice_id=item.practice_id,
        display_name=item.display_name,
        number=item.number,
        source=LineSource(item.source),
        status=LineStatus(item.status),
        status_reason=item.status_reason,
        status_changed_at=item.status_changed_at,
        version=item.version,
        created_at=item.created_at,
    )


def _refusal(error: TransactWriteError, claim_position: int, practice_position: int) -> Exception:
    reasons = [getattr(r, "code", None) for r in (error.cancellation_reasons or [])]
    if len(reasons) > claim_position and reasons[claim_position] == "ConditionalCheckFailed":
        return Conflict("this number is already used by another line", field="number")
    if len(reasons) > practice_position and reasons[practice_position] == "ConditionalCheckFailed":
        return NotFound("no such practice")
    return error


def add_line(
    practice_id: str, draft: NewLine, *, source: LineSource, status: LineStatus, status_reason: str | None = None
) -> Line:
    """Line, number claim and a check that the practice exists, all or nothing."""
    line_id = str(ULID())
    line = LineItem(
        practice_key(practice_id),
        f"LINE#{line_id}",
        practice_id=practice_id,
        line_id=line_id,
        display_name=draft.display_name,
        number=draft.number,
        source=source.value,
        status=status.value,
        status_reason=status_reason,
        gsi1pk="LINES",
        gsi1sk=line_id,
    )
    claim = NumberClaim(f"NUMBER#{draft.number}", "NUMBER", practice_id=practice_id, line_id=line_id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.condition_check(
                PracticeItem, practice_key(practice_id), "PRACTICE", condition=PracticeItem.pk.exists()
            )
            transaction.save(claim, condition=NumberClaim.pk.does_not_exist())
            transaction.save(line, condition=LineItem.pk.does_not_exist())
    except TransactWriteError as error:
        raise _refusal(error, claim_position=1, practice_position=0) from None
    line.version = 1
    return _line(line)


def get_line(practice_id: str, line_id: str) -> Line:
    try:
        return _line(LineItem.get(practice_key(practice_id), f"LINE#{line_id}", consistent_read=True))
    except DoesNotExist:
        raise NotFound("no such line") from None


def list_lines(practice_id: str) -> list[Line]:
    return [_line(item) for item in LineItem.query(practice_key(practice_id), LineItem.sk.startswith("LINE#"))]
