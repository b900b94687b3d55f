"""The local runtime, built once for whoever runs handlers here: the stack, `local.invoke` and the bench.

`assemble` takes the template, the local services' endpoints (DynamoDB, the moto server standing in for the
rest of AWS, the carrier sandbox) and the gateway's public URL; it creates on those services what the template
declares (queues, usage plans, SSM parameters, event buses, the carrier secret, the table), resolves every
function's environment against them and exports it to this process. `running` resolves the same from the
ready file of a stack already running, creating nothing. Both return a `LocalRuntime`: the functions
(`local.runtime.LambdaRuntime`), what the template's references resolved to, the environment, and the
template's SQS and stream event sources on demand.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.queues import EventSources, aws_client, create_queues, put_secret
from local.runtime import (
    LOCAL_REGION,
    LambdaRuntime,
    LocalValues,
    QueueEndpoint,
    Resolver,
    local_parameters,
    table_names,
)
from local.streams import StreamEventSource, describe_failure, stream_sources
from local.template import Template, load_template, resources_of_type
from local.user_pool import UserPool, create_user_pool

ROOT = Path(__file__).resolve().parent.parent
STAGE = "local"
_REAL_CREDENTIALS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
# The secret when no carrier sandbox runs: the handlers find one, and no carrier accepts it.
_NO_CARRIER = {"account_sid": "AC" + "0" * 32, "auth_token": "local-no-carrier-sandbox"}

Invoke = Callable[[str, dict[str, Any]], Any]
Concurrency = Callable[[str], int]


@dataclass(frozen=True)
class CarrierAccount:
    url: str
    account_sid: str
    auth_token: str

    @classmethod
    def at(cls, url: str) -> CarrierAccount:
        """The account of the carrier sandbox answering at `url`."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{url}/sandbox/account", timeout=5) as answer:
            account = json.load(answer)
        return cls(url, account["account_sid"], account["auth_token"])


@dataclass(frozen=True)
class Endpoints:
    dynamodb: str
    aws: str  # moto: SQS, Secrets Manager, EventBridge, SSM, API Gateway, Cognito
    carrier: CarrierAccount | None = None


def local_environment(endpoints: Endpoints) -> dict[str, str]:
    """What the handlers need to reach the local services instead of AWS and Twilio."""
    environment = {
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
        "DYNAMODB_ENDPOINT": endpoints.dynamodb,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoints.dynamodb,
        "AWS_ENDPOINT_URL_SQS": endpoints.aws,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoints.aws,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoints.aws,
        "AWS_ENDPOINT_URL_SSM": endpoints.aws,
        "AWS_ENDPOINT_URL_API_GATEWAY": endpoints.aws,
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": endpoints.aws,
        "AWS_ENDPOINT_URL_S3": endpoints.aws,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    if endpoints.carrier:
        environment["CARRIER_API_URL"] = endpoints.carrier.url
    return environment


def stage_values(
    template: Template,
    stage: str,
    queues: dict[str, QueueEndpoint],
    *,
    public_base_url: str | None = None,
    physical_ids: dict[str, str] | None = None,
) -> LocalValues:
    """What the template's references resolve to for `stage` (`switchboard-<stage>` names the stack and table)."""
    parameters = {"Environment": stage, **({"PublicBaseUrl": public_base_url} if public_base_url else {})}
    name = f"switchboard-{stage}"
    return LocalValues(
        parameters=local_parameters(template, parameters),
        queues=queues,
        tables=table_names(template, name),
        physical_ids=physical_ids or {},
        stack_name=name,
    )


class LocalRuntime:
    """The template's functions resolved against the local services (see the module's docstring)."""

    def __init__(
        self, template: Template, values: LocalValues, endpoints: Endpoints, root: Path, *, placeholders: bool = False,
        user_pool: UserPool | None = None,
    ) -> None:
        self.template = template
        self.user_pool = user_pool
        self.values = values
        self.endpoints = endpoints
        self.lambdas = LambdaRuntime(template, values, root, placeholders=placeholders)
        self.environment = {**self.lambdas.shared_environment(), **local_environment(endpoints)}

    @property
    def queues(self) -> dict[str, QueueEndpoint]:
        return self.values.queues

    @property
    def carrier_credentials(self) -> dict[str, str]:
        """The carrier secret's value: the sandbox's account, or one no carrier knows when there is no sandbox."""
        carrier = self.endpoints.carrier
        return {"account_sid": carrier.account_sid, "auth_token": carrier.auth_token} if carrier else dict(_NO_CARRIER)

    def client(self, service: str) -> Any:
        return aws_client(service, self.endpoints.dynamodb if service.startswith("dynamodb") else self.endpoints.aws)

    def export(self) -> None:
        for name in _REAL_CREDENTIALS:
            os.environ.pop(name, None)  # never let real credentials reach the local stack
        os.environ.update(self.environment)

    def stream_sources(self, invoke: Invoke, concurrency: Concurrency | None = None) -> list[StreamEventSource]:
        """The table's stream consumers, from the newest record: Lambda keeps its place in the stream across
        deploys, the local stack keeps none, so a restart does not replay old hand-offs."""
        sqs = self.client("sqs")
        return stream_sources(
            self.template, self.values.tables, self.client("dynamodb"), self.client("dynamodbstreams"), invoke,
            self.values.region, starting_position="LATEST", concurrency=concurrency,
            on_failure=lambda queue_id: describe_failure(sqs, self.queues[queue_id].url)
            if queue_id in self.queues else None)

    def event_sources(self, invoke: Invoke, concurrency: Concurrency | None = None) -> EventSources:
        """Every SQS and stream event source of the template, not started; `concurrency` gives each function's
        (how many batches its sources may have in flight), one when absent."""
        sources = EventSources.from_template(self.template, self.endpoints.aws, self.queues, invoke,
                                             concurrency=concurrency)
        sources.mappings.extend(self.stream_sources(invoke, concurrency))
        return sources


def assemble(
    template: Template,
    endpoints: Endpoints,
    public_base_url: str,
    *,
    root: Path = ROOT,
    visibility_timeout: int | None = None,
    placeholders: bool = False,
) -> LocalRuntime:
    """Create what the template declares on the local services and resolve the functions against it; the
    environment is exported to this process, the table is ready, no handler is imported yet."""
    pool = create_user_pool(aws_client("cognito-idp", endpoints.aws), template)
    values = stage_values(
        template, STAGE, create_queues(aws_client("sqs", endpoints.aws), template, visibility_timeout),
        public_base_url=public_base_url,
        physical_ids={**create_usage_plans(aws_client("apigateway", endpoints.aws), template),
                      pool.logical_id: pool.pool_id},
    )
    create_parameters(aws_client("ssm", endpoints.aws), template, Resolver(template, values))
    create_buckets(aws_client("s3", endpoints.aws), template, Resolver(template, values))
    local = LocalRuntime(template, values, endpoints, root, placeholders=placeholders, user_pool=pool)
    local.export()
    secret_name = local.environment.get("TWILIO_SECRET_NAME") or values.parameters.get("TwilioSecretName")
    if secret_name:
        put_secret(local.client("secretsmanager"), secret_name, local.carrier_credentials)
    for bus in local.lambdas.event_buses():
        local.client("events").create_event_bus(Name=bus)

    from switchboard.data.table import create_table  # reads TABLE_NAME etc. at import

    create_table(wait=True)
    return local


def running(info: Mapping[str, Any], root: Path = ROOT) -> LocalRuntime:
    """The runtime of the stack whose ready file is `info` (local.stack), resolved again, its environment exported."""
    template = load_template(root / "template.yaml")
    carrier_url = info.get("carrier_sandbox_url")
    endpoints = Endpoints(info["dynamodb_endpoint"], info["aws_endpoint"],
                          CarrierAccount.at(carrier_url) if carrier_url else None)
    queues = {logical_id: QueueEndpoint.from_url(logical_id, url) for logical_id, url in info["queues"].items()}
    pool = UserPool(**info["user_pool"]) if info.get("user_pool") else None
    values = stage_values(template, info["stage"], queues, public_base_url=info["api_url"],
                          physical_ids=info.get("physical_ids") or {})
    local = LocalRuntime(template, values, endpoints, root, user_pool=pool)
    local.export()
    return local


def create_usage_plans(apigateway: Any, template: Template) -> dict[str, str]:
    """The template's usage plans on the local API Gateway stand-in (integration keys join them, as deployed);
    logical id -> plan id."""
    return {logical_id: apigateway.create_usage_plan(name=logical_id)["id"]
            for logical_id in resources_of_type(template, "AWS::ApiGateway::UsagePlan")}


def create_buckets(s3: Any, template: Template, resolver: Resolver) -> None:
    """The template's S3 buckets (a bucket kept from an earlier run is reused)."""
    for logical_id in resources_of_type(template, "AWS::S3::Bucket"):
        try:
            s3.create_bucket(Bucket=resolver.ref(logical_id, logical_id))
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass


def create_parameters(ssm: Any, template: Template, resolver: Resolver) -> None:
    """The template's SSM parameters, their names and values resolved as CloudFormation would."""
    for logical_id, resource in resources_of_type(template, "AWS::SSM::Parameter").items():
        properties = resolver.resolve(resource["Properties"], f"{logical_id}.Properties")
        ssm.put_parameter(Name=properties["Name"], Value=properties["Value"], Type=properties["Type"], Overwrite=True)
