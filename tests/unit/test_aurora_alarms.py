"""aurora_alarms against botocore's Stubber, which fails on any call not expected."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from test_module_returns import Ended, FakeAnsibleModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.modules import aurora_alarms as m

PREFIX = "vitality.aurora/vitality-prod-aurora/"
LISTED = {"AlarmNamePrefix": PREFIX, "AlarmTypes": ["MetricAlarm"]}


@pytest.fixture
def cloudwatch():
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def run(monkeypatch, client, check_mode=False, **params):
    monkeypatch.setattr(FakeAnsibleModule, "given", {"name_prefix": PREFIX, **params})
    monkeypatch.setattr(FakeAnsibleModule, "check_mode", check_mode)
    monkeypatch.setattr(m, "AnsibleAWSModule", FakeAnsibleModule)
    monkeypatch.setattr(m, "AwsApi", lambda module, service: AwsApi(module, service, client=client))
    with pytest.raises(Ended) as ended:
        m.main()
    return ended.value.result


def alarms(count):
    return [{"AlarmName": f"{PREFIX}alarm-{n:03d}"} for n in range(count)]


def test_every_alarm_under_the_prefix_is_deleted_a_hundred_names_a_call(monkeypatch, cloudwatch):
    client, stubber = cloudwatch
    found = alarms(150)
    stubber.add_response("describe_alarms", {"MetricAlarms": found[:100], "NextToken": "t"}, LISTED)
    stubber.add_response("describe_alarms", {"MetricAlarms": found[100:]}, {**LISTED, "NextToken": "t"})
    names = [a["AlarmName"] for a in found]
    stubber.add_response("delete_alarms", {}, {"AlarmNames": names[:100]})
    stubber.add_response("delete_alarms", {}, {"AlarmNames": names[100:]})
    result = run(monkeypatch, client)
    assert result["changed"] is True and result["deleted"] == names


def test_check_mode_names_the_alarms_and_deletes_none(monkeypatch, cloudwatch):
    client, stubber = cloudwatch
    stubber.add_response("describe_alarms", {"MetricAlarms": alarms(2)}, LISTED)  # the only call
    result = run(monkeypatch, client, check_mode=True)
    assert result["changed"] is True and result["deleted"] == [f"{PREFIX}alarm-000", f"{PREFIX}alarm-001"]


def test_nothing_under_the_prefix_changes_nothing(monkeypatch, cloudwatch):
    client, stubber = cloudwatch
    stubber.add_response("describe_alarms", {"MetricAlarms": []}, LISTED)
    result = run(monkeypatch, client)
    assert result["changed"] is False and result["deleted"] == []


@pytest.mark.parametrize("prefix", ["", "   "])
def test_a_blank_prefix_is_refused_before_any_call(monkeypatch, cloudwatch, prefix):
    client, unused_stubber = cloudwatch
    result = run(monkeypatch, client, name_prefix=prefix)
    assert result["failed"] is True
    assert result["msg"].startswith(f"name_prefix={prefix!r} is blank: it would name every alarm")
