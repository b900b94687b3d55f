"""Record every AWS API call a Lambda handler makes, for the IAM coverage check (tests/template/iam.py).

`install(tier)` hooks botocore: every client any botocore session creates from then on (boto3's, PynamoDB's
own, Powertools') gets a `before-parameter-build` handler. A call is attributed to the innermost frame on
the calling thread's stack whose module is `functions.<folder>.app` (how the unit tier and the local stack
both import handlers); calls made outside any handler (test set-up, the local stack's pollers) are ignored.

What is kept: function folder, IAM service prefix, operation, and the identifiers of the resources the call
names (table and index names, queue URLs, secret ids, bus names, usage plan and key ids and the plan ids keys
are tagged with, parameter names, KMS key ids, bucket names), deduplicated with a count. Never a key, an item, a
message body, a phone number or a value. Of an S3 object only that the call names one, whether a version, and
which of the key prefixes the template's policies grant (`${MediaBucket.Arn}/media/*` -> `media/`) its key
starts with: a constant of the template, never any of the key itself. A presigned URL is recorded as the call it
signs (botocore builds its parameters the same way): whoever uses it acts with the signer's permissions.

Beside the calls each process writes the names its handlers were given and which template resource each one
is (`name` lines), built from the environment the handlers run with: every function variable in template.yaml
written as a reference to a resource (`TABLE_NAME: !Ref Table`, `OUTBOUND_QUEUE_URL: !Ref OutboundQueue`,
`TWILIO_SECRET_NAME: !Ref TwilioSecretName` -> the secret whose Name that parameter is, `*_PARAMETER` names)
is read from `os.environ` at each recorded call; the local stack adds its tables and queues.

Files: `$SWITCHBOARD_AWS_CALLS_DIR` (default `<repo>/.local/aws-calls`), one `<tier>-<pid>.jsonl` per process,
rewritten whole (atomically) by `flush()`, at exit, and, with `autoflush`, whenever a new distinct call is seen.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY_VARIABLE = "SWITCHBOARD_AWS_CALLS_DIR"
DEFAULT_DIRECTORY = ROOT / ".local" / "aws-calls"
_HANDLER_ID = "switchboard-aws-calls"

# Template resource types whose names handlers are given, by the kind the recorded identifiers carry.
RESOURCE_KINDS = {
    "AWS::DynamoDB::Table": "dynamodb:table",
    "AWS::DynamoDB::GlobalTable": "dynamodb:table",
    "AWS::Serverless::SimpleTable": "dynamodb:table",
    "AWS::SQS::Queue": "sqs:queue",
    "AWS::SecretsManager::Secret": "secretsmanager:secret",
    "AWS::Events::EventBus": "events:event-bus",
    "AWS::ApiGateway::UsagePlan": "apigateway:usage-plan",
    "AWS::SSM::Parameter": "ssm:parameter",
    "AWS::KMS::Key": "kms:key",
    "AWS::Cognito::UserPool": "cognito-idp:userpool",
    "AWS::S3::Bucket": "s3:bucket",
}
_NAME_PROPERTIES = ("Name", "TableName", "QueueName", "AliasName", "BucketName")


@dataclass(frozen=True)
class Binding:
    """A function variable that names a template resource (`logical_id`), or an SSM parameter (`None`)."""

    variable: str
    kind: str
    logical_id: str | None


# --- what a call names ----------------------------------------------------------------------------------


def _item(kind: str, name: Any, **extra: Any) -> dict[str, str]:
    found = {"kind": kind, "name": str(name)}
    found.update({key: str(value) for key, value in extra.items() if value is not None})
    return found


def _dynamodb(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for entry in params.get("TransactItems") or []:
            for inner, body in entry.items():  # Put / Update / Delete / ConditionCheck / Get
                found.append(_item("dynamodb:table", body.get("TableName"), action=inner))
        return found
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [_item("dynamodb:table", table) for table in params.get("RequestItems") or {}]
    if "TableName" in params:
        return [_item("dynamodb:table", params["TableName"], index=params.get("IndexName"))]
    if "TableArn" in params or "ResourceArn" in params:
        return [_item("dynamodb:table", params.get("TableArn") or params["ResourceArn"])]
    return []


def _sqs(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    if "QueueUrl" in params:
        return [_item("sqs:queue", params["QueueUrl"])]
    if "QueueName" in params:
        return [_item("sqs:queue", params["QueueName"])]
    return []


def _secretsmanager(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    if "SecretId" in params:
        return [_item("secretsmanager:secret", params["SecretId"])]
    return [_item("secretsmanager:secret", secret) for secret in params.get("SecretIdList") or []]


def _events(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    if operation == "PutEvents":
        entries = params.get("Entries") or []
        return [_item("events:event-bus", entry.get("EventBusName") or "default") for entry in entries]
    if "EventBusName" in params or ("Name" in params and operation.endswith("EventBus")):
        return [_item("events:event-bus", params.get("EventBusName") or params["Name"])]
    return []


_APIGATEWAY_IDS = {"usagePlanId": "apigateway:usage-plan", "keyId": "apigateway:api-key",
                   "apiKey": "apigateway:api-key", "restApiId": "apigateway:rest-api", "stageName": "apigateway:stage"}


def _apigateway(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    named = [_item(kind, params[param], param=param) for param, kind in _APIGATEWAY_IDS.items() if param in params]
    # The stack tags the keys it makes with its usage plan's id; the policy lets it delete only those.
    tags = [_item("apigateway:usage-plan", value, param=f"tag:{key}") for key, value in (params.get("tags") or {}
                                                                                     ).items()]
    return named + tags


def _ssm(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    if "Name" in params:
        return [_item("ssm:parameter", params["Name"])]
    if "Names" in params:
        return [_item("ssm:parameter", name) for name in params["Names"]]
    if "Path" in params:
        return [_item("ssm:parameter-path", params["Path"])]
    return []


def _kms(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    return [_item("kms:key", params["KeyId"])] if "KeyId" in params else []


def _cognito_idp(operation: str, params: Mapping[str, Any]) -> list[dict[str, str]]:
    return [_item("cognito-idp:userpool", params["UserPoolId"])] if "UserPoolId" in params else []


_S3_OWN_ENCRYPTION = ("ServerSideEncryption", "SSEKMSKeyId", "SSECustomerAlgorithm")


def _s3(operation: str, params: Mapping[str, Any], key_prefixes: Iterable[str] = ()) -> list[dict[str, str]]:
    if "Bucket" not in params:
        return []
    objects = [params] if "Key" in params else list((params.get("Delete") or {}).get("Objects") or [])
    keys = [entry.get("Key") for entry in objects]
    # Of a key only which granted prefix it has: a key can be made of anything, a phone number too.
    prefix = next((found for found in key_prefixes
                   if keys and all(isinstance(key, str) and key.startswith(found) for key in keys)), None)
    # A call that picks its own encryption uses a key the bucket's default does not say.
    own_encryption = any(name in params for name in _S3_OWN_ENCRYPTION)
    return [_item("s3:bucket", params["Bucket"], object="yes" if objects else None, prefix=prefix,
                  version="yes" if any("VersionId" in entry for entry in objects) else None,
                  encryption="own" if own_encryption else None)]


def _strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)


def s3_key_prefixes(template: Mapping[str, Any]) -> tuple[str, ...]:
    """The key prefixes the template names under a bucket's ARN (`${MediaBucket.Arn}/media/*`, `arn:...:s3:::
    <bucket>/media/*` -> `media/`): up to the last `/` before any wildcard or `${`, longest first."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    buckets = [re.escape(logical_id) for logical_id, resource in resources.items()
               if resource.get("Type") == "AWS::S3::Bucket"]
    heads = [r":s3:::[^/]+/"] + ([rf"\$\{{(?:{'|'.join(buckets)})(?:\.Arn)?\}}/"] if buckets else [])
    pattern = re.compile(rf"(?:{'|'.join(heads)})([^*?$]*/)")
    found = {match.group(1) for text in _strings_in(resources) for match in pattern.finditer(text)}
    return tuple(sorted(found, key=lambda prefix: (-len(prefix), prefix)))


_EXTRACTORS: dict[str, Callable[[str, Mapping[str, Any]], list[dict[str, str]]]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "secretsmanager": _secretsmanager,
    "events": _events,
    "apigateway": _apigateway,
    "ssm": _ssm,
    "kms": _kms,
    "cognito-idp": _cognito_idp,
}


def resources_of(service: str, operation: str, params: Mapping[str, Any], s3_key_prefixes: Iterable[str] = ()
                 ) -> list[dict[str, str]]:
    """The identifiers a call names, deduplicated and sorted; an unknown service's call names none.
    `s3_key_prefixes`: those of `s3_key_prefixes(template)`, longest first."""
    extractor = _EXTRACTORS.get(service)
    if service == "s3":  # the one extractor that needs the template's key prefixes
        found = _s3(operation, params, s3_key_prefixes)
    else:
        found = extractor(operation, params) if extractor else []
    unique = {json.dumps(item, sort_keys=True): item for item in found}
    return [unique[key] for key in sorted(unique)]


# --- which function is calling ----------------------------------------------------------------------------


def calling_function(frame: FrameType | None) -> str | None:
    """The folder of the innermost `functions.<folder>.app` module on the stack, if any."""
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if isinstance(name, str) and name.startswith("functions.") and name.endswith(".app"):
            parts = name.split(".")
            if len(parts) == 3:
                return parts[1]
        frame = frame.f_back
    return None


# --- names the handlers were given ------------------------------------------------------------------------


def _implicit_usage_plan(resources: Mapping[str, Any], logical_id: str) -> bool:
    """SAM's `<Api>UsagePlan`, made for an AWS::Serverless::Api whose Auth has a UsagePlan."""
    api = resources.get(logical_id.removesuffix("UsagePlan")) or {}
    return (logical_id.endswith("UsagePlan") and api.get("Type") == "AWS::Serverless::Api"
            and bool(((api.get("Properties") or {}).get("Auth") or {}).get("UsagePlan")))


def _named_by(resources: Mapping[str, Any], expression: Any) -> list[str]:
    """Resources of a known kind whose name property is written exactly as `expression`."""
    return [
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") in RESOURCE_KINDS
        and any((resource.get("Properties") or {}).get(key) == expression for key in _NAME_PROPERTIES)
    ]


def binding_for(template: Mapping[str, Any], variable: str, expression: Any) -> Binding | None:
    """What template resource a function variable's value names, if any."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    parameters: Mapping[str, Any] = template.get("Parameters") or {}
    target: str | None = None
    if isinstance(expression, dict) and isinstance(expression.get("Ref"), str):
        target = expression["Ref"]
    elif isinstance(expression, dict) and isinstance(expression.get("Fn::GetAtt"), list):
        target = str(expression["Fn::GetAtt"][0])
    if target is not None and target in resources:
        kind = RESOURCE_KINDS.get(resources[target].get("Type"))
        return Binding(variable, kind, target) if kind else None
    if target is not None and _implicit_usage_plan(resources, target):
        return Binding(variable, "apigateway:usage-plan", target)
    if target is None or target in parameters:
        named = _named_by(resources, expression)
        if len(named) == 1:
            return Binding(variable, RESOURCE_KINDS[resources[named[0]]["Type"]], named[0])
    if variable.endswith("_PARAMETER"):
        return Binding(variable, "ssm:parameter", None)
    return None


def value_bindings(template: Mapping[str, Any]) -> dict[str, Binding]:
    """SSM parameters of the template whose value is a resource's id (`Value: !Ref IntegrationUsagePlan`):
    parameter logical id -> that resource. A handler reading one learns the resource's id at run time."""
    resources: Mapping[str, Any] = template.get("Resources") or {}
    found = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::SSM::Parameter":
            binding = binding_for(template, "", (resource.get("Properties") or {}).get("Value"))
            if binding is not None and binding.logical_id is not None:
                found[logical_id] = binding
    return found


def template_bindings(template: Mapping[str, Any]) -> list[Binding]:
    """Every function variable of the template that names a resource (Globals included)."""
    from local.template import functions

    found: dict[str, Binding] = {}
    for function in functions(dict(template)).values():
        for variable, expression in function.environment.items():
            binding = binding_for(template, variable, expression)
            if binding is not None:
                found.setdefault(variable, binding)
    return list(found.values())


# --- the recorder -------------------------------------------------------------------------------------------


class Recorder:
    """The calls and names of this process; thread-safe."""

    def __init__(self, tier: str, directory: Path, *, autoflush: bool = False) -> None:
        self.tier = tier
        self.directory = directory
        self.autoflush = autoflush
        self.path = directory / f"{tier}-{os.getpid()}.jsonl"
        self._lock = threading.RLock()
        self._calls: dict[str, dict[str, Any]] = {}
        self._names: dict[str, dict[str, Any]] = {}
        self._errors: list[dict[str, str]] = []
        self._bindings: list[Binding] = []
        self._value_bindings: dict[str, Binding] = {}
        self._s3_key_prefixes: tuple[str, ...] = ()
        self._dirty = False

    # names
    def watch_environment(self, bindings: Iterable[Binding]) -> None:
        """Map the values these variables have in `os.environ` (read at each call) to their resources."""
        with self._lock:
            known = {binding.variable for binding in self._bindings}
            self._bindings.extend(binding for binding in bindings if binding.variable not in known)
            self._note_environment()

    def watch_template(self, template: Mapping[str, Any]) -> None:
        """`watch_environment` for every function variable of the template, the ids that SSM parameters
        holding a resource's id give the handlers that read them, and the S3 key prefixes its policies grant."""
        self.watch_environment(template_bindings(template))
        with self._lock:
            self._value_bindings.update(value_bindings(template))
            self._s3_key_prefixes = s3_key_prefixes(template)

    def add_name(self, kind: str, name: str, logical_id: str | None, variable: str | None = None) -> None:
        entry = {"kind": kind, "name": name, "logical_id": logical_id, "variable": variable}
        with self._lock:
            self._names.setdefault(json.dumps(entry, sort_keys=True), entry)

    def names(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._names.values()]

    def _note_environment(self) -> None:
        for binding in self._bindings:
            value = os.environ.get(binding.variable)
            if value:
                self.add_name(binding.kind, value, binding.logical_id, binding.variable)

    # calls
    def record(self, function: str, service: str, operation: str, resources: list[dict[str, str]]) -> None:
        entry = {"function": function, "service": service, "operation": operation, "resources": resources}
        key = json.dumps(entry, sort_keys=True)
        with self._lock:
            self._note_environment()
            found = self._calls.get(key)
            if found is None:
                self._calls[key] = {**entry, "count": 1}
                self._dirty = True
            else:
                found["count"] += 1
            new = self._dirty
        if new and self.autoflush:
            self.flush()

    def record_error(self, function: str, service: str, operation: str, error: BaseException) -> None:
        with self._lock:
            self._errors.append({"function": function, "service": service, "operation": operation,
                                 "error": type(error).__name__})
            self._dirty = True

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(call) for call in self._calls.values()]

    def flush(self) -> Path | None:
        """Write this process's file (whole, atomically); nothing is written before the first call."""
        with self._lock:
            if not self._calls and not self._errors:
                return None
            lines = [{"type": "process", "tier": self.tier, "pid": os.getpid(), "written_at": time.time()}]
            lines += [{"type": "name", **name} for name in self._names.values()]
            lines += [{"type": "call", **call} for call in self._calls.values()]
            lines += [{"type": "error", **error} for error in self._errors]
            self._dirty = False
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".partial-{threading.get_ident()}")
            partial.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines), encoding="utf-8")
            partial.replace(self.path)
            return self.path

    def _note_parameter_values(self, parameters: Iterable[Mapping[str, Any]]) -> None:
        """Ids read from the template's SSM parameters that hold one (never any other parameter's value)."""
        with self._lock:
            if not self._value_bindings:
                return
            holders = {(entry["name"], entry["logical_id"]) for entry in self._names.values()
                       if entry["kind"] == "ssm:parameter" and entry["logical_id"] in self._value_bindings}
            for parameter in parameters:
                for name, holder in holders:
                    if parameter.get("Name") == name and isinstance(parameter.get("Value"), str):
                        target = self._value_bindings[holder]
                        self.add_name(target.kind, parameter["Value"], target.logical_id, f"ssm:{holder}")

    # the botocore hooks
    def on_after_call(self, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if model is None or model.service_model.endpoint_prefix != "ssm" or not isinstance(parsed, dict):
            return
        try:
            found = [parsed["Parameter"]] if isinstance(parsed.get("Parameter"), dict) else []
            self._note_parameter_values(found + list(parsed.get("Parameters") or []))
        except Exception as error:  # never break the call; the checker fails on recorded errors
            self.record_error(calling_function(sys._getframe(1)) or "-", "ssm", model.name, error)

    def on_parameter_build(self, params: Mapping[str, Any], model: Any, context: Mapping[str, Any] | None = None,
                           **_: Any) -> None:
        function = calling_function(sys._getframe(1))
        if function is None:
            return
        service_model = model.service_model
        service = service_model.signing_name or service_model.endpoint_prefix
        operation = model.name
        if service == "s3" and operation == "CreateBucket" and (context or {}).get("is_presign_request"):
            # generate_presigned_post builds its form with CreateBucket's model; S3 takes the form's upload as
            # a PutObject of the signer's (the key is in the form's fields, which are not recorded).
            operation, params = "PutObject", {**params, "Key": None}
        try:
            self.record(function, service, operation,
                        resources_of(service, operation, params, self._s3_key_prefixes))
        except Exception as error:  # never break the call; the checker fails on recorded errors
            self.record_error(function, service, operation, error)


_recorder: Recorder | None = None
_install_lock = threading.Lock()


def current() -> Recorder | None:
    """The recorder installed in this process, if any."""
    return _recorder


def directory_from_environment() -> Path:
    return Path(os.environ.get(DIRECTORY_VARIABLE) or DEFAULT_DIRECTORY)


def install(tier: str, directory: Path | None = None, *, autoflush: bool = False) -> Recorder:
    """Hook every botocore client created from now on (idempotent: a second call returns the recorder)."""
    global _recorder
    with _install_lock:
        if _recorder is not None:
            return _recorder
        import botocore.session

        recorder = Recorder(tier, directory or directory_from_environment(), autoflush=autoflush)
        original = botocore.session.Session.create_client
        if not getattr(original, "_records_aws_calls", False):

            def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
                client = original(self, *args, **kwargs)
                active = _recorder
                if active is not None:
                    client.meta.events.register("before-parameter-build", active.on_parameter_build,
                                                unique_id=_HANDLER_ID)
                    client.meta.events.register("after-call", active.on_after_call, unique_id=f"{_HANDLER_ID}-after")
                return client

            create_client._records_aws_calls = True  # type: ignore[attr-defined]
            botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        atexit.register(recorder.flush)
        _recorder = recorder
        return recorder


def name_local_stack(recorder: Recorder, template: Mapping[str, Any], values: Any) -> None:
    """The local stack's names: what its handlers' variables name, and every table, queue and other resource of
    `LocalValues` (dead-letter queues and usage plans too, which no variable names)."""
    recorder.watch_template(template)
    resources: Mapping[str, Any] = template.get("Resources") or {}
    for logical_id, name in values.tables.items():
        recorder.add_name("dynamodb:table", name, logical_id)
    for logical_id, endpoint in values.queues.items():
        recorder.add_name("sqs:queue", endpoint.url, logical_id)
    for logical_id, physical_id in getattr(values, "physical_ids", {}).items():
        kind = RESOURCE_KINDS.get(str((resources.get(logical_id) or {}).get("Type")))
        if kind:
            recorder.add_name(kind, physical_id, logical_id)
