"""Keeping verified patients in step with the clinic's records: a patient's name or phone changed, a patient
removed, and the conversations of a phone that gained or lost a patient matched again at once."""

import pytest

from tests.claims import claims_of

CALLER = "+14155552671"
OTHER_PHONE = "+14155550188"


@pytest.fixture
def texted(intake, queues):
    """The caller was texted by the workflow: their conversation is matched (to no patient yet)."""
    intake()
    queues.deliver()


def add(admin_api, practice_id, patient_id, name, phone=CALLER):
    answer = admin_api("POST", f"/api/practices/{practice_id}/patients",
                       {"patient_id": patient_id, "name": name, "phone": phone})
    assert answer.status == 201, answer.body


def inbox_entry(admin_api, setup):
    (entry,) = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"]
    return entry


def test_a_patient_added_after_the_first_text_names_the_conversation_at_once(admin_api, setup, texted):
    assert inbox_entry(admin_api, setup)["verified"] is False
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    entry = inbox_entry(admin_api, setup)
    assert (entry["verified"], entry["patient_name"]) == (True, "Ann Lee")


def test_a_renamed_patient_is_shown_by_the_new_name(admin_api, setup, texted):
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    changed = admin_api("PATCH", f"/api/practices/{setup.practice_id}/patients/MRN-1", {"name": "Ann Lee-Park"})
    assert changed.status == 200, changed.body
    assert changed.body == {"practice_id": setup.practice_id, "patient_id": "MRN-1", "name": "Ann Lee-Park",
                            "phone": CALLER}
    assert inbox_entry(admin_api, setup)["patient_name"] == "Ann Lee-Park"


def test_a_patient_whose_phone_changed_leaves_the_old_phones_conversation(admin_api, setup, texted):
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    changed = admin_api("PATCH", f"/api/practices/{setup.practice_id}/patients/MRN-1", {"phone": "(415) 555-0188"})
    assert changed.status == 200 and changed.body["phone"] == OTHER_PHONE
    entry = inbox_entry(admin_api, setup)
    assert (entry["verified"], entry["patient_name"], entry["matches"]) == (False, None, [])
    listed = admin_api("GET", f"/api/practices/{setup.practice_id}/patients").body
    assert [(p["patient_id"], p["phone"]) for p in listed] == [("MRN-1", OTHER_PHONE)]


def test_a_removed_patient_is_no_longer_shown_and_another_with_the_phone_stays(admin_api, setup, texted):
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    add(admin_api, setup.practice_id, "MRN-2", "Bo Lee")
    assert len(inbox_entry(admin_api, setup)["matches"]) == 2
    assert admin_api("DELETE", f"/api/practices/{setup.practice_id}/patients/MRN-1").status == 204
    entry = inbox_entry(admin_api, setup)
    assert (entry["verified"], entry["patient_name"]) == (True, "Bo Lee")
    assert admin_api("DELETE", f"/api/practices/{setup.practice_id}/patients/MRN-2").status == 204
    entry = inbox_entry(admin_api, setup)
    assert (entry["verified"], entry["patient_name"], entry["matches"]) == (False, None, [])
    assert admin_api("GET", f"/api/practices/{setup.practice_id}/patients").body == []


def test_changes_are_on_the_audit_trail_without_the_phone(admin_api, setup):
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    admin_api("PATCH", f"/api/practices/{setup.practice_id}/patients/MRN-1", {"phone": OTHER_PHONE, "name": "Ann"})
    admin_api("DELETE", f"/api/practices/{setup.practice_id}/patients/MRN-1")
    trail = admin_api("GET", f"/api/practices/{setup.practice_id}/audit?action=patient.update").body["entries"]
    assert [e["changes"] for e in trail] == [{"name": {"before": "Ann Lee", "after": "Ann"},
                                              "phone": {"before": None, "after": "changed"}}]
    removed = admin_api("GET", f"/api/practices/{setup.practice_id}/audit?action=patient.delete").body["entries"]
    assert [e["entity_id"] for e in removed] == ["MRN-1"]
    assert "555" not in str(trail) + str(removed)


@pytest.mark.parametrize(("change", "field"), [({"phone": "555"}, "phone"), ({"name": ""}, "name"),
                                               ({"patient_id": "MRN-9"}, "patient_id")])
def test_a_bad_change_is_refused_naming_the_field_and_changes_nothing(admin_api, setup, change, field):
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    answer = admin_api("PATCH", f"/api/practices/{setup.practice_id}/patients/MRN-1", change)
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == [field]
    listed = admin_api("GET", f"/api/practices/{setup.practice_id}/patients").body
    assert [(p["name"], p["phone"]) for p in listed] == [("Ann Lee", CALLER)]


def test_an_unknown_patient_is_404_and_staff_may_not_change_patients(admin_api, setup):
    path = f"/api/practices/{setup.practice_id}/patients"
    assert admin_api("PATCH", f"{path}/MRN-404", {"name": "Nobody"}).status == 404
    assert admin_api("DELETE", f"{path}/MRN-404").status == 404
    add(admin_api, setup.practice_id, "MRN-1", "Ann Lee")
    sam = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                    {"email": "sam@maple.com", "name": "Sam", "role": "staff", "line_ids": []}).body
    assert admin_api("PATCH", f"{path}/MRN-1", {"name": "Changed"}, claims=claims_of(sam)).status == 403
    assert admin_api("DELETE", f"{path}/MRN-1", claims=claims_of(sam)).status == 403
    assert [p["name"] for p in admin_api("GET", path).body] == ["Ann Lee"]
