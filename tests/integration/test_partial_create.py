"""A create of a new dev stack that fails part-way names every resource it leaves; a re-run or destroy cleans up.

Each case starts from an account holding only the landing zone and provisions dev through tests/aws_proxy.py,
which makes one call fail. On a create, every step of the plan (the security group, the DB subnet group, the
parameter group and its parameters, the cluster, the writer) is the stack's own, so one task carries it out, "Plan and
converge the stack" (``vitality.aurora.aurora_stack``, mode converge); there is no other path to fail on (the
former per-resource path's refused cluster and writer are the CreateDBCluster and CreateDBInstance cases here).

Each of those calls in turn answers HTTP 500 and the run gives botocore no retry (``aurora_cluster_aws_retry_config``
with ``total_max_attempts: 1``), so the call fails without AWS having acted: the module's failure names the resource
it failed at and what it created (``created_resources``), and the role's rescue names that task, keeps its message
and names what exists, read back from AWS.

Every time: the run fails; the resources the rescue names are exactly those a boto3 read of the whole account
finds; a plain re-run converges them with ``failed=0`` and no duplicate (one of each, nothing orphaned); and
``playbooks/destroy.yml`` (dev keeps deletion protection off) leaves none of the stack.

Also here: a create that AWS carried out although its answer was an error (the DB subnet group) does not fail the
run: the module finds the group made, keeps it and goes on; the stack ends as a fault-free provision leaves it, a
re-run changes nothing and destroy leaves none of it.
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
    assert_rerun_changes_nothing,
    fatal_lines,
    tail,
)

DESTROY = ("playbooks/destroy.yml", "inventories/dev")
NO_RETRY = {"aurora_cluster_aws_retry_config": {"retries": {"mode": "standard", "total_max_attempts": 1}}}
# The call that fails, and the resource the create's failure says it failed at.
ONE_PASS_FAILURES = {
    "CreateDBSubnetGroup": "DB subnet group vitality-dev-db-subnets",
    "CreateDBClusterParameterGroup": "DB cluster parameter group vitality-dev-aurora-pg16",
    "ModifyDBClusterParameterGroup": "DB cluster parameter group vitality-dev-aurora-pg16",
    "CreateDBCluster": "DB cluster vitality-dev-aurora",
    "CreateDBInstance": "DB instance vitality-dev-aurora-writer",
}
APPLY_FAILED = "Plan and converge the stack failed: "
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

    applied, rescue = failures(result)
    assert applied["msg"].startswith(f"Creating the stack failed at the {ONE_PASS_FAILURES[action]}: "), applied
    assert f"(InternalFailure) when calling the {action} operation" in applied["msg"]
    # What the module created in this run is what exists (the account held none of the stack).
    assert [e["label"] for e in applied["created_resources"]] == existing, applied
    assert f"Created in this run and left in place: {', '.join(existing)}." in applied["msg"]
    assert applied["failed_at"]["label"].startswith(ONE_PASS_FAILURES[action])
    # The rescue names the failed task and keeps its message, then what exists now, read back from AWS.
    assert rescue["msg"].startswith(APPLY_FAILED + applied["msg"]), rescue["msg"]
    assert named_as_existing(rescue["msg"]) == existing
    # The run stopped at the failure: no step is reported done.
    assert "Done, in the plan order" not in result.stdout

    assert_rerun_converges_and_destroy_removes_all(local_aws, zone)


def test_a_create_aws_carried_out_despite_an_error_is_found_and_the_run_goes_on(proxy, local_aws):
    """AWS made the DB subnet group, then answered an error: the run finds the group, keeps it and goes on.

    (The refused cluster and writer of the former per-resource cases are the CreateDBCluster and CreateDBInstance
    cases of the test above: there is one apply path now.)
    """
    zone = local_aws.reset_and_seed(("dev",))["dev"]
    proxy.set_rules(error_after("CreateDBSubnetGroup", "DBSubnetQuotaExceededFault"))
    proxy.clear_calls()
    try:
        result = proxy.front(local_aws).run_playbook(*PROVISION)
    finally:
        proxy.set_rules()
    assert [(c.action, c.fault) for c in proxy.calls if c.fault] == [("CreateDBSubnetGroup", "error-after")]
    assert result.returncode == 0 and result.recap[HOST]["failed"] == 0, fatal_lines(result) or tail(result)
    assert "DB subnet group vitality-dev-db-subnets was found made meanwhile" in result.stdout + result.stderr
    # One create of it, not retried into a second: one of each, nothing orphaned.
    assert len([c for c in proxy.calls if c.action == "CreateDBSubnetGroup"]) == 1
    assert_dev_stack(local_aws, zone)
    assert_rerun_changes_nothing(local_aws)

    gone = local_aws.run_playbook(*DESTROY)
    assert gone.returncode == 0 and gone.recap[HOST]["failed"] == 0, fatal_lines(gone) or tail(gone)
    assert existing_in_account(local_aws, zone) == []


def test_a_failed_prod_create_names_the_operations_baseline_made_before_it(proxy, local_aws):
    """prod makes its Enhanced Monitoring role, the events topic, and AWS Backup's role, vaults and plan before the
    stack's own steps, and the topic's key first of those. When the writer's CreateDBInstance fails, the rescue names
    them beside the security group, subnet group, parameter group and cluster: each as boto3 finds it, and nothing of
    the baseline that was not made (the backup selection, a step after the instances)."""
    local_aws.reset_and_seed(("prod",))
    proxy.set_rules(fault("500", action="CreateDBInstance", nth=1))
    try:
        result = proxy.front(local_aws).run_playbook(
            "playbooks/provision.yml",
            "inventories/prod",
            extra_vars={**NO_RETRY, "aurora_cluster_secondary_region": "", "aurora_database_enabled": False},
        )
    finally:
        proxy.set_rules()
    assert result.returncode != 0, tail(result)
    unused_applied, rescue = failures(result)
    named = named_as_existing(rescue["msg"])
    baseline = [
        "IAM role vitality-prod-rds-monitoring",
        "KMS key alias/vitality-prod-db-events",
        "SNS topic vitality-prod-db-events",
        "IAM role vitality-prod-aws-backup",
        "backup vault vitality-prod-aurora",
        "backup plan vitality-prod-aurora",
        # inventories/prod copies the recovery points to us-west-2, into a vault there with the role's key.
        "KMS key alias/vitality-prod-aurora-backup-copies in us-west-2",
        "backup copy vault vitality-prod-aurora in us-west-2",
    ]
    assert [entry for entry in named if entry.split(" ", 1)[0] in ("IAM", "KMS", "SNS", "backup")] == baseline, named
    assert "DB cluster vitality-prod-aurora" in named and not any(e.startswith("DB instance") for e in named), named
    # As boto3 reads them: what is named exists (the topic's key with its alias), and the backup plan selects nothing
    # yet.
    assert local_aws.client("iam").get_role(RoleName="vitality-prod-rds-monitoring")["Role"]
    assert local_aws.client("kms").describe_key(KeyId="alias/vitality-prod-db-events")["KeyMetadata"]["Enabled"]
    topics = [t["TopicArn"].rsplit(":", 1)[1] for t in local_aws.client("sns").list_topics()["Topics"]]
    assert topics == ["vitality-prod-db-events"]
    assert local_aws.client("iam").get_role(RoleName="vitality-prod-aws-backup")["Role"]
    backup = local_aws.client("backup")
    assert [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]] == ["vitality-prod-aurora"]
    (plan,) = backup.list_backup_plans()["BackupPlansList"]
    assert plan["BackupPlanName"] == "vitality-prod-aurora"
    assert backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"] == []
    copies = local_aws.client("backup", region="us-west-2").describe_backup_vault(
        BackupVaultName="vitality-prod-aurora"
    )
    key = local_aws.client("kms", region="us-west-2").describe_key(KeyId="alias/vitality-prod-aurora-backup-copies")
    assert copies["EncryptionKeyArn"] == key["KeyMetadata"]["Arn"]
