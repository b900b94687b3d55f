"""Ownership and state: a conversation is open, assigned or not, snoozed until a time, or closed; the views list
each; a patient's text reopens it; every change is audited with who and when; and a second staff member about to
answer a patient a colleague just answered is told first."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.claims import claims_of
from tests.unit.inbox.test_inbox_api import inbox, staff  # noqa: F401

PHONE = "+14155552671"
OTHER_PHONE = "+14155550199"


@pytest.fixture
def path(setup):
    return f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"


@pytest.fixture
def dana(admin_api, setup):
    """A second staff member on the line."""
    user = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                     {"email": "dana@maplefamilyclinic.com", "name": "Dana", "role": "staff",
                      "line_ids": [setup.line["line_id"]]}).body
    return {"user": user, "claims": claims_of(user, "staff")}


def _view(admin_api, setup, view, claims=None):
    return {entry["phone"] for entry in inbox(admin_api, setup, claims, f"?view={view}").body["conversations"]}


def _audit(admin_api, setup, prefix="conversation."):
    return [e for e in admin_api("GET", f"/api/practices/{setup.practice_id}/audit").body["entries"]
            if e["action"].startswith(prefix) and not e["action"].startswith(("conversation.opt_out",
                                                                              "conversation.read"))]


def test_views_follow_claim_assign_close_and_a_patient_text_reopens(text_in, admin_api, setup, path, staff,  # noqa: F811
                                                                     dana):
    text_in("Can I move my appointment?")
    text_in("Is the clinic open Saturday?", phone=OTHER_PHONE)
    pat = staff["permitted"]
    assert _view(admin_api, setup, "unassigned", pat) == {PHONE, OTHER_PHONE}
    assert _view(admin_api, setup, "mine", pat) == set()

    claimed = admin_api("POST", f"{path}/claim", claims=pat)
    assert claimed.status == 200
    assert claimed.body["assignee"] == {"user_id": staff["pat"]["user_id"], "name": "Pat"}
    assert claimed.body["state"] == "open"
    assert _view(admin_api, setup, "mine", pat) == {PHONE}
    assert _view(admin_api, setup, "unassigned", pat) == {OTHER_PHONE}
    assert _view(admin_api, setup, "mine", dana["claims"]) == set()
    taken = admin_api("POST", f"{path}/claim", claims=dana["claims"])
    assert taken.status == 409 and "Pat owns this conversation" in taken.body["message"]

    handed = admin_api("POST", f"{path}/assignee", {"user_id": dana["user"]["user_id"]}, claims=pat)
    assert handed.status == 200 and handed.body["assignee"]["name"] == "Dana"
    assert _view(admin_api, setup, "mine", dana["claims"]) == {PHONE}

    closed = admin_api("POST", f"{path}/close", claims=dana["claims"])
    assert closed.status == 200 and closed.body["state"] == "closed"
    assert _view(admin_api, setup, "open", pat) == {OTHER_PHONE}
    assert _view(admin_api, setup, "closed", pat) == {PHONE}
    assert _view(admin_api, setup, "mine", dana["claims"]) == set()
    assert admin_api("POST", f"{path}/close", claims=pat).status == 200  # closing a closed one changes nothing

    text_in("Sorry, one more question")
    [entry] = [e for e in inbox(admin_api, setup, pat).body["conversations"] if e["phone"] == PHONE]
    assert entry["state"] == "open" and entry["assignee"]["name"] == "Dana"  # its owner is still on the line
    assert _view(admin_api, setup, "closed", pat) == set()

    actions = [(e["action"], e["actor"]) for e in reversed(_audit(admin_api, setup))]
    assert actions == [("conversation.claim", "pat@maplefamilyclinic.com"),
                       ("conversation.assign", "pat@maplefamilyclinic.com"),
                       ("conversation.close", "dana@maplefamilyclinic.com")]
    logged = json.dumps(_audit(admin_api, setup))
    assert "4155552671" not in logged and "appointment" not in logged
    assert all(e["at"] for e in _audit(admin_api, setup))


def test_an_automatic_text_leaves_a_closed_conversation_closed_and_a_staff_reply_reopens_it(
        text_in, admin_api, setup, path, staff, queues):  # noqa: F811
    text_in("Thanks, all set")
    assert admin_api("POST", f"{path}/close", claims=staff["permitted"]).status == 200
    answer = admin_api("POST", f"{path}/messages", {"body": "Glad to help!"}, claims=staff["permitted"])
    assert answer.status == 202
    assert admin_api("GET", path).body["conversation"]["state"] == "open"
    assert admin_api("POST", f"{path}/reopen").status == 200  # open already: nothing to reopen, nothing audited
    assert [e["action"] for e in _audit(admin_api, setup)] == ["conversation.close"]


def test_a_callers_new_call_to_text_request_reopens_a_closed_conversation(text_in, intake, admin_api, setup,
                                                                          path):
    text_in("Thanks!")
    assert admin_api("POST", f"{path}/close").status == 200
    assert intake("4155552671").status == 202
    assert admin_api("GET", path).body["conversation"]["state"] == "open"
    assert _view(admin_api, setup, "open") == {PHONE}


def test_snooze_hides_until_its_time_and_a_patient_text_wakes_it(text_in, admin_api, setup, path, staff):  # noqa: F811
    text_in("I'll call back next week")
    until = datetime.now(UTC) + timedelta(days=3)
    snoozed = admin_api("POST", f"{path}/snooze", {"until": until.isoformat()}, claims=staff["permitted"])
    assert snoozed.status == 200
    assert snoozed.body["state"] == "snoozed"
    assert datetime.fromisoformat(snoozed.body["snoozed_until"]) == until.replace(microsecond=until.microsecond)
    assert _view(admin_api, setup, "open") == set()
    assert _view(admin_api, setup, "snoozed") == {PHONE}
    text_in("Actually, can someone call me today?")
    assert _view(admin_api, setup, "open") == {PHONE}
    assert _view(admin_api, setup, "snoozed") == set()
    [entry] = _audit(admin_api, setup, "conversation.snooze")
    assert entry["changes"]["state"] == {"before": "open", "after": "snoozed"}


@pytest.mark.parametrize(("until", "reason"), [
    (timedelta(minutes=-1), "must be in the future"),
    (timedelta(days=91), "at most 90 days"),
])
def test_a_snooze_in_the_past_or_too_far_ahead_is_refused_naming_the_field(text_in, admin_api, path, until,
                                                                           reason):
    text_in("Hello")
    answer = admin_api("POST", f"{path}/snooze", {"until": (datetime.now(UTC) + until).isoformat()})
    assert answer.status == 422
    [error] = answer.body["errors"]
    assert error["field"] == "until" and reason in error["reason"]
    naive = admin_api("POST", f"{path}/snooze", {"until": "2030-01-01T10:00:00"})
    assert naive.status == 422 and "until" in json.dumps(naive.body)


def test_assigning_to_someone_who_may_not_use_the_line_is_refused(text_in, admin_api, setup, path, staff):  # noqa: F811
    text_in("Hello")
    lee = admin_api("GET", f"/api/practices/{setup.practice_id}/users").body
    lee_id = next(u["user_id"] for u in lee if u["email"] == "lee@maplefamilyclinic.com")
    for user_id in (lee_id, "no-such-user"):
        refused = admin_api("POST", f"{path}/assignee", {"user_id": user_id})
        assert refused.status == 422
        assert refused.body["errors"] == [{"field": "user_id",
                                           "reason": "is not a user of this practice who may use this line"}]
    assignees = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/assignees"
    names = [a["name"] for a in admin_api("GET", assignees, claims=staff["permitted"]).body]
    assert "Pat" in names and "Lee" not in names
    assert admin_api("GET", assignees, claims=staff["no_lines"]).status == 403
    assert admin_api("POST", f"{path}/claim", claims=staff["no_lines"]).status == 403
    assert admin_api("POST", f"{path}/close", claims=staff["no_lines"]).status == 403
    assert admin_api("GET", path).body["conversation"]["assignee"] is None


def test_a_patient_text_to_a_conversation_whose_owner_left_unassigns_it(text_in, admin_api, setup, path, dana,
                                                                       queues):
    text_in("Hello")
    assert admin_api("POST", f"{path}/claim", claims=dana["claims"]).status == 200
    assert admin_api("POST", f"{path}/close", claims=dana["claims"]).status == 200
    assert admin_api("DELETE", f"/api/practices/{setup.practice_id}/users/{dana['user']['user_id']}").status in (
        200, 204)
    text_in("Me again")
    queues.deliver("follow_up", "FOLLOW_UP_QUEUE_URL")
    conversation = admin_api("GET", path).body["conversation"]
    assert (conversation["state"], conversation["assignee"]) == ("open", None)
    assert _view(admin_api, setup, "unassigned") == {PHONE}
    [entry] = _audit(admin_api, setup, "conversation.unassign")
    assert entry["actor"] == "switchboard"


def test_a_second_reply_to_a_patient_a_colleague_just_answered_is_stopped_until_read(text_in, admin_api, setup,
                                                                                    path, staff, dana, queues,  # noqa: F811
                                                                                    carrier_account):
    text_in("Do you have any openings tomorrow?")
    shown = admin_api("GET", path, claims=dana["claims"]).body["messages"][-1]["message_id"]
    first = admin_api("POST", f"{path}/messages", {"body": "Yes, 10am works.", "seen_message_id": shown},
                      claims=staff["permitted"])
    assert first.status == 202
    second = admin_api("POST", f"{path}/messages", {"body": "We have 2pm open.", "seen_message_id": shown},
                       claims=dana["claims"])
    assert second.status == 409
    assert second.body["errors"][0]["field"] == "seen_message_id"
    assert second.body["message"].startswith("pat@maplefamilyclinic.com answered this patient")
    thread = admin_api("GET", path, claims=dana["claims"]).body
    assert thread["conversation"]["last_staff_reply"]["message_id"] == first.body["message_id"]
    assert thread["messages"][-1]["body"] == "Yes, 10am works."
    # Having read it, Dana may still send (a follow-up of her own), and Pat's next reply is not held back by his own.
    seen = thread["messages"][-1]["message_id"]
    assert admin_api("POST", f"{path}/messages", {"body": "Or 2pm, if better.", "seen_message_id": seen},
                     claims=dana["claims"]).status == 202
    queues.deliver()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == ["Yes, 10am works.", "Or 2pm, if better."]


def test_two_replies_racing_past_the_check_send_one(text_in, admin_api, setup, path, staff, dana, queues,  # noqa: F811
                                                    carrier_account, monkeypatch):
    """Both read the conversation before either wrote: the write's own condition lets one through."""
    from switchboard.flows import staff_replies

    text_in("Can I bring my son too?")
    shown = admin_api("GET", path).body["messages"][-1]["message_id"]
    monkeypatch.setattr(staff_replies, "_colleague_answered", lambda *_: None)  # as if both checked at once
    assert admin_api("POST", f"{path}/messages", {"body": "Of course.", "seen_message_id": shown},
                     claims=staff["permitted"]).status == 202
    raced = admin_api("POST", f"{path}/messages", {"body": "Sure!", "seen_message_id": shown}, claims=dana["claims"])
    monkeypatch.undo()
    assert raced.status == 409
    queues.deliver()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == ["Of course."]
