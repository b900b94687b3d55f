"""Operations: every dead-letter queue and every function has its CloudWatch alarms, and they page someone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.template import load_template
from tests.integration.conftest import ROOT

TOPIC = {"Ref": "AlarmTopicArn"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def resources(template) -> dict[str, Any]:
    return dict(template["Resources"])


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


def _substituted(template: dict[str, Any], value: Any) -> Any:
    """An `Fn::Sub` whose variables are `Fn::FindInMap` look-ups, with them looked up (`${Environment}` stays)."""
    sub = value["Fn::Sub"] if isinstance(value, dict) else value
    if not isinstance(sub, list):
        return sub
    text, variables = sub
    for name, lookup in variables.items():
        mapping, top, second = lookup["Fn::FindInMap"]
        found = ((template.get("Mappings") or {}).get(mapping) or {}).get(top, {}).get(second)
        assert isinstance(found, str), f"Mappings has no {mapping}.{top}.{second}"
        text = text.replace(f"${{{name}}}", found)
    return text


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_each_function_alarm_keeps_its_logical_id_and_name_and_points_to_the_runbook(template, resources, metric):
    """`<Prefix>ErrorsAlarm`, named `switchboard-<env>-<prefix in kebab case>-errors` (and likewise throttles)."""
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    for function in functions:
        prefix = function.removesuffix("Function")
        alarm = resources.get(f"{prefix}{metric}Alarm")
        assert alarm is not None and alarm["Type"] == "AWS::CloudWatch::Alarm", f"no {prefix}{metric}Alarm"
        properties = alarm["Properties"]
        assert properties["MetricName"] == metric
        assert {"Name": "FunctionName", "Value": {"Ref": function}} in properties["Dimensions"]
        kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", prefix).lower()
        name = f"switchboard-${{Environment}}-{kebab}-{metric.lower()}"
        assert _substituted(template, properties["AlarmName"]) == name
        description = _substituted(template, properties["AlarmDescription"])
        assert function in description and "README, Runbook" in description, description
