"""The plugins that run inside ansible-playbook (action, filter and callback plugins) import no AWS SDK.

ansible-playbook loads them in its own process before their first task: boto3 and botocore there cost every run,
once per run, and nothing on the controller side calls AWS (the modules do, in their own process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local_aws import COLLECTIONS_DIR

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
CONTROLLER_PLUGINS = sorted(
    f"ansible_collections.vitality.aurora.plugins.{kind}.{path.stem}"
    for kind in ("action", "filter", "callback")
    for path in (PLUGINS / kind).glob("*.py")
    if path.stem != "__init__"
)
SDK = ("boto3", "botocore")


@pytest.mark.parametrize("plugin", CONTROLLER_PLUGINS)
def test_controller_plugin_imports_no_aws_sdk(plugin):
    # A fresh interpreter: this test process has imported boto3 already.
    probe = (
        "import importlib, json, sys\n"
        f"importlib.import_module({plugin!r})\n"
        f"print(json.dumps(sorted(m for m in {SDK!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(COLLECTIONS_DIR), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == []


def test_the_list_of_controller_plugins_is_not_empty():
    # The glob finds the settings check, the plugin whose import chain once reached boto3 (through restore_drill).
    assert "ansible_collections.vitality.aurora.plugins.action.aurora_settings" in CONTROLLER_PLUGINS
