"""The hand-off's stream filters, as Lambda applies them: a message is handed off when stored with its hand-off,
or when a scheduled one is released; never again on any later change (its first claim makes it `outbound`)."""

import json

import pytest

from local.streams import matches
from local.template import functions
from tests.unit.conftest import _template

pytestmark = pytest.mark.no_aws  # touches no AWS: the unit tier's moto set-up is skipped


@pytest.fixture(scope="module")
def patterns():
    (source,) = [s for s in functions(_template())["HandoffFunction"].events.values() if s.get("Type") == "DynamoDB"]
    return [json.loads(f["Pattern"]) for f in source["Properties"]["FilterCriteria"]["Filters"]]


def record(event, new):
    return {"eventName": event, "dynamodb": {"NewImage": {k: {"S": v} for k, v in new.items()}}}


@pytest.mark.parametrize(("event", "new", "handed"), [
    ("INSERT", {"kind": "message", "handoff": "outbound"}, True),
    ("INSERT", {"kind": "message", "handoff": "inbound"}, True),
    ("INSERT", {"kind": "message"}, False),
    ("INSERT", {"kind": "conversation", "handoff": "outbound"}, False),
    ("MODIFY", {"kind": "message", "handoff": "released"}, True),  # a scheduled message's time came
    ("MODIFY", {"kind": "message", "handoff": "outbound"}, False),  # claimed, sent, delivered...
    ("MODIFY", {"kind": "message", "handoff": "inbound"}, False),
    ("MODIFY", {"kind": "message"}, False),
    ("REMOVE", {"kind": "message", "handoff": "released"}, False),
])
def test_a_message_is_handed_off_once(patterns, event, new, handed):
    assert any(matches(p, record(event, new)) for p in patterns) is handed
