"""What the webhook-facing functions load at cold start: the heavy libraries stay out of their init.

Each function is imported in a fresh interpreter the way Lambda does (its folder first on the path,
the layer on PYTHONPATH); the check is on `sys.modules`, not on time, so it cannot flake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_aws  # touches no AWS: the unit tier's moto set-up is skipped

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = ("webhook_intake", "inbound_sms", "status_callback", "call_forwarding")
NEVER = ("twilio.rest", "phonenumbers.geocoder", "pydantic", "email_validator", "holidays",
         "aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")
CHECK = "import json, sys; import app; print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))"


@pytest.mark.parametrize("function", WEBHOOKS)
def test_a_webhook_function_starts_without_the_heavy_libraries(function: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "switchboard"), "POWERTOOLS_TRACE_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-c", CHECK, *NEVER], cwd=ROOT / "functions" / function, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
