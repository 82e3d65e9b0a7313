"""Fixtures the plan-and-calls tests share (test_plan_is_the_program, test_blue_green, test_surge, test_day2).

* ``recorded_aws`` (module): a local AWS of the module's own that records every request (local_aws.RecordedAws).
* ``proxy`` (module): the recording proxy in front of it (aws_proxy.AwsProxy), for fault rules and the calls made.
* ``validator`` (module): the JSON Schema validator of the plan document (docs/plan.schema.json).

A module that needs another local AWS or proxy defines its own fixture of the same name, which takes precedence.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from aws_proxy import AwsProxy
from local_aws import REPO_ROOT, RecordedAws

SCHEMA_PATH = REPO_ROOT / "docs" / "plan-schema.json"


@pytest.fixture(scope="module")
def recorded_aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        yield aws


@pytest.fixture(scope="module")
def proxy(recorded_aws):
    with AwsProxy(recorded_aws.endpoint_url) as running:
        yield running


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
