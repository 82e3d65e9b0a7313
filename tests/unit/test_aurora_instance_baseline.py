"""aurora_instance: Performance Insights and Enhanced Monitoring.

AWS always reports PerformanceInsightsEnabled, and the retention and key only while Performance
Insights is on; moto 5.2.5 leaves PerformanceInsightsEnabled out. The real-AWS shapes are tested
here, the modify call with botocore's Stubber.
"""

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils import instance_settings
from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.changes import IMPOSSIBLE, ONLINE, Attribute, plan_changes
from ansible_collections.vitality.aurora.plugins.modules import aurora_instance as m

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}"
ROLE_ARN = "arn:aws:iam::123456789012:role/vitality-prod-rds-monitoring"


def params(**overrides):
    base = {option: None for option in (a.option for a in instance_settings.ATTRIBUTES)}
    base.update(
        db_instance_identifier="vitality-prod-aurora-writer",
        db_cluster_identifier="vitality-prod-aurora",
        apply_immediately=False,
        apply_pending_reboot=False,
        wait=False,
        wait_timeout=60,
        wait_max_poll_interval=20.0,
        tags=None,
        purge_tags=True,
        engine="aurora-postgresql",
    )
    base.update(overrides)
    return base


def instance(**fields):
    described = {
        "DBInstanceIdentifier": "vitality-prod-aurora-writer",
        "DBClusterIdentifier": "vitality-prod-aurora",
        "DBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:vitality-prod-aurora-writer",
        "DBInstanceStatus": "available",
        "Engine": "aurora-postgresql",
        "PubliclyAccessible": False,
        "MonitoringInterval": 0,
    }
    described.update(fields)
    return described


def by_attribute(changes):
    return {c["attribute"]: c for c in changes}


def test_turning_performance_insights_on_plans_its_retention_and_key_too():
    off = instance(PerformanceInsightsEnabled=False)
    wanted = params(
        enable_performance_insights=True,
        performance_insights_retention_period=31,
        performance_insights_kms_key_id=KEY_ARN,
    )
    changes = by_attribute(m.planned_changes(off, wanted))
    assert changes["enable_performance_insights"]["before"] is False
    assert changes["enable_performance_insights"]["after"] is True
    assert changes["performance_insights_retention_period"]["before"] is None
    assert changes["performance_insights_retention_period"]["after"] == 31
    assert changes["performance_insights_kms_key_id"]["impact"] == ONLINE
    request = m.modify_request(wanted, list(changes.values()))
    assert request["EnablePerformanceInsights"] is True
    assert request["PerformanceInsightsRetentionPeriod"] == 31
    assert request["PerformanceInsightsKMSKeyId"] == KEY_ARN  # as given, not reduced to the key ID


def test_a_longer_retention_is_one_online_change():
    on = instance(
        PerformanceInsightsEnabled=True, PerformanceInsightsRetentionPeriod=7, PerformanceInsightsKMSKeyId=KEY_ARN
    )
    changes = m.planned_changes(on, params(enable_performance_insights=True, performance_insights_retention_period=31))
    assert changes == [
        {"attribute": "performance_insights_retention_period", "before": 7, "after": 31, "impact": ONLINE}
    ]


def test_a_description_without_performance_insights_plans_nothing_for_it():
    # moto 5.2.5 leaves PerformanceInsightsEnabled (and, after a create, the retention) out.
    silent = instance()
    wanted = params(enable_performance_insights=True, performance_insights_retention_period=31)
    assert m.planned_changes(silent, wanted) == []
    assert m.planned_changes(instance(PerformanceInsightsRetentionPeriod=7), wanted) == []


def test_enabled_without_its_retention_is_incomplete_not_a_change():
    wanted = params(enable_performance_insights=True, performance_insights_retention_period=31)
    assert m.planned_changes(instance(PerformanceInsightsEnabled=True), wanted) == []


def test_the_key_compares_by_key_id_and_cannot_change_while_enabled():
    on = instance(
        PerformanceInsightsEnabled=True, PerformanceInsightsRetentionPeriod=7, PerformanceInsightsKMSKeyId=KEY_ARN
    )
    same = params(enable_performance_insights=True, performance_insights_kms_key_id=KEY_ID)
    assert m.planned_changes(on, same) == []
    other = params(enable_performance_insights=True, performance_insights_kms_key_id="another-key")
    (change,) = m.planned_changes(on, other)
    assert change["attribute"] == "performance_insights_kms_key_id"
    assert change["impact"] == IMPOSSIBLE
    assert "turn Performance Insights off" in m.REMEDY


def test_turning_it_off_ignores_retention_and_key():
    on = instance(
        PerformanceInsightsEnabled=True, PerformanceInsightsRetentionPeriod=31, PerformanceInsightsKMSKeyId=KEY_ARN
    )
    wanted = params(
        enable_performance_insights=False, performance_insights_retention_period=7, performance_insights_kms_key_id="x"
    )
    assert m.planned_changes(on, wanted) == [
        {"attribute": "enable_performance_insights", "before": True, "after": False, "impact": ONLINE}
    ]
    assert m.planned_changes(instance(PerformanceInsightsEnabled=False), wanted) == []
    request = m.create_request(dict(wanted, db_instance_class="db.r6g.large"))
    assert request["EnablePerformanceInsights"] is False
    assert "PerformanceInsightsRetentionPeriod" not in request
    assert "PerformanceInsightsKMSKeyId" not in request


@pytest.mark.parametrize("days", [7, 31, 62, 372, 713, 731])
def test_valid_retention_periods(days):
    assert days in m.PERFORMANCE_INSIGHTS_RETENTION


@pytest.mark.parametrize("days", [0, 1, 14, 30, 32, 365, 730, 744])
def test_invalid_retention_periods(days):
    assert days not in m.PERFORMANCE_INSIGHTS_RETENTION


def test_enhanced_monitoring_is_an_online_change_with_its_role():
    changes = m.planned_changes(instance(), params(monitoring_interval=30, monitoring_role_arn=ROLE_ARN))
    assert {c["attribute"]: (c["before"], c["after"], c["impact"]) for c in changes} == {
        "monitoring_interval": (0, 30, ONLINE),
        "monitoring_role_arn": (None, ROLE_ARN, ONLINE),
    }
    request = m.modify_request(params(monitoring_interval=30, monitoring_role_arn=ROLE_ARN), changes)
    assert request["MonitoringInterval"] == 30
    assert request["MonitoringRoleArn"] == ROLE_ARN
    assert request["ApplyImmediately"] is False
    monitored = instance(MonitoringInterval=30, MonitoringRoleArn=ROLE_ARN)
    assert m.planned_changes(monitored, params(monitoring_interval=30, monitoring_role_arn=ROLE_ARN)) == []


def test_unknown_when_absent_is_only_about_a_missing_key():
    attribute = Attribute("flag", "Flag", "Flag", unknown_when_absent=True)
    assert plan_changes([attribute], {}, {"flag": True}) == []
    assert plan_changes([attribute], {"Flag": None}, {"flag": True})[0]["before"] is None
    assert plan_changes([attribute], {"Flag": False}, {"flag": True})[0]["before"] is False


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FakeModule:
    check_mode = False

    def __init__(self, module_params):
        self.params = module_params

    def exit_json(self, **result):
        raise Exited(result)

    def fail_json(self, msg, **kwargs):
        raise AssertionError(msg)

    def fail_json_aws(self, exception, msg):
        raise AssertionError(f"{msg}: {exception}")


def test_enabling_on_real_aws_sends_one_modify_with_the_retention():
    client = boto3.client("rds", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    module = FakeModule(params(enable_performance_insights=True, performance_insights_retention_period=31))
    api = AwsApi(module, "rds", client=client)
    before = instance(PerformanceInsightsEnabled=False)
    after = instance(PerformanceInsightsEnabled=True, PerformanceInsightsRetentionPeriod=31)
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_db_instances", {"DBInstances": [before]}, {"DBInstanceIdentifier": "vitality-prod-aurora-writer"}
        )
        stubber.add_response(
            "modify_db_instance",
            {"DBInstance": after},
            {
                "DBInstanceIdentifier": "vitality-prod-aurora-writer",
                "ApplyImmediately": False,
                "EnablePerformanceInsights": True,
                "PerformanceInsightsRetentionPeriod": 31,
            },
        )
        stubber.add_response(
            "describe_db_instances", {"DBInstances": [after]}, {"DBInstanceIdentifier": "vitality-prod-aurora-writer"}
        )
        with pytest.raises(Exited) as exited:
            m.ensure_present(module, api)
        stubber.assert_no_pending_responses()
    result = exited.value.result
    assert result["changed"] is True
    assert [c["attribute"] for c in result["changes"]] == [
        "enable_performance_insights",
        "performance_insights_retention_period",
    ]
    assert result["instance"]["performance_insights_retention_period"] == 31
