"""The names two stacks of one run may not share (module_utils/fleet.py), the run's closing summary, and the count of
throttled answers (module_utils/api.py's botocore hook)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils import api
from ansible_collections.vitality.aurora.plugins.module_utils.fleet import name_collisions, run_summary


def stack(name, **overrides):
    """A stack's typed names as the role's defaults derive them from aurora_cluster_name."""
    identifier = f"{name}-aurora"
    settings = {
        "aurora_cluster_name": name,
        "aurora_cluster_aws_region": "us-east-1",
        "aurora_cluster_aws_endpoint_url": "",
        "aurora_cluster_vpc_name": "vitality-dev-app-vpc",
        "aurora_cluster_identifier": identifier,
        "aurora_cluster_writer_identifier": f"{identifier}-writer",
        "aurora_cluster_reader_identifier_prefix": f"{identifier}-reader-",
        "aurora_cluster_subnet_group_name": f"{name}-db-subnets",
        "aurora_cluster_parameter_group_name": f"{name}-aurora-pg16",
        "aurora_cluster_db_security_group_name": f"{name}-db",
        "aurora_cluster_backup_plan_name": f"{name}-aurora",
        "aurora_cluster_backup_vault_name": f"{name}-aurora",
        "aurora_cluster_event_topic_name": f"{name}-db-events",
        "aurora_cluster_monitoring_role_name": f"{name}-rds-monitoring",
        "aurora_cluster_backup_role_name": f"{name}-aws-backup",
        "aurora_cluster_outputs_file": f"/srv/outputs/{name}.json",
        "aurora_cluster_plan_output_file": "",
        "aurora_cluster_report": True,
        "aurora_cluster_report_dir": "/srv/report",
    }
    settings.update(overrides)
    return settings


def test_stacks_with_names_of_their_own_pass():
    others = {f"h{n}": stack(f"vitality-{n}") for n in range(2, 17)}
    assert name_collisions("h1", stack("vitality-1"), others) == []


def test_one_message_per_other_stack_naming_the_host_each_name_and_the_rule():
    errors = name_collisions("a", stack("vitality-x"), {"b": stack("vitality-x"), "c": stack("vitality-y")})
    assert len(errors) == 1
    (message,) = errors
    assert message.startswith(
        "host a's stack and host b's would share DB cluster 'vitality-x-aurora' (aurora_cluster_identifier)"
    )
    assert "DB instances vitality-x-aurora-reader-<n> (aurora_cluster_reader_identifier_prefix)" in message
    assert " and 9 more: two stacks of one run may not share a name" in message
    assert "give each stack its own aurora_cluster_name" in message


@pytest.mark.parametrize(
    ("variable", "kind"),
    [
        ("aurora_cluster_identifier", "DB cluster"),
        ("aurora_cluster_subnet_group_name", "DB subnet group"),
        ("aurora_cluster_parameter_group_name", "DB cluster parameter group"),
        ("aurora_cluster_backup_vault_name", "AWS Backup vault"),
        ("aurora_cluster_event_topic_name", "SNS topic"),
        ("aurora_cluster_outputs_file", "outputs file"),
    ],
)
def test_one_shared_name_is_enough(variable, kind):
    errors = name_collisions(
        "a", stack("vitality-a", **{variable: "shared"}), {"b": stack("vitality-b", **{variable: "shared"})}
    )
    assert len(errors) == 1 and f"{kind} 'shared' ({variable})" in errors[0], errors


def test_region_names_differ_by_region_and_endpoint_but_iam_names_only_by_endpoint():
    a = stack("vitality-x", aurora_cluster_aws_region="us-east-1")
    b = stack(
        "vitality-x",
        aurora_cluster_aws_region="eu-west-1",
        aurora_cluster_outputs_file="/srv/b.json",
        aurora_cluster_report_dir="/srv/b",
    )
    (message,) = name_collisions("a", a, {"b": b})
    # IAM is global: the roles still collide, the regional names do not.
    assert "IAM role 'vitality-x-rds-monitoring' (aurora_cluster_monitoring_role_name)" in message
    assert "IAM role 'vitality-x-aws-backup' (aurora_cluster_backup_role_name)" in message
    assert "DB cluster" not in message and "DB instance" not in message
    other_account = dict(b, aurora_cluster_aws_endpoint_url="http://127.0.0.1:4567")
    assert name_collisions("a", a, {"b": other_account}) == []


def test_iam_role_names_collide_whatever_their_case():
    errors = name_collisions(
        "a",
        stack("vitality-a", aurora_cluster_monitoring_role_name="Monitoring"),
        {"b": stack("vitality-b", aurora_cluster_monitoring_role_name="monitoring")},
    )
    assert len(errors) == 1 and "(aurora_cluster_monitoring_role_name)" in errors[0]


def test_security_group_names_are_unique_per_vpc_only():
    a = stack("vitality-a", aurora_cluster_db_security_group_name="db")
    same_vpc = stack("vitality-b", aurora_cluster_db_security_group_name="db")
    other_vpc = dict(same_vpc, aurora_cluster_vpc_name="vitality-prod-app-vpc")
    assert "security group 'db'" in name_collisions("a", a, {"b": same_vpc})[0]
    assert name_collisions("a", a, {"b": other_vpc}) == []


def test_a_writer_named_like_the_other_stacks_readers_collides_both_ways():
    a = stack("vitality-a", aurora_cluster_writer_identifier="vitality-b-aurora-reader-1")
    b = stack("vitality-b")
    assert (
        "DB instance 'vitality-b-aurora-reader-1' (aurora_cluster_writer_identifier, one of the other's readers)"
        in (name_collisions("a", a, {"b": b})[0])
    )
    assert (
        "DB instance 'vitality-b-aurora-reader-1' (aurora_cluster_reader_identifier_prefix, the other's writer)"
        in (name_collisions("b", b, {"a": a})[0])
    )


def test_report_files_collide_by_directory_and_name_unless_the_report_is_off():
    a = stack("vitality-a", aurora_cluster_identifier="vitality-a-1")
    b = stack(
        "vitality-a",
        **{
            k: f"{v}-b"
            for k, v in stack("vitality-a").items()
            if k.endswith(("_name", "_identifier", "_prefix", "_file")) and k != "aurora_cluster_name"
        },
    )
    (message,) = name_collisions("a", a, {"b": b})
    assert "report file '/srv/report/vitality-a' (aurora_cluster_name)" in message
    assert name_collisions("a", dict(a, aurora_cluster_report=False), {"b": b}) == []


def test_an_empty_plan_file_is_no_name():
    assert name_collisions("a", stack("vitality-a"), {"b": stack("vitality-b")}) == []
    errors = name_collisions(
        "a",
        stack("vitality-a", aurora_cluster_plan_output_file="/tmp/plan.json"),
        {"b": stack("vitality-b", aurora_cluster_plan_output_file="/tmp/plan.json")},
    )
    assert "plan file '/tmp/plan.json' (aurora_cluster_plan_output_file)" in errors[0]


def test_run_summary_adds_up_each_stacks_module_runs_and_names_those_that_stopped():
    lines = run_summary(
        {
            "a": [
                {"total": 1, "by_operation": {"DescribeDBClusters": 1}},
                {"total": 2, "by_operation": {"CreateDBInstance": 1, "DescribeDBClusters": 1}},
            ],
            "b": [],
            "c": None,
            "d": {"total": 0, "by_operation": {}},
        }
    )
    assert lines == [
        "Stacks: 3 of 4 reached their outputs (not: c)",
        "AWS calls throttled and retried with backoff: 3",
        "  a: 3 (CreateDBInstance 1, DescribeDBClusters 2)",
    ]


def test_run_summary_of_a_quiet_run_says_what_is_counted():
    assert run_summary({"a": []}) == [
        "Stacks: 1 of 1 reached their outputs",
        "AWS calls throttled and retried with backoff: 0 (counted in the collection's own modules; the amazon.aws modules retry alike without counting)",
    ]


@pytest.fixture
def counter(monkeypatch):
    monkeypatch.setattr(api, "THROTTLED", type(api.THROTTLED)())
    return api


@pytest.mark.parametrize(
    ("status", "code", "counted"),
    [
        (400, "Throttling", True),
        (400, "ThrottlingException", True),
        (503, "RequestLimitExceeded", True),
        (429, "", True),
        (400, "InvalidParameterValue", False),
        (500, "InternalFailure", False),
    ],
)
def test_the_hook_counts_throttled_answers_only_and_never_decides_the_retry(counter, status, code, counted):
    response = (SimpleNamespace(status_code=status), {"Error": {"Code": code}} if code else {})
    assert counter.count_throttled(response=response, operation=SimpleNamespace(name="DescribeDBClusters")) is None
    assert counter.throttled_calls() == (
        {"total": 1, "by_operation": {"DescribeDBClusters": 1}} if counted else {"total": 0, "by_operation": {}}
    )


def test_the_hook_ignores_an_attempt_without_an_answer(counter):
    # A dropped connection: botocore passes response=None and the caught exception.
    assert (
        counter.count_throttled(
            response=None, operation=SimpleNamespace(name="CreateDBCluster"), caught_exception=OSError()
        )
        is None
    )
    assert counter.throttled_calls()["total"] == 0
