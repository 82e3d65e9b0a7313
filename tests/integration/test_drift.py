"""The one-pass comparison and creation (aurora_stack) against the local AWS.

The stack is created in the one pass (nothing existed), and every converge task, run after it,
must find nothing to change. Out-of-band changes are then made through boto3, one resource after
another in the reverse of the order the comparison reads them, so that each new change is the
first difference it meets: each must be found and named. One provision run must then repair them all, after which the comparison
is in sync again; and a re-run with nothing to do must make at most ten AWS calls, all reads.
The comparison is called in-process with the exact arguments the role gives it (written by
tests/integration/playbooks/drift_arguments.yml).
"""

import json

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.modules import aurora_stack
from local_aws import RecordedAws
from local_aws import run_playbook as run_local

CLUSTER = "vitality-dev-aurora"
WRITER = "vitality-dev-aurora-writer"
READER = "vitality-dev-aurora-reader-1"
SG = "vitality-dev-db"
SUBNETS = "vitality-dev-db-subnets"
PG = "vitality-dev-aurora-pg16"
READ_PREFIXES = ("Describe", "List", "Get")


class FailingModule:
    def fail_json_aws(self, error, msg):
        raise AssertionError(f"{msg}: {error}")


@pytest.fixture(scope="module")
def recorded_aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        yield aws


@pytest.fixture(scope="module")
def run_playbook(recorded_aws):
    def run(playbook, inventory="inventories/dev", **kwargs):
        return run_local(playbook, inventory, local_aws=recorded_aws, **kwargs)

    return run


@pytest.fixture(scope="module")
def dev(recorded_aws, run_playbook, tmp_path_factory):
    zone = recorded_aws.reset_and_seed(("dev",))["dev"]
    first = run_playbook("playbooks/provision.yml")
    assert first.returncode == 0, first.stdout[-4000:]
    # Nothing existed: the stack was created in the one pass, and no converge task ran.
    assert "Wait for the stack created in one pass" in first.stdout
    assert "Converge the instance" not in first.stdout
    arguments_file = tmp_path_factory.mktemp("drift") / "arguments.json"
    recorded = run_playbook(
        "tests/integration/playbooks/drift_arguments.yml",
        extra_vars={"drift_arguments_file": str(arguments_file)},
    )
    assert recorded.returncode == 0, recorded.stdout[-4000:]
    return zone, json.loads(arguments_file.read_text())


def compare(local_aws, arguments):
    ec2 = AwsApi(FailingModule(), "ec2", client=local_aws.client("ec2"))
    rds = AwsApi(FailingModule(), "rds", client=local_aws.client("rds"))
    return aurora_stack.compare_stack(ec2, rds, arguments)


def out_of_band_changes(local_aws, zone):
    """(what is changed, how, what the comparison must name): instances first, the network's group last."""
    ec2, rds = local_aws.client("ec2"), local_aws.client("rds")
    sg_id = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [zone["vpc_id"]]}, {"Name": "group-name", "Values": [SG]}]
    )["SecurityGroups"][0]["GroupId"]

    def arn_of_instance():
        return rds.describe_db_instances(DBInstanceIdentifier=WRITER)["DBInstances"][0]["DBInstanceArn"]

    def arn_of_cluster():
        return rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["DBClusterArn"]

    def arn_of_pg():
        return rds.describe_db_cluster_parameter_groups(DBClusterParameterGroupName=PG)["DBClusterParameterGroups"][0][
            "DBClusterParameterGroupArn"
        ]

    def arn_of_subnets():
        return rds.describe_db_subnet_groups(DBSubnetGroupName=SUBNETS)["DBSubnetGroups"][0]["DBSubnetGroupArn"]

    owner = [{"Key": "Owner", "Value": "someone"}]
    return [
        (
            "a tag on the writer",
            lambda: rds.add_tags_to_resource(ResourceName=arn_of_instance(), Tags=owner),
            (f"instance {WRITER}", "tags"),
        ),
        (
            "the writer's promotion tier",
            lambda: rds.modify_db_instance(DBInstanceIdentifier=WRITER, PromotionTier=3, ApplyImmediately=True),
            (f"instance {WRITER}", "promotion_tier"),
        ),
        (
            "a reader the inventory does not want",
            lambda: rds.create_db_instance(
                DBInstanceIdentifier=READER,
                DBClusterIdentifier=CLUSTER,
                Engine="aurora-postgresql",
                DBInstanceClass="db.r6g.large",
            ),
            (f"cluster {CLUSTER}", "readers"),
        ),
        (
            "a cluster tag removed",
            lambda: rds.remove_tags_from_resource(ResourceName=arn_of_cluster(), TagKeys=["Environment"]),
            (f"cluster {CLUSTER}", "tags"),
        ),
        (
            "the backup retention",
            lambda: rds.modify_db_cluster(DBClusterIdentifier=CLUSTER, BackupRetentionPeriod=5, ApplyImmediately=True),
            (f"cluster {CLUSTER}", "backup_retention_period"),
        ),
        (
            "a parameter group tag",
            lambda: rds.add_tags_to_resource(ResourceName=arn_of_pg(), Tags=owner),
            (f"parameter group {PG}", "tags"),
        ),
        (
            "TLS no longer forced",
            lambda: rds.modify_db_cluster_parameter_group(
                DBClusterParameterGroupName=PG,
                Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}],
            ),
            (f"parameter group {PG}", "parameters"),
        ),
        (
            "a subnet group tag",
            lambda: rds.add_tags_to_resource(ResourceName=arn_of_subnets(), Tags=owner),
            (f"DB subnet group {SUBNETS}", "tags"),
        ),
        (
            "a security group tag",
            lambda: ec2.create_tags(Resources=[sg_id], Tags=owner),
            (f"security group {SG}", "tags"),
        ),
        (
            "egress opened to the world",
            lambda: ec2.authorize_security_group_egress(
                GroupId=sg_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
            ),
            (f"security group {SG}", "egress"),
        ),
        (
            "SSH admitted from the VPC",
            lambda: ec2.authorize_security_group_ingress(
                GroupId=sg_id,
                IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
                ],
            ),
            (f"security group {SG}", "ingress"),
        ),
    ]


def test_the_stack_created_in_one_pass_is_what_the_converge_tasks_would_build(dev, run_playbook):
    full = run_playbook("playbooks/provision.yml", extra_vars={"aurora_cluster_drift_check": False})
    assert full.returncode == 0, full.stdout[-4000:]
    assert full.recap["vitality-dev"]["changed"] == 0, full.stdout[-4000:]
    assert "Converge the instance" in full.stdout


def test_each_out_of_band_change_is_found_and_one_run_repairs_them_all(dev, recorded_aws, run_playbook):
    zone, arguments = dev
    found, drift, unchecked = compare(recorded_aws, arguments)
    assert (drift, unchecked) == ([], []), "the freshly converged stack must be in sync"
    for what, change, expected in out_of_band_changes(recorded_aws, zone):
        change()
        found, drift, unchecked = compare(recorded_aws, arguments)
        assert unchecked == [], what
        assert [(d["resource"], d["attribute"]) for d in drift] == [expected], what

    repaired = run_playbook("playbooks/provision.yml")
    assert repaired.returncode == 0, repaired.stdout[-5000:]
    assert repaired.recap["vitality-dev"]["changed"] > 0
    found, drift, unchecked = compare(recorded_aws, arguments)
    assert (drift, unchecked) == ([], []), drift
    rds = recorded_aws.client("rds")
    assert [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]] == [WRITER]
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=PG, Source="user")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in params} == {"rds.force_ssl": "1"}
    assert found["writer"] == WRITER and found["security_group_id"]


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_rerun_with_nothing_to_do_is_at_most_ten_reads(dev, recorded_aws, run_playbook, check):
    recorded_aws.record_from_now()
    again = run_playbook("playbooks/provision.yml", check=check)
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.recap["vitality-dev"]["changed"] == 0, again.stdout[-4000:]
    assert "no change" in again.stdout
    actions = [action for action, _params in recorded_aws.calls()]
    assert 0 < len(actions) <= 10, actions
    assert [a for a in actions if not a.startswith(READ_PREFIXES)] == []
