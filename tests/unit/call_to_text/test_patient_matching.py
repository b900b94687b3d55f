"""Matching a caller to verified patients, within the practice and, when allowed, across the enterprise."""

from switchboard.data.models import ConversationItem
from tests.claims import claims_of


def patient(admin_api, practice_id, patient_id, name, phone="4155552671"):
    assert admin_api("POST", f"/api/practices/{practice_id}/patients",
                     {"patient_id": patient_id, "name": name, "phone": phone}).status == 201


def conversation():
    return next(ConversationItem.scan())


def test_other_practices_patients_are_not_matched_unless_the_enterprise_allows(admin_api, setup, intake, queues):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    patient(admin_api, other, "OAK-1", "Ann Lee")
    intake()
    queues.deliver()
    assert conversation().matches == []
    assert conversation().verified is False


def test_with_the_setting_on_a_caller_is_shown_with_the_other_practices_patient(admin_api, setup, intake, queues):
    assert admin_api("PUT", "/api/enterprise", {"cross_practice_matching": True}).status == 200
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    patient(admin_api, other, "OAK-1", "Ann Lee")
    intake()
    queues.deliver()
    entry = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"][0]
    assert [m["name"] for m in entry["matches"]] == ["Ann Lee"]
    assert entry["mpsp"] is False and entry["patient_name"] == "Ann Lee"


def test_several_matches_flag_mpsp(admin_api, setup, intake, queues):
    admin_api("PUT", "/api/enterprise", {"cross_practice_matching": True})
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    patient(admin_api, other, "OAK-1", "Ann Lee")
    patient(admin_api, setup.practice_id, "MAPLE-7", "Bo Lee")
    intake()
    queues.deliver()
    entry = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"][0]
    assert entry["mpsp"] is True and entry["verified"] is True
    assert [m["name"] for m in entry["matches"]] == ["Bo Lee", "Ann Lee"]  # this practice's first


def test_only_admins_change_the_enterprise_setting(admin_api, setup):
    mo = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                   {"email": "mo@maple.com", "name": "Mo", "role": "manager", "line_ids": []}).body
    manager = claims_of(mo)
    assert admin_api("PUT", "/api/enterprise", {"cross_practice_matching": True}, claims=manager).status == 403
