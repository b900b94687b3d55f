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
def key(admin_api, setup):
    return admin_api("POST", f"/api/practices/{setup.practice_id}/api-keys", {"name": "EMR reminders"}).body["key"]


@pytest.fixture
def location(admin_api, setup):
    """A location linked to the setup's line."""
    resource = admin_api("POST", f"/api/practices/{setup.practice_id}/resources", {"name": "Downtown"}).body
    admin_api("PUT", f"/api/practices/{setup.practice_id}/resources/{resource['resource_id']}/line",
              {"line_id": setup.line["line_id"]})
    return resource
