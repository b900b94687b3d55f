"""Integration keys at API Gateway: each key joins the API's usage plan, which throttles it per key.

Our handler still checks every key itself (and which practice it belongs to); the usage plan adds the
gateway's per-key throttling and quota in front. The plan's id is in the SSM parameter that
`USAGE_PLAN_PARAMETER` names (the API invokes this function, so the function cannot name the plan the API's
stage belongs to without a circular dependency); without that variable there is nothing to register.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from switchboard.core.settings import service_settings, store_settings

# The plan of a stack never changes; a warm container asks SSM at most this often.
PLAN_MAX_AGE_SECONDS = 3600
# Every key this stack creates carries its plan's id here; the function may delete only keys tagged so.
PLAN_TAG = "switchboard:usage-plan"


@cache
def _apigateway() -> Any:
    import boto3

    return boto3.client("apigateway", region_name=store_settings().region)


def _plan() -> str | None:
    name = service_settings().usage_plan_parameter
    if not name:
        return None
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_parameter(name, max_age=PLAN_MAX_AGE_SECONDS))


def register(key_id: str, key: str) -> str | None:
    """Create the gateway's copy of a key (same value) in the usage plan; its gateway id, if any."""
    plan = _plan()
    if plan is None:
        return None
    created = _apigateway().create_api_key(name=f"switchboard-{key_id}", value=key, enabled=True,
                                           tags={PLAN_TAG: plan})
    _apigateway().create_usage_plan_key(usagePlanId=plan, keyId=created["id"], keyType="API_KEY")
    return str(created["id"])


def withdraw(gateway_key_id: str | None) -> None:
    """Take a revoked key out of the usage plan and delete the gateway's copy, whose value is the key itself.

    Either may already be gone when a revoke is retried; that is the state wanted.
    """
    plan = _plan()
    if plan is None or gateway_key_id is None:
        return
    gateway = _apigateway()
    for remove, arguments in ((gateway.delete_usage_plan_key, {"usagePlanId": plan, "keyId": gateway_key_id}),
                              (gateway.delete_api_key, {"apiKey": gateway_key_id})):
        try:
            remove(**arguments)
        except gateway.exceptions.NotFoundException:
            pass
