"""The staff inbox through the admin API."""

import base64
import json
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


def test_send_pressed_again_for_the_same_draft_texts_the_patient_once(text_in, admin_api, setup, staff, queues,
                                                                     carrier_account):
    text_in("Can I come at 3?")
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}/messages"
    draft = {"body": "Yes, see you at 3.", "draft_id": "d-7f3a"}
    first = admin_api("POST", path, draft, claims=staff["permitted"])
    again = admin_api("POST", path, draft, claims=staff["permitted"])  # the first answer never reached the console
    assert (first.status, again.status) == (202, 202) and again.body == first.body
    queues.deliver()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == ["Yes, see you at 3."]
    # The carrier has since found the number cannot take texts: the draft that went still answers as it did.
    ConversationItem(f"LINE#{setup.line['line_id']}", f"CONV#{PHONE}").update(
        actions=[ConversationItem.not_textable.set(True)])
    late = admin_api("POST", path, draft, claims=staff["permitted"])
    assert (late.status, late.body) == (202, first.body)
    other = admin_api("POST", path, {"body": "Actually 4?", "draft_id": "d-7f3a"}, claims=staff["permitted"])
    assert other.status == 409 and other.body["errors"][0]["field"] == "draft_id"
    bad = admin_api("POST", path, {"body": "Hi", "draft_id": "no spaces please"}, claims=staff["permitted"])
    assert bad.status == 422 and bad.body["errors"][0]["field"] == "draft_id"
    queues.deliver()
    assert len(carrier_account.messages(to=PHONE)) == 1


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
    assert traffic.operations == ["Query", "Query"] and len(seen) == 1  # the caller's memberships, their line
    with dynamodb_reads() as traffic:
        assert inbox(admin_api, setup, staff["no_lines"]).body["conversations"] == []
    assert traffic.operations == ["Query"]  # no lines: nothing of the inbox is read
    user = f"/api/practices/{setup.practice_id}/users/{staff['pat']['user_id']}"
    changed = admin_api("PATCH", user, {"line_ids": []})
    assert changed.status == 200
    assert inbox(admin_api, setup, staff["permitted"]).body["conversations"] == []
    admin_api("DELETE", user)
    assert inbox(admin_api, setup, staff["permitted"]).status == 403


def _cursor_of(page):
    return json.loads(base64.urlsafe_b64decode(page["next_cursor"])) if page["next_cursor"] else None


@pytest.fixture
def three_lines(admin_api, setup, text_in):
    """Three lines of the practice with texts arriving on each in turn; a staff member permitted on two."""
    base = f"/api/practices/{setup.practice_id}"
    lines = [setup.line]
    for name in ("Billing", "Lab"):
        number = admin_api("GET", f"{base}/available-numbers?area_code=415").body[0]["phone_number"]
        lines.append(admin_api("POST", f"{base}/lines/purchase", {"display_name": name, "number": number}).body)
    arrivals = []
    for n, line in enumerate([0, 1, 2, 0, 0, 2, 1, 2, 0, 1, 1]):
        phone = f"+1415555{3000 + n:04d}"
        assert text_in(f"text {n}", phone=phone, to=lines[line]["number"]).status == 200
        arrivals.append((lines[line]["line_id"], phone))
    permitted = {lines[0]["line_id"], lines[1]["line_id"]}
    pat = admin_api("POST", f"{base}/users", {"email": "pat@maplefamilyclinic.com", "name": "Pat", "role": "staff",
                                              "line_ids": sorted(permitted)}).body
    return {"lines": lines, "arrivals": arrivals, "permitted": permitted, "claims": claims_of(pat, "staff")}


def test_staff_page_through_exactly_their_lines_newest_first_and_cursors_name_only_their_lines(
        admin_api, setup, three_lines, dynamodb_reads):
    expected = [(line, phone) for line, phone in reversed(three_lines["arrivals"]) if line in three_lines["permitted"]]
    hidden = [phone for line, phone in three_lines["arrivals"] if line not in three_lines["permitted"]]
    hidden_line = three_lines["lines"][2]["line_id"]
    seen, query, pages = [], "?limit=3", 0
    while True:
        with dynamodb_reads() as traffic:
            page = inbox(admin_api, setup, three_lines["claims"], query).body
        pages += 1
        assert traffic.operations.count("Query") <= 1 + len(three_lines["permitted"])
        seen += [(c["line_id"], c["phone"]) for c in page["conversations"]]
        position = _cursor_of(page)
        if position is None:
            break
        assert set(position["lines"]) <= three_lines["permitted"]
        assert hidden_line not in json.dumps(position) and not any(p in json.dumps(position) for p in hidden)
        query = f"?limit=3&cursor={page['next_cursor']}"
    assert seen == expected and pages == 3


def test_a_line_filter_and_unread_filter_read_that_line_only(admin_api, setup, three_lines, dynamodb_reads):
    billing = three_lines["lines"][1]["line_id"]
    on_billing = [phone for line, phone in reversed(three_lines["arrivals"]) if line == billing]
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{billing}/conversations/{on_billing[0]}/read")
    with dynamodb_reads() as traffic:
        page = inbox(admin_api, setup, three_lines["claims"], f"?line_id={billing}&unread=true").body
    assert [c["phone"] for c in page["conversations"]] == on_billing[1:]
    assert traffic.operations == ["Query", "Query"]
    lab = three_lines["lines"][2]["line_id"]
    assert inbox(admin_api, setup, three_lines["claims"], f"?line_id={lab}").body["conversations"] == []


def test_a_manager_cannot_list_another_practices_line_through_the_filter(admin_api, setup, three_lines):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    sam = admin_api("POST", f"/api/practices/{other}/users",
                    {"email": "sam@oakclinic.com", "name": "Sam", "role": "manager", "line_ids": []}).body
    line = three_lines["lines"][0]["line_id"]
    answer = admin_api("GET", f"/api/practices/{other}/inbox?line_id={line}", claims=claims_of(sam, "manager"))
    assert answer.status == 200 and answer.body["conversations"] == []


@pytest.mark.parametrize("position", [
    {"lines": {"LINE-NOT-YOURS": None}},
    {"lines": {}},
    {"lines": ["x"]},
    {"after": "2026-01-01T00:00:00+00:00#x#+14155550000"},
    ["not", "a", "map"],
])
def test_a_cursor_naming_another_line_or_forged_is_refused_without_reading(admin_api, setup, three_lines, position,
                                                                           dynamodb_reads):
    forged = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
    with dynamodb_reads() as traffic:
        answer = inbox(admin_api, setup, three_lines["claims"], f"?cursor={forged}")
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "cursor"
    assert traffic.operations == ["Query"]


@pytest.mark.parametrize("position", [{"after": "no-hashes"}, {"lines": {}}, {"after": 7}, "text"])
def test_a_forged_practice_or_thread_cursor_is_a_422_not_a_500(admin_api, setup, text_in, position):
    text_in("Hi there")
    forged = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
    assert inbox(admin_api, setup, query=f"?cursor={forged}").status == 422
    thread = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"
    assert admin_api("GET", f"{thread}?cursor={forged}").status == 422


def test_a_staff_reply_while_the_queue_service_is_down_is_accepted_and_sent_once_it_is_back(
        text_in, admin_api, setup, staff, queue_outage, queues, carrier_account):
    text_in("Can I come at 3?")
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}/messages"
    assert admin_api("POST", path, {"body": "Yes, see you at 3."}, claims=staff["permitted"]).status == 202
    queue_outage["down"] = False
    queues.deliver()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == ["Yes, see you at 3."]
