"""The IAM coverage check's own parts (tests/template/iam.py, local/aws_calls.py), on small synthetic templates,
so the check cannot pass by accident."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local import aws_calls
from tests.template import iam

pytestmark = pytest.mark.template

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Table"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:Queue"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/Key"
BUCKET_ARN = "arn:aws:s3:::MediaBucket"
NAMES = [
    {"kind": "dynamodb:table", "name": "test-table", "logical_id": "Table", "variable": "TABLE_NAME"},
    {"kind": "sqs:queue", "name": "https://sqs.us-east-1.amazonaws.com/123456789012/work", "logical_id": "Queue",
     "variable": "QUEUE_URL"},
    {"kind": "secretsmanager:secret", "name": "app/carrier", "logical_id": "Secret", "variable": "SECRET_NAME"},
    {"kind": "apigateway:usage-plan", "name": "p1a2n3", "logical_id": "Plan", "variable": "ssm:PlanParameter"},
    {"kind": "ssm:parameter", "name": "/app/test/plan-id", "logical_id": "PlanParameter", "variable": "PLAN_PARAMETER"},
    {"kind": "s3:bucket", "name": "switchboard-test-media", "logical_id": "MediaBucket", "variable": "MEDIA_BUCKET"},
]


def statement(actions: list[str], resources: list[Any] | Any, effect: str = "Allow", **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": actions, "Resource": resources, **extra}


def deployed(statements: list[dict[str, Any]], **resources: Any) -> dict[str, Any]:
    """A translated template: one function (folder `worker`) whose role has `statements` inline."""
    return {"Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "app/carrier"}},
        "Plan": {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {}},
        "PlanParameter": {"Type": "AWS::SSM::Parameter",
                          "Properties": {"Name": {"Fn::Sub": "/app/${Environment}/plan-id"}, "Type": "String",
                                         "Value": {"Ref": "Plan"}}},
        "WorkerFunction": {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"S3Bucket": "b", "S3Key": "functions/worker"},
            "Role": {"Fn::GetAtt": ["WorkerFunctionRole", "Arn"]},
            "Environment": {"Variables": {"TABLE_NAME": {"Ref": "Table"}}}}},
        "WorkerFunctionRole": {"Type": "AWS::IAM::Role", "Properties": {
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Statement": statements}}]}},
        **resources,
    }, "Parameters": {"Environment": {"Type": "String"}}}


def call(service: str, operation: str, *resources: dict[str, str]) -> dict[str, Any]:
    return {"function": "worker", "service": service, "operation": operation, "resources": list(resources),
            "count": 1}


def check(template: dict[str, Any], *calls: dict[str, Any]) -> iam.Coverage:
    record = iam.RecordFile(Path("pytest-1.jsonl"), "pytest", 1, NAMES, list(calls), [])
    return iam.check(template, [record], {"Environment": "test"})


def refused(coverage: iam.Coverage) -> set[tuple[str, str]]:
    return {(action, resource) for (_, action, resource) in coverage.refused}


def table(name: str = "test-table", **extra: str) -> dict[str, str]:
    return {"kind": "dynamodb:table", "name": name, **extra}


# --- matching --------------------------------------------------------------------------------------------------


def test_wildcards_match_as_iam_does() -> None:
    assert iam.matches("dynamodb:Get*", "dynamodb:GetItem", ignore_case=True)
    assert iam.matches("DynamoDB:getitem", "dynamodb:GetItem", ignore_case=True)
    assert iam.matches("sqs:?endMessage", "sqs:SendMessage", ignore_case=True)
    assert not iam.matches("sqs:?endMessage", "sqs:SSendMessage", ignore_case=True)
    assert iam.matches("arn:aws:dynamodb:*:*:table/T*", "arn:aws:dynamodb:us-east-1:1:table/T/index/gsi1")
    assert not iam.matches(TABLE_ARN, TABLE_ARN + "/index/gsi1")
    assert not iam.matches("arn:aws:s3:::Bucket", "arn:aws:s3:::bucket"), "resources are case-sensitive"
    assert iam.matches("*", "anything:at/all")


def test_an_allow_without_any_deny_allows_and_an_explicit_deny_wins() -> None:
    allow = iam.Statement("p", "Allow", ("sqs:*",), ("*",))
    deny = iam.Statement("p", "Deny", ("sqs:DeleteMessage",), (QUEUE_ARN,))

    assert iam.allowed([allow], "sqs:DeleteMessage", QUEUE_ARN)
    assert not iam.allowed([allow, deny], "sqs:DeleteMessage", QUEUE_ARN)
    assert iam.allowed([allow, deny], "sqs:SendMessage", QUEUE_ARN)
    assert not iam.allowed([], "sqs:SendMessage", QUEUE_ARN)


def test_not_action_and_not_resource_invert_their_match() -> None:
    everything_but = iam.Statement("p", "Allow", ("sqs:DeleteMessage",), ("*",), not_action=True)
    elsewhere = iam.Statement("p", "Allow", ("sqs:*",), (QUEUE_ARN,), not_resource=True)

    assert iam.allowed([everything_but], "sqs:SendMessage", QUEUE_ARN)
    assert not iam.allowed([everything_but], "sqs:DeleteMessage", QUEUE_ARN)
    assert not iam.allowed([elsewhere], "sqs:SendMessage", QUEUE_ARN)
    assert iam.allowed([elsewhere], "sqs:SendMessage", QUEUE_ARN + "-other")


@pytest.mark.parametrize("condition", [
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
    {"StringLike": {"aws:ResourceTag/team": "a*"}},
])
def test_a_condition_other_than_tags_equal_is_refused_loudly_never_guessed(condition: dict[str, Any]) -> None:
    template = deployed([statement(["sqs:SendMessage"], "*", Condition=condition)])

    with pytest.raises(iam.PolicyError, match="condition|Condition"):
        check(template)


def test_a_resource_tag_condition_holds_only_for_what_the_function_made_with_that_tag() -> None:
    keys = {"Fn::Sub": "arn:aws:apigateway:us-east-1::/apikeys/*"}
    template = deployed([
        statement(["apigateway:POST"], {"Fn::Sub": "arn:aws:apigateway:us-east-1::/apikeys"}),
        statement(["apigateway:DELETE"], keys, Condition={"StringEquals": {"aws:ResourceTag/stack:plan": {
            "Ref": "Plan"}}}),
    ])
    key = {"kind": "apigateway:api-key", "name": "k9e8y7", "param": "apiKey"}
    tagged = {"kind": "apigateway:usage-plan", "name": "p1a2n3", "param": "tag:stack:plan"}
    delete = call("apigateway", "DeleteApiKey", key)

    assert not refused(check(template, call("apigateway", "CreateApiKey", tagged), delete))
    assert refused(check(template, call("apigateway", "CreateApiKey"), delete)) == {
        ("apigateway:DELETE", "arn:aws:apigateway:us-east-1::/apikeys/k9e8y7")}
    assert refused(check(template, delete)), "a key the function never made carries no tag it knows of"


def test_a_request_tag_condition_needs_the_tag_in_the_call() -> None:
    template = deployed([statement(["apigateway:POST"], {"Fn::Sub": "arn:aws:apigateway:us-east-1::/apikeys"},
                                   Condition={"StringEquals": {"aws:RequestTag/stack:plan": {"Ref": "Plan"}}})])
    tagged = {"kind": "apigateway:usage-plan", "name": "p1a2n3", "param": "tag:stack:plan"}

    assert not refused(check(template, call("apigateway", "CreateApiKey", tagged)))
    assert refused(check(template, call("apigateway", "CreateApiKey")))


# --- calls to (action, resource) -------------------------------------------------------------------------------


def test_a_missing_action_is_refused() -> None:
    template = deployed([statement(["sqs:SendMessage"], {"Fn::GetAtt": ["Queue", "Arn"]})])
    queue = {"kind": "sqs:queue", "name": "https://sqs.us-east-1.amazonaws.com/123456789012/work"}

    coverage = check(template, call("sqs", "SendMessage", queue), call("sqs", "ChangeMessageVisibility", queue))

    assert refused(coverage) == {("sqs:ChangeMessageVisibility", QUEUE_ARN)}
    assert not coverage.problems


def test_batch_operations_need_their_single_actions() -> None:
    template = deployed([statement(["sqs:SendMessage", "sqs:DeleteMessage"], QUEUE_ARN)])
    queue = {"kind": "sqs:queue", "name": "https://sqs.us-east-1.amazonaws.com/123456789012/work"}

    coverage = check(template, call("sqs", "SendMessageBatch", queue), call("sqs", "DeleteMessageBatch", queue),
                     call("sqs", "ChangeMessageVisibilityBatch", queue))

    assert refused(coverage) == {("sqs:ChangeMessageVisibility", QUEUE_ARN)}


def test_transact_write_items_needs_each_inner_action_on_its_table() -> None:
    template = deployed([statement(["dynamodb:PutItem", "dynamodb:UpdateItem"], TABLE_ARN)])

    coverage = check(template, call("dynamodb", "TransactWriteItems", table(action="Put"),
                                    table(action="ConditionCheck"), table(action="Delete")))

    assert refused(coverage) == {("dynamodb:ConditionCheckItem", TABLE_ARN), ("dynamodb:DeleteItem", TABLE_ARN)}
    assert ("dynamodb:TransactWriteItems", TABLE_ARN) not in {(n.action, n.resource)
                                                              for n in coverage.required["worker"]}


def test_a_query_on_an_index_needs_the_index_resource() -> None:
    only_table = deployed([statement(["dynamodb:Query"], TABLE_ARN)])
    with_indexes = deployed([statement(["dynamodb:Query"], [TABLE_ARN, TABLE_ARN + "/index/*"])])
    query = call("dynamodb", "Query", table(index="gsi1"))

    assert refused(check(only_table, query)) == {("dynamodb:Query", TABLE_ARN + "/index/gsi1")}
    assert not refused(check(with_indexes, query))


def test_a_secret_named_in_the_call_matches_its_arn_with_the_six_character_suffix() -> None:
    by_ref = deployed([statement(["secretsmanager:GetSecretValue"], {"Ref": "Secret"})])
    by_name = deployed([statement(["secretsmanager:GetSecretValue"],
                                  "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/carrier")])
    by_pattern = deployed([statement(["secretsmanager:GetSecretValue"],
                                     "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/carrier-??????")])
    by_id = call("secretsmanager", "GetSecretValue", {"kind": "secretsmanager:secret", "name": "app/carrier"})
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/carrier-x1Y2z3"  # moto's suffix, not AWS's
    by_arn = call("secretsmanager", "GetSecretValue", {"kind": "secretsmanager:secret", "name": arn})

    assert not refused(check(by_ref, by_id, by_arn))
    assert refused(check(by_name, by_id)), "a name without its suffix matches no secret ARN"
    assert not refused(check(by_pattern, by_id))


def test_api_gateway_calls_are_verbs_on_paths_with_the_plan_named_through_its_parameter() -> None:
    template = deployed([
        statement(["apigateway:POST"], [{"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/apikeys"},
                                        {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}::/usageplans/${Plan}/keys"}]),
        statement(["apigateway:DELETE"], {"Fn::Sub": "arn:aws:apigateway:us-east-1::/usageplans/${Plan}/keys/*"}),
        statement(["ssm:GetParameter"],
                  {"Fn::Sub": "arn:aws:ssm:us-east-1:${AWS::AccountId}:parameter/app/${Environment}/*"}),
    ])
    plan = {"kind": "apigateway:usage-plan", "name": "p1a2n3", "param": "usagePlanId"}
    key = {"kind": "apigateway:api-key", "name": "k9e8y7", "param": "keyId"}

    coverage = check(template, call("ssm", "GetParameter", {"kind": "ssm:parameter", "name": "/app/test/plan-id"}),
                     call("apigateway", "CreateApiKey"), call("apigateway", "CreateUsagePlanKey", key, plan),
                     call("apigateway", "DeleteUsagePlanKey", key, plan),
                     call("apigateway", "DeleteApiKey", {**key, "param": "apiKey"}))

    assert refused(coverage) == {("apigateway:DELETE", "arn:aws:apigateway:us-east-1::/apikeys/k9e8y7")}
    assert not coverage.problems


def test_a_name_the_handlers_were_not_given_and_an_unknown_operation_are_problems() -> None:
    template = deployed([statement(["dynamodb:*", "s3:*"], "*")])

    coverage = check(template, call("dynamodb", "GetItem", table("someone-elses-table")),
                     call("s3", "CopyObject", {"kind": "s3:bucket", "name": "switchboard-test-media", "object": "yes"}))

    assert len(coverage.problems) == 2, coverage.problems
    assert "someone-elses-table" in coverage.problems[0] and "s3 CopyObject: no IAM mapping" in coverage.problems[1]


# --- S3 ---------------------------------------------------------------------------------------------------------


def media_bucket(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": properties}


SSE_KMS = {"ServerSideEncryptionConfiguration": [{
    "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}},
    "BucketKeyEnabled": True}]}
OBJECTS = {"Fn::Sub": "${MediaBucket.Arn}/*"}


def media(operation: str, on_object: bool = True, **extra: str) -> dict[str, Any]:
    return call("s3", operation, {"kind": "s3:bucket", "name": "switchboard-test-media",
                                  **({"object": "yes"} if on_object else {}), **extra})


def s3_needs(coverage: iam.Coverage) -> set[tuple[str, str]]:
    return {(n.action, n.resource) for n in coverage.required["worker"] if n.why.startswith("s3")}


def test_a_bucket_is_named_as_s3_names_it() -> None:
    symbols = iam.Symbols(deployed([], MediaBucket=media_bucket(), Named=media_bucket(BucketName="app-media")))

    assert symbols.resolve({"Ref": "MediaBucket"}) == "MediaBucket"
    assert symbols.resolve({"Fn::GetAtt": ["Named", "Arn"]}) == "arn:aws:s3:::app-media"
    assert symbols.resolve({"Fn::Sub": "${MediaBucket.Arn}/*"}) == BUCKET_ARN + "/*"
    assert symbols.resolve({"Fn::GetAtt": ["MediaBucket", "DomainName"]}) == "MediaBucket.s3.amazonaws.com"
    assert symbols.resolve({"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}) == \
        "MediaBucket.s3.us-east-1.amazonaws.com"


def test_an_object_call_needs_a_grant_on_the_buckets_objects_not_on_the_bucket() -> None:
    on_objects = deployed([statement(["s3:PutObject"], OBJECTS)], MediaBucket=media_bucket())
    on_bucket = deployed([statement(["s3:PutObject"], {"Fn::GetAtt": ["MediaBucket", "Arn"]})],
                         MediaBucket=media_bucket())

    assert not refused(check(on_objects, media("PutObject")))
    assert refused(check(on_bucket, media("PutObject"))) == {("s3:PutObject", BUCKET_ARN + "/any-key")}


def test_a_grant_on_a_key_prefix_covers_only_calls_recorded_under_that_prefix() -> None:
    template = deployed([statement(["s3:PutObject"], {"Fn::Sub": "${MediaBucket.Arn}/media/*"})],
                        MediaBucket=media_bucket())

    assert not refused(check(template, media("PutObject", prefix="media/")))
    assert refused(check(template, media("PutObject"))) == {("s3:PutObject", BUCKET_ARN + "/any-key")}
    assert refused(check(template, media("PutObject", prefix="thumbs/"))) == {
        ("s3:PutObject", BUCKET_ARN + "/thumbs/any-key")}


def test_a_call_on_an_object_version_needs_the_version_action() -> None:
    template = deployed([statement(["s3:GetObject", "s3:DeleteObject"], OBJECTS)], MediaBucket=media_bucket())

    coverage = check(template, media("GetObject", version="yes"), media("DeleteObject", version="yes"),
                     media("DeleteObjects", version="yes"))

    assert refused(coverage) == {("s3:GetObjectVersion", BUCKET_ARN + "/any-key"),
                                 ("s3:DeleteObjectVersion", BUCKET_ARN + "/any-key")}
    assert len(coverage.problems) == 1 and "DeleteObjects: on object versions" in coverage.problems[0]


def test_s3_operations_need_their_iam_actions_which_are_not_always_named_alike() -> None:
    template = deployed([statement(["s3:ListObjectsV2", "s3:GetObject", "s3:DeleteObject"],
                                   [{"Fn::GetAtt": ["MediaBucket", "Arn"]}, OBJECTS])], MediaBucket=media_bucket())

    coverage = check(template, media("ListObjectsV2", on_object=False), media("HeadObject"), media("GetObject"),
                     media("DeleteObjects"))

    assert s3_needs(coverage) == {("s3:ListBucket", BUCKET_ARN), ("s3:GetObject", BUCKET_ARN + "/any-key"),
                                  ("s3:DeleteObject", BUCKET_ARN + "/any-key")}
    assert refused(coverage) == {("s3:ListBucket", BUCKET_ARN)}, "there is no s3:ListObjectsV2 action"


def test_sams_s3_policy_templates_as_translated_grant_the_buckets_objects() -> None:
    # S3CrudPolicy: {BucketName: !Ref MediaBucket}, as aws-sam-translator writes it
    crud = statement(["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion",
                      "s3:PutObject", "s3:PutObjectAcl", "s3:GetLifecycleConfiguration",
                      "s3:PutLifecycleConfiguration", "s3:DeleteObject"],
                     [{"Fn::Sub": [f"arn:${{AWS::Partition}}:s3:::${{bucketName}}{suffix}",
                                   {"bucketName": {"Ref": "MediaBucket"}}]} for suffix in ("", "/*")])
    template = deployed([crud], MediaBucket=media_bucket())

    coverage = check(template, media("PutObject"), media("GetObject"), media("DeleteObject"),
                     media("ListObjectsV2", on_object=False))

    assert not refused(coverage) and not coverage.problems


def test_an_sse_kms_buckets_writers_need_generate_data_key_and_its_readers_decrypt() -> None:
    objects = statement(["s3:PutObject", "s3:GetObject"], OBJECTS)
    encrypted = deployed([objects], MediaBucket=media_bucket(BucketEncryption=SSE_KMS),
                         Key={"Type": "AWS::KMS::Key", "Properties": {}})
    write_grant = deployed([objects, statement(["kms:GenerateDataKey"], {"Fn::GetAtt": ["Key", "Arn"]})],
                           MediaBucket=media_bucket(BucketEncryption=SSE_KMS),
                           Key={"Type": "AWS::KMS::Key", "Properties": {}})
    s3_managed = deployed([objects], MediaBucket=media_bucket(BucketEncryption={
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}))

    assert refused(check(encrypted, media("PutObject"))) == {("kms:GenerateDataKey", KEY_ARN)}
    assert refused(check(encrypted, media("GetObject"), media("HeadObject"))) == {("kms:Decrypt", KEY_ARN)}
    assert not refused(check(write_grant, media("PutObject")))
    assert refused(check(write_grant, media("GetObject"))) == {("kms:Decrypt", KEY_ARN)}
    assert not refused(check(s3_managed, media("PutObject"), media("GetObject")))


def test_an_s3_call_that_picks_its_own_encryption_is_a_problem_never_guessed() -> None:
    template = deployed([statement(["s3:PutObject"], OBJECTS)], MediaBucket=media_bucket(BucketEncryption=SSE_KMS),
                        Key={"Type": "AWS::KMS::Key", "Properties": {}})
    put = call("s3", "PutObject", *aws_calls.resources_of("s3", "PutObject", {
        "Bucket": "switchboard-test-media", "Key": "k", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "other"}))

    assert "sets its own encryption" in check(template, put).problems[0]


# --- implied permissions -------------------------------------------------------------------------------------


def _encrypted(statements: list[dict[str, Any]]) -> dict[str, Any]:
    template = deployed(statements, Key={"Type": "AWS::KMS::Key", "Properties": {}},
                        Mapping={"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
                            "FunctionName": {"Ref": "WorkerFunction"},
                            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}}})
    resources = template["Resources"]
    resources["Table"]["Properties"]["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS",
                                                            "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}
    resources["Queue"]["Properties"]["KmsMasterKeyId"] = {"Fn::GetAtt": ["Key", "Arn"]}
    resources["Secret"]["Properties"]["KmsKeyId"] = {"Ref": "Key"}
    return template


SERVICE_GRANTS = [
    statement(["dynamodb:GetItem", "dynamodb:PutItem"], TABLE_ARN),
    statement(["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], QUEUE_ARN),
    statement(["secretsmanager:GetSecretValue"], {"Ref": "Secret"}),
]
USES = [call("dynamodb", "GetItem", table()), call("dynamodb", "PutItem", table()),
        call("sqs", "SendMessage", {"kind": "sqs:queue", "name": "https://sqs.us-east-1.amazonaws.com/123456789012/work"}),
        call("secretsmanager", "GetSecretValue", {"kind": "secretsmanager:secret", "name": "app/carrier"})]


def test_a_customer_managed_key_makes_its_users_need_kms_on_it() -> None:
    coverage = check(_encrypted(SERVICE_GRANTS), *USES)

    assert refused(coverage) == {("kms:Decrypt", KEY_ARN), ("kms:GenerateDataKey", KEY_ARN)}
    why = {reason for (_, action, _), reasons in coverage.refused.items() if action == "kms:Decrypt"
           for reason in reasons}
    assert any("event source Mapping" in reason for reason in why), "the SQS event source needs Decrypt too"
    assert any("GetSecretValue" in reason for reason in why)


def test_cdk_style_key_grants_satisfy_the_implied_kms_needs() -> None:
    grants = SERVICE_GRANTS + [statement(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*",
                                          "kms:GenerateDataKey*"], {"Fn::GetAtt": ["Key", "Arn"]})]

    assert not refused(check(_encrypted(grants), *USES))


def test_an_encrypted_tables_readers_need_decrypt_and_its_writers_also_generate_data_key() -> None:
    def kms_needs(*calls: dict[str, Any]) -> set[str]:
        coverage = check(_encrypted(SERVICE_GRANTS), *calls)
        return {n.action for n in coverage.required["worker"] if n.action.startswith("kms:") and
                n.why.startswith("dynamodb")}

    assert kms_needs(call("dynamodb", "GetItem", table())) == {"kms:Decrypt"}
    assert kms_needs(call("dynamodb", "Query", table(index="gsi1"))) == {"kms:Decrypt"}
    assert kms_needs(call("dynamodb", "PutItem", table())) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert kms_needs(call("dynamodb", "TransactWriteItems", table(action="Update"))) == {
        "kms:Decrypt", "kms:GenerateDataKey"}
    assert kms_needs(call("dynamodb", "DescribeTable", table())) == set()


def test_without_a_customer_managed_key_nothing_of_kms_is_needed() -> None:
    coverage = check(deployed(SERVICE_GRANTS), *USES)

    assert not refused(coverage)
    assert not any(n.action.startswith("kms:") for n in coverage.required["worker"])


# --- the recorder ----------------------------------------------------------------------------------------------


def test_the_recorder_keeps_identifiers_never_items_bodies_or_numbers() -> None:
    phone, body = "+14155552671", "Your appointment is at 9"
    transact = {"TransactItems": [
        {"Put": {"TableName": "t", "Item": {"pk": {"S": phone}, "body": {"S": body}}}},
        {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": phone}}, "ConditionExpression": "x"}}]}
    sent = {"QueueUrl": "https://q/work", "MessageBody": json.dumps({"phone": phone, "body": body})}
    event = {"Entries": [{"Source": "s", "DetailType": "d", "Detail": json.dumps({"phone": phone})}]}
    key = {"name": "switchboard-k1", "value": "sbk_secret", "enabled": True, "tags": {"stack:plan": "p1a2n3"}}

    recorded = [aws_calls.resources_of("dynamodb", "TransactWriteItems", transact),
                aws_calls.resources_of("sqs", "SendMessage", sent),
                aws_calls.resources_of("events", "PutEvents", event),
                aws_calls.resources_of("apigateway", "CreateApiKey", key)]

    text = json.dumps(recorded)
    assert phone not in text and "4155552671" not in text and body not in text and "sbk_secret" not in text
    assert recorded == [[{"action": "ConditionCheck", "kind": "dynamodb:table", "name": "t"},
                         {"action": "Put", "kind": "dynamodb:table", "name": "t"}],
                        [{"kind": "sqs:queue", "name": "https://q/work"}],
                        [{"kind": "events:event-bus", "name": "default"}],
                        [{"kind": "apigateway:usage-plan", "name": "p1a2n3", "param": "tag:stack:plan"}]]


def test_the_recorder_keeps_a_buckets_name_and_whether_an_object_is_named_never_the_key() -> None:
    key = "media/+14155552671/SM1/0"  # our keys carry no phone number; the recorder must not count on it
    prefixes = ("media/+1/", "media/")

    def s3(operation: str, **params: Any) -> list[dict[str, str]]:
        return aws_calls.resources_of("s3", operation, {"Bucket": "media-b", **params}, prefixes)

    recorded = [s3("PutObject", Key=key, Body=b"jpeg"), s3("GetObject", Key="+14155552671/0"),
                s3("DeleteObjects", Delete={"Objects": [{"Key": key}, {"Key": "media/p1/SM2/0", "VersionId": "v"}]}),
                s3("ListObjectsV2", Prefix="media/+1415"), aws_calls.resources_of("s3", "ListBuckets", {})]

    assert "4155552671" not in json.dumps(recorded) and "jpeg" not in json.dumps(recorded)
    assert recorded == [[{"kind": "s3:bucket", "name": "media-b", "object": "yes", "prefix": "media/"}],
                        [{"kind": "s3:bucket", "name": "media-b", "object": "yes"}],
                        [{"kind": "s3:bucket", "name": "media-b", "object": "yes", "prefix": "media/",
                          "version": "yes"}],
                        [{"kind": "s3:bucket", "name": "media-b"}], []]


def test_the_key_prefixes_recorded_are_those_the_templates_grants_name() -> None:
    raw = {"Resources": {"MediaBucket": {"Type": "AWS::S3::Bucket"}, "Worker": {"Properties": {"Policies": [
        {"Statement": [{"Resource": [{"Fn::Sub": "${MediaBucket.Arn}/media/*"},
                                     {"Fn::Sub": "${MediaBucket.Arn}/*"},
                                     {"Fn::Sub": "${MediaBucket.Arn}/media/thumbs/${Environment}/*"},
                                     "arn:aws:s3:::other-bucket/exports/2020/report.csv",
                                     {"Fn::Sub": "https://${MediaBucket.RegionalDomainName}/media/x"}]}]},
        {"S3CrudPolicy": {"BucketName": {"Ref": "MediaBucket"}}}]}}}}

    assert aws_calls.s3_key_prefixes(raw) == ("exports/2020/", "media/thumbs/", "media/")


def test_a_presigned_url_is_recorded_as_the_call_it_signs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    mine = aws_calls.Recorder("pytest-presign", tmp_path)
    monkeypatch.setattr(aws_calls, "_recorder", None)  # the session's recorder must not see this test's "worker"
    client = boto3.session.Session().client("s3", region_name="us-east-1", aws_access_key_id="test",
                                            aws_secret_access_key="test")
    client.meta.events.register("before-parameter-build", mine.on_parameter_build)
    namespace: dict[str, Any] = {"__name__": "functions.worker.app", "client": client}
    exec("def view():\n    return client.generate_presigned_url('get_object', Params={'Bucket': 'media-b', "  # noqa: S102
         "'Key': 'media/p1/SM1/0'})\n"
         "def upload():\n    return client.generate_presigned_post('media-b', 'media/p1/SM1/1')\n", namespace)

    namespace["view"]()
    namespace["upload"]()

    assert sorted((entry["operation"], json.dumps(entry["resources"])) for entry in mine.calls()) == [
        ("GetObject", json.dumps([{"kind": "s3:bucket", "name": "media-b", "object": "yes"}])),
        ("PutObject", json.dumps([{"kind": "s3:bucket", "name": "media-b", "object": "yes"}]))]


def test_variables_map_to_the_resources_they_name() -> None:
    raw = {"Parameters": {"SecretName": {"Type": "String", "Default": "app/carrier"}},
           "Resources": {"Table": {"Type": "AWS::DynamoDB::Table"},
                         "Secret": {"Type": "AWS::SecretsManager::Secret",
                                    "Properties": {"Name": {"Ref": "SecretName"}}},
                         "PlanParameter": {"Type": "AWS::SSM::Parameter", "Properties": {
                             "Name": {"Fn::Sub": "/app/${Environment}/plan-id"}, "Value": {"Ref": "Plan"}}},
                         "Plan": {"Type": "AWS::ApiGateway::UsagePlan"},
                         "MediaBucket": {"Type": "AWS::S3::Bucket"},
                         "ArchiveBucket": {"Type": "AWS::S3::Bucket", "Properties": {
                             "BucketName": {"Fn::Sub": "switchboard-${Environment}-archive"}}}}}

    assert aws_calls.binding_for(raw, "TABLE_NAME", {"Ref": "Table"}) == aws_calls.Binding(
        "TABLE_NAME", "dynamodb:table", "Table")
    assert aws_calls.binding_for(raw, "SECRET", {"Ref": "SecretName"}) == aws_calls.Binding(
        "SECRET", "secretsmanager:secret", "Secret")
    assert aws_calls.binding_for(raw, "PLAN_PARAMETER", {"Fn::Sub": "/app/${Environment}/plan-id"}) == \
        aws_calls.Binding("PLAN_PARAMETER", "ssm:parameter", "PlanParameter")
    assert aws_calls.binding_for(raw, "MEDIA_BUCKET", {"Ref": "MediaBucket"}) == aws_calls.Binding(
        "MEDIA_BUCKET", "s3:bucket", "MediaBucket")
    assert aws_calls.binding_for(raw, "ARCHIVE", {"Fn::Sub": "switchboard-${Environment}-archive"}) == \
        aws_calls.Binding("ARCHIVE", "s3:bucket", "ArchiveBucket")
    assert aws_calls.binding_for(raw, "POWERTOOLS_SERVICE_NAME", "worker") is None
    assert aws_calls.value_bindings(raw) == {"PlanParameter": aws_calls.Binding("", "apigateway:usage-plan", "Plan")}


def test_only_calls_from_inside_a_handler_module_are_attributed() -> None:
    namespace: dict[str, Any] = {"__name__": "functions.worker.app", "sys": __import__("sys"),
                                 "aws_calls": aws_calls}
    exec("def handler():\n    return aws_calls.calling_function(sys._getframe())\n", namespace)  # noqa: S102

    assert namespace["handler"]() == "worker"
    assert aws_calls.calling_function(__import__("sys")._getframe()) is None
