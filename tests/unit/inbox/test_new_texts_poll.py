"""The console's poll for what is new: the open conversations active since the newest one it has seen, one
Query (a staff member's: one per line), empty when nothing happened."""

from urllib.parse import quote

from tests.unit.inbox.test_inbox_api import inbox, staff  # noqa: F401


def _since(entries):
    return max(entry["last_activity_at"] for entry in entries)


def test_a_poll_since_the_newest_seen_returns_only_what_changed(text_in, admin_api, setup, staff,  # noqa: F811
                                                               dynamodb_reads):
    text_in("First", phone="+14155550101")
    text_in("Second", phone="+14155550102")
    first = inbox(admin_api, setup).body["conversations"]
    since = quote(_since(first))

    with dynamodb_reads() as traffic:
        quiet = inbox(admin_api, setup, query=f"?view=open&active_since={since}").body["conversations"]
    assert [entry["phone"] for entry in quiet] == ["+14155550102"]  # the newest seen, at its own time: no gap
    assert traffic.operations == ["Query"]

    text_in("Third", phone="+14155550101")
    text_in("New here", phone="+14155550103")
    changed = inbox(admin_api, setup, query=f"?view=open&active_since={since}").body["conversations"]
    assert [entry["phone"] for entry in changed] == ["+14155550103", "+14155550101", "+14155550102"]
    assert changed[0]["last_message"]["body"] == "New here" and changed[0]["unread"] == 1

    staff_view = inbox(admin_api, setup, staff["permitted"],
                       f"?view=open&active_since={quote(_since(changed))}").body["conversations"]
    assert [entry["phone"] for entry in staff_view] == ["+14155550103"]


def test_a_time_without_its_zone_is_refused_naming_the_field(admin_api, setup):
    answer = inbox(admin_api, setup, query="?active_since=2030-01-01T10:00:00")
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "active_since"
