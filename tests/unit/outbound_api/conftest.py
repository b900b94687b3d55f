from __future__ import annotations

import json

import pytest

from tests.unit.conftest import webhook_event


@pytest.fixture
def integration(call_api):
    """Call the integration API with a key, like a clinic's system."""

    def call(method: str, path: str, body=None, *, key: str | None = None):
        headers = {"X-Api-Key": key} if key else {}
        event = webhook_event(method, path, body=json.dumps(body) if body is not None else None,
                              content_type="application/json", headers=headers, resource="/v1/{proxy+}",
                              path_parameters={"proxy": path.removeprefix("/v1/")})
        return call_api("integration_api", event)

    return call


@pytest.fixture
def send(integration, clinic_clock, week):
    """POST /v1/messages with the clock at `at` (Monday noon in Chicago) from then on: the queued job, the
    idempotency record and the send all see one clock."""

    def post(key, *, at=("mon", "12:00"), **fields):
        body = {"to": "4155552671", "text": "Reminder: your appointment is tomorrow at 9.",
                "idempotency_key": "appt-1", **fields}
        clinic_clock.move_to(week.at(*at))
        return integration("POST", "/v1/messages", body, key=key)

    return post


@pytest.fixture
def key(admin_api, setup):
    return admin_api("POST", f"/api/practices/{setup.practice_id}/api-keys", {"name": "EMR reminders"}).body["key"]


@pytest.fixture
def location(admin_api, setup):
    """A location linked to the setup's line."""
    resource = admin_api("POST", f"/api/practices/{setup.practice_id}/resources", {"name": "Downtown"}).body
    admin_api("PUT", f"/api/practices/{setup.practice_id}/resources/{resource['resource_id']}/line",
              {"line_id": setup.line["line_id"]})
    return resource
