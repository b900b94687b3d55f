"""Read template.yaml the way CloudFormation does, and the few views of it the local stack needs.

`load_template` turns the short intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...) into their long
form (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": [resource, attribute]}`), so the result is the
same dictionary a JSON template would give, and, when the template declares the `AWS::LanguageExtensions`
transform, expands its `Fn::ForEach` loops as that transform does (`expand_language_extensions`): the local
stack, the tests and the benches see the resources CloudFormation creates. The helpers below read SAM resources as
written: they do not resolve parameters or evaluate conditions; intrinsic values are returned unresolved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

Template = dict[str, Any]

_LAMBDA_DEFAULT_TIMEOUT = 3
_LAMBDA_DEFAULT_MEMORY = 128
_SQS_DEFAULT_VISIBILITY_TIMEOUT = 30
_SQS_DEFAULT_RETENTION = 345_600
_SQS_DEFAULT_BATCH_SIZE = 10


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that knows CloudFormation's tags and, like CloudFormation, reads dates as strings."""


_CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        problem = f"unexpected node for !{tag_suffix}"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)

    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: str | Path = "template.yaml") -> Template:
    """Parse a CloudFormation/SAM template, short intrinsic tags turned into their long form.

    With the `AWS::LanguageExtensions` transform, its `Fn::ForEach` loops come expanded
    (`expand_language_extensions`).
    """
    with open(path, encoding="utf-8") as stream:
        template = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(template, dict):
        raise ValueError(f"{path} is not a template: its top level is not a mapping")
    if _LANGUAGE_EXTENSIONS in _transforms(template):
        template = expand_language_extensions(template)
    return template


# --- Fn::ForEach, as the AWS::LanguageExtensions transform expands it ------------------------------------
#
# CloudFormation's documented semantics (Fn::ForEach in the template reference): a key
# `Fn::ForEach::<LoopName>` in Conditions, Resources (resource properties included) or Outputs holds
# `[Identifier, Collection, {OutputKey: OutputValue}]`. For each item of the collection (a list, or a `Ref`
# to a CommaDelimitedList parameter), the fragment is copied with `${Identifier}` replaced by the item,
# `&{Identifier}` by the item without its non-alphanumeric characters, and `{"Ref": Identifier}` by the
# item, in keys and values alike; a loop may hold loops (five deep at most). An identifier may not be a
# parameter's name or an enclosing loop's identifier, and no two expanded keys may collide. The transform
# also allows an intrinsic inside `Ref`: `Ref: !Sub "${Prefix}Function"` is how a loop refers to a logical id
# made from its identifier (cfn-lint, like CloudFormation's examples, replaces `${Identifier}` only in keys
# and `Fn::Sub` strings, so a bare `Ref: "${Prefix}Function"` fails the lint). The deploy gate (tests/template)
# holds this expansion to SAM CLI's own copy of the transform.

_LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
_FOR_EACH = "Fn::ForEach::"
_FOR_EACH_SECTIONS = ("Conditions", "Resources", "Outputs")
_FOR_EACH_MAX_DEPTH = 5


def _transforms(template: Template) -> list[Any]:
    transform = template.get("Transform")
    if transform is None:
        return []
    return list(transform) if isinstance(transform, list) else [transform]


def expand_language_extensions(template: Template) -> Template:
    """A copy of the template with every `Fn::ForEach` loop expanded and `Ref: !Sub "<name>"` made `Ref: <name>`.

    ValueError where a loop is malformed, or a `Ref` holds another intrinsic (which needs parameter values).
    The other intrinsics in what the loops produce stay as written, unresolved.
    """
    parameters = template.get("Parameters") or {}
    expanded = dict(template)
    for section in _FOR_EACH_SECTIONS:
        if isinstance(template.get(section), dict):
            loops_expanded = _expand_loops(template[section], parameters, (), section)
            expanded[section] = _resolve_ref_arguments(loops_expanded, section)
    return expanded


def _expand_loops(value: Any, parameters: dict[str, Any], identifiers: tuple[str, ...], where: str) -> Any:
    """`value` with the loops in it (at any depth) expanded; `identifiers` are the enclosing loops'."""
    if isinstance(value, list):
        return [_expand_loops(item, parameters, identifiers, where) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(key, str) and key.startswith(_FOR_EACH):
            produced = _expand_loop(key, item, parameters, identifiers, f"{where}/{key}")
        else:
            produced = {key: _expand_loops(item, parameters, identifiers, f"{where}/{key}")}
        collisions = sorted(str(k) for k in produced.keys() & result.keys())
        if collisions:
            raise ValueError(f"{where}: Fn::ForEach makes keys that are already there: {', '.join(collisions)}")
        result.update(produced)
    return result


def _expand_loop(
    key: str, loop: Any, parameters: dict[str, Any], identifiers: tuple[str, ...], where: str
) -> dict[str, Any]:
    if not (isinstance(loop, list) and len(loop) == 3 and isinstance(loop[0], str) and loop[0]
            and isinstance(loop[2], dict)):
        raise ValueError(f"{where}: not [Identifier, Collection, {{OutputKey: OutputValue}}]")
    identifier, collection, fragment = loop
    if identifier in parameters or identifier in identifiers:
        raise ValueError(f"{where}: identifier {identifier!r} is also a parameter or an enclosing loop's identifier")
    if len(identifiers) + 1 > _FOR_EACH_MAX_DEPTH:
        raise ValueError(f"{where}: Fn::ForEach loops nest at most {_FOR_EACH_MAX_DEPTH} deep")
    items = _collection(collection, parameters, where)
    expanded: dict[str, Any] = {}
    for item in items:
        instance = _expand_loops(_substitute(fragment, identifier, item), parameters, (*identifiers, identifier), where)
        collisions = sorted(str(k) for k in instance.keys() & expanded.keys())
        if collisions:
            raise ValueError(f"{where}: Fn::ForEach makes the same key twice: {', '.join(collisions)}")
        expanded.update(instance)
    return expanded


def _collection(collection: Any, parameters: dict[str, Any], where: str) -> list[str]:
    """The loop's items as strings: a list as written, or a CommaDelimitedList parameter's default."""
    if isinstance(collection, dict) and set(collection) == {"Ref"}:
        parameter = parameters.get(collection["Ref"]) or {}
        if parameter.get("Type") != "CommaDelimitedList" or "Default" not in parameter:
            raise ValueError(f"{where}: a collection read locally is a list, or a Ref to a CommaDelimitedList "
                             "parameter with a Default")
        collection = [item.strip() for item in str(parameter["Default"]).split(",")]
    if not isinstance(collection, list) or not all(isinstance(item, str | int | float) for item in collection):
        raise ValueError(f"{where}: the collection is not a list of values")
    return [_as_text(item) for item in collection]


def _as_text(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _resolve_ref_arguments(value: Any, where: str) -> Any:
    """`{"Ref": {"Fn::Sub": "Name"}}` as `{"Ref": "Name"}`, at any depth."""
    if isinstance(value, list):
        return [_resolve_ref_arguments(item, where) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and not isinstance(value["Ref"], str):
        argument = value["Ref"]
        name = argument.get("Fn::Sub") if isinstance(argument, dict) and len(argument) == 1 else None
        if not isinstance(name, str) or re.search(r"\$\{[^!]", name):
            raise ValueError(f"{where}: a Ref read locally names its target, or is an Fn::Sub with nothing left to "
                             f"substitute: {value!r}")
        return {"Ref": name.replace("${!", "${")}
    return {key: _resolve_ref_arguments(item, f"{where}/{key}") for key, item in value.items()}


def _substitute(value: Any, identifier: str, item: str) -> Any:
    """`value` with `${identifier}`, `&{identifier}` and `{"Ref": identifier}` replaced by `item`."""
    if isinstance(value, str):
        alphanumeric = re.sub(r"[^A-Za-z0-9]", "", item)
        return value.replace(f"${{{identifier}}}", item).replace(f"&{{{identifier}}}", alphanumeric)
    if isinstance(value, list):
        return [_substitute(element, identifier, item) for element in value]
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        return {_substitute(k, identifier, item): _substitute(v, identifier, item) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Function:
    """An AWS::Serverless::Function with the template's Globals applied.

    `environment` holds the variables of Globals and the function merged (the function wins); values are
    as written, so a `{"Ref": ...}` is left for the caller to resolve.
    """

    logical_id: str
    code_uri: str
    handler: str
    runtime: str | None
    timeout: int
    memory_size: int
    environment: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)
    reserved_concurrency: int | None = None


class Route(NamedTuple):
    """One `Api` event: which function serves `method path`, and whether a caller must be signed in.

    `method` is upper case and may be `ANY`; `path` keeps API Gateway's `{param}` / `{proxy+}` syntax.
    """

    function_id: str
    path: str
    method: str
    needs_auth: bool


@dataclass(frozen=True)
class QueueConsumer:
    """A function reading a queue through an `SQS` event source."""

    function_id: str
    batch_size: int
    report_batch_item_failures: bool
    maximum_batching_window_seconds: int
    enabled: bool
    maximum_concurrency: int | None = None  # ScalingConfig: batches in flight at once


@dataclass(frozen=True)
class Queue:
    """An AWS::SQS::Queue, its redrive policy (if any) and the functions that consume it."""

    logical_id: str
    visibility_timeout: int
    message_retention_period: int
    dead_letter_queue: str | None
    max_receive_count: int | None
    consumers: tuple[QueueConsumer, ...] = ()


@dataclass(frozen=True)
class StreamConsumer:
    """A function reading a table's stream through a `DynamoDB` event source."""

    function_id: str
    table_id: str
    batch_size: int
    starting_position: str
    report_batch_item_failures: bool
    maximum_retry_attempts: int
    on_failure_queue: str | None
    filter_patterns: tuple[dict[str, Any], ...]
    enabled: bool


class Schedule(NamedTuple):
    """A `Schedule` / `ScheduleV2` event: `expression` is as written, e.g. `rate(5 minutes)`."""

    function_id: str
    expression: str
    enabled: bool

    @property
    def interval_seconds(self) -> int:
        """Seconds between runs of a `rate(...)` expression; ValueError for `cron(...)`."""
        match = re.fullmatch(r"rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)", self.expression.strip())
        if match is None:
            raise ValueError(f"{self.function_id}: not a rate(...) expression: {self.expression}")
        unit = match.group(2).rstrip("s")
        return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {
        logical_id: resource
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") == resource_type
    }


def _referenced_id(value: Any) -> str | None:
    """The logical id in `{"Ref": id}` or `{"Fn::GetAtt": [id, attribute]}`, else None."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att and isinstance(get_att[0], str):
            return get_att[0]
    return None


def _is_enabled(value: Any) -> bool:
    """Booleans and ENABLED/DISABLED states as written; an intrinsic (e.g. `!If`) counts as enabled."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().upper() not in ("DISABLED", "FALSE")
    return True


def _whole_number(value: Any) -> int | None:
    """A whole number as written; None when absent or an intrinsic the local stack does not evaluate."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def functions(template: Template) -> dict[str, Function]:
    """Every AWS::Serverless::Function by logical id, in template order, with Globals.Function applied."""
    defaults = (template.get("Globals") or {}).get("Function") or {}
    default_variables = (defaults.get("Environment") or {}).get("Variables") or {}
    found: dict[str, Function] = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        properties = {**defaults, **(resource.get("Properties") or {})}
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        found[logical_id] = Function(
            logical_id=logical_id,
            code_uri=properties.get("CodeUri", ""),
            handler=properties.get("Handler", ""),
            runtime=properties.get("Runtime"),
            timeout=properties.get("Timeout", _LAMBDA_DEFAULT_TIMEOUT),
            memory_size=properties.get("MemorySize", _LAMBDA_DEFAULT_MEMORY),
            environment={**default_variables, **variables},
            events=dict(properties.get("Events") or {}),
            reserved_concurrency=_whole_number(properties.get("ReservedConcurrentExecutions")),
        )
    return found


def _api_has_default_authorizer(template: Template, api_id: str | None) -> bool:
    global_auth = ((template.get("Globals") or {}).get("Api") or {}).get("Auth") or {}
    auth = global_auth
    if api_id is not None:
        api = (template.get("Resources") or {}).get(api_id) or {}
        auth = {**global_auth, **((api.get("Properties") or {}).get("Auth") or {})}
    default = auth.get("DefaultAuthorizer")
    return bool(default) and default != "NONE"


def api_routes(template: Template) -> list[Route]:
    """Every `Api` (REST) event of every function, as (function id, path, method, needs_auth).

    `needs_auth` is False when the event sets `Auth.Authorizer: NONE`; otherwise it is True when the event
    names an authorizer or its API (or Globals.Api) has a `DefaultAuthorizer`.
    """
    routes: list[Route] = []
    for function_id, function in functions(template).items():
        for event in function.events.values():
            if event.get("Type") != "Api":
                continue
            properties = event.get("Properties") or {}
            authorizer = (properties.get("Auth") or {}).get("Authorizer")
            if authorizer == "NONE":
                needs_auth = False
            elif authorizer:
                needs_auth = True
            else:
                api_id = _referenced_id(properties.get("RestApiId"))
                needs_auth = _api_has_default_authorizer(template, api_id)
            method = str(properties["Method"]).upper()
            routes.append(Route(function_id, properties["Path"], method, needs_auth))
    return routes


def queues(template: Template) -> dict[str, Queue]:
    """Every AWS::SQS::Queue by logical id, with its dead-letter queue and its `SQS` event consumers."""
    consumers: dict[str, list[QueueConsumer]] = {}
    for function_id, function in functions(template).items():
        for event in function.events.values():
            if event.get("Type") != "SQS":
                continue
            properties = event.get("Properties") or {}
            queue_id = _referenced_id(properties.get("Queue"))
            if queue_id is None:
                continue
            consumers.setdefault(queue_id, []).append(
                QueueConsumer(
                    function_id=function_id,
                    batch_size=properties.get("BatchSize", _SQS_DEFAULT_BATCH_SIZE),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (properties.get("FunctionResponseTypes") or []),
                    maximum_batching_window_seconds=properties.get("MaximumBatchingWindowInSeconds", 0),
                    enabled=_is_enabled(properties.get("Enabled", True)),
                    maximum_concurrency=_whole_number(
                        (properties.get("ScalingConfig") or {}).get("MaximumConcurrency")),
                )
            )

    found: dict[str, Queue] = {}
    for logical_id, resource in resources_of_type(template, "AWS::SQS::Queue").items():
        properties = resource.get("Properties") or {}
        redrive = properties.get("RedrivePolicy") or {}
        found[logical_id] = Queue(
            logical_id=logical_id,
            visibility_timeout=properties.get("VisibilityTimeout", _SQS_DEFAULT_VISIBILITY_TIMEOUT),
            message_retention_period=properties.get("MessageRetentionPeriod", _SQS_DEFAULT_RETENTION),
            dead_letter_queue=_referenced_id(redrive.get("deadLetterTargetArn")),
            max_receive_count=redrive.get("maxReceiveCount"),
            consumers=tuple(consumers.get(logical_id, ())),
        )
    return found


def table_streams(template: Template) -> list[StreamConsumer]:
    """Every `DynamoDB` event source (`Stream: !GetAtt <Table>.StreamArn`), with its filters parsed."""
    found = []
    for function_id, function in functions(template).items():
        for event in function.events.values():
            if event.get("Type") != "DynamoDB":
                continue
            properties = event.get("Properties") or {}
            stream = properties.get("Stream")
            table_id = stream["Fn::GetAtt"][0] if isinstance(stream, dict) and "Fn::GetAtt" in stream else None
            if table_id is None:
                continue
            filters = (properties.get("FilterCriteria") or {}).get("Filters") or []
            on_failure = ((properties.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            found.append(StreamConsumer(
                function_id=function_id,
                table_id=table_id,
                batch_size=int(properties.get("BatchSize", 100)),
                starting_position=str(properties.get("StartingPosition", "LATEST")),
                report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
                maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
                on_failure_queue=_referenced_id(on_failure),
                filter_patterns=tuple(json.loads(f["Pattern"]) for f in filters),
                enabled=_is_enabled(properties.get("Enabled", True)),
            ))
    return found


def schedules(template: Template) -> list[Schedule]:
    """Every `Schedule` / `ScheduleV2` event as (function id, expression, enabled).

    `enabled` follows `Enabled` / `State` as written; an intrinsic there (e.g. `!If [IsProd, ...]`) is not
    evaluated and counts as enabled.
    """
    found: list[Schedule] = []
    for function_id, function in functions(template).items():
        for event in function.events.values():
            properties = event.get("Properties") or {}
            if event.get("Type") == "Schedule":
                expression = properties["Schedule"]
                enabled = _is_enabled(properties.get("Enabled", properties.get("State", True)))
            elif event.get("Type") == "ScheduleV2":
                expression = properties["ScheduleExpression"]
                enabled = _is_enabled(properties.get("State", True))
            else:
                continue
            found.append(Schedule(function_id, expression, enabled))
    return found
