"""Two admins save one line at the same moment: one is told it changed under them, and nothing is lost."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.reliability.stack.concurrently import at_once, concurrently

pytestmark = pytest.mark.integration


def test_two_admins_saving_one_line_at_once_one_gets_409_and_after_reloading_both_changes_stand(stack):
    clinic = stack.new_clinic()
    path = f"/api/practices/{clinic.practice_id}/lines/{clinic.line['line_id']}"
    read = stack.api("GET", path).body
    ana = stack.token("ana@clinic.test", ("admin",))
    ben = stack.token("ben@clinic.test", ("admin",))
    edits = [(ana, {"help_text": "Call the north wing.", "version": read["version"]}),
             (ben, {"display_name": "Reception", "version": read["version"]})]
    replies = at_once(2, lambda i: stack.api("PATCH", path, edits[i][1], token=edits[i][0]))
    assert Counter(reply.status for reply in replies) == {200: 1, 409: 1}, [(r.status, r.body) for r in replies]
    loser = next(i for i, reply in enumerate(replies) if reply.status == 409)
    assert replies[loser].body["errors"][0]["field"] == "version"

    reloaded = stack.api("GET", path).body
    retry = {**edits[loser][1], "version": reloaded["version"]}
    assert stack.api("PATCH", path, retry, token=edits[loser][0]).status == 200
    final = stack.api("GET", path).body
    assert (final["help_text"], final["display_name"]) == ("Call the north wing.", "Reception")
    audit = stack.api("GET", f"/api/practices/{clinic.practice_id}/audit").body["entries"]
    assert sum(1 for entry in audit if entry.get("actor") in ("ana@clinic.test", "ben@clinic.test")) >= 2


def test_eight_concurrent_saves_of_one_version_keep_exactly_one(stack):
    clinic = stack.new_clinic()
    path = f"/api/practices/{clinic.practice_id}/lines/{clinic.line['line_id']}"
    version = stack.api("GET", path).body["version"]
    results = concurrently(stack, "save-line", clinic.practice_id, clinic.line["line_id"], str(version), "8")
    saved = [r for r in results if r.get("saved")]
    refused = [r for r in results if not r.get("saved")]
    assert len(saved) == 1, results
    assert all(r["error"] == "Conflict" and r["field"] == "version" for r in refused), refused
    final = stack.api("GET", path).body
    assert final["help_text"] == saved[0]["help_text"]
    assert final["version"] == version + 1
