"""A create of a new dev stack that fails part-way names every resource it leaves; a re-run or destroy cleans up.

Each case starts from an account holding only the landing zone and provisions dev through tests/aws_proxy.py,
which makes one call fail:

* on the one-pass create (``vitality.aurora.aurora_stack``), each create step in turn answers HTTP 500 and the
  run gives botocore no retry (``aurora_cluster_aws_retry_config`` with ``total_max_attempts: 1``), so the call fails
  without AWS having acted: the failure of the module names what it created (``created_resources``) and the
  role's rescue names what exists;
* on the per-resource path (``aurora_cluster_drift_check=false``), a create that AWS carried out although its
  answer was an error (the subnet group), and creates that AWS refused (the cluster, the writer).

Every time: the run fails; the resources its messages name are exactly those a boto3 read of the whole account
finds; a plain re-run converges them with ``failed=0`` and no duplicate (one of each, nothing orphaned); and
``playbooks/destroy.yml`` (dev keeps deletion protection off) leaves none of the stack.
"""

from __future__ import annotations

import json

import pytest

from aws_proxy import AwsProxy, error_after, fault
from dev_stack_checks import (
    DB_SG,
    HOST,
    PROVISION,
    assert_dev_stack,
    fatal_lines,
    tail,
)

DESTROY = ("playbooks/destroy.yml", "inventories/dev")
NO_RETRY = {"aurora_cluster_aws_retry_config": {"retries": {"mode": "standard", "total_max_attempts": 1}}}
PER_RESOURCE = {"aurora_cluster_drift_check": False}
# The call that fails, and the resource the one-pass create's failure says it failed at.
ONE_PASS_FAILURES = {
    "CreateDBSubnetGroup": "DB subnet group vitality-dev-db-subnets",
    "CreateDBClusterParameterGroup": "DB cluster parameter group vitality-dev-aurora-pg16",
    "ModifyDBClusterParameterGroup": "DB cluster parameter group vitality-dev-aurora-pg16",
    "CreateDBCluster": "DB cluster vitality-dev-aurora",
    "CreateDBInstance": "DB instance vitality-dev-aurora-writer",
}
EXIST_NOW = "Of the stack's resources, these exist now: "
WAYS_FORWARD = (
    ". Re-run provision to converge them (nothing is duplicated), or run playbooks/destroy.yml to remove them."
)


@pytest.fixture(scope="module")
def proxy(local_aws):
    with AwsProxy(local_aws.endpoint_url) as running:
        yield running


def existing_in_account(local_aws, zone):
    """Each resource of the stack's kinds in the whole account, named as the messages name them."""
    ec2, rds = local_aws.client("ec2"), local_aws.client("rds")
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [zone.vpc_id]}])["SecurityGroups"]
    # Every group of the VPC but its default one and the landing zone's application group.
    found = [
        f"security group {g['GroupId']} ({g['GroupName']})"
        for g in groups
        if g["GroupName"] != "default" and g["GroupId"] != zone.app_security_group_id
    ]
    found += [f"DB subnet group {g['DBSubnetGroupName']}" for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]]
    found += [
        f"DB cluster parameter group {g['DBClusterParameterGroupName']}"
        for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if not g["DBClusterParameterGroupName"].startswith("default.")
    ]
    found += [f"DB cluster {c['DBClusterIdentifier']}" for c in rds.describe_db_clusters()["DBClusters"]]
    found += sorted(f"DB instance {i['DBInstanceIdentifier']}" for i in rds.describe_db_instances()["DBInstances"])
    return found


def failures(result):
    """The JSON result of each failed task, in order."""
    return [json.loads(line.partition("=> ")[2]) for line in result.stdout.splitlines() if line.startswith("fatal:")]


def named_as_existing(message):
    """The resources the rescue's message says exist now."""
    assert EXIST_NOW in message and WAYS_FORWARD in message, message
    return message.split(EXIST_NOW, 1)[1].split(WAYS_FORWARD, 1)[0].split(", ")


def fail_provision(proxy, local_aws, rules, extra_vars):
    zone = local_aws.reset_and_seed(("dev",))["dev"]
    proxy.set_rules(*rules)
    proxy.clear_calls()
    try:
        result = proxy.front(local_aws).run_playbook(*PROVISION, extra_vars=extra_vars)
    finally:
        proxy.set_rules()
    assert result.returncode != 0, tail(result)
    assert result.recap[HOST]["failed"] == 1 and result.recap[HOST]["rescued"] == 1, tail(result)
    return zone, result


def assert_rerun_converges_and_destroy_removes_all(local_aws, zone):
    again = local_aws.run_playbook(*PROVISION)
    assert again.returncode == 0 and again.recap[HOST]["failed"] == 0, fatal_lines(again) or tail(again)
    assert again.recap[HOST]["changed"] > 0, tail(again)
    assert_dev_stack(local_aws, zone)  # one of each, the DB security group once, nothing orphaned

    gone = local_aws.run_playbook(*DESTROY)
    assert gone.returncode == 0 and gone.recap[HOST]["failed"] == 0, fatal_lines(gone) or tail(gone)
    assert existing_in_account(local_aws, zone) == []
    groups = local_aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [zone.vpc_id]}, {"Name": "group-name", "Values": [DB_SG]}]
    )["SecurityGroups"]
    assert groups == []


@pytest.mark.parametrize("action", sorted(ONE_PASS_FAILURES))
def test_a_failed_one_pass_create_names_what_it_left_and_a_rerun_or_destroy_cleans_up(proxy, local_aws, action):
    zone, result = fail_provision(proxy, local_aws, [fault("500", action=action, nth=1)], NO_RETRY)
    faulted = [c for c in proxy.calls if c.fault]
    assert [(c.action, c.fault) for c in faulted] == [(action, "500")]
    existing = existing_in_account(local_aws, zone)
    assert existing, "the failure came after the security group was created"

    one_pass, rescue = failures(result)
    assert one_pass["msg"].startswith(f"Creating the stack failed at the {ONE_PASS_FAILURES[action]}: "), one_pass
    assert f"(InternalFailure) when calling the {action} operation" in one_pass["msg"]
    # What the module created in this run is what exists (the account held none of the stack).
    assert [e["label"] for e in one_pass["created_resources"]] == existing, one_pass
    assert f"Created in this run and left in place: {', '.join(existing)}." in one_pass["msg"]
    assert one_pass["failed_at"]["label"].startswith(ONE_PASS_FAILURES[action])
    # The rescue keeps that message and names what exists now, read back from AWS.
    assert one_pass["msg"] in rescue["msg"]
    assert rescue["msg"].startswith("Compare the whole stack")
    assert named_as_existing(rescue["msg"]) == existing

    assert_rerun_converges_and_destroy_removes_all(local_aws, zone)


@pytest.mark.parametrize(
    ("rules", "extra_vars", "failing_task", "expected"),
    [
        pytest.param(
            # AWS made the group, then answered an error: the task fails, the group exists.
            [error_after("CreateDBSubnetGroup", "DBSubnetQuotaExceededFault")],
            PER_RESOURCE,
            "Place the database in the private subnets",
            ["security group", "DB subnet group vitality-dev-db-subnets"],
            id="subnet-group-made-despite-an-error",
        ),
        pytest.param(
            [fault("500", action="CreateDBCluster", nth=1)],
            dict(PER_RESOURCE, **NO_RETRY),
            "Create or update the Aurora PostgreSQL cluster",
            ["security group", "DB subnet group vitality-dev-db-subnets", "DB cluster parameter group"],
            id="cluster-refused",
        ),
        pytest.param(
            [fault("500", action="CreateDBInstance", nth=1)],
            dict(PER_RESOURCE, **NO_RETRY),
            "Converge the instance",
            ["security group", "DB subnet group", "DB cluster parameter group", "DB cluster vitality-dev-aurora"],
            id="writer-refused",
        ),
    ],
)
def test_a_failed_per_resource_converge_names_what_exists_and_a_rerun_or_destroy_cleans_up(
    proxy, local_aws, rules, extra_vars, failing_task, expected
):
    zone, result = fail_provision(proxy, local_aws, rules, extra_vars)
    existing = existing_in_account(local_aws, zone)
    assert [label for label, prefix in zip(existing, expected, strict=True) if label.startswith(prefix)] == existing

    failed_task, rescue = failures(result)[-2:]
    assert failed_task["msg"], failed_task
    # The failing task's own message is kept, then what exists and the ways forward.
    assert rescue["msg"].startswith(f"{failing_task}"), rescue["msg"]
    assert failed_task["msg"].split(":")[0] in rescue["msg"]
    assert named_as_existing(rescue["msg"]) == existing

    assert_rerun_converges_and_destroy_removes_all(local_aws, zone)
