"""Settings every test process starts with; tiers add their own fixtures."""

import os
import sys
from collections.abc import Iterator

import pytest

# Every run fails a test whose logs carry a patient's number or message body.
pytest_plugins = ["tests.patient_data_guard", "tests.aws_calls_plugin"]

TEST_ENVIRONMENT = {
    "ENVIRONMENT": "local",
    "TABLE_NAME": "switchboard-test",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "TWILIO_SECRET_NAME": "switchboard/twilio",
    "OUTBOUND_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/outbound",
    "FOLLOW_UP_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/follow-up",
    "MEDIA_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/media",
    "MEDIA_BUCKET": "switchboard-media-test",
    "POWERTOOLS_SERVICE_NAME": "switchboard",
    "POWERTOOLS_METRICS_NAMESPACE": "Switchboard",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "RETRY_BASE_SECONDS": "0",
    "EVENT_BUS_NAME": "switchboard-test",
    "USAGE_PLAN_PARAMETER": "/switchboard/test/usage-plan-id",
}
for _name, _value in TEST_ENVIRONMENT.items():
    os.environ[_name] = _value
os.environ.pop("DYNAMODB_ENDPOINT", None)


@pytest.fixture(autouse=True)
def _nothing_remembered_between_tests() -> Iterator[None]:
    """Each test starts with its own users and parameters: what a warm container remembers never leaks between
    tests."""
    yield
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()  # a warm container's SSM parameters and secrets belong to one test
