"""Run the template's Lambda handlers in-process, the way Lambda would.

Each `AWS::Serverless::Function` is loaded from its `CodeUri` + `Handler` under a module name of its own
(`functions/admin_api/` + `app.lambda_handler` -> module `functions.admin_api.app`), called with a
Lambda-like context, one call at a time per function (like a single warm Lambda instance: Powertools
resolvers keep per-request state on the app object).

The environment is the template's: Globals + each function's `Environment.Variables`, with `Ref`,
`Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If` and conditions resolved against `LocalValues` (the local
table name, queue URLs and ARNs, parameter values such as `Environment=local`). All functions share one
process, so the union of their variables goes into `os.environ`; two functions wanting different values
for one variable is an error, except for `POWERTOOLS_SERVICE_NAME` and Lambda's own per-function
variables, which are set only while that function's module is imported (Powertools reads them then).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.faults import InvocationCrashed
from local.template import Function, Template, functions

log = logging.getLogger("local.runtime")

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account: queue ARNs and URLs agree with it
LOCAL_STACK_NAME = "switchboard-local"
LOCAL_TABLE_NAME = "switchboard-local"

# Variables that name the function itself: allowed to differ between functions, applied at import.
PER_FUNCTION_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_FUNCTION_NAME"})

Handler = Callable[[Any, Any], Any]


class FunctionTimedOut(RuntimeError):
    """The invocation ran past the function's `Timeout` and was stopped, as Lambda stops it."""


class LocalTemplateError(RuntimeError):
    """The template asks for something the local stack cannot provide (say what, and where)."""


@dataclass(frozen=True)
class QueueEndpoint:
    logical_id: str
    name: str
    url: str
    arn: str

    @classmethod
    def from_url(cls, logical_id: str, url: str, region: str = LOCAL_REGION) -> QueueEndpoint:
        """The queue a URL names (`.../<account>/<name>`, as SQS and moto give them)."""
        account, name = url.rstrip("/").split("/")[-2:]
        return cls(logical_id, name, url, f"arn:aws:sqs:{region}:{account}:{name}")


@dataclass
class LocalValues:
    """What the template's references resolve to on this machine."""

    parameters: dict[str, str] = field(default_factory=dict)
    queues: dict[str, QueueEndpoint] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    # Other resources the local AWS stand-in holds (usage plans...): logical id -> what `Ref` gives.
    physical_ids: dict[str, str] = field(default_factory=dict)
    region: str = LOCAL_REGION
    account_id: str = LOCAL_ACCOUNT_ID
    stack_name: str = LOCAL_STACK_NAME
    api_id: str = "local"

    def pseudo_parameter(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)


def local_parameters(template: Template, overrides: Mapping[str, str]) -> dict[str, str]:
    """Template parameters at their defaults, then `overrides`; a parameter without either is absent."""
    values = {
        name: _stringify(spec["Default"])
        for name, spec in (template.get("Parameters") or {}).items()
        if "Default" in spec
    }
    values.update(overrides)
    return values


def table_names(template: Template, single_name: str = LOCAL_TABLE_NAME) -> dict[str, str]:
    """Local names of the template's DynamoDB tables: the one table gets `single_name`."""
    ids = [
        logical_id
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
    ]
    if len(ids) == 1:
        return {ids[0]: single_name}
    return {logical_id: f"{single_name}-{logical_id}" for logical_id in ids}


def bucket_name(stack_name: str, logical_id: str) -> str:
    """A bucket's name as CloudFormation names one without a BucketName: lower case, from the stack and the
    logical id (AWS adds a random suffix; the local stack needs none)."""
    return f"{stack_name}-{logical_id}".lower()


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Resolver:
    """Evaluates CloudFormation intrinsic functions against `LocalValues`."""

    def __init__(self, template: Template, values: LocalValues) -> None:
        self.template = template
        self.values = values
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.conditions: dict[str, Any] = template.get("Conditions") or {}

    def resolve(self, value: Any, where: str = "template") -> Any:
        if isinstance(value, list):
            return [self.resolve(item, where) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument, where)
        return {key: self.resolve(item, where) for key, item in value.items()}

    def condition(self, name: str, where: str) -> bool:
        if name not in self.conditions:
            raise LocalTemplateError(f"{where}: unknown condition {name!r}")
        return bool(self.resolve(self.conditions[name], f"condition {name}"))

    def _intrinsic(self, key: str, argument: Any, where: str) -> Any:
        match key:
            case "Ref":
                return self.ref(argument, where)
            case "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical_id, attribute, where)
            case "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, self.resolve(variables, where), where)
            case "Fn::Join":
                separator, items = argument
                return separator.join(_stringify(item) for item in self.resolve(items, where))
            case "Fn::Select":
                index, items = self.resolve(argument, where)
                return items[int(index)]
            case "Fn::Split":
                separator, text = self.resolve(argument, where)
                return text.split(separator)
            case "Fn::If":
                name, if_true, if_false = argument
                return self.resolve(if_true if self.condition(name, where) else if_false, where)
            case "Fn::Equals":
                left, right = self.resolve(argument, where)
                return _stringify(left) == _stringify(right)
            case "Fn::Not":
                return not self.resolve(argument, where)[0]
            case "Fn::And":
                return all(self.resolve(argument, where))
            case "Fn::Or":
                return any(self.resolve(argument, where))
            case "Condition":
                return self.condition(argument, where)
        raise LocalTemplateError(f"{where}: {key} is not supported locally; teach local/runtime.py")

    def ref(self, name: str, where: str) -> str:
        if (pseudo := self.values.pseudo_parameter(name)) is not None:
            return pseudo
        if name in self.values.parameters:
            return self.values.parameters[name]
        if name in (self.template.get("Parameters") or {}):
            raise LocalTemplateError(f"{where}: parameter {name} has no default and no local value")
        if name in self.values.tables:
            return self.values.tables[name]
        if name in self.values.queues:
            return self.values.queues[name].url
        if name in self.values.physical_ids:
            return self.values.physical_ids[name]
        resource_type = (self.resources.get(name) or {}).get("Type")
        if resource_type == "AWS::Serverless::Api":
            return self.values.api_id
        if resource_type == "AWS::Cognito::UserPoolClient":
            return "switchboard-local-console"  # never used: locally the console signs in through /local/cognito
        if resource_type == "AWS::Cognito::UserPoolDomain":
            return "switchboard-local"
        if resource_type == "AWS::Events::EventBus":
            return str(self.resolve(self.resources[name]["Properties"]["Name"], where))
        if resource_type == "AWS::S3::Bucket":
            return bucket_name(self.values.stack_name, name)
        if resource_type is None:
            raise LocalTemplateError(f"{where}: Ref {name}: no such parameter or resource")
        raise LocalTemplateError(f"{where}: Ref {name} ({resource_type}) has no local value; add one")

    def get_att(self, logical_id: str, attribute: str, where: str) -> str:
        region, account = self.values.region, self.values.account_id
        if logical_id in self.values.queues:
            queue = self.values.queues[logical_id]
            found = {"Arn": queue.arn, "QueueName": queue.name, "QueueUrl": queue.url}.get(attribute)
            if found is not None:
                return found
        if logical_id in self.values.tables and attribute == "Arn":
            return f"arn:aws:dynamodb:{region}:{account}:table/{self.values.tables[logical_id]}"
        if (self.resources.get(logical_id) or {}).get("Type") == "AWS::S3::Bucket":
            bucket = self.ref(logical_id, where)
            found = {"Arn": f"arn:aws:s3:::{bucket}", "DomainName": f"{bucket}.s3.amazonaws.com",
                     "RegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com"}.get(attribute)
            if found is not None:
                return found
        raise LocalTemplateError(f"{where}: Fn::GetAtt {logical_id}.{attribute} has no local value; add one")

    def _sub(self, text: str, variables: Mapping[str, Any], where: str) -> str:
        out: list[str] = []
        rest = text
        while (start := rest.find("${")) != -1:
            end = rest.find("}", start)
            if end == -1:
                break
            out.append(rest[:start])
            name = rest[start + 2 : end]
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
            elif name in variables:
                out.append(_stringify(variables[name]))
            elif "." in name and name.split(".", 1)[0] in self.resources:
                logical_id, attribute = name.split(".", 1)
                out.append(self.get_att(logical_id, attribute, where))
            else:
                out.append(self.ref(name, where))
            rest = rest[end + 1 :]
        return "".join(out) + rest


@dataclass
class LocalLambdaContext:
    """The attributes and method of Lambda's Python context object that handlers and Powertools use."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: int
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class LocalFunction:
    """One function of the template: its resolved environment, its handler, and a lock per instance."""

    _import_lock = threading.Lock()

    def __init__(self, spec: Function, environment: dict[str, str], root: Path, values: LocalValues) -> None:
        self.spec = spec
        self.logical_id = spec.logical_id
        self.environment = environment
        self.code_dir = (root / spec.code_uri).resolve()
        self.name = f"{values.stack_name}-{spec.logical_id}"
        self.arn = f"arn:aws:lambda:{values.region}:{values.account_id}:function:{self.name}"
        self._lock = threading.Lock()
        self._handler: Handler | None = None
        self._stream = uuid.uuid4().hex

    @property
    def folder(self) -> str:
        """The function's folder under functions/ (`admin_api`), the name people type."""
        return self.code_dir.name

    @property
    def module_name(self) -> str:
        module_path = self.spec.handler.rsplit(".", 1)[0]
        return f"{self.code_dir.parent.name}.{self.folder}.{module_path}"

    @property
    def handler_file(self) -> Path:
        module_path = self.spec.handler.rpartition(".")[0]
        return self.code_dir / (module_path.replace(".", "/") + ".py")

    def lambda_environment(self) -> dict[str, str]:
        """The variables Lambda gives this function's process: the template's and Lambda's own about the function."""
        return {
            **self.environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }

    def context(self, request_id: str | None = None) -> LocalLambdaContext:
        return LocalLambdaContext(
            function_name=self.name,
            memory_limit_in_mb=self.spec.memory_size,
            invoked_function_arn=self.arn,
            aws_request_id=request_id or str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{self.name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self._stream}",
            timeout_seconds=self.spec.timeout,
        )

    def load(self) -> Handler:
        """Import the handler's module (once), with this function's own variables set during import."""
        if self._handler is not None:
            return self._handler
        with LocalFunction._import_lock:
            if self._handler is None:
                module_path, _, attribute = self.spec.handler.rpartition(".")
                if not module_path:
                    raise LocalTemplateError(f"{self.logical_id}: Handler {self.spec.handler!r} is not module.fn")
                if not self.handler_file.is_file():
                    raise LocalTemplateError(f"{self.logical_id}: no handler file {self.handler_file}")
                ensure_on_path(self.code_dir)
                with self._import_environment():
                    module = _import_file(self.module_name, self.handler_file)
                self._handler = getattr(module, attribute)
        return self._handler

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        """Call the handler like Lambda would; exceptions propagate to the caller (gateway, poller...)."""
        with self._lock:
            handler = self.load()
            started = time.monotonic()
            try:
                return handler(event, self.context(request_id))
            except InvocationCrashed as crash:
                raise RuntimeError(f"{self.logical_id}: {crash}") from None
            finally:
                elapsed = time.monotonic() - started
                if elapsed > self.spec.timeout:
                    log.warning(
                        "%s took %.1f s: Lambda would have stopped it at its %d s timeout",
                        self.logical_id,
                        elapsed,
                        self.spec.timeout,
                    )

    @contextmanager
    def _import_environment(self) -> Iterator[None]:
        overlay = self.lambda_environment()
        saved = {name: os.environ.get(name) for name in overlay}
        os.environ.update(overlay)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _import_file(module_name: str, file: Path) -> ModuleType:
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def ensure_on_path(directory: Path) -> None:
    """Lambda puts a function's code root (and its layers) on sys.path; do the same if PYTHONPATH did not."""
    entry = str(directory)
    if not any(Path(p or ".").resolve() == directory for p in sys.path):
        log.debug("adding %s to sys.path (a Lambda code root)", entry)
        sys.path.append(entry)


def layer_directories(template: Template, root: Path) -> list[Path]:
    """The ContentUri of every AWS::Serverless::LayerVersion (the layer's Python root)."""
    return [
        (root / resource["Properties"]["ContentUri"]).resolve()
        for resource in (template.get("Resources") or {}).values()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
        and isinstance((resource.get("Properties") or {}).get("ContentUri"), str)
    ]


class LambdaRuntime:
    """All functions of the template, resolved against local values, ready to invoke by name.

    With `placeholders`, a variable that cannot be resolved here (say, a Ref to a resource SAM generates) gets a
    placeholder instead of failing, so one such variable does not stop a benchmark; `unresolved` maps each such
    variable to why.
    """

    def __init__(self, template: Template, values: LocalValues, root: Path, *, placeholders: bool = False) -> None:
        self.template = template
        self.values = values
        self.root = root
        self.resolver = Resolver(template, values)
        self.unresolved: dict[str, str] = {}
        self.functions: dict[str, LocalFunction] = {}
        for logical_id, spec in functions(template).items():
            environment = {
                name: self._resolve_variable(value, f"{logical_id}.Environment.{name}", name, placeholders)
                for name, value in spec.environment.items()
            }
            self.functions[logical_id] = LocalFunction(spec, environment, root, values)
        for directory in layer_directories(template, root):
            ensure_on_path(directory)

    def _resolve_variable(self, value: Any, where: str, name: str, placeholders: bool) -> str:
        try:
            return _stringify(self.resolver.resolve(value, where))
        except LocalTemplateError as error:
            if not placeholders:
                raise
            self.unresolved.setdefault(name, str(error))
            return f"unresolved-{name.lower()}"

    def event_buses(self) -> list[str]:
        """Names of the template's EventBridge buses, to create on the local AWS stand-in."""
        return [self.resolver.ref(logical_id, f"{logical_id}.Name")
                for logical_id, resource in (self.template.get("Resources") or {}).items()
                if resource.get("Type") == "AWS::Events::EventBus"]

    def shared_environment(self) -> dict[str, str]:
        """The union of every function's variables; conflicting values are an error."""
        union: dict[str, str] = {}
        owners: dict[str, str] = {}
        globals_variables = (((self.template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}).get(
            "Variables"
        ) or {}
        for logical_id, function in self.functions.items():
            for name, value in function.environment.items():
                if name in PER_FUNCTION_VARIABLES:
                    continue
                if name in union and union[name] != value:
                    raise LocalTemplateError(
                        f"{owners[name]} and {logical_id} want different values for {name} "
                        f"({union[name]!r} vs {value!r}); one process cannot give both"
                    )
                union[name] = value
                owners[name] = logical_id
        for name in PER_FUNCTION_VARIABLES & set(globals_variables):
            union[name] = _stringify(self.resolver.resolve(globals_variables[name], f"Globals.{name}"))
        return union

    def function(self, name: str) -> LocalFunction:
        """A function by logical id (`AdminApiFunction`) or folder name (`admin_api`)."""
        if name in self.functions:
            return self.functions[name]
        for function in self.functions.values():
            if function.folder == name:
                return function
        known = ", ".join(f"{f.logical_id} ({f.folder})" for f in self.functions.values())
        raise KeyError(f"no function {name!r} in the template; known: {known}")

    def load_all(self) -> dict[str, BaseException]:
        """Import every handler now (cold starts at start-up); returns the ones that failed."""
        failures: dict[str, BaseException] = {}
        for logical_id, function in self.functions.items():
            try:
                function.load()
            except Exception as error:  # a broken function must not stop the others
                log.exception("%s failed to load; its requests will fail until fixed", logical_id)
                failures[logical_id] = error
        return failures

    def invoke(self, name: str, event: Any, request_id: str | None = None) -> Any:
        return self.function(name).invoke(event, request_id)
