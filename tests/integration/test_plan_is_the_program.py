"""The plan is the program: what a --check run plans is exactly what the real run does, call by call.

One prod stack (the inventory as it is, operations baseline included) is converged once for the whole
module; the day-2 scenarios then run on it in sequence, each chaining from the state the one before left
(``Settled`` holds the inventory changes kept so far). Each scenario:

1. ``--check`` with the scenario's variables and ``aurora_cluster_plan_output_file``: the plan document is
   read back (and validated against docs/plan-schema.json), no mutating AWS call is made, its lines are
   asserted;
2. the real run with the same variables: the mutating AWS calls, in order and by operation, are exactly
   the concatenation of the ``calls`` of the plan's actions, in order (the amazon.aws steps' calls
   included);
3. the end state is read back with boto3 (straight from the local AWS, never through the recording proxy);
4. a re-run plans "no change" and makes no mutating call.

Every call of a run goes through tests/aws_proxy.py (query, JSON and REST protocols alike: RDS, EC2, IAM,
KMS, SNS, CloudWatch, AWS Backup); a call is mutating unless its operation is a Describe*/List*/Get*. The prod
inventory has the CloudWatch alarms on: their thresholds follow the instance class in effect, so a class change
plans the memory and connections alarms' new thresholds after the instances' steps. One proxy on one
port serves the whole module: the endpoint is one of the planner's inputs, so a saved plan is only valid
against the endpoint it was made with. moto's own request recorder (RecordedAws) gives the values of the
query-protocol requests where a scenario needs them (ApplyImmediately, ApplyMethod).

What moto cannot show, and what is asserted instead (README, "The local AWS, and what it cannot show"):
moto answers no parameter catalogue, so every parameter change is planned and applied ``pending-reboot``
(the planner never guesses "dynamic"); moto applies an instance class or engine version change at once even
without ApplyImmediately, so for the deferred changes the recorded request's ApplyImmediately=false is what
is checked, beside the plan's maintenance-window timing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from local_aws import printed_plan
from local_aws import run_playbook as run_local

PLAYBOOK = "playbooks/provision.yml"
INVENTORY = "inventories/prod"
HOST = "vitality-prod"
CLUSTER = "vitality-prod-aurora"
WRITER = "vitality-prod-aurora-writer"
READER_1 = "vitality-prod-aurora-reader-1"
READER_2 = "vitality-prod-aurora-reader-2"
SG = "vitality-prod-db"
SG_DESCRIPTION = "vitality-prod Aurora PostgreSQL: from the application only"
SUBNETS = "vitality-prod-db-subnets"
PG = "vitality-prod-aurora-pg16"
ALARM_PREFIX = f"vitality.aurora/{CLUSTER}/"
READ_PREFIXES = ("Describe", "List", "Get")
CHECK_HEADER = "Plan (check mode: nothing was changed)"


# --- fixtures: one prod stack on the module's recorded local AWS and proxy (conftest.py) ----------------------


@pytest.fixture(scope="module")
def local_aws(recorded_aws):
    return recorded_aws


@dataclass
class Run:
    result: object
    calls: list
    plan: dict | None = None
    requests: list = field(default_factory=list)  # (Action, {param: value}) from moto's recorder

    @property
    def mutating(self):
        return mutating(self.calls)

    @property
    def out(self):
        return self.result.stdout + self.result.stderr


def mutating(calls):
    """The operation of every mutating call, in order (a REST call the proxy cannot name counts as mutating)."""
    return [
        call.operation or f"<unnamed {call.service} call>"
        for call in calls
        if not (call.operation or "").startswith(READ_PREFIXES)
    ]


def planned_calls(plan):
    return [call for action in plan["actions"] for call in action["calls"]]


def summary(plan):
    """(resource, name, change, impact, when) of each action, in order."""
    return [(a["resource"], a["name"], a["change"], a["impact"], a["when"]) for a in plan["actions"]]


class Stack:
    """The converged prod stack and the runs made on it (every one through the proxy)."""

    def __init__(self, aws, proxy, validator, tmp):
        self.aws = aws
        self.proxy = proxy
        self.front = proxy.front(aws)
        self.validator = validator
        self.tmp = tmp
        self.settled = {}  # the inventory changes kept by the scenarios so far
        self.count = 0

    def run(self, extra=None, check=False, plan_file=None, saved_plan=None):
        self.count += 1
        extra_vars = {**self.settled, **(extra or {})}
        output = None
        if plan_file:
            output = self.tmp / f"plan-{self.count}.json" if plan_file is True else Path(plan_file)
            extra_vars["aurora_cluster_plan_output_file"] = str(output)
        if saved_plan:
            extra_vars["aurora_cluster_plan_file"] = str(saved_plan)
        self.proxy.clear_calls()
        self.aws.record_from_now()
        result = run_local(PLAYBOOK, INVENTORY, local_aws=self.front, extra_vars=extra_vars, check=check)
        calls = self.proxy.calls
        plan = None
        if output is not None and output.exists():
            plan = json.loads(output.read_text())
            errors = sorted(self.validator.iter_errors(plan), key=str)
            assert not errors, [e.message for e in errors]
        return Run(result, calls, plan, self.aws.calls())

    def plan(self, extra=None):
        """--check with the plan written: nothing changes, the printed plan is the document's lines."""
        run = self.run(extra, check=True, plan_file=True)
        assert run.result.returncode == 0, str(run.result)[-6000:]
        assert run.mutating == [], run.mutating
        assert run.plan is not None, "the --check run wrote no plan"
        assert printed_plan(run.result.stdout) == [CHECK_HEADER] + (run.plan["lines"] or ["no change"])
        assert run.plan["changes"] == len(run.plan["actions"])
        return run

    def apply(self, extra=None, **kwargs):
        """The real run: it succeeds, its plan is printed as "Plan", its mutating calls are the plan's calls."""
        run = self.run(extra, plan_file=True, **kwargs)
        assert run.result.returncode == 0, str(run.result)[-6000:]
        assert printed_plan(run.result.stdout)[0] == "Plan"
        assert run.plan is not None
        return run

    def no_change(self, extra=None):
        run = self.run(extra)
        assert run.result.returncode == 0, str(run.result)[-6000:]
        assert printed_plan(run.result.stdout) == ["Plan", "no change"], run.result.stdout[-4000:]
        assert run.mutating == [], run.mutating
        assert run.result.recap[HOST]["changed"] == 0, run.result.stdout[-4000:]
        return run

    def scenario(self, extra=None, before_plan=None):
        """(plan run, apply run): --check, then the real run; the calls must be the planned calls."""
        if before_plan:
            before_plan()
        planned = self.plan(extra)
        applied = self.apply(extra)
        # The real run planned again from the same stack: the same steps.
        assert summary(applied.plan) == summary(planned.plan)
        assert applied.mutating == planned_calls(planned.plan), (
            f"recorded {applied.mutating} != planned {planned_calls(planned.plan)}"
        )
        assert applied.result.recap[HOST]["changed"] > 0
        return planned, applied

    # --- reading back, straight from the local AWS (not recorded) ---------------------------------
    def cluster(self):
        return self.aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]

    def writer(self):
        return [m["DBInstanceIdentifier"] for m in self.cluster()["DBClusterMembers"] if m["IsClusterWriter"]]

    def instances(self):
        listed = self.aws.client("rds").describe_db_instances()["DBInstances"]
        return {i["DBInstanceIdentifier"]: i for i in listed if i.get("DBClusterIdentifier") == CLUSTER}

    def security_group(self):
        ec2 = self.aws.client("ec2")
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [SG]}])["SecurityGroups"]
        assert len(groups) == 1
        return groups[0]

    def subnet_group_arn(self):
        rds = self.aws.client("rds")
        return rds.describe_db_subnet_groups(DBSubnetGroupName=SUBNETS)["DBSubnetGroups"][0]["DBSubnetGroupArn"]

    def subnet_group_tags(self):
        rds = self.aws.client("rds")
        return {
            t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=self.subnet_group_arn())["TagList"]
        }


@pytest.fixture(scope="module")
def prod(recorded_aws, proxy, validator, tmp_path_factory):
    recorded_aws.reset_and_seed()
    stack = Stack(recorded_aws, proxy, validator, tmp_path_factory.mktemp("plans"))
    first = stack.run(plan_file=True)
    assert first.result.returncode == 0, str(first.result)[-6000:]
    stack.first = first
    assert stack.writer() == [WRITER]
    assert sorted(stack.instances()) == sorted([WRITER, READER_1, READER_2])
    return stack


def app_group_id(stack):
    ec2 = stack.aws.client("ec2")
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["vitality-prod-app-sg"]}])
    return groups["SecurityGroups"][0]["GroupId"]


def threshold_changes():
    """(resource, name, change, impact, when) of the alarms a class change moves: memory and connections, the writer
    first."""
    return [
        ("alarm", f"{ALARM_PREFIX}{name}/{metric}", "change threshold", "online", "now")
        for name in (WRITER, READER_1, READER_2)
        for metric in ("FreeableMemory", "DatabaseConnections")
    ]


def alarm_thresholds(stack):
    found = stack.aws.client("cloudwatch").describe_alarms(AlarmNamePrefix=ALARM_PREFIX)["MetricAlarms"]
    return {a["AlarmName"][len(ALARM_PREFIX) :]: a["Threshold"] for a in found}


def request_values(run, action):
    """The recorded query-protocol requests of ``action``, in order."""
    return [params for name, params in run.requests if name == action]


# --- the first converge --------------------------------------------------------------------------


def test_first_converge_makes_exactly_the_planned_calls(prod):
    first = prod.first
    # prod's inventory builds the Aurora Global Database: the global cluster, then the secondary in us-west-2.
    assert [a["resource"] for a in first.plan["actions"] if a.get("region")] == [
        "secondary_key",
        "security_group",
        "subnet_group",
        "parameter_group",
        "cluster",
        "instance",
        # Its operations baseline, by the primary's rules: the topic's key, the topic, its subscriptions, its alarms.
        *["event_topic_key"] * 3,
        *["event_topic"] * 4,
        *["event_subscription"] * 2,
        *["alarm"] * 7,
    ]
    assert "global_cluster" in [a["resource"] for a in first.plan["actions"]]
    assert first.mutating == planned_calls(first.plan), (
        f"recorded {first.mutating} != planned {planned_calls(first.plan)}"
    )
    prod.no_change()


# --- 0. the Aurora Global Database's secondary (prod's inventory builds it) removed, confirmed -----------------
#
# The first converge above built the global cluster and its secondary in us-west-2, call for planned call. The
# scenarios after this one are about the cluster of the stack's Region (the global database's engine upgrades are
# tested in test_global_database), so the secondary is removed here, as a scenario of its own, and stays removed.

SECONDARY = "vitality-prod-us-west-2"


def test_0_the_secondary_removed_with_confirmation_detaches_then_deletes(prod):
    extra = {"aurora_cluster_secondary_region": "", "aurora_cluster_secondary_remove_confirm": SECONDARY}
    planned, applied = prod.scenario(extra)
    assert [(a["resource"], a["name"], a["change"], a.get("region")) for a in planned.plan["actions"]] == [
        # The Enhanced Monitoring role trusts the stack's Region's instances only again.
        ("monitoring_role", "vitality-prod-rds-monitoring", "update trust policy", None),
        ("cluster", SECONDARY, "detach from the global cluster", "us-west-2"),
        ("cluster", SECONDARY, "turn off deletion protection", "us-west-2"),
        ("instance", f"{SECONDARY}-reader-1", "delete", "us-west-2"),
        ("cluster", SECONDARY, "delete", "us-west-2"),
        ("cluster", CLUSTER, "detach from the global cluster", None),
        ("global_cluster", "vitality-prod-global", "delete", None),
        # Its subscriptions and alarms go with it; its topic (and the topic's key) are kept.
        ("event_subscription", f"{SECONDARY}-cluster-events", "delete", "us-west-2"),
        ("event_subscription", f"{SECONDARY}-instance-events", "delete", "us-west-2"),
        ("alarms", f"vitality.aurora/{SECONDARY}/*", "delete", "us-west-2"),
    ]
    assert prod.aws.client("rds", "us-west-2").describe_db_clusters()["DBClusters"] == []
    prod.settled.update(extra)
    prod.no_change()


# --- a. AWS moved the writer role ----------------------------------------------------------------


def test_a_writer_moved_by_aws_is_failed_back_first(prod):
    def aws_fails_over():
        prod.aws.client("rds").failover_db_cluster(DBClusterIdentifier=CLUSTER, TargetDBInstanceIdentifier=READER_1)
        assert prod.writer() == [READER_1]

    planned, applied = prod.scenario(before_plan=aws_fails_over)
    lines = planned.plan["lines"]
    assert lines[0].startswith(f"1. cluster {CLUSTER}: failover (writer {READER_1} -> {WRITER}) [failover]"), lines
    assert summary(planned.plan) == [("cluster", CLUSTER, "failover", "failover", "now")]
    assert applied.mutating == ["FailoverDBCluster"]
    assert [p.get("TargetDBInstanceIdentifier") for p in request_values(applied, "FailoverDBCluster")] == [WRITER]
    assert prod.writer() == [WRITER]
    prod.no_change()


# --- b. a static parameter, with the rolling reboot allowed ----------------------------------------


def test_b_static_parameter_rolls_a_reboot_over_the_cluster(prod):
    parameters = {"aurora_cluster_parameters": {"shared_preload_libraries": "pg_stat_statements"}}
    extra = {"aurora_cluster_allow_rolling_reboot": True, **parameters}
    planned, applied = prod.scenario(extra)
    # moto lists no parameter catalogue (no ApplyType): the planner cannot know the parameter is dynamic, so
    # it plans it as what AWS accepts for both kinds, pending-reboot (shared_preload_libraries is static on AWS).
    assert summary(planned.plan) == [
        ("parameter_group", PG, "set parameters", "pending-reboot", "next-restart"),
        ("instance", READER_1, "reboot", "reboot", "now"),
        ("instance", READER_2, "reboot", "reboot", "now"),
        ("cluster", CLUSTER, "failover", "failover", "now"),
        ("instance", WRITER, "reboot", "reboot", "now"),
        ("cluster", CLUSTER, "failover", "failover", "now"),
    ]
    lines = planned.plan["lines"]
    assert lines[0].startswith(
        f"1. parameter group {PG}: set parameters (parameters.shared_preload_libraries (none) -> pg_stat_statements) "
        "[pending-reboot, next-restart]"
    ), lines
    assert lines[3].startswith(f"4. cluster {CLUSTER}: failover (writer {WRITER} -> {READER_1}) [failover]"), lines
    assert lines[5].startswith(f"6. cluster {CLUSTER}: failover (writer {READER_1} -> {WRITER}) [failover]"), lines
    assert applied.mutating == [
        "ModifyDBClusterParameterGroup",
        "RebootDBInstance",
        "RebootDBInstance",
        "FailoverDBCluster",
        "RebootDBInstance",
        "FailoverDBCluster",
    ]
    assert [p.get("DBInstanceIdentifier") for p in request_values(applied, "RebootDBInstance")] == [
        READER_1,
        READER_2,
        WRITER,
    ]
    methods = [
        v for k, v in request_values(applied, "ModifyDBClusterParameterGroup")[0].items() if k.endswith("ApplyMethod")
    ]
    assert methods == ["pending-reboot"]
    listed = prod.aws.client("rds").describe_db_cluster_parameters(DBClusterParameterGroupName=PG, Source="user")
    assert {p["ParameterName"]: p["ParameterValue"] for p in listed["Parameters"]} == {
        "rds.force_ssl": "1",
        "shared_preload_libraries": "pg_stat_statements",
    }
    assert prod.writer() == [WRITER]
    # moto never reports a member pending-reboot, so nothing is left to reboot: no change.
    prod.no_change(extra)
    prod.settled.update(parameters)


# --- c. an instance class change held for the maintenance window -----------------------------------


def test_c_class_change_without_apply_immediately_waits_for_each_window(prod):
    # The rolling strategy (prod's inventory makes class changes by surge: scenario k).
    extra = {"aurora_cluster_instance_class": "db.r6g.xlarge", "aurora_cluster_instance_change_strategy": "rolling"}
    windows = {name: i["PreferredMaintenanceWindow"] for name, i in prod.instances().items()}
    planned, applied = prod.scenario(extra)
    assert summary(planned.plan) == [
        ("instance", READER_1, "modify", "reboot", "maintenance-window"),
        ("instance", READER_2, "modify", "reboot", "maintenance-window"),
        ("instance", WRITER, "modify", "writer-restart", "maintenance-window"),
    ]
    lines = planned.plan["lines"]
    for line, name in zip(lines, (READER_1, READER_2, WRITER), strict=True):
        assert "db_instance_class db.r6g.large -> db.r6g.xlarge" in line, line
        assert f"{name} restarts in its maintenance window {windows[name]}" in line, line
    assert "[writer-restart, maintenance-window]" in lines[2] and "without a failover" in lines[2]
    assert all("failover" not in a["change"] for a in planned.plan["actions"])
    assert applied.mutating == ["ModifyDBInstance"] * 3
    modified = request_values(applied, "ModifyDBInstance")
    assert [p["DBInstanceIdentifier"] for p in modified] == [READER_1, READER_2, WRITER]
    assert [p.get("ApplyImmediately", "false") for p in modified] == ["false"] * 3
    # moto applies the class at once (AWS would in each window); the writer never moved.
    assert {n: i["DBInstanceClass"] for n, i in prod.instances().items()} == dict.fromkeys(windows, "db.r6g.xlarge")
    assert prod.writer() == [WRITER]
    # The alarms follow the class in effect: still db.r6g.large's thresholds when this run planned. The next run,
    # on AWS the one after each window, finds the new class and moves them, online, and only them.
    assert alarm_thresholds(prod)[f"{WRITER}/FreeableMemory"] == 1717986918.0
    planned, applied = prod.scenario(extra)
    assert summary(planned.plan) == threshold_changes()
    assert applied.mutating == ["PutMetricAlarm"] * 6
    thresholds = alarm_thresholds(prod)
    assert thresholds[f"{WRITER}/FreeableMemory"] == 3435973836.0  # 10 % of 32 GiB
    assert thresholds[f"{READER_2}/DatabaseConnections"] == 2883.0  # 80 % of 3604
    prod.no_change(extra)
    prod.settled.update(aurora_cluster_instance_class="db.r6g.xlarge")


# --- d. an instance class change applied now: the rolling change -----------------------------------


def test_d_class_change_applied_immediately_rolls_one_instance_at_a_time(prod):
    extra = {
        "aurora_cluster_instance_class": "db.r6g.2xlarge",
        "aurora_cluster_apply_immediately": True,
        "aurora_cluster_instance_change_strategy": "rolling",
    }
    planned, applied = prod.scenario(extra)
    # Applied now, the class change moves the alarms' thresholds in the same run, after the rolling change.
    assert (
        summary(planned.plan)
        == [
            ("instance", READER_1, "modify", "reboot", "now"),
            ("instance", READER_2, "modify", "reboot", "now"),
            ("cluster", CLUSTER, "failover", "failover", "now"),
            ("instance", WRITER, "modify", "reboot", "now"),
            ("cluster", CLUSTER, "failover", "failover", "now"),
        ]
        + threshold_changes()
    )
    lines = planned.plan["lines"]
    assert lines[2].startswith(f"3. cluster {CLUSTER}: failover (writer {WRITER} -> {READER_1}) [failover]"), lines
    assert lines[4].startswith(f"5. cluster {CLUSTER}: failover (writer {READER_1} -> {WRITER}) [failover]"), lines
    assert (
        applied.mutating
        == [
            "ModifyDBInstance",
            "ModifyDBInstance",
            "FailoverDBCluster",
            "ModifyDBInstance",
            "FailoverDBCluster",
        ]
        + ["PutMetricAlarm"] * 6
    )
    thresholds = alarm_thresholds(prod)
    assert thresholds[f"{READER_1}/FreeableMemory"] == 6871947673.0  # 10 % of 64 GiB
    assert thresholds[f"{WRITER}/DatabaseConnections"] == 4000.0  # 80 % of the 5000 cap
    targets = [
        (name, p.get("DBInstanceIdentifier") or p.get("TargetDBInstanceIdentifier"))
        for name, p in applied.requests
        if name in ("ModifyDBInstance", "FailoverDBCluster")
    ]
    assert targets == [
        ("ModifyDBInstance", READER_1),
        ("ModifyDBInstance", READER_2),
        ("FailoverDBCluster", READER_1),
        ("ModifyDBInstance", WRITER),
        ("FailoverDBCluster", WRITER),
    ]
    assert {n: i["DBInstanceClass"] for n, i in prod.instances().items()} == dict.fromkeys(
        (WRITER, READER_1, READER_2), "db.r6g.2xlarge"
    )
    assert prod.writer() == [WRITER]
    prod.no_change(extra)
    prod.settled.update(aurora_cluster_instance_class="db.r6g.2xlarge")


# --- e. the port: open the new one first, close the old one last -----------------------------------


def test_e_port_change_opens_the_new_port_before_and_closes_the_old_after(prod):
    extra = {"aurora_cluster_port": 5433}
    planned, applied = prod.scenario(extra)
    assert summary(planned.plan) == [
        ("security_group", SG, "allow ingress", "online", "now"),
        ("cluster", CLUSTER, "modify", "all-instances-restart", "now"),
        ("security_group", SG, "revoke ingress", "online", "now"),
    ]
    lines = planned.plan["lines"]
    assert "tcp 5433 group" in lines[0], lines
    assert lines[1].startswith(f"2. cluster {CLUSTER}: modify (port 5432 -> 5433) [all-instances-restart]"), lines
    assert "tcp 5432 group" in lines[2], lines
    assert [a["runner"] for a in planned.plan["actions"]] == ["security_group", "stack", "security_group_revoke"]
    assert applied.mutating == ["AuthorizeSecurityGroupIngress", "ModifyDBCluster", "RevokeSecurityGroupIngress"]
    assert prod.cluster()["Port"] == 5433
    group = prod.security_group()
    assert group["Description"] == SG_DESCRIPTION
    ports = [(p.get("FromPort"), p.get("ToPort")) for p in group["IpPermissions"]]
    assert ports == [(5433, 5433)], group["IpPermissions"]
    assert [p.get("IpRanges") for p in group["IpPermissions"]] == [[]]
    assert [[pair["GroupId"] for pair in p["UserIdGroupPairs"]] for p in group["IpPermissions"]] == [
        [app_group_id(prod)]
    ]
    again = prod.no_change(extra)
    for run in (applied, again):
        warnings = [line for line in run.out.splitlines() if "WARNING" in line]
        assert not [line for line in warnings if "description" in line.lower()], warnings
    prod.settled.update(extra)


# --- f. a minor engine upgrade -------------------------------------------------------------------


def test_f_minor_upgrade_restarts_every_instance_together(prod):
    assert prod.cluster()["EngineVersion"] == "16.6"  # the role's default; the inventory does not set it
    extra = {"aurora_cluster_engine_version": "16.8"}
    planned, applied = prod.scenario(extra)
    # Prod holds changes for the maintenance window (aurora_cluster_apply_immediately=false).
    assert summary(planned.plan) == [("cluster", CLUSTER, "modify", "all-instances-restart", "maintenance-window")]
    assert planned.plan["lines"][0].startswith(
        f"1. cluster {CLUSTER}: modify (engine_version 16.6 -> 16.8) [all-instances-restart, maintenance-window]"
    ), planned.plan["lines"]
    assert applied.mutating == ["ModifyDBCluster"]
    request = request_values(applied, "ModifyDBCluster")[0]
    assert request["EngineVersion"] == "16.8"
    assert request.get("ApplyImmediately", "false") == "false"
    assert prod.cluster()["EngineVersion"] == "16.8"  # moto upgrades at once
    prod.no_change(extra)
    prod.settled.update(extra)


# --- g. a major upgrade that is not allowed --------------------------------------------------------


def test_g_major_upgrade_without_allow_fails_before_any_change(prod):
    extra = {"aurora_cluster_engine_version": "17.4"}
    groups_before = sorted(
        g["DBClusterParameterGroupName"]
        for g in prod.aws.client("rds").describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    )
    for check in (True, False):
        run = prod.run(extra, check=check, plan_file=True)
        assert run.result.returncode != 0, str(run.result)[-4000:]
        assert run.mutating == [], run.mutating
        assert run.plan is None  # the planner stopped: no plan to review or to apply
        assert (
            "aurora_cluster_engine_version=17.4: cluster vitality-prod-aurora runs 16.8, the inventory says 17.4"
            in run.out
        )
        assert "impossible-in-place" in run.out
        assert "aurora_cluster_allow_major_version_upgrade=true" in run.out
        assert "Nothing was changed." in run.out
    groups_after = sorted(
        g["DBClusterParameterGroupName"]
        for g in prod.aws.client("rds").describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    )
    assert groups_after == groups_before == [PG]
    assert prod.cluster()["EngineVersion"] == "16.8"
    prod.no_change()


# --- h. tags changed out of band on the security group and the subnet group -------------------------


def tag_out_of_band(prod, tags):
    prod.aws.client("ec2").create_tags(Resources=[prod.security_group()["GroupId"]], Tags=tags)
    prod.aws.client("rds").add_tags_to_resource(ResourceName=prod.subnet_group_arn(), Tags=tags)


def test_h_a_tag_changed_on_the_security_group_and_subnet_group_is_set_back(prod):
    planned, applied = prod.scenario(
        before_plan=lambda: tag_out_of_band(prod, [{"Key": "Project", "Value": "elsewhere"}])
    )
    assert summary(planned.plan) == [
        ("security_group", SG, "set tags", "online", "now"),
        ("subnet_group", SUBNETS, "set tags", "online", "now"),
    ]
    assert planned.plan["lines"] == [
        f"1. security group {SG}: set tags (tags.Project elsewhere -> vitality) [online]",
        f"2. DB subnet group {SUBNETS}: set tags (tags.Project elsewhere -> vitality) [online]",
    ]
    assert [a["runner"] for a in planned.plan["actions"]] == ["security_group", "subnet_group"]
    assert applied.mutating == ["CreateTags", "AddTagsToResource"]
    assert {t["Key"]: t["Value"] for t in prod.security_group()["Tags"]}["Project"] == "vitality"
    assert prod.subnet_group_tags()["Project"] == "vitality"
    prod.no_change()


def test_h_tags_set_and_removed_on_the_security_group_and_subnet_group_in_one_run(prod):
    tag_out_of_band(prod, [{"Key": "Project", "Value": "elsewhere"}, {"Key": "Owner", "Value": "someone"}])
    planned = prod.plan()
    assert planned.plan["lines"] == [
        # In the order amazon.aws.ec2_security_group makes the calls: DeleteTags, then CreateTags.
        f"1. security group {SG}: remove tags (tags.Owner someone -> (none)) [online]",
        f"2. security group {SG}: set tags (tags.Project elsewhere -> vitality) [online]",
        f"3. DB subnet group {SUBNETS}: set tags (tags.Project elsewhere -> vitality) [online]",
        f"4. DB subnet group {SUBNETS}: remove tags (tags.Owner someone -> (none)) [online]",
    ]
    applied = prod.apply()
    # The end state is right, and the next run has nothing to do (the scenarios after this one rely on it)...
    tags = {t["Key"]: t["Value"] for t in prod.security_group()["Tags"]}
    assert tags["Project"] == "vitality" and "Owner" not in tags
    tags = prod.subnet_group_tags()
    assert tags["Project"] == "vitality" and "Owner" not in tags
    prod.no_change()
    # ...but the calls were not made in the planned order.
    assert applied.mutating == planned_calls(planned.plan), (
        f"recorded {applied.mutating} != planned {planned_calls(planned.plan)}"
    )


# --- i. fail the check when something would change ----------------------------------------------


def test_i_fail_on_change_fails_the_check_only_when_something_would_change(prod):
    quiet = prod.run({"aurora_cluster_fail_on_change": True}, check=True)
    assert quiet.result.returncode == 0, str(quiet.result)[-4000:]
    assert quiet.mutating == []

    loud = prod.run({"aurora_cluster_fail_on_change": True, "aurora_cluster_backup_retention_period": 21}, check=True)
    assert loud.result.returncode != 0, str(loud.result)[-4000:]
    assert loud.mutating == []
    assert "aurora_cluster_fail_on_change=true: the plan has 1 step(s), the worst online; nothing was changed." in (
        loud.out
    )
    assert f"cluster {CLUSTER}: modify (backup_retention_period 14 -> 21) [online]" in loud.out
    assert prod.cluster()["BackupRetentionPeriod"] == 14


# --- j. a saved plan: applied as reviewed, refused once the stack has moved -------------------------


def test_j_saved_plan_is_applied_and_a_stale_one_is_refused(prod):
    extra = {"aurora_cluster_backup_retention_period": 21}
    saved = prod.tmp / "reviewed-plan.json"
    reviewed = prod.run(extra, check=True, plan_file=saved)
    assert reviewed.result.returncode == 0, str(reviewed.result)[-4000:]
    assert reviewed.mutating == []
    assert summary(reviewed.plan) == [("cluster", CLUSTER, "modify", "online", "now")]

    applied = prod.run(extra, saved_plan=saved)
    assert applied.result.returncode == 0, str(applied.result)[-6000:]
    assert applied.mutating == planned_calls(reviewed.plan) == ["ModifyDBCluster"]
    assert prod.cluster()["BackupRetentionPeriod"] == 21
    prod.no_change(extra)
    prod.settled.update(extra)

    later = {"aurora_cluster_backup_retention_period": 30}
    stale = prod.tmp / "stale-plan.json"
    made = prod.run(later, check=True, plan_file=stale)
    assert made.result.returncode == 0, str(made.result)[-4000:]
    assert made.plan["lines"] == [f"1. cluster {CLUSTER}: modify (backup_retention_period 21 -> 30) [online]"]
    prod.aws.client("rds").modify_db_cluster(
        DBClusterIdentifier=CLUSTER, BackupRetentionPeriod=7, ApplyImmediately=True
    )
    refused = prod.run(later, saved_plan=stale)
    assert refused.result.returncode != 0, str(refused.result)[-4000:]
    assert refused.mutating == []
    assert "The saved plan no longer matches the stack or the inventory, so nothing was changed" in refused.out
    assert "the stack has changed since it was made" in refused.out
    assert "the inventory's settings have changed" not in refused.out
    assert prod.cluster()["BackupRetentionPeriod"] == 7


# --- k. an instance class change by surge (prod's strategy) ---------------------------------------


def test_k_class_change_by_surge_creates_beside_fails_over_once_and_deletes_the_old(prod):
    extra = {"aurora_cluster_instance_class": "db.r6g.xlarge"}
    new_writer, new_readers = f"{WRITER}-b", [f"{CLUSTER}-reader-b-1", f"{CLUSTER}-reader-b-2"]
    planned, applied = prod.scenario(extra)
    # One line per mutating call of the stack's own steps; the alarms move to the new names after them (the cluster's
    # backup retention, set back by hand in j, is set again first).
    stack_steps = [s for s in summary(planned.plan) if s[0] == "instance" or s[2] == "failover"]
    assert stack_steps == [
        ("instance", new_writer, "create", "online", "now"),
        ("instance", new_readers[0], "create", "online", "now"),
        ("instance", new_readers[1], "create", "online", "now"),
        ("cluster", CLUSTER, "failover", "failover", "now"),
        ("instance", READER_2, "delete", "online", "now"),
        ("instance", READER_1, "delete", "online", "now"),
        ("instance", WRITER, "delete", "online", "now"),
    ]
    first = next(line for line in planned.plan["lines"] if f"instance {new_writer}: create" in line)
    assert "strategy surge: 3 new instance(s) beside the 3 old one(s)" in first, first
    stack_calls = ("CreateDBInstance", "FailoverDBCluster", "DeleteDBInstance")
    assert [c for c in applied.mutating if c in stack_calls] == (
        ["CreateDBInstance"] * 3 + ["FailoverDBCluster"] + ["DeleteDBInstance"] * 3
    )
    assert [p["DBInstanceIdentifier"] for p in request_values(applied, "CreateDBInstance")] == [
        new_writer,
        *new_readers,
    ]
    assert [p.get("TargetDBInstanceIdentifier") for p in request_values(applied, "FailoverDBCluster")] == [new_writer]
    assert prod.writer() == [new_writer]
    assert {n: i["DBInstanceClass"] for n, i in prod.instances().items()} == dict.fromkeys(
        [new_writer, *new_readers], "db.r6g.xlarge"
    )
    prod.no_change(extra)
