"""The message reconciler: nothing stuck in flight, nothing sent twice."""

from datetime import UTC, datetime, timedelta

from switchboard.data.models import MessageItem
from switchboard.flows.delivery import reconcile_in_flight
from tests.clock import wait_until

LATER = timedelta(minutes=11)


def test_a_send_the_carrier_took_before_a_crash_is_found_and_recorded(intake, queues, carrier_account):
    carrier_account.add_faults({"accept_then_fail": True, "status": 500})
    intake()
    queues.deliver()
    queues.messages()  # the job is lost with the crashed consumer
    tally = reconcile_in_flight(datetime.now(UTC) + LATER)
    assert tally["found_at_carrier"] == 1
    message = next(MessageItem.scan())
    assert message.carrier_sid == carrier_account.messages(to="+14155552671")[0]["sid"]
    assert len(carrier_account.messages(to="+14155552671")) == 1


def test_a_queued_message_whose_job_was_lost_is_queued_again_and_sent_once(intake, queues, carrier_account):
    intake()
    queues.messages()  # the queue send "failed" after the write
    tally = reconcile_in_flight(datetime.now(UTC) + LATER)
    assert tally["requeued"] == 1
    queues.deliver()
    assert len(carrier_account.messages(to="+14155552671")) == 1
    assert reconcile_in_flight(datetime.now(UTC) + LATER)["requeued"] == 0


def test_lost_status_callbacks_are_fetched_from_the_carrier(intake, queues, carrier_account):
    intake()
    queues.deliver()
    wait_until(lambda: carrier_account.messages(to="+14155552671")[0]["status"] == "delivered")
    tally = reconcile_in_flight(datetime.now(UTC) + LATER)
    assert tally["updated"] == 1
    message = next(MessageItem.scan())
    assert message.status == "delivered"
    assert message.pending_pk is None


def test_recent_messages_are_left_alone(intake, queues):
    intake()
    queues.deliver()
    assert reconcile_in_flight()["checked"] == 0


def _stuck(setup, count, *, status, ago, attempted, start=0):
    """Messages stored `ago` and still not final, straight into the table (as a backlog would leave them)."""
    from switchboard.data.messages import new_message, new_message_id
    from switchboard.rules.addresses import MessageRef
    from switchboard.rules.messages import Direction, MessageStatus, SenderKind

    made = []
    with MessageItem.batch_write() as batch:
        for n in range(count):
            at = datetime.now(UTC) - ago + timedelta(seconds=n)
            ref = MessageRef(setup.line["line_id"], f"+1415555{start + n:04d}", new_message_id())
            item = new_message(ref, practice_id=setup.practice_id, direction=Direction.OUTBOUND,
                               sender=SenderKind.STAFF, status=MessageStatus(status), at=at, body="Hello")
            item.attempt_started_at = at if attempted else None
            batch.save(item)
            made.append(ref)
    return made


def test_a_backlog_the_reconciler_cannot_settle_never_starves_a_lost_job(setup, queues, carrier_account):
    """150 attempts left to their queue come first, oldest; the lost job behind them is still reached."""
    _stuck(setup, 150, status="queued", ago=timedelta(hours=2), attempted=True)
    (lost,) = _stuck(setup, 1, status="queued", ago=timedelta(hours=1), attempted=False, start=500)
    runs = [reconcile_in_flight() for _ in range(3)]
    assert [run["checked"] for run in runs] == [100, 51, 100]  # a page a run, then round again
    assert sum(run["requeued"] for run in runs[:2]) == 1
    queues.deliver()
    assert [m["to"] for m in carrier_account.messages()] == [lost.phone]


def test_what_stays_unresolved_for_a_day_is_parked_as_failed_with_its_reason(setup, carrier_account):
    never_at_carrier = _stuck(setup, 1, status="sending", ago=timedelta(hours=25), attempted=True)[0]
    never_sent = _stuck(setup, 1, status="queued", ago=timedelta(hours=25), attempted=True, start=10)[0]
    assert reconcile_in_flight()["parked"] == 2
    parked = {m.phone: m for m in MessageItem.scan()}
    assert parked[never_at_carrier.phone].status == "failed" and "never reached the carrier" in (
        parked[never_at_carrier.phone].error_reason)
    assert parked[never_sent.phone].error_reason == "not sent within a day of being queued"
    assert all(m.pending_pk is None for m in parked.values())
    assert reconcile_in_flight()["checked"] == 0
    assert carrier_account.messages() == []
