"""Is every AWS call a function made in the test tiers allowed by its IAM policy, as CloudFormation deploys it?

Inputs: the translated template (tests/template/cloudformation.py) and the record files local/aws_calls.py
writes (one per process: its calls and which template resource each concrete name it saw is).

Naming is symbolic, the way AWS would name the template's resources: region us-east-1, account 123456789012,
partition aws; a table's `Ref` is its TableName or logical id and its ARN `...:table/<that>`, a queue's name is
its QueueName or logical id, a secret's `Ref` its ARN `...:secret:<Name>-AbCdEf` (AWS appends six random
characters), a bus's `Ref` its Name, a KMS key's ARN `...:key/<logical id>`, a bucket's `Ref` its BucketName or
logical id (as written: S3's lowercase rule is not the point here) and its ARN `arn:aws:s3:::<that>`, any other
resource's `Ref` its logical id (a usage plan's id, a role's name). Parameters take their Default over which
`parameters` are given. The recorder keeps no object key, only which key prefix of the template's grants it
starts with (`media/`), so a call on an object is checked on `arn:aws:s3:::<bucket>/<that prefix>any-key`: a grant
on `<bucket ARN>/*` or that prefix covers it; one on a longer prefix or a single key is refused, not guessed.

A recorded call becomes (IAM action, resource ARN) pairs: the concrete names are mapped to the template resource
the recording process said they are, then written symbolically. Pairs no one records are implied by the template:
the event source mappings, logs, X-Ray, and the KMS key a customer-managed-key-encrypted table, queue, secret or
bucket (SSE-KMS default encryption) makes the caller use. Statements are evaluated as IAM does for one identity
policy set: an explicit Deny wins, else an Allow is needed; `*` and `?` wildcards (actions case-insensitively);
NotAction and NotResource; a Condition is evaluated only as `StringEquals` on `aws:RequestTag/*` or
`aws:ResourceTag/*` (a call's request tags are what it recorded; a resource's tags are those the same function's
create calls put on what it makes, the only way our functions come to hold such a resource), any other Condition, a
policy variable or a permissions boundary is refused with PolicyError (never guessed).
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
SECRET_SUFFIX = "AbCdEf"  # the six characters AWS appends to a secret's name in its ARN
STREAM_LABEL = "2020-01-01T00:00:00.000"  # a table stream's label (unknown until deployed)

# The AWS managed policies SAM attaches, as AWS publishes them (docs.aws.amazon.com/aws-managed-policy).
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords",
                                                      "xray:GetSamplingRules", "xray:GetSamplingTargets",
                                                      "xray:GetSamplingStatisticSummaries"], "Resource": ["*"]}],
    },
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                      "sqs:GetQueueAttributes", *_LOGS], "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords",
                                                      "dynamodb:GetShardIterator", "dynamodb:ListStreams", *_LOGS],
                       "Resource": "*"}],
    },
}

AWS_MANAGED_NAMES = {arn.rsplit("/", 1)[-1] for arn in AWS_MANAGED_POLICIES}

# What using a customer managed key takes when a service encrypts for the caller (the caller's policy must
# allow it; tiers never see these calls). Grants in CDK's style (read: Decrypt, DescribeKey; write: Encrypt,
# ReEncrypt*, GenerateDataKey*, Decrypt) satisfy them.
KMS_FOR = {
    "dynamodb:read": ("kms:Decrypt",),
    "dynamodb:write": ("kms:Decrypt", "kms:GenerateDataKey"),
    "dynamodb:stream": ("kms:Decrypt",),
    "sqs:send": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:receive": ("kms:Decrypt",),
    "secretsmanager:read": ("kms:Decrypt",),
    "s3:read": ("kms:Decrypt",),
    "s3:write": ("kms:GenerateDataKey",),
    # S3 decrypts the parts to assemble them (AWS knowledge center, s3-multipart-kms-decrypt).
    "s3:multipart": ("kms:GenerateDataKey", "kms:Decrypt"),
}
_DYNAMODB_READS = {"GetItem", "BatchGetItem", "Query", "Scan", "ConditionCheckItem"}
_DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}

# Names that are AWS's own, not the template's.
BUILTIN_NAMES = {("events:event-bus", "default"): "default"}
# Ids a function creates at run time (its own API keys): no template resource names them, so a policy can
# only grant them with a wildcard, and the call is checked with the id as recorded.
RUNTIME_ID_KINDS = {"apigateway:api-key"}

# API Gateway's IAM actions are HTTP verbs on resource paths; {param} is the call's parameter.
APIGATEWAY_OPERATIONS = {
    "CreateApiKey": ("POST", "/apikeys"),
    "GetApiKeys": ("GET", "/apikeys"),
    "GetApiKey": ("GET", "/apikeys/{apiKey}"),
    "UpdateApiKey": ("PATCH", "/apikeys/{apiKey}"),
    "DeleteApiKey": ("DELETE", "/apikeys/{apiKey}"),
    "GetUsagePlans": ("GET", "/usageplans"),
    "GetUsagePlan": ("GET", "/usageplans/{usagePlanId}"),
    "UpdateUsagePlan": ("PATCH", "/usageplans/{usagePlanId}"),
    "CreateUsagePlanKey": ("POST", "/usageplans/{usagePlanId}/keys"),
    "GetUsagePlanKeys": ("GET", "/usageplans/{usagePlanId}/keys"),
    "GetUsagePlanKey": ("GET", "/usageplans/{usagePlanId}/keys/{keyId}"),
    "DeleteUsagePlanKey": ("DELETE", "/usageplans/{usagePlanId}/keys/{keyId}"),
}
_SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
_SQS_OPERATIONS = {"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch",
                   "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "GetQueueAttributes", "GetQueueUrl",
                   "PurgeQueue", "SetQueueAttributes", "ListQueueTags", "ListDeadLetterSourceQueues"}
_SECRETS_OPERATIONS = {"GetSecretValue", "DescribeSecret", "PutSecretValue", "UpdateSecret",
                       "GetResourcePolicy", "ListSecretVersionIds"}
_SSM_OPERATIONS = {"GetParameter", "GetParameters", "GetParameterHistory", "PutParameter", "DeleteParameter",
                   "GetParametersByPath"}
_KMS_OPERATIONS = {"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "DescribeKey",
                   "ReEncrypt", "Sign", "Verify"}
_COGNITO_OPERATIONS = {"AdminCreateUser", "AdminGetUser", "AdminEnableUser", "AdminDisableUser",
                       "AdminUserGlobalSignOut", "AdminAddUserToGroup", "AdminRemoveUserFromGroup"}
# S3 operation -> (IAM action, on an object or the bucket, what it takes of a customer managed key); several
# operations' actions are not named as they are.
S3_OPERATIONS: dict[str, tuple[str, bool, str | None]] = {
    "GetObject": ("s3:GetObject", True, "s3:read"),
    "HeadObject": ("s3:GetObject", True, "s3:read"),
    "PutObject": ("s3:PutObject", True, "s3:write"),
    "DeleteObject": ("s3:DeleteObject", True, None),
    "DeleteObjects": ("s3:DeleteObject", True, None),
    "CreateMultipartUpload": ("s3:PutObject", True, "s3:multipart"),
    "UploadPart": ("s3:PutObject", True, "s3:multipart"),
    "CompleteMultipartUpload": ("s3:PutObject", True, "s3:multipart"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", True, None),
    "ListObjectsV2": ("s3:ListBucket", False, None),
    "ListObjects": ("s3:ListBucket", False, None),
    "HeadBucket": ("s3:ListBucket", False, None),
    "GetBucketLocation": ("s3:GetBucketLocation", False, None),
}
S3_OBJECT_KEY = "any-key"  # the key an object call is checked on, after its prefix (see the module's docstring)
_S3_VERSION_ACTIONS = {"GetObject": "s3:GetObjectVersion", "HeadObject": "s3:GetObjectVersion",
                       "DeleteObject": "s3:DeleteObjectVersion"}
_NO_PERMISSION = {("sts", "GetCallerIdentity")}


class PolicyError(Exception):
    """The template or a policy uses something this evaluator cannot evaluate: teach it, never guess."""


class CallError(Exception):
    """A recorded call that cannot be turned into (action, resource) pairs."""


# --- symbolic values of the template ----------------------------------------------------------------------

_NO_VALUE = object()


class Symbols:
    """Resolves CloudFormation intrinsics to symbolic values (see the module's docstring)."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self.parameters = {name: str(spec["Default"]) for name, spec in (template.get("Parameters") or {}).items()
                           if "Default" in spec}
        self.parameters.update(parameters or {})
        self.declared = set(template.get("Parameters") or {})

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise PolicyError(f"unknown condition {name!r}")
        return bool(self.resolve(self.conditions[name]))

    def exists(self, logical_id: str) -> bool:
        resource = self.resources.get(logical_id)
        return resource is not None and ("Condition" not in resource or self.condition(resource["Condition"]))

    def _intrinsic(self, key: str, argument: Any) -> Any:
        match key:
            case "Ref":
                return self.ref(argument)
            case "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical_id, attribute)
            case "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, self.resolve(variables))
            case "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            case "Fn::Select":
                index, items = self.resolve(argument)
                return items[int(index)]
            case "Fn::Split":
                separator, text = self.resolve(argument)
                return text.split(separator)
            case "Fn::If":
                name, if_true, if_false = argument
                return self.resolve(if_true if self.condition(name) else if_false)
            case "Fn::Equals":
                left, right = self.resolve(argument)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(argument)[0]
            case "Fn::And":
                return all(self.resolve(argument))
            case "Fn::Or":
                return any(self.resolve(argument))
            case "Condition":
                return self.condition(argument)
        raise PolicyError(f"{key} is not evaluated here; teach tests/template/iam.py")

    def _property(self, logical_id: str, name: str) -> Any:
        value = (self.resources[logical_id].get("Properties") or {}).get(name)
        return None if value is None else self.resolve(value)

    def ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "switchboard-local",
                  "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/switchboard-local/id"}
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.declared:
            raise PolicyError(f"parameter {name} has no Default and no value given")
        if name not in self.resources:
            raise PolicyError(f"Ref {name}: no such parameter or resource")
        kind = self.resources[name].get("Type")
        named = self._property(name, {"AWS::DynamoDB::Table": "TableName", "AWS::SQS::Queue": "QueueName",
                                      "AWS::SecretsManager::Secret": "Name", "AWS::Events::EventBus": "Name",
                                      "AWS::SSM::Parameter": "Name", "AWS::Lambda::Function": "FunctionName",
                                      "AWS::IAM::Role": "RoleName", "AWS::ApiGateway::Stage": "StageName",
                                      "AWS::KMS::Alias": "AliasName", "AWS::Logs::LogGroup": "LogGroupName",
                                      "AWS::SNS::Topic": "TopicName", "AWS::S3::Bucket": "BucketName"
                                      }.get(kind, "-")) or name
        match kind:
            case "AWS::SQS::Queue":
                return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{named}"
            case "AWS::SecretsManager::Secret":
                return f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{named}-{SECRET_SUFFIX}"
            case "AWS::SNS::Topic":
                return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{named}"
            case "AWS::IAM::ManagedPolicy":
                return f"arn:{PARTITION}:iam::{ACCOUNT}:policy/{self._property(name, 'ManagedPolicyName') or name}"
            case "AWS::Cognito::UserPool":
                return f"{REGION}_{name}"
        return named

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise PolicyError(f"Fn::GetAtt {logical_id}.{attribute}: no such resource")
        kind = self.resources[logical_id].get("Type")
        base = f"arn:{PARTITION}"
        found: str | None = None
        match kind, attribute:
            case "AWS::DynamoDB::Table", "Arn":
                found = f"{base}:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(logical_id)}"
            case "AWS::DynamoDB::Table", "StreamArn":
                found = f"{base}:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(logical_id)}/stream/{STREAM_LABEL}"
            case "AWS::SQS::Queue", "Arn":
                found = f"{base}:sqs:{REGION}:{ACCOUNT}:{self.get_att(logical_id, 'QueueName')}"
            case "AWS::SQS::Queue", "QueueName":
                found = str(self._property(logical_id, "QueueName") or logical_id)
            case "AWS::SQS::Queue", "QueueUrl":
                found = str(self.ref(logical_id))
            case "AWS::Events::EventBus", "Arn":
                found = f"{base}:events:{REGION}:{ACCOUNT}:event-bus/{self.ref(logical_id)}"
            case "AWS::Events::EventBus", "Name":
                found = str(self.ref(logical_id))
            case "AWS::KMS::Key", "Arn":
                found = f"{base}:kms:{REGION}:{ACCOUNT}:key/{logical_id}"
            case "AWS::KMS::Key", "KeyId":
                found = logical_id
            case "AWS::IAM::Role", "Arn":
                found = f"{base}:iam::{ACCOUNT}:role/{self.ref(logical_id)}"
            case "AWS::Lambda::Function", "Arn":
                found = f"{base}:lambda:{REGION}:{ACCOUNT}:function:{self.ref(logical_id)}"
            case "AWS::Logs::LogGroup", "Arn":
                found = f"{base}:logs:{REGION}:{ACCOUNT}:log-group:{self.ref(logical_id)}:*"
            case "AWS::SNS::Topic", "TopicArn":
                found = str(self.ref(logical_id))
            case "AWS::Cognito::UserPool", "Arn":
                found = f"{base}:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_{logical_id}"
            case "AWS::S3::Bucket", "Arn":
                found = bucket_arn(str(self.ref(logical_id)))
            case "AWS::S3::Bucket", "DomainName":
                found = f"{self.ref(logical_id)}.s3.amazonaws.com"
            case "AWS::S3::Bucket", "RegionalDomainName":
                found = f"{self.ref(logical_id)}.s3.{REGION}.amazonaws.com"
            case "AWS::S3::Bucket", "DualStackDomainName":
                found = f"{self.ref(logical_id)}.s3.dualstack.{REGION}.amazonaws.com"
        if found is None:
            raise PolicyError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) has no symbolic value; teach iam.py")
        return found

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # what a template resource is called, by the kind of identifier calls carry (see local/aws_calls.py)
    def identifier(self, kind: str, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise CallError(f"{logical_id} is no resource of the deployed template")
        match kind:
            case "dynamodb:table" | "events:event-bus" | "ssm:parameter" | "apigateway:usage-plan":
                return str(self.ref(logical_id))
            case "sqs:queue":
                return self.get_att(logical_id, "QueueName")
            case "secretsmanager:secret":
                return str(self.ref(logical_id))
            case "kms:key":
                return self.get_att(logical_id, "Arn")
            case "cognito-idp:userpool" | "s3:bucket":
                return str(self.ref(logical_id))
        raise CallError(f"no symbolic identifier for a {kind} ({logical_id})")


def normalized(kind: str, name: str) -> str:
    """One spelling per resource: a queue by name (not URL or ARN), a table, bus, parameter or bucket without its
    ARN, a secret by name without the six characters AWS appends to its ARN."""
    match kind:
        case "dynamodb:table":
            return name.split(":table/", 1)[1].split("/", 1)[0] if ":table/" in name else name
        case "sqs:queue":
            return re.split(r"[/:]", name.rstrip("/"))[-1]
        case "secretsmanager:secret":
            if name.startswith("arn:") and ":secret:" in name:
                return re.sub(r"-[A-Za-z0-9]{6}$", "", name.split(":secret:", 1)[1])
            return name
        case "events:event-bus":
            return name.split(":event-bus/", 1)[1] if ":event-bus/" in name else name
        case "ssm:parameter" | "ssm:parameter-path":
            return (name.split(":parameter/", 1)[1] if ":parameter/" in name else name).lstrip("/")
        case "kms:key":
            return name.split(":key/", 1)[1] if ":key/" in name else name
        case "s3:bucket":
            return name.split(":::", 1)[1] if name.startswith("arn:") and ":s3:::" in name else name
    return name


# --- statements and their evaluation ------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: `*` any run of characters (`:` and `/` included), `?` one character."""
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise PolicyError(f"{what} did not resolve to strings: {items!r}")
    return tuple(items)


_TAG_CONDITION_KEYS = ("aws:RequestTag/", "aws:ResourceTag/")


def _conditions(raw: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(raw, dict) or set(raw) != {"StringEquals"} or not isinstance(raw["StringEquals"], dict):
        raise PolicyError(f"{where}: only StringEquals conditions are evaluated here; teach tests/template/iam.py")
    found = []
    for key, values in raw["StringEquals"].items():
        if not key.startswith(_TAG_CONDITION_KEYS):
            raise PolicyError(f"{where}: condition key {key} is not evaluated here; teach tests/template/iam.py")
        found.append((key, _strings(values, f"{where} condition {key}")))
    return tuple(sorted(found))


@dataclass(frozen=True)
class Statement:
    """One resolved statement of an identity policy; `source` says which policy it came from."""

    source: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False
    conditions: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str) -> Statement:
        """A statement already resolved by Symbols; PolicyError for what cannot be evaluated."""
        where = f"{source}: statement {json.dumps(raw, default=str)[:300]}"
        conditions = _conditions(raw["Condition"], where) if "Condition" in raw else ()
        if "Principal" in raw or "NotPrincipal" in raw:
            raise PolicyError(f"{where}: an identity policy names no principal")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"{where}: Effect must be Allow or Deny")
        if ("Action" in raw) == ("NotAction" in raw) or ("Resource" in raw) == ("NotResource" in raw):
            raise PolicyError(f"{where}: needs exactly one of Action/NotAction and one of Resource/NotResource")
        actions = _strings(raw.get("Action", raw.get("NotAction")), f"{where} actions")
        resources = _strings(raw.get("Resource", raw.get("NotResource")), f"{where} resources")
        if any("${" in resource for resource in resources):
            raise PolicyError(f"{where}: policy variables (${{...}}) are not evaluated here")
        return cls(source, effect, actions, resources, "NotAction" in raw, "NotResource" in raw, conditions)

    def action_matches(self, action: str) -> bool:
        found = any(matches(pattern, action, ignore_case=True) for pattern in self.actions)
        return found != self.not_action

    def resource_matches(self, resource: str) -> bool:
        found = any(matches(pattern, resource) for pattern in self.resources)
        return found != self.not_resource

    def conditions_hold(self, context: Mapping[str, str]) -> bool:
        """StringEquals: the key is in the request's context with one of the values (absent never matches)."""
        return all(context.get(key) in values for key, values in self.conditions)

    def applies(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
        return self.action_matches(action) and self.resource_matches(resource) and self.conditions_hold(
            context or {})


def allowed(statements: Iterable[Statement], action: str, resource: str,
            context: Mapping[str, str] | None = None) -> bool:
    """IAM's answer for one identity: an explicit Deny wins, else some Allow must apply."""
    applying = [statement for statement in statements if statement.applies(action, resource, context)]
    return bool(applying) and all(statement.effect == "Allow" for statement in applying)


def policy_statements(document: Mapping[str, Any], source: str, symbols: Symbols) -> list[Statement]:
    raw = symbols.resolve(document.get("Statement") or [])
    return [Statement.parse(statement, source) for statement in (raw if isinstance(raw, list) else [raw])]


# --- each function's role ------------------------------------------------------------------------------------


@dataclass
class FunctionAccess:
    """A deployed function, its role, what its role's policies allow, and its environment (symbolic)."""

    logical_id: str
    folder: str
    role_id: str
    statements: list[Statement]
    environment: dict[str, str]
    properties: dict[str, Any] = field(default_factory=dict)


def _role_id(function_id: str, role: Any, resources: Mapping[str, Any]) -> str:
    if isinstance(role, dict) and isinstance(role.get("Fn::GetAtt"), list) and role["Fn::GetAtt"][1:] == ["Arn"]:
        role_id = str(role["Fn::GetAtt"][0])
        if (resources.get(role_id) or {}).get("Type") == "AWS::IAM::Role":
            return role_id
    raise PolicyError(f"{function_id}: Role {role!r} is not !GetAtt <an AWS::IAM::Role of the template>.Arn")


def _type_of(resources: Mapping[str, Any], logical_id: Any) -> str | None:
    resource = resources.get(logical_id) if isinstance(logical_id, str) else None
    return None if resource is None else resource.get("Type")


def _refers_to(value: Any, logical_id: str) -> bool:
    return value == {"Ref": logical_id}


def role_statements(role_id: str, template: Mapping[str, Any], symbols: Symbols) -> list[Statement]:
    """Every statement that applies to the role: inline, managed (AWS's and the template's), attached."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    properties = resources[role_id].get("Properties") or {}
    if "PermissionsBoundary" in properties:
        raise PolicyError(f"{role_id}: a permissions boundary is not evaluated here; teach tests/template/iam.py")
    statements: list[Statement] = []
    for policy in properties.get("Policies") or []:
        statements += policy_statements(policy["PolicyDocument"], policy.get("PolicyName", role_id), symbols)
    for arn in properties.get("ManagedPolicyArns") or []:
        if isinstance(arn, dict) and _type_of(resources, arn.get("Ref")) == "AWS::IAM::ManagedPolicy":
            policy_id = arn["Ref"]
            statements += policy_statements(resources[policy_id]["Properties"]["PolicyDocument"], policy_id, symbols)
            continue
        resolved = symbols.resolve(arn)
        if resolved not in AWS_MANAGED_POLICIES:
            raise PolicyError(f"{role_id}: managed policy {resolved!r}: embed its document in AWS_MANAGED_POLICIES")
        statements += policy_statements(AWS_MANAGED_POLICIES[resolved], resolved.rsplit("/", 1)[-1], symbols)
    for policy_id, resource in resources.items():
        kind, attached = resource.get("Type"), resource.get("Properties") or {}
        if kind not in ("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            continue
        to_role = any(_refers_to(role, role_id) for role in attached.get("Roles") or [])
        to_role = to_role or _refers_to(attached.get("RoleName"), role_id)
        if to_role and symbols.exists(policy_id):
            statements += policy_statements(attached["PolicyDocument"], policy_id, symbols)
    return statements


def function_access(template: Mapping[str, Any], symbols: Symbols) -> dict[str, FunctionAccess]:
    """Every AWS::Lambda::Function by its folder (the last segment of its Code.S3Key, see cloudformation.py)."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    found: dict[str, FunctionAccess] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function" or not symbols.exists(logical_id):
            continue
        properties = resource.get("Properties") or {}
        key = str((properties.get("Code") or {}).get("S3Key") or logical_id)
        folder = key.rstrip("/").rsplit("/", 1)[-1]
        role_id = _role_id(logical_id, properties.get("Role"), resources)
        variables = ((properties.get("Environment") or {}).get("Variables")) or {}
        environment = {}
        for name, value in variables.items():
            try:
                environment[name] = str(symbols.resolve(value))
            except PolicyError:
                continue  # a variable no call's name comes from (a Cognito URL...) may stay unresolved
        found[folder] = FunctionAccess(logical_id, folder, role_id, role_statements(role_id, template, symbols),
                                       environment, properties)
    return found


# --- what the function needs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    action: str
    resource: str
    why: str
    context: tuple[tuple[str, str], ...] = ()  # condition keys IAM would see: the request's and resource's tags


def table_arn(name: str) -> str:
    return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def queue_arn(name: str) -> str:
    return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"


def bus_arn(name: str) -> str:
    return f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def parameter_arn(name: str) -> str:
    return f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def userpool_arn(pool_id: str) -> str:
    return f"arn:{PARTITION}:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool_id}"


def apigateway_arn(path: str) -> str:
    return f"arn:{PARTITION}:apigateway:{REGION}::{path}"


def bucket_arn(name: str) -> str:
    return f"arn:{PARTITION}:s3:::{name}"


def encryption_key(template: Mapping[str, Any], logical_id: str | None, symbols: Symbols) -> str | None:
    """The ARN of the template's customer managed key a table, queue, secret or bucket is encrypted with, else
    None (AWS owned or AWS managed keys: nothing for the caller's policy to allow)."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    if logical_id is None or logical_id not in resources:
        return None
    resource = resources[logical_id]
    properties = resource.get("Properties") or {}
    kind = resource.get("Type")
    if kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
        key = (properties.get("SSESpecification") or {}).get("KMSMasterKeyId")
    elif kind == "AWS::SQS::Queue":
        key = properties.get("KmsMasterKeyId")
    elif kind == "AWS::SecretsManager::Secret":
        key = properties.get("KmsKeyId")
    elif kind == "AWS::S3::Bucket":
        key = _bucket_key(logical_id, properties.get("BucketEncryption"))
    else:
        return None
    if key is None:
        return None
    target: str | None = None
    if isinstance(key, dict) and isinstance(key.get("Fn::GetAtt"), list):
        target = str(key["Fn::GetAtt"][0])
    elif isinstance(key, dict) and isinstance(key.get("Ref"), str):
        target = key["Ref"]
    if target is not None and (resources.get(target) or {}).get("Type") == "AWS::KMS::Alias":
        alias_target = (resources[target].get("Properties") or {}).get("TargetKeyId")
        target = alias_target.get("Ref") if isinstance(alias_target, dict) else None
    if target is not None and (resources.get(target) or {}).get("Type") == "AWS::KMS::Key":
        return symbols.get_att(target, "Arn")
    resolved = symbols.resolve(key)
    if isinstance(resolved, str) and resolved.startswith("alias/aws/"):
        return None  # an AWS managed key: its key policy lets the account use it through the service
    raise PolicyError(f"{logical_id}: encrypted with {resolved!r}, which is no key of this template; teach iam.py")


def _bucket_key(logical_id: str, encryption: Any) -> Any:
    """The KMSMasterKeyID of a bucket's default encryption, if SSE-KMS with a key named (none: SSE-S3, or aws/s3)."""
    if encryption is None:
        return None
    rules = encryption.get("ServerSideEncryptionConfiguration") if isinstance(encryption, dict) else None
    if not isinstance(rules, list) or len(rules) != 1 or not isinstance(rules[0], dict):
        raise PolicyError(f"{logical_id}: BucketEncryption {encryption!r} is not one rule; teach iam.py")
    default = rules[0].get("ServerSideEncryptionByDefault") or {}
    algorithm = default.get("SSEAlgorithm")
    if algorithm == "AES256":
        return None
    if algorithm not in ("aws:kms", "aws:kms:dsse"):
        raise PolicyError(f"{logical_id}: SSEAlgorithm {algorithm!r} is not evaluated here; teach iam.py")
    return default.get("KMSMasterKeyID")


def _kms(key: str | None, use: str, why: str) -> list[Requirement]:
    return [Requirement(action, key, f"{why} (implied: encrypted with that key)") for action in KMS_FOR[use]] \
        if key else []


class Names:
    """One record file's names: concrete name -> template resource, and how to write it symbolically."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self._index: dict[tuple[str, str], set[tuple[str | None, str | None]]] = defaultdict(set)
        for entry in entries:
            key = (entry["kind"], normalized(entry["kind"], entry["name"]))
            self._index[key].add((entry.get("logical_id"), entry.get("variable")))

    def resolve(self, kind: str, name: str, access: FunctionAccess, symbols: Symbols) -> tuple[str | None, str]:
        """(the template resource a concrete name is, its symbolic identifier); the resource is None for AWS's
        own names and for names known only as the value of a function variable (an SSM parameter's name)."""
        key = (kind, normalized(kind, name))
        if key in BUILTIN_NAMES:
            return None, BUILTIN_NAMES[key]
        found = self._index.get(key)
        if not found:
            raise CallError(f"{kind} {name!r} is no name this process's handlers were given for a template "
                            "resource (see local/aws_calls.py: names come from the functions' variables)")
        logical_ids = {logical_id for logical_id, _ in found if logical_id is not None}
        if len(logical_ids) > 1:
            raise CallError(f"{kind} {name!r} names several template resources: {sorted(logical_ids)}")
        if logical_ids:
            logical_id = logical_ids.pop()
            return logical_id, symbols.identifier(kind, logical_id)
        variables = sorted(variable for _, variable in found if variable)
        for variable in variables:
            if variable in access.environment:
                return None, normalized(kind, access.environment[variable])
        raise CallError(f"{kind} {name!r} came from {variables}, which {access.logical_id}'s environment lacks")


def call_requirements(call: Mapping[str, Any], names: Names, access: FunctionAccess, template: Mapping[str, Any],
                      symbols: Symbols, made_with: Mapping[str, str] | None = None) -> list[Requirement]:
    """The (action, resource) pairs IAM checks for one recorded call, with what the service does for it.

    `made_with`: the tags the function's own create calls put on what it makes (its resources' tags).
    """
    made_with = made_with or {}
    service, operation = call["service"], call["operation"]
    resources: list[Mapping[str, str]] = call.get("resources") or []
    why = f"{service} {operation}"

    def named(item: Mapping[str, str]) -> tuple[str | None, str]:
        if item["kind"] in RUNTIME_ID_KINDS:
            return None, item["name"]
        return names.resolve(item["kind"], item["name"], access, symbols)

    def only(kind: str) -> list[Mapping[str, str]]:
        found = [item for item in resources if item["kind"] == kind]
        if not found:
            raise CallError(f"{why}: the record names no {kind}")
        return found

    if (service, operation) in _NO_PERMISSION:
        return []
    found: list[Requirement] = []
    if service == "dynamodb":
        if operation in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
            return [Requirement(f"dynamodb:{operation}", "*", why)]
        if operation.startswith(("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction")):
            raise CallError(f"{why}: PartiQL's tables are in its statements; teach iam.py before using it")
        for item in only("dynamodb:table"):
            logical_id, table = named(item)
            key = encryption_key(template, logical_id, symbols)
            inner = item.get("action")
            if operation in ("TransactWriteItems", "TransactGetItems"):
                if inner is None:
                    raise CallError(f"{why}: the record says no inner operation")
                action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                          "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}[inner]
                detail = f"{why} ({inner})"
            else:
                action, detail = operation, why
            resource = table_arn(table) + (f"/index/{item['index']}" if item.get("index") else "")
            found.append(Requirement(f"dynamodb:{action}", resource, detail))
            if action in _DYNAMODB_READS or action in _DYNAMODB_WRITES:
                use = "dynamodb:write" if action in _DYNAMODB_WRITES else "dynamodb:read"
                found += _kms(key, use, f"{detail} on {table}")
        return found
    if service == "sqs":
        if operation == "ListQueues":
            return [Requirement("sqs:ListQueues", "*", why)]
        if operation not in _SQS_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        for item in only("sqs:queue"):
            logical_id, name = named(item)
            found.append(Requirement(f"sqs:{_SQS_ACTIONS.get(operation, operation)}", queue_arn(name), why))
            key = encryption_key(template, logical_id, symbols)
            if operation in ("SendMessage", "SendMessageBatch"):
                found += _kms(key, "sqs:send", f"{why} to {name}")
            elif operation == "ReceiveMessage":
                found += _kms(key, "sqs:receive", f"{why} from {name}")
        return found
    if service == "secretsmanager":
        if operation == "BatchGetSecretValue":
            found.append(Requirement("secretsmanager:BatchGetSecretValue", "*", why))
        elif operation not in _SECRETS_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        for item in only("secretsmanager:secret"):
            logical_id, arn = named(item)
            if not arn.startswith("arn:"):  # a name only a variable gives: its ARN as AWS would write it
                arn = f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{arn}-{SECRET_SUFFIX}"
            action = "GetSecretValue" if operation == "BatchGetSecretValue" else operation
            found.append(Requirement(f"secretsmanager:{action}", arn, why))
            if action == "GetSecretValue":
                found += _kms(encryption_key(template, logical_id, symbols), "secretsmanager:read", f"{why} {arn}")
        return found
    if service == "s3":
        if operation not in S3_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        s3_action, on_object, kms_use = S3_OPERATIONS[operation]
        for item in only("s3:bucket"):
            if (item.get("object") == "yes") != on_object:
                raise CallError(f"{why}: the record {'lacks' if on_object else 'has'} the object it names")
            if item.get("encryption") == "own":
                raise CallError(f"{why}: the call sets its own encryption; teach iam.py which key that takes")
            versioned = item.get("version") == "yes"
            if versioned and operation not in _S3_VERSION_ACTIONS:
                raise CallError(f"{why}: on object versions; teach tests/template/iam.py")
            prefix = item.get("prefix", "")
            if "*" in prefix or "?" in prefix:
                raise CallError(f"{why}: key prefix {prefix!r} is a pattern, not a prefix")
            logical_id, bucket = named(item)
            resource = bucket_arn(bucket) + (f"/{prefix}{S3_OBJECT_KEY}" if on_object else "")
            found.append(Requirement(_S3_VERSION_ACTIONS[operation] if versioned else s3_action, resource, why))
            if kms_use is not None:
                found += _kms(encryption_key(template, logical_id, symbols), kms_use, f"{why} in {bucket}")
        return found
    if service == "events":
        if operation != "PutEvents":
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        return [Requirement("events:PutEvents", bus_arn(named(item)[1]), why) for item in only("events:event-bus")]
    if service == "apigateway":
        if operation not in APIGATEWAY_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        verb, path = APIGATEWAY_OPERATIONS[operation]
        by_param = {item["param"]: named(item)[1] for item in resources if "param" in item}
        for param in re.findall(r"\{(\w+)\}", path):
            if param not in by_param:
                raise CallError(f"{why}: the record has no {param}")
            path = path.replace("{" + param + "}", by_param[param])
        tags = {f"aws:RequestTag/{param.removeprefix('tag:')}": value for param, value in by_param.items()
                if param.startswith("tag:")}
        if path.startswith("/apikeys/"):
            tags.update({f"aws:ResourceTag/{key}": value for key, value in made_with.items()})
        return [Requirement(f"apigateway:{verb}", apigateway_arn(path), why, tuple(sorted(tags.items())))]
    if service == "ssm":
        if operation not in _SSM_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        kind = "ssm:parameter-path" if operation == "GetParametersByPath" else "ssm:parameter"
        for item in only(kind):
            name = named({**item, "kind": "ssm:parameter"})[1]
            found.append(Requirement(f"ssm:{operation}", parameter_arn(name), why))
        return found
    if service == "cognito-idp":
        if operation not in _COGNITO_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        return [Requirement(f"cognito-idp:{operation}", userpool_arn(named(item)[1]), why)
                for item in only("cognito-idp:userpool")]
    if service == "kms":
        if operation not in _KMS_OPERATIONS:
            raise CallError(f"{why}: no IAM mapping; teach tests/template/iam.py")
        return [Requirement(f"kms:{operation}", named(item)[1], why) for item in only("kms:key")]
    raise CallError(f"{why}: no IAM mapping for service {service!r}; teach tests/template/iam.py")


def implied_requirements(access: FunctionAccess, template: Mapping[str, Any], symbols: Symbols
                         ) -> list[Requirement]:
    """What Lambda does with the function's role, which no tier records: event sources (and their keys),
    failure destinations, logs, X-Ray."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    properties = access.properties
    found: list[Requirement] = []
    name = str(symbols.ref(access.logical_id))
    group_ref = (properties.get("LoggingConfig") or {}).get("LogGroup")
    group = str(symbols.resolve(group_ref)) if group_ref is not None else f"/aws/lambda/{name}"
    group_arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{group}"
    if group_ref is None:
        found.append(Requirement("logs:CreateLogGroup", f"{group_arn}:*", "implied: Lambda creates its log group"))
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        found.append(Requirement(action, f"{group_arn}:log-stream:stream", "implied: Lambda writes its logs"))
    if (properties.get("TracingConfig") or {}).get("Mode") == "Active":
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            found.append(Requirement(action, "*", "implied: active tracing"))
    if "KmsKeyArn" in properties:
        raise PolicyError(f"{access.logical_id}: KmsKeyArn (environment encryption) is not evaluated here")
    destinations = []
    if (properties.get("DeadLetterConfig") or {}).get("TargetArn") is not None:
        destinations.append(("dead-letter target", properties["DeadLetterConfig"]["TargetArn"]))
    for mapping_id, mapping in resources.items():
        spec = mapping.get("Properties") or {}
        if mapping.get("Type") != "AWS::Lambda::EventSourceMapping" or not symbols.exists(mapping_id):
            continue
        if not _refers_to(spec.get("FunctionName"), access.logical_id):
            continue
        source = spec.get("EventSourceArn")
        source_id, attribute = (source["Fn::GetAtt"] if isinstance(source, dict) and "Fn::GetAtt" in source
                                else (None, None))
        source_kind = _type_of(resources, source_id)
        why = f"implied: event source {mapping_id}"
        if source_kind == "AWS::SQS::Queue" and attribute == "Arn":
            arn = symbols.get_att(str(source_id), "Arn")
            found += [Requirement(action, arn, why)
                      for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")]
            found += _kms(encryption_key(template, source_id, symbols), "sqs:receive", why)
        elif source_kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            arn = symbols.get_att(str(source_id), "StreamArn")
            found += [Requirement(action, arn, why) for action in
                      ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams")]
            found += _kms(encryption_key(template, source_id, symbols), "dynamodb:stream", why)
        else:
            raise PolicyError(f"{mapping_id}: event source {source!r} is not evaluated here; teach iam.py")
        on_failure = ((spec.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if on_failure is not None:
            destinations.append((f"{mapping_id}'s on-failure destination", on_failure))
    for what, target in destinations:
        target_id = target["Fn::GetAtt"][0] if isinstance(target, dict) and "Fn::GetAtt" in target else None
        target_id = target["Ref"] if isinstance(target, dict) and "Ref" in target else target_id
        kind = _type_of(resources, target_id)
        why = f"implied: {what}"
        if kind == "AWS::SQS::Queue":
            queue = symbols.get_att(str(target_id), "QueueName")
            found.append(Requirement("sqs:SendMessage", queue_arn(queue), why))
            found += _kms(encryption_key(template, target_id, symbols), "sqs:send", why)
        elif kind == "AWS::SNS::Topic":
            found.append(Requirement("sns:Publish", str(symbols.ref(str(target_id))), why))
        else:
            raise PolicyError(f"{access.logical_id}: {what} {target!r} is not evaluated here; teach iam.py")
    return found


# --- record files ----------------------------------------------------------------------------------------------


@dataclass
class RecordFile:
    path: Path
    tier: str
    pid: int
    names: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    errors: list[dict[str, Any]]


def load_records(directory: Path) -> list[RecordFile]:
    found = []
    for path in sorted(directory.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        process: dict[str, Any] = next((line for line in lines if line.get("type") == "process"), {})
        found.append(RecordFile(
            path=path,
            tier=str(process.get("tier", path.stem.rsplit("-", 1)[0])),
            pid=int(process.get("pid", 0)),
            names=[line for line in lines if line.get("type") == "name"],
            calls=[line for line in lines if line.get("type") == "call"],
            errors=[line for line in lines if line.get("type") == "error"],
        ))
    return found


# --- the check -------------------------------------------------------------------------------------------------


@dataclass
class Coverage:
    functions: dict[str, FunctionAccess]
    refused: dict[tuple[str, str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    problems: list[str] = field(default_factory=list)
    required: dict[str, set[Requirement]] = field(default_factory=lambda: defaultdict(set))
    distinct_calls: dict[str, set[tuple[str, ...]]] = field(default_factory=lambda: defaultdict(set))
    total_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    recorded_by: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def unused_grants(self) -> dict[str, list[str]]:
        """Per function, the granted action patterns no requirement used (`action (policy)`)."""
        unused: dict[str, list[str]] = {}
        for folder, access in sorted(self.functions.items()):
            needs = self.required.get(folder, set())
            idle = []
            for statement in access.statements:
                if statement.effect != "Allow" or statement.not_action:
                    continue
                for pattern in statement.actions:
                    if not any(matches(pattern, need.action, ignore_case=True) and statement.resource_matches(
                            need.resource) for need in needs):
                        idle.append(f"{pattern} ({statement.source})")
            if idle:
                unused[folder] = sorted(set(idle))
        return unused


def check(template: Mapping[str, Any], records: Sequence[RecordFile], parameters: Mapping[str, str] | None = None
          ) -> Coverage:
    symbols = Symbols(template, parameters)
    coverage = Coverage(function_access(template, symbols))
    for folder, access in coverage.functions.items():
        try:
            for need in implied_requirements(access, template, symbols):
                _require(coverage, folder, need)
        except PolicyError as error:
            coverage.problem(f"{folder}: {error}")
    made_with = _tags_made(records, coverage, template, symbols)
    for record in records:
        names = Names(record.names)
        for failure in record.errors:
            coverage.problem(f"{record.path.name}: the recorder failed on {failure['function']}'s "
                             f"{failure['service']} {failure['operation']} ({failure['error']})")
        for call in record.calls:
            folder = call["function"]
            found = coverage.functions.get(folder)
            signature = f"{call['service']} {call['operation']}"
            if found is None:
                coverage.problem(f"{record.path.name}: {folder} made {signature} but the deployed "
                                         "template has no function with that folder")
                continue
            try:
                needs = call_requirements(call, names, found, template, symbols, made_with.get(folder))
            except (CallError, PolicyError) as error:
                coverage.problem(f"{folder}: {error}")
                continue
            coverage.distinct_calls[folder].add((signature, *sorted(f"{n.action} {n.resource}" for n in needs)))
            coverage.total_calls[folder] += int(call.get("count", 1))
            coverage.recorded_by[folder].add(record.tier)
            for need in needs:
                _require(coverage, folder, need)
    return coverage


def _tags_made(records: Sequence[RecordFile], coverage: Coverage, template: Mapping[str, Any], symbols: Symbols
               ) -> dict[str, dict[str, str]]:
    """Per function, the tags every API key it creates carries (symbolic): the tags its keys hold later."""
    seen: dict[str, list[dict[str, str]]] = defaultdict(list)
    for record in records:
        names = Names(record.names)
        for call in record.calls:
            access = coverage.functions.get(call["function"])
            if access is None or (call["service"], call["operation"]) != ("apigateway", "CreateApiKey"):
                continue
            try:
                needs = call_requirements(call, names, access, template, symbols)
            except (CallError, PolicyError):
                continue  # reported by the main pass
            seen[call["function"]] += [{key.removeprefix("aws:RequestTag/"): value for key, value in need.context}
                                       for need in needs]
    return {folder: dict(set.intersection(*(set(tags.items()) for tags in made))) for folder, made in seen.items()}


def _require(coverage: Coverage, folder: str, need: Requirement) -> None:
    coverage.required[folder].add(need)
    if not allowed(coverage.functions[folder].statements, need.action, need.resource, dict(need.context)):
        coverage.refused[(folder, need.action, need.resource)].add(need.why)


def refusals(coverage: Coverage) -> list[str]:
    return [f"{folder}: {action} on {resource}  <- {'; '.join(sorted(why))}"
            for (folder, action, resource), why in sorted(coverage.refused.items())]


def report(coverage: Coverage, records: Sequence[RecordFile]) -> str:
    processes = sorted({record.tier for record in records})
    lines = [f"{len(records)} record file(s) ({', '.join(processes)}); distinct calls per function "
             "(service, operation and resources in the template's names), all calls, (action, resource) pairs:"]
    for folder in sorted(coverage.functions):
        distinct = len(coverage.distinct_calls.get(folder, ()))
        pairs = len({(n.action, n.resource) for n in coverage.required.get(folder, ()) if not n.why.startswith(
            "implied")})
        tiers = ", ".join(sorted(coverage.recorded_by.get(folder, ()))) or "-"
        lines.append(f"  {folder:<20} {distinct:>4} distinct {coverage.total_calls.get(folder, 0):>7} calls "
                     f"{pairs:>4} pairs   recorded by: {tiers}")
    unused = coverage.unused_grants()
    own = {folder: [grant for grant in idle if grant.rsplit("(", 1)[-1].rstrip(")") not in AWS_MANAGED_NAMES]
           for folder, idle in unused.items()}
    managed = sorted({grant for idle in unused.values() for grant in idle if grant not in
                      {g for grants in own.values() for g in grants}})
    if any(own.values()):
        lines.append("granted by the template but never used (the policy should be only what the code uses):")
        lines += [f"  {folder}: {', '.join(idle)}" for folder, idle in own.items() if idle]
    if managed:
        lines.append(f"and from the AWS managed policies SAM attaches, unused somewhere: {', '.join(managed)}")
    return "\n".join(lines)

