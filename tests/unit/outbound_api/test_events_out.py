"""Events on the bus for a clinic's other systems."""

from tests.clock import ORDER_CONTACT, PRACTICE_ADDRESS, recently_signed

LOA = {"signer_name": "Dana Reyes", "signer_title": "Owner", "signer_email": "dana@maplefamilyclinic.com",
       "signed_on": recently_signed()}


def test_line_enabled_and_failed(admin_api, setup, carrier_account, status_poller, published):
    assert admin_api("PUT", f"/api/practices/{setup.practice_id}/address", PRACTICE_ADDRESS).status == 200
    ok = admin_api("POST", f"/api/practices/{setup.practice_id}/lines",
                   {"display_name": "A", "number": "3125550142", "authorization": LOA, "contact": ORDER_CONTACT}).body
    bad = admin_api("POST", f"/api/practices/{setup.practice_id}/lines",
                    {"display_name": "B", "number": "3125550143", "authorization": LOA, "contact": ORDER_CONTACT}).body
    orders = {o["phone_number"]: o["sid"] for o in carrier_account.hosted_orders()}
    carrier_account.complete_order(orders["+13125550142"])
    carrier_account.fail_order(orders["+13125550143"], "Number is not portable")
    status_poller()
    changes = {(e["line_id"], e["status"], e["reason"]) for e in published() if e["type"] == "Line Status Changed"}
    assert changes == {(ok["line_id"], "enabled", None), (bad["line_id"], "failed", "Number is not portable")}


def test_message_received_opt_out_and_opt_in(text_in, queues, published, setup):
    for body in ("hello", "STOP", "START"):
        text_in(body)
    queues.deliver("follow_up", "FOLLOW_UP_QUEUE_URL")
    types = [e["type"] for e in published()]
    assert types.count("Message Received") == 3
    assert "Patient Opted Out" in types and "Patient Opted In" in types


def test_message_failed(intake, queues, admin_api, setup, published):
    intake()
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/disable")
    queues.deliver()
    failed = [e for e in published() if e["type"] == "Message Failed"]
    assert [(e["status"], e["reason"]) for e in failed] == [("failed", "line is disabled")]
    assert "body" not in failed[0]


def test_a_patient_text_followed_up_twice_is_announced_once_without_its_phone(text_in, queues, published, setup):
    from switchboard.aws.jobs import decode
    from switchboard.flows.follow_up import follow_up

    text_in("STOP")
    (job,) = [decode(m["Body"]) for m in queues.messages("FOLLOW_UP_QUEUE_URL")]
    follow_up(job)
    follow_up(job)  # the follow-up queue hands the job out again
    told = published()
    assert sorted(e["type"] for e in told) == ["Message Received", "Patient Opted Out"]
    assert len({e["event_id"] for e in told}) == 2
    assert not any("4155552671" in str(e) for e in told)
