import pytest

from switchboard.data.models import Item


@pytest.fixture
def practice_id(admin_api):
    return admin_api("POST", "/api/practices", {"name": "Maple Clinic", "timezone": "America/Chicago"}).body[
        "practice_id"
    ]


def kinds_stored() -> list[str]:
    return sorted(type(item).__name__ for item in Item.scan())


@pytest.mark.parametrize("typed", ["4155552671", "(415) 555-2671", "415.555.2671", "+1 415 555 2671", "14155552671"])
def test_line_number_is_accepted_as_people_type_it_and_stored_in_e164(admin_api, practice_id, typed):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines", {"display_name": "Front desk", "number": typed})
    assert answer.status == 201
    assert answer.body["number"] == "+14155552671"
    assert answer.body["number_display"] == "(415) 555-2671"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("415555267", "10 digits"),
        ("+44 20 7946 0958", "US or Canadian"),
        ("call me", "digits"),
        ("(555) 555-5555", "valid US or Canadian"),
    ],
)
def test_bad_line_number_is_refused_naming_the_field_and_nothing_is_written(admin_api, practice_id, typed, reason):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines", {"display_name": "Front", "number": typed})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "number"
    assert reason in answer.body["errors"][0]["reason"]
    assert typed not in str(answer.body)
    assert kinds_stored() == ["PracticeItem"]


def test_a_number_belongs_to_one_line_in_the_whole_enterprise(admin_api, practice_id):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    first = admin_api("POST", f"/api/practices/{practice_id}/lines", {"display_name": "A", "number": "4155552671"})
    assert first.status == 201
    again = admin_api("POST", f"/api/practices/{other}/lines", {"display_name": "B", "number": "(415) 555-2671"})
    assert again.status == 409
    assert again.body["errors"][0]["field"] == "number"
    assert "Maple" not in str(again.body)
    assert kinds_stored() == ["LineItem", "NumberClaim", "PracticeItem", "PracticeItem"]


def test_line_for_an_unknown_practice_is_404_and_claims_no_number(admin_api):
    answer = admin_api("POST", "/api/practices/01JNOPE/lines", {"display_name": "A", "number": "4155552671"})
    assert answer.status == 404
    assert kinds_stored() == []


def test_missing_display_name_is_named(admin_api, practice_id):
    answer = admin_api("POST", f"/api/practices/{practice_id}/lines", {"number": "4155552671"})
    assert answer.status == 422
    assert answer.body["errors"] == [{"field": "display_name", "reason": "is required"}]


def test_lines_are_listed_and_read_per_practice(admin_api, practice_id):
    line = admin_api("POST", f"/api/practices/{practice_id}/lines", {"display_name": "A", "number": "4155552671"}).body
    assert line["status"] == "disabled"
    assert [entry["line_id"] for entry in admin_api("GET", f"/api/practices/{practice_id}/lines").body] == [
        line["line_id"]
    ]
    read = admin_api("GET", f"/api/practices/{practice_id}/lines/{line['line_id']}")
    assert read.status == 200
    assert read.body["display_name"] == "A"
    assert admin_api("GET", f"/api/practices/{practice_id}/lines/01JNOPE").status == 404
