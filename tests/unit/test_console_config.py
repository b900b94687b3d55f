"""The deployed console's config.json: Cognito's hosted UI with the app client the stack made."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.unit.conftest import load_function, webhook_event

PARAMETER = "/switchboard/local/console-client-id"  # as the deployed template names it


def config_json(app, lambda_context) -> dict:
    event = webhook_event("GET", "/console/config.json", resource="/console/{proxy+}",
                          path_parameters={"proxy": "config.json"})
    answer = app.lambda_handler(event, lambda_context)
    assert answer["statusCode"] == 200 and answer["headers"]["Cache-Control"] == "no-store"
    return json.loads(answer["body"])


def test_config_names_the_app_client_the_stack_made(monkeypatch: pytest.MonkeyPatch, lambda_context) -> None:
    app = load_function("console")
    domain = "switchboard-prod-1.auth.us-east-1.amazoncognito.com"
    monkeypatch.setenv("COGNITO_CLIENT_ID_PARAMETER", PARAMETER)
    monkeypatch.setattr(app, "CONFIG", app.console_config(
        {"ENVIRONMENT": "prod", "COGNITO_DOMAIN": domain, "COGNITO_CLIENT_ID_PARAMETER": PARAMETER}))
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value="3n4c1ient1d", Type="String")

    assert config_json(app, lambda_context) == {
        "environment": "prod", "sandbox_url": None,
        "auth": {"mode": "cognito", "domain": f"https://{domain}", "client_id": "3n4c1ient1d"}}


def test_a_local_console_signs_in_locally_without_asking_ssm(lambda_context) -> None:
    assert config_json(load_function("console"), lambda_context)["auth"] == {"mode": "local",
                                                                             "cognito_url": "/local/cognito"}
