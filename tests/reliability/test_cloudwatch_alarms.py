"""Operations: every dead-letter queue and every function has its CloudWatch alarms, and they page someone."""

from __future__ import annotations

from typing import Any

import pytest

from local.template import load_template
from tests.integration.conftest import ROOT

TOPIC = {"Ref": "AlarmTopicArn"}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(load_template(ROOT / "template.yaml")["Resources"])


def alarms(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def alarm_on(resources: dict[str, Any], namespace: str, metric: str, dimension: str, value: Any) -> dict[str, Any]:
    found = [a for a in alarms(resources) if a["Namespace"] == namespace and a["MetricName"] == metric
             and {"Name": dimension, "Value": value} in a["Dimensions"]]
    assert len(found) == 1, f"want one {namespace} {metric} alarm on {value}, found {len(found)}"
    return found[0]


def test_the_alarm_topic_is_a_parameter_every_alarm_notifies_on_alarm_and_on_recovery(resources):
    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    assert parameters["AlarmTopicArn"]["Type"] == "String"
    assert alarms(resources)
    for alarm in alarms(resources):
        assert alarm["AlarmActions"] == [TOPIC] and alarm["OKActions"] == [TOPIC], alarm["AlarmName"]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_every_dead_letter_queue_alarms_on_its_first_message(resources):
    dead_letter_queues = {r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                          for r in resources.values()
                          if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r.get("Properties", {})}
    on_failure = {event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
                  for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
                  for event in (r["Properties"].get("Events") or {}).values()
                  if "DestinationConfig" in (event.get("Properties") or {})}
    dead_letter_queues |= on_failure
    assert dead_letter_queues >= {"OutboundDeadLetterQueue", "FollowUpDeadLetterQueue", "HandoffDeadLetterQueue"}
    for queue in dead_letter_queues:
        alarm = alarm_on(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
                         {"Fn::GetAtt": [queue, "QueueName"]})
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["Period"] <= 300 and alarm["EvaluationPeriods"] == 1


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_alarms_on_any_error_and_any_throttle(resources, metric):
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    assert functions
    for function in functions:
        alarm = alarm_on(resources, "AWS/Lambda", metric, "FunctionName", {"Ref": function})
        assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
            "Sum", 0, "GreaterThanThreshold")
