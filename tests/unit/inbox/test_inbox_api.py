"""The staff inbox through the admin API."""

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.data.models import ConversationItem
from tests.claims import claims_of

PHONE = "+14155552671"


@pytest.fixture
def staff(admin_api, setup):
    """Two staff users: one permitted on the line, one with no lines at all."""
    pat = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                    {"email": "pat@maplefamilyclinic.com", "name": "Pat", "role": "staff",
                     "line_ids": [setup.line["line_id"]]}).body
    lee = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                    {"email": "lee@maplefamilyclinic.com", "name": "Lee", "role": "staff", "line_ids": []}).body
    return {"permitted": claims_of(pat, "staff"), "no_lines": claims_of(lee, "staff"), "pat": pat}


def inbox(admin_api, setup, claims=None, query=""):
    kwargs = {"claims": claims} if claims else {}
    return admin_api("GET", f"/api/practices/{setup.practice_id}/inbox{query}", **kwargs)


def test_permitted_staff_see_the_conversation_and_others_see_an_empty_inbox(text_in, admin_api, setup, staff):
    text_in("Hi there")
    seen = inbox(admin_api, setup, staff["permitted"]).body["conversations"]
    assert [(c["phone"], c["unread"], c["last_message"]["body"]) for c in seen] == [(PHONE, 1, "Hi there")]
    assert inbox(admin_api, setup, staff["no_lines"]).body == {"conversations": [], "next_cursor": None}


def test_staff_without_the_line_cannot_read_or_send(text_in, admin_api, setup, staff):
    text_in("Hi there")
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"
    assert admin_api("GET", path, claims=staff["no_lines"]).status == 403
    assert admin_api("POST", f"{path}/messages", {"body": "hello"}, claims=staff["no_lines"]).status == 403


def test_staff_of_another_practice_learn_nothing(text_in, admin_api, setup):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    sam = admin_api("POST", f"/api/practices/{other}/users",
                    {"email": "sam@oakclinic.com", "name": "Sam", "role": "manager", "line_ids": []}).body
    outsider = claims_of(sam, "manager")
    text_in("Hi there")
    answer = inbox(admin_api, setup, outsider)
    assert answer.status == 404
    assert PHONE not in str(answer.body)


def test_reading_a_thread_marking_it_read_and_replying(text_in, admin_api, setup, staff, queues, carrier_account):
    text_in("Can I come at 3?")
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"
    thread = admin_api("GET", path, claims=staff["permitted"]).body
    assert [m["body"] for m in thread["messages"]] == ["Can I come at 3?"]
    assert admin_api("POST", f"{path}/read", claims=staff["permitted"]).body["unread"] == 0
    sent = admin_api("POST", f"{path}/messages", {"body": "Yes, see you at 3."}, claims=staff["permitted"])
    assert sent.status == 202
    queues.deliver()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == ["Yes, see you at 3."]
    thread = admin_api("GET", path, claims=staff["permitted"]).body
    assert [(m["direction"], m["sender"], m["sender_id"]) for m in thread["messages"]][-1] == (
        "outbound", "staff", "pat@maplefamilyclinic.com")


def test_unread_filter(text_in, admin_api, setup):
    text_in("one", phone="+14155550123")
    text_in("two", phone="+14155550124")
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/+14155550123/read"
    admin_api("POST", path)
    unread = inbox(admin_api, setup, query="?unread=true").body["conversations"]
    assert [c["phone"] for c in unread] == ["+14155550124"]


def test_pagination_over_a_thousand_conversations_reads_one_page_per_call(admin_api, setup, dynamodb_reads):
    start = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)
    with ConversationItem.batch_write() as batch:
        for n in range(1000):
            at = start + timedelta(minutes=n)
            phone = f"+1415555{n:04d}"
            batch.save(ConversationItem(
                f"LINE#{setup.line['line_id']}", f"CONV#{phone}", line_id=setup.line["line_id"],
                practice_id=setup.practice_id, phone=phone, unread=1, last_activity_at=at,
                gsi2pk=f"INBOX#{setup.practice_id}", gsi2sk=f"{at.isoformat()}#{setup.line['line_id']}#{phone}"))
    with dynamodb_reads() as first_page:
        page = inbox(admin_api, setup, query="?limit=25").body
    assert [c["phone"] for c in page["conversations"]][:2] == ["+14155550999", "+14155550998"]
    assert first_page.operations.count("Query") == 1
    assert first_page.items_read <= 25 + 2  # the page, plus the caller's practice check reads nothing extra
    with dynamodb_reads():
        second = inbox(admin_api, setup, query=f"?limit=25&cursor={page['next_cursor']}").body
    assert second["conversations"][0]["phone"] == "+14155550974"


def test_a_bad_cursor_is_refused_naming_it(admin_api, setup):
    answer = inbox(admin_api, setup, query="?cursor=not-a-cursor")
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "cursor"


def test_quick_responses_crud_with_language(admin_api, setup):
    base = f"/api/practices/{setup.practice_id}/quick-responses"
    made = admin_api("POST", base, {"title": "Hours", "language": "es", "body": "Abrimos a las 8."})
    assert made.status == 201
    quick_id = made.body["quick_response_id"]
    assert admin_api("PATCH", f"{base}/{quick_id}", {"body": "Abrimos a las 9."}).body["body"] == "Abrimos a las 9."
    assert [q["title"] for q in admin_api("GET", base).body] == ["Hours"]
    assert admin_api("DELETE", f"{base}/{quick_id}").status == 204
    assert admin_api("GET", base).body == []
    assert admin_api("POST", base, {"title": "X", "language": "Spanish!", "body": "x"}).status == 422


def test_segment_counts_for_a_draft(admin_api):
    assert admin_api("POST", "/api/segments", {"text": "a" * 161}).body == {
        "characters": 161, "segments": 2, "encoding": "GSM-7"}
    assert admin_api("POST", "/api/segments", {"text": "Hola 👋"}).body["encoding"] == "UCS-2"


def test_an_inbox_page_is_two_requests_and_access_changes_apply_at_once(text_in, admin_api, setup, staff,
                                                                         dynamodb_reads):
    text_in("Hi there")
    with dynamodb_reads() as traffic:
        seen = inbox(admin_api, setup, staff["permitted"]).body["conversations"]
    assert traffic.operations == ["Query", "Query"] and len(seen) == 1  # the caller's memberships, the page
    user = f"/api/practices/{setup.practice_id}/users/{staff['pat']['user_id']}"
    changed = admin_api("PATCH", user, {"line_ids": []})
    assert changed.status == 200
    assert inbox(admin_api, setup, staff["permitted"]).body["conversations"] == []
    admin_api("DELETE", user)
    assert inbox(admin_api, setup, staff["permitted"]).status == 403
