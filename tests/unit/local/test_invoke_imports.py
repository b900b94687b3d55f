"""The local tools that run handlers load the layer's logger and metrics only after the stack's environment is set.

Made earlier, they would keep defaults (no metrics namespace, logs to the result's stdout) for every handler run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_aws

ROOT = Path(__file__).resolve().parents[3]
CHECK = ("import json, sys, local.invoke, tests.reliability.stack.concurrently; "
         "print(json.dumps('switchboard.core.observability' in sys.modules))")


def test_importing_make_invoke_leaves_the_layers_observability_unmade() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "switchboard")])}
    env.pop("POWERTOOLS_METRICS_NAMESPACE", None)
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) is False
