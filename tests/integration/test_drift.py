"""Out-of-band changes on a provisioned dev stack: one plan finds them all, one run repairs them all.

A dev stack is provisioned once for the module (through tests/aws_proxy.py, which records every AWS call
of a run, whatever its protocol; a call is mutating unless its operation is a Describe*/List*/Get*). Its
state is read back with boto3 straight from the local AWS (never through the proxy): the fault-free state.

Then several changes are made behind the role's back with boto3, each on a different resource: SSH
admitted to the database security group, a tag added on the DB subnet group, a tag removed from the
parameter group, TLS no longer forced by the parameter group, the backup retention shortened, a reader
the inventory does not want created, and the writer role moved onto it by a failover. One ``--check`` run
must name every one of them in its plan (each line asserted, in the plan line format of
plugins/module_utils/plan.py) and make no mutating call; ONE real run must then make exactly the planned
calls, after which the state read back equals the fault-free state; the next run has nothing to do
(changed=0, the plan "no change").

A dev re-run with nothing to do, a real run and a ``--check`` alike, must make at most ten AWS calls,
all of them reads.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.vitality.aurora.plugins.module_utils.plan import unnumbered
from aws_proxy import AwsProxy
from dev_stack_checks import assert_dev_stack
from local_aws import LocalAws, printed_plan
from local_aws import run_playbook as run_local

PLAYBOOK = "playbooks/provision.yml"
INVENTORY = "inventories/dev"
HOST = "vitality-dev"
CLUSTER = "vitality-dev-aurora"
WRITER = "vitality-dev-aurora-writer"
READER = "vitality-dev-aurora-reader-1"
SG = "vitality-dev-db"
SUBNETS = "vitality-dev-db-subnets"
PG = "vitality-dev-aurora-pg16"
READ_PREFIXES = ("Describe", "List", "Get")
CHECK_HEADER = "Plan (check mode: nothing was changed)"


# --- fixtures: one recorded local AWS, one proxy, one dev stack ------------------------------------


@pytest.fixture(scope="module")
def module_aws():
    """A local AWS of this module's own (the stack is shared by its tests, in order)."""
    with LocalAws() as aws:
        yield aws


@pytest.fixture(scope="module")
def proxy(module_aws):
    with AwsProxy(module_aws.endpoint_url) as running:
        yield running


def mutating(calls):
    """The operation of every mutating call, in order (a REST call the proxy cannot name counts as mutating)."""
    return [
        call.operation or f"<unnamed {call.service} call>"
        for call in calls
        if not (call.operation or "").startswith(READ_PREFIXES)
    ]


def planned_calls(plan):
    return [call for action in plan["actions"] for call in action["calls"]]


class Dev:
    """The provisioned dev stack and the runs made on it, each through the proxy."""

    def __init__(self, aws, proxy, zone, tmp):
        self.aws = aws
        self.proxy = proxy
        self.front = proxy.front(aws)
        self.zone = zone
        self.tmp = tmp
        self.count = 0

    def run(self, check=False, plan_file=False):
        """(result, every call of the run, the plan document written or None)."""
        self.count += 1
        extra_vars = {}
        output = self.tmp / f"plan-{self.count}.json"
        if plan_file:
            extra_vars["aurora_cluster_plan_output_file"] = str(output)
        self.proxy.clear_calls()
        result = run_local(PLAYBOOK, INVENTORY, local_aws=self.front, extra_vars=extra_vars, check=check)
        plan = json.loads(output.read_text()) if plan_file and output.exists() else None
        return result, self.proxy.calls, plan

    # --- reading back, straight from the local AWS (not through the proxy) ------------------------
    def security_group(self):
        ec2 = self.aws.client("ec2")
        groups = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [self.zone["vpc_id"]]}, {"Name": "group-name", "Values": [SG]}]
        )["SecurityGroups"]
        assert len(groups) == 1, groups
        return groups[0]

    def arn(self, kind):
        rds = self.aws.client("rds")
        if kind == "subnet_group":
            return rds.describe_db_subnet_groups(DBSubnetGroupName=SUBNETS)["DBSubnetGroups"][0]["DBSubnetGroupArn"]
        groups = rds.describe_db_cluster_parameter_groups(DBClusterParameterGroupName=PG)["DBClusterParameterGroups"]
        return groups[0]["DBClusterParameterGroupArn"]

    def rds_tags(self, arn):
        listed = self.aws.client("rds").list_tags_for_resource(ResourceName=arn)["TagList"]
        return {t["Key"]: t["Value"] for t in listed}

    def writer(self):
        cluster = self.aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
        return [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"]]

    def state(self):
        """What the out-of-band changes touch (and their neighbours), as comparable values."""
        rds = self.aws.client("rds")
        group = self.security_group()

        def rules(permissions):
            return sorted(
                json.dumps(
                    {
                        "protocol": p.get("IpProtocol"),
                        "ports": [p.get("FromPort"), p.get("ToPort")],
                        "cidrs": sorted(r["CidrIp"] for r in p.get("IpRanges", [])),
                        "ipv6": sorted(r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])),
                        "groups": sorted(g["GroupId"] for g in p.get("UserIdGroupPairs", [])),
                    },
                    sort_keys=True,
                )
                for p in permissions
            )

        cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
        instances = rds.describe_db_instances()["DBInstances"]
        params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=PG, Source="user")["Parameters"]
        return {
            "security group ingress": rules(group["IpPermissions"]),
            "security group egress": rules(group["IpPermissionsEgress"]),
            "security group tags": {t["Key"]: t["Value"] for t in group.get("Tags", [])},
            "subnet group tags": self.rds_tags(self.arn("subnet_group")),
            "parameter group tags": self.rds_tags(self.arn("parameter_group")),
            "parameters": {p["ParameterName"]: p["ParameterValue"] for p in params},
            "backup retention": cluster["BackupRetentionPeriod"],
            "cluster parameter group": cluster["DBClusterParameterGroup"],
            "cluster tags": {t["Key"]: t["Value"] for t in cluster.get("TagList", [])},
            "members": sorted((m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in cluster["DBClusterMembers"]),
            "instances": {
                i["DBInstanceIdentifier"]: (i["DBInstanceClass"], i.get("PromotionTier"))
                for i in instances
                if i.get("DBClusterIdentifier") == CLUSTER
            },
        }


@pytest.fixture(scope="module")
def dev(module_aws, proxy, tmp_path_factory):
    zone = module_aws.reset_and_seed(("dev",))["dev"]
    stack = Dev(module_aws, proxy, zone, tmp_path_factory.mktemp("plans"))
    result, calls, plan = stack.run(plan_file=True)
    assert result.returncode == 0, str(result)[-6000:]
    assert mutating(calls) == planned_calls(plan), f"recorded {mutating(calls)} != planned {planned_calls(plan)}"
    assert_dev_stack(module_aws, zone)
    stack.fault_free = stack.state()
    return stack


# --- the changes made behind the role's back -------------------------------------------------------

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
OWNER = {"Key": "Owner", "Value": "someone"}


def change_out_of_band(dev):
    ec2, rds = dev.aws.client("ec2"), dev.aws.client("rds")
    ec2.authorize_security_group_ingress(GroupId=dev.security_group()["GroupId"], IpPermissions=[SSH])
    rds.add_tags_to_resource(ResourceName=dev.arn("subnet_group"), Tags=[OWNER])
    rds.remove_tags_from_resource(ResourceName=dev.arn("parameter_group"), TagKeys=["Project"])
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=PG,
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}],
    )
    rds.modify_db_cluster(DBClusterIdentifier=CLUSTER, BackupRetentionPeriod=5, ApplyImmediately=True)
    rds.create_db_instance(
        DBInstanceIdentifier=READER,
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    rds.failover_db_cluster(DBClusterIdentifier=CLUSTER, TargetDBInstanceIdentifier=READER)


# --- the tests -----------------------------------------------------------------------------------


def test_every_out_of_band_change_is_in_one_plan_and_one_run_repairs_them_all(dev):
    assert dev.fault_free["parameter group tags"].get("Project") == "vitality", dev.fault_free
    assert dev.fault_free["parameters"] == {"rds.force_ssl": "1"}
    assert dev.fault_free["backup retention"] == 1
    assert dev.fault_free["members"] == [(WRITER, True)]

    change_out_of_band(dev)
    changed = dev.state()
    assert dev.writer() == [READER]
    differing = sorted(key for key in changed if changed[key] != dev.fault_free[key])
    assert differing == [
        "backup retention",
        "instances",
        "members",
        "parameter group tags",
        "parameters",
        "security group ingress",
        "subnet group tags",
    ], differing

    # One --check run names every change, and changes nothing.
    checked, calls, plan = dev.run(check=True, plan_file=True)
    assert checked.returncode == 0, str(checked)[-6000:]
    assert mutating(calls) == [], mutating(calls)
    assert plan is not None, "the --check run wrote no plan"
    assert printed_plan(checked.stdout) == [CHECK_HEADER, *plan["lines"]]
    lines = [unnumbered(line) for line in plan["lines"]]
    assert [line.split(":", 1)[0] for line in plan["lines"]] == [
        f"1. DB subnet group {SUBNETS}",
        f"2. parameter group {PG}",
        f"3. parameter group {PG}",
        f"4. cluster {CLUSTER}",
        f"5. cluster {CLUSTER}",
        f"6. instance {READER}",
        f"7. security group {SG}",
    ], plan["lines"]
    assert lines[0] == f"DB subnet group {SUBNETS}: remove tags (tags.Owner someone -> (none)) [online]"
    # moto lists no parameter catalogue: every parameter change is planned pending-reboot (README).
    assert lines[1] == (
        f"parameter group {PG}: set parameters (parameters.rds.force_ssl 0 -> 1) [pending-reboot, next-restart]. "
        "static parameters take effect when each instance restarts"
    )
    assert lines[2] == f"parameter group {PG}: set tags (tags.Project (none) -> vitality) [online]"
    assert lines[3] == f"cluster {CLUSTER}: modify (backup_retention_period 5 -> 1) [online]"
    # The writer role goes back first, so the unwanted reader is deleted as a reader.
    assert lines[4] == (
        f"cluster {CLUSTER}: failover (writer {READER} -> {WRITER}) [failover] - writes pause while the writer "
        f"endpoint moves to {WRITER} (typically under 30 s). the writer role is back on the configured writer"
    )
    # Its impact is left to test_deleting_a_reader_the_writer_role_has_just_left_is_planned_online.
    assert lines[5].startswith(f"instance {READER}: delete (instance {READER} -> (none)) ["), lines[5]
    assert lines[5].endswith(
        f"] - connections to {READER} through the reader endpoint drop. beyond reader_count=0, highest-numbered first"
    ), lines[5]
    assert lines[6] == f"security group {SG}: revoke ingress (ingress rule tcp 22 cidr 10.0.0.0/8 -> (none)) [online]"
    assert [(a["runner"], a["calls"]) for a in plan["actions"]] == [
        ("subnet_group", ["RemoveTagsFromResource"]),
        ("stack", ["ModifyDBClusterParameterGroup"]),
        ("stack", ["AddTagsToResource"]),
        ("stack", ["ModifyDBCluster"]),
        ("stack", ["FailoverDBCluster"]),
        ("stack", ["DeleteDBInstance"]),
        ("security_group_revoke", ["RevokeSecurityGroupIngress"]),
    ], plan["actions"]
    assert dev.state() == changed

    # ONE real run makes exactly the planned calls and repairs them all.
    applied, calls, applied_plan = dev.run(plan_file=True)
    assert applied.returncode == 0, str(applied)[-6000:]
    assert applied.recap[HOST]["changed"] > 0
    assert applied_plan["lines"] == plan["lines"]
    assert mutating(calls) == planned_calls(plan), f"recorded {mutating(calls)} != planned {planned_calls(plan)}"
    assert dev.state() == dev.fault_free
    assert_dev_stack(dev.aws, dev.zone)

    # The next run has nothing to do.
    again, calls, _plan = dev.run()
    assert again.returncode == 0, str(again)[-6000:]
    assert again.recap[HOST]["changed"] == 0, again.stdout[-4000:]
    assert printed_plan(again.stdout) == ["Plan", "no change"], again.stdout[-4000:]
    assert mutating(calls) == [], mutating(calls)
    assert dev.state() == dev.fault_free


def test_deleting_a_reader_the_writer_role_has_just_left_is_planned_online(dev):
    rds = dev.aws.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=READER,
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    rds.failover_db_cluster(DBClusterIdentifier=CLUSTER, TargetDBInstanceIdentifier=READER)
    assert dev.writer() == [READER]
    try:
        checked, calls, plan = dev.run(check=True, plan_file=True)
        assert checked.returncode == 0, str(checked)[-6000:]
        assert mutating(calls) == [], mutating(calls)
        assert [(a["resource"], a["name"], a["change"]) for a in plan["actions"]] == [
            ("cluster", CLUSTER, "failover"),
            ("instance", READER, "delete"),
        ], plan["lines"]
        assert plan["lines"][1] == (
            f"2. instance {READER}: delete (instance {READER} -> (none)) [online] - connections to {READER} "
            "through the reader endpoint drop. beyond reader_count=0, highest-numbered first"
        )
    finally:
        repaired, _calls, _plan = dev.run()
        assert repaired.returncode == 0, str(repaired)[-6000:]
        assert dev.state() == dev.fault_free


@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_rerun_with_nothing_to_do_is_at_most_ten_reads(dev, check):
    again, calls, _plan = dev.run(check=check)
    assert again.returncode == 0, str(again)[-6000:]
    assert again.recap[HOST]["changed"] == 0, again.stdout[-4000:]
    header = CHECK_HEADER if check else "Plan"
    assert printed_plan(again.stdout) == [header, "no change"], again.stdout[-4000:]
    operations = [call.operation or f"<unnamed {call.service} call>" for call in calls]
    assert 0 < len(operations) <= 10, operations
    assert mutating(calls) == [], operations
    assert dev.state() == dev.fault_free
