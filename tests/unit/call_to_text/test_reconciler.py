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
