"""The hand-off's stream filters, as Lambda applies them: a message is handed off when stored with its hand-off,
or when a scheduled one is released; never again on any later change."""

import json

import pytest

from local.streams import matches
from local.template import functions
from tests.unit.conftest import _template


@pytest.fixture(scope="module")
def patterns():
    (source,) = [s for s in functions(_template())["HandoffFunction"].events.values() if s.get("Type") == "DynamoDB"]
    return [json.loads(f["Pattern"]) for f in source["Properties"]["FilterCriteria"]["Filters"]]


def record(event, new, old=None):
    images = {"NewImage": {k: {"S": v} for k, v in new.items()}}
    if old is not None:
        images["OldImage"] = {k: {"S": v} for k, v in old.items()}
    return {"eventName": event, "dynamodb": images}


@pytest.mark.parametrize(("event", "new", "old", "handed"), [
    ("INSERT", {"kind": "message", "handoff": "outbound"}, None, True),
    ("INSERT", {"kind": "message", "handoff": "inbound"}, None, True),
    ("INSERT", {"kind": "message"}, None, False),
    ("INSERT", {"kind": "conversation", "handoff": "outbound"}, None, False),
    ("MODIFY", {"kind": "message", "handoff": "outbound"}, {"kind": "message"}, True),  # released
    ("MODIFY", {"kind": "message", "handoff": "outbound"}, {"kind": "message", "handoff": "outbound"}, False),
    ("MODIFY", {"kind": "message", "handoff": "inbound"}, {"kind": "message"}, False),
    ("MODIFY", {"kind": "message"}, {"kind": "message"}, False),
    ("REMOVE", {"kind": "message", "handoff": "outbound"}, {"kind": "message"}, False),
])
def test_a_message_is_handed_off_once(patterns, event, new, old, handed):
    assert any(matches(p, record(event, new, old)) for p in patterns) is handed
