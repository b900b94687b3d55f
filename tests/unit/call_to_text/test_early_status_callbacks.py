"""A status callback can reach us before the send has recorded the carrier's answer (the carrier calls back as
soon as it accepts): it is kept and applied once the sid is stored, never dropped."""

from datetime import UTC, datetime

import pytest

from switchboard.data import deliveries
from switchboard.data.models import EarlyStatusItem, MessageItem
from switchboard.flows import delivery_status


@pytest.fixture
def callbacks_first(monkeypatch, status_callback):
    """Make the carrier's callbacks (`statuses`, in order) arrive between its accept and our record of it."""
    statuses: list[tuple[str, int | None]] = []
    record = deliveries.record_accepted

    def racing(message, *, sid, **recorded):
        for status, code in statuses:
            assert status_callback(sid, status, code).status == 200
        return record(message, sid=sid, **recorded)

    monkeypatch.setattr(deliveries, "record_accepted", racing)
    return statuses


def test_a_delivered_callback_that_beats_the_sends_record_still_marks_the_text_delivered(
        intake, queues, callbacks_first, admin_api, setup):
    callbacks_first += [("sent", None), ("delivered", None)]
    intake()
    queues.deliver()
    message = next(MessageItem.scan())
    assert (message.status, message.pending_pk) == ("delivered", None)
    assert list(EarlyStatusItem.scan()) == []  # applied once, then gone
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}").body
    assert counts["counts"]["delivered"] == 1


def test_a_failure_reported_early_shows_its_reason_and_counts_once(intake, queues, callbacks_first, admin_api,
                                                                    setup):
    callbacks_first += [("undelivered", 30007), ("sent", None)]  # the later "sent" is older news
    intake()
    queues.deliver()
    message = next(MessageItem.scan())
    assert (message.status, message.error_code) == ("undelivered", 30007)
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}").body
    assert counts["counts"]["failed_by_reason"] == {"filtered as spam by the carrier": 1}


def test_a_callback_kept_while_the_send_records_its_sid_is_applied_by_the_callback_itself(intake, queues,
                                                                                         monkeypatch):
    """The other order: the callback misses the sid, the send records it (nothing kept yet), then the callback
    keeps its news and, finding the sid now, applies it."""
    intake()
    queues.deliver()
    sid = next(MessageItem.scan()).carrier_sid
    apply = deliveries.apply_carrier_status
    calls = []

    def first_misses(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            return deliveries.StatusChange(applied=False, message_known=False)
        return apply(*args, **kwargs)

    monkeypatch.setattr(deliveries, "apply_carrier_status", first_misses)
    assert delivery_status.record({"MessageSid": sid, "MessageStatus": "delivered"}) is True
    assert next(MessageItem.scan()).status == "delivered"


def test_a_callback_for_a_sid_we_never_sent_changes_no_message(intake, queues, status_callback):
    intake()
    queues.deliver()
    before = next(MessageItem.scan()).status
    assert status_callback("SM" + "0" * 32, "delivered").status == 200
    assert next(MessageItem.scan()).status == before
    [kept] = EarlyStatusItem.scan()
    assert kept.expires_at is not None and kept.expires_at > datetime.now(UTC)  # gone within a day (TTL)
