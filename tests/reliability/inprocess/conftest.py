"""Handlers in-process against moto, with the unit tier's fixtures and a carrier sandbox of this tier's own.

The sandbox is separate from the unit tier's, so the carrier settings, the cached carrier client and the
cached carrier secret are pointed at it for each test and forgotten afterwards: the unit tier, whenever it
runs, builds its own again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.unit.conftest import (  # noqa: F401  (fixtures, by name)
    admin_api,
    aws,
    call_api,
    clinic_clock,
    intake,
    lambda_context,
    queues,
    setup,
    status_poller,
    user_pool,
)


def forget_carrier() -> None:
    from aws_lambda_powertools.utilities import parameters

    from switchboard.carrier import client
    from switchboard.core.settings import carrier_settings

    carrier_settings.cache_clear()
    client._carrier_for.cache_clear()
    parameters.clear_caches()


@pytest.fixture(scope="session")
def reliability_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from local.carrier_sandbox import CarrierSandbox

    server = CarrierSandbox(tmp_path_factory.mktemp("reliability-carrier"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def carrier_account(reliability_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """This tier's sandbox as the carrier, its credentials in (moto's) Secrets Manager, clean for the test."""
    monkeypatch.setenv("CARRIER_API_URL", reliability_sandbox.url)
    forget_carrier()
    boto3.client("secretsmanager").create_secret(
        Name=os.environ["TWILIO_SECRET_NAME"],
        SecretString=json.dumps({"account_sid": reliability_sandbox.account_sid,
                                 "auth_token": reliability_sandbox.auth_token}),
    )
    reliability_sandbox.reset()
    yield reliability_sandbox
    reliability_sandbox.clear_faults()
    forget_carrier()
