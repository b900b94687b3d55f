"""Inbox search: by phone as typed (or its last digits), by a patient's name or its start, by words of a text;
only the lines the caller may use; a page in one Query and one BatchGetItem."""

from urllib.parse import quote

import pytest

from switchboard.core.errors import InvalidInput
from switchboard.rules.search import body_terms, name_terms, parse_search, phone_terms, term_key
from tests.claims import claims_of
from tests.unit.inbox.test_inbox_api import staff  # noqa: F401

MARIA, LEE, NEW = "+14155550101", "+14155550102", "+14155550188"


@pytest.fixture
def texted(admin_api, setup, text_in, after_hours, queues):
    """Three patients' texts on the line; Maria and Lee are patients of the practice."""
    for patient_id, name, phone in (("mrn-1", "María García", MARIA), ("mrn-2", "Lee Okafor", LEE)):
        assert admin_api("POST", f"/api/practices/{setup.practice_id}/patients",
                         {"patient_id": patient_id, "name": name, "phone": phone}).status == 201
    text_in("Can I move my appointment to Tuesday?", phone=MARIA)
    text_in("Is Tuesday open for a cleaning?", phone=LEE)
    text_in("Where do I park?", phone=NEW)
    queues.hand_off()
    after_hours()
    return queues.index_search()


def search(admin_api, setup, q, claims=None, query=""):
    kwargs = {"claims": claims} if claims else {}
    return admin_api("GET", f"/api/practices/{setup.practice_id}/search?q={quote(q)}{query}", **kwargs)


def phones(answer):
    assert answer.status == 200, answer.body
    return sorted(entry["phone"] for entry in answer.body["conversations"])


@pytest.mark.parametrize("typed", ["(415) 555-0101", "415.555.0101", "+1 415 555 0101", "14155550101", "0101",
                                   "555-0101"])
def test_a_phone_as_typed_or_its_last_digits_finds_its_conversation(admin_api, setup, texted, typed):
    assert phones(search(admin_api, setup, typed)) == [MARIA]


def test_a_name_or_its_start_finds_the_patients_conversation_accents_and_case_aside(admin_api, setup, texted):
    assert phones(search(admin_api, setup, "maria")) == [MARIA]
    assert phones(search(admin_api, setup, "GAR")) == [MARIA]
    assert phones(search(admin_api, setup, "lee okafor")) == [LEE]
    entry = search(admin_api, setup, "Okafor").body["conversations"][0]
    # The preview the inbox shows (the patient's text, or the after-hours answer when the practice is closed now).
    inbox = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"]
    shown = next(c for c in inbox if c["phone"] == LEE)
    assert entry["patient_name"] == "Lee Okafor" and entry["last_message"] == shown["last_message"]


def test_words_of_texts_find_the_conversations_that_have_them_all(admin_api, setup, texted):
    assert phones(search(admin_api, setup, "tuesday")) == [MARIA, LEE]
    assert phones(search(admin_api, setup, "Tuesday appointment")) == [MARIA]
    assert phones(search(admin_api, setup, "park")) == [NEW]
    assert phones(search(admin_api, setup, "dentist")) == []


def test_staff_find_only_on_their_lines_and_outsiders_nothing(admin_api, setup, texted, staff):  # noqa: F811
    assert phones(search(admin_api, setup, "tuesday", staff["permitted"])) == [MARIA, LEE]
    assert phones(search(admin_api, setup, "tuesday", staff["no_lines"])) == []
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    sam = admin_api("POST", f"/api/practices/{other}/users",
                    {"email": "sam@oakclinic.com", "name": "Sam", "role": "manager", "line_ids": []}).body
    outsider = claims_of(sam, "manager")
    refused = search(admin_api, setup, "tuesday", outsider)
    assert refused.status == 404 and MARIA not in str(refused.body)
    assert phones(admin_api("GET", f"/api/practices/{other}/search?q=tuesday", claims=outsider)) == []


def test_a_page_is_one_query_and_one_batch_read_and_its_cursor_goes_on(admin_api, setup, texted, dynamodb_reads):
    with dynamodb_reads() as traffic:
        first = search(admin_api, setup, "tuesday appointment", query="&limit=1")
    assert traffic.operations == ["Query", "BatchGetItem"]
    seen = [entry["phone"] for entry in first.body["conversations"]]
    cursor = first.body["next_cursor"]
    while cursor:
        answer = search(admin_api, setup, "tuesday appointment", query=f"&limit=1&cursor={cursor}")
        seen += [entry["phone"] for entry in answer.body["conversations"]]
        cursor = answer.body["next_cursor"]
    assert seen == [MARIA]


@pytest.mark.parametrize(("q", "why"), [
    ("   ", "type a name"), ("55501", "last 7 or last 4"), ("a", "two letters"),
    ("one two three four five six", "more than 5 words"),
])
def test_a_search_that_cannot_be_made_is_refused_naming_q(admin_api, setup, q, why):
    answer = search(admin_api, setup, q)
    assert answer.status in (400, 422)
    assert answer.body["errors"][0]["field"] == "q" and why in answer.body["errors"][0]["reason"]


def test_the_terms_a_conversation_is_found_by():
    assert phone_terms("+14155550101") == {"p:4155550101", "p:5550101", "p:0101"}
    assert name_terms("José Li") == {"w:jo", "w:jos", "w:jose", "w:li"}
    assert body_terms("See you on TUESDAY, at 3pm!") == {"w:see", "w:tuesday", "w:3pm"}
    assert parse_search("cleaning Tuesday").terms == ("w:cleaning", "w:tuesday")
    assert parse_search("the").terms == ("w:the",)
    with pytest.raises(InvalidInput):
        parse_search("12345")


def test_no_index_key_spells_a_patients_term():
    key = term_key("p1", "p:4155550101")
    assert "4155550101" not in key and key.startswith("FIND#p1#")
    assert key != term_key("p2", "p:4155550101")
