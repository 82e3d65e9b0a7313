"""Day-2 changes on prod: edit the variables, re-run provision.yml, assert what the run did and the end state.

Each change is checked four ways: the plan the role prints ("Show the plan, each step with its impact": each
step with its impact and, when it is not now, when it happens), the AWS calls moto recorded (which, in what
order, with which values), the end state read back with boto3, and a re-run that plans "no change" and
changes nothing. The scenarios run in sequence on one prod stack, each from the state the one before left.

The operations baseline (monitoring, backup plan, event notifications, alarms) and reader autoscaling are off here:
these runs are about the topology, the cluster and its instances; test_prod_baseline covers the baseline and its
day-2 changes, test_autoscaling and test_prod_baseline the autoscaler's minimum following the reader count.
test_plan_is_the_program asserts, for other scenarios, that the calls made are exactly the plan's calls.
"""

import json
import re

import pytest

from local_aws import run_playbook as run_local

CLUSTER = "vitality-prod-aurora"
WRITER = "vitality-prod-aurora-writer"
PREFIX = "vitality-prod-aurora-reader-"
HOST = "vitality-prod"
CHECK_HEADER = "Plan (check mode: nothing was changed)"
READS = ("Describe", "List", "Get")
WITHOUT_BASELINE = {
    "aurora_cluster_monitoring_interval": 0,
    "aurora_cluster_backup_plan_enabled": False,
    "aurora_cluster_backup_copy_region": "",
    "aurora_cluster_event_notifications_enabled": False,
    "aurora_cluster_alarms_enabled": False,
    "aurora_cluster_autoscaling_enabled": False,
    # These scenarios are the rolling strategy's (prod's inventory makes instance changes by surge: test_surge.py).
    "aurora_cluster_instance_change_strategy": "rolling",
    # Day 2 of the cluster of the stack's Region (an engine upgrade of a global database is refused:
    # test_global_database.py covers prod's secondary).
    "aurora_cluster_secondary_region": "",
}
# "<order>. <label> <name>: <change> (<details>) [<impact>(, <when>)]", without what follows the impact.
STEP = re.compile(
    r"^\d+\. .*? \[(?:online|pending-reboot|reboot|failover|writer-restart|all-instances-restart|replacement"
    r"|impossible-in-place)(?:, (?:maintenance-window|next-restart))?\]"
)


@pytest.fixture(scope="module")
def local_aws(recorded_aws):
    return recorded_aws


@pytest.fixture(scope="module")
def run_playbook(recorded_aws):
    def run(playbook, inventory, extra_vars=None, **kwargs):
        extra_vars = {**WITHOUT_BASELINE, **(extra_vars or {})}
        return run_local(playbook, inventory, local_aws=recorded_aws, extra_vars=extra_vars, **kwargs)

    return run


@pytest.fixture(scope="module")
def prod(local_aws, run_playbook):
    local_aws.reset_and_seed()
    first = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert first.returncode == 0, first.stdout[-4000:]

    def converge(**extra_vars):
        local_aws.record_from_now()
        result = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=extra_vars)
        assert result.returncode == 0, result.stdout[-5000:]
        return result

    return converge


def members(local_aws):
    rds = local_aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    instances = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    writer = [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"] if m["IsClusterWriter"]]
    return cluster, instances, writer


def plan_of(result):
    """The list the role prints in 'Show the plan, each step with its impact': the header, then each step's line."""
    text = result.stdout.split("Show the plan, each step with its impact", 1)[1]
    text = text[text.index("{") : text.index("\n}\n") + 2]
    return json.loads(text)["msg"]


def steps(plan):
    """The header, then each step up to its impact: the unavailability and note after it are left off."""
    heads = [plan[0]]
    for line in plan[1:]:
        match = STEP.match(line)
        assert match, f"not a plan step: {line!r}"
        heads.append(match.group(0))
    return heads


def done_of(result):
    """The list the role prints in 'Report each planned step as done'."""
    text = result.stdout.split("Report each planned step as done", 1)[1]
    text = text[text.index("{") : text.index("\n}\n") + 2]
    return json.loads(text)["msg"]


def target(params):
    return params.get("DBInstanceIdentifier") or params.get("TargetDBInstanceIdentifier")


def mutating(calls):
    """(Action, the instance it names) of each recorded call that is not a read, in order."""
    return [(action, target(params)) for action, params in calls if not action.startswith(READS)]


def changed_without_reading_back(calls):
    """Each instance change or failover after which the run went on to another change without reading back
    what it changed (the wait for that instance, or for the cluster with its new writer)."""
    changes = [i for i, (action, unused_params) in enumerate(calls) if not action.startswith(READS)]
    missing = []
    for here, following in zip(changes, changes[1:] + [len(calls)], strict=True):
        action, params = calls[here]
        between = calls[here + 1 : following]
        if action == "ModifyDBInstance":
            read = ("DescribeDBInstances", "DBInstanceIdentifier", params["DBInstanceIdentifier"])
        elif action == "FailoverDBCluster":
            read = ("DescribeDBClusters", "DBClusterIdentifier", CLUSTER)
        else:
            continue
        if not any(name == read[0] and p.get(read[1]) == read[2] for name, p in between):
            missing.append((action, target(params)))
    return missing


def assert_no_change(result, local_aws, header="Plan"):
    assert result.returncode == 0, result.stdout[-5000:]
    assert plan_of(result)[:2] == [header, "no change"], result.stdout[-5000:]
    assert mutating(local_aws.calls()) == []
    assert result.recap[HOST]["changed"] == 0, result.stdout[-5000:]


def test_instance_class_change_rolls_and_keeps_the_writer(prod, local_aws):
    changed = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_apply_immediately=True)
    calls = local_aws.calls()
    # Readers one at a time, then the writer role moves to a changed reader, then the former writer
    # changes, then it is the writer again. Nothing else changes.
    assert mutating(calls) == [
        ("ModifyDBInstance", f"{PREFIX}1"),
        ("ModifyDBInstance", f"{PREFIX}2"),
        ("FailoverDBCluster", f"{PREFIX}1"),
        ("ModifyDBInstance", WRITER),
        ("FailoverDBCluster", WRITER),
    ]
    # Never two at once: after each change the run reads back what it changed (waits for it) before the next.
    assert changed_without_reading_back(calls) == []
    modified = [params for action, params in calls if action == "ModifyDBInstance"]
    assert [(p["DBInstanceClass"], p.get("ApplyImmediately")) for p in modified] == [("db.r6g.xlarge", "true")] * 3
    cluster, instances, writer = members(local_aws)
    assert {name: i["DBInstanceClass"] for name, i in instances.items()} == {
        WRITER: "db.r6g.xlarge",
        f"{PREFIX}1": "db.r6g.xlarge",
        f"{PREFIX}2": "db.r6g.xlarge",
    }
    assert writer == [WRITER]
    plan = plan_of(changed)
    change = "modify (db_instance_class db.r6g.large -> db.r6g.xlarge)"
    assert steps(plan) == [
        "Plan",
        f"1. instance {PREFIX}1: {change} [reboot]",
        f"2. instance {PREFIX}2: {change} [reboot]",
        f"3. cluster {CLUSTER}: failover (writer {WRITER} -> {PREFIX}1) [failover]",
        # By then a reader: it restarts while reader-1 takes the writes.
        f"4. instance {WRITER}: {change} [reboot]",
        f"5. cluster {CLUSTER}: failover (writer {PREFIX}1 -> {WRITER}) [failover]",
    ]
    assert "writes pause" in plan[3] and "the writer role goes back to the configured writer" in plan[5]
    assert done_of(changed) == ["Done, in the plan order"] + [f"{line} - done" for line in plan[1:]]
    again = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_apply_immediately=True)
    assert_no_change(again, local_aws)


def test_reader_count_up_then_down_removes_the_highest_numbered(prod, local_aws):
    up = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_reader_count=3)
    assert mutating(local_aws.calls()) == [("CreateDBInstance", f"{PREFIX}3")]
    cluster, instances, writer = members(local_aws)
    assert sorted(instances) == sorted([WRITER, f"{PREFIX}1", f"{PREFIX}2", f"{PREFIX}3"])
    assert instances[f"{PREFIX}3"]["PromotionTier"] == 3
    assert instances[f"{PREFIX}3"]["DBInstanceClass"] == "db.r6g.xlarge"
    zone = instances[f"{PREFIX}3"]["AvailabilityZone"]
    assert zone != instances[WRITER]["AvailabilityZone"]
    assert plan_of(up) == [
        "Plan",
        f"1. instance {PREFIX}3: create (db_instance_class (none) -> db.r6g.xlarge) [online]. reader in {zone}",
    ]

    down = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_reader_count=1)
    # Highest-numbered first; the writer and reader-1 are untouched.
    assert mutating(local_aws.calls()) == [("DeleteDBInstance", f"{PREFIX}3"), ("DeleteDBInstance", f"{PREFIX}2")]
    cluster, instances, writer = members(local_aws)
    assert sorted(instances) == sorted([WRITER, f"{PREFIX}1"])
    assert writer == [WRITER]
    plan = plan_of(down)
    assert steps(plan) == [
        "Plan",
        f"1. instance {PREFIX}3: delete (instance {PREFIX}3 -> (none)) [online]",
        f"2. instance {PREFIX}2: delete (instance {PREFIX}2 -> (none)) [online]",
    ]
    assert all("beyond reader_count=1, highest-numbered first" in line for line in plan[1:]), plan
    again = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_reader_count=1)
    assert_no_change(again, local_aws)


def test_cluster_settings_parameters_and_tags_converge(prod, local_aws):
    settings = {
        "aurora_cluster_instance_class": "db.r6g.xlarge",
        "aurora_cluster_reader_count": 1,
        "aurora_cluster_engine_version": "16.8",
        "aurora_cluster_preferred_backup_window": "02:00-02:30",
        "aurora_cluster_preferred_maintenance_window": "sat:04:00-sat:05:00",
        "aurora_cluster_backup_retention_period": 21,
        "aurora_cluster_parameters": {"log_min_duration_statement": 2000},
        "aurora_cluster_tags": {"Project": "vitality", "CostCenter": "db-42"},
        "aurora_cluster_apply_immediately": True,
    }
    changed = prod(**settings)
    calls = local_aws.calls()
    rds = local_aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["EngineVersion"] == "16.8"
    assert cluster["PreferredBackupWindow"] == "02:00-02:30"
    assert cluster["PreferredMaintenanceWindow"] == "sat:04:00-sat:05:00"
    assert cluster["BackupRetentionPeriod"] == 21
    assert {t["Key"]: t["Value"] for t in cluster["TagList"]}["CostCenter"] == "db-42"
    for name in (WRITER, f"{PREFIX}1"):
        tags = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["TagList"]
        assert {t["Key"]: t["Value"] for t in tags}["CostCenter"] == "db-42"
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="vitality-prod-aurora-pg16")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in params}["log_min_duration_statement"] == "2000"
    tag = "set tags (tags.CostCenter (none) -> db-42) [online]"
    assert steps(plan_of(changed)) == [
        "Plan",
        f"1. security group vitality-prod-db: {tag}",
        f"2. DB subnet group vitality-prod-db-subnets: {tag}",
        "3. parameter group vitality-prod-aurora-pg16: set parameters "
        "(parameters.log_min_duration_statement (none) -> 2000) [pending-reboot, next-restart]",
        f"4. parameter group vitality-prod-aurora-pg16: {tag}",
        # The minor upgrade restarts every instance together, and the restart applies the parameter.
        f"5. cluster {CLUSTER}: modify (backup_retention_period 14 -> 21; preferred_backup_window 03:00-04:00 -> "
        "02:00-02:30; preferred_maintenance_window sun:05:00-sun:06:00 -> sat:04:00-sat:05:00; "
        "engine_version 16.6 -> 16.8) [all-instances-restart]",
        f"6. cluster {CLUSTER}: {tag}",
        f"7. instance {WRITER}: {tag}",
        f"8. instance {PREFIX}1: {tag}",
    ]
    # One cluster modification carries the upgrade and the settings, now; no instance is rebooted or failed over.
    actions = [action for action, unused_target in mutating(calls)]
    assert actions == [
        "CreateTags",
        "AddTagsToResource",
        "ModifyDBClusterParameterGroup",
        "AddTagsToResource",
        "ModifyDBCluster",
        "AddTagsToResource",
        "AddTagsToResource",
        "AddTagsToResource",
    ]
    modify = next(params for action, params in calls if action == "ModifyDBCluster")
    assert modify["EngineVersion"] == "16.8" and modify["BackupRetentionPeriod"] == "21"
    assert modify.get("ApplyImmediately") == "true"
    group = next(params for action, params in calls if action == "ModifyDBClusterParameterGroup")
    assert [v for k, v in group.items() if k.endswith("ApplyMethod")] == ["pending-reboot"]
    again = prod(**settings)
    assert_no_change(again, local_aws)


def test_a_newer_running_minor_is_kept_not_downgraded(prod, local_aws, run_playbook):
    # The cluster now runs 16.8; the inventory still says 16.6 (as after an automatic minor upgrade).
    settings = {
        "aurora_cluster_instance_class": "db.r6g.xlarge",
        "aurora_cluster_reader_count": 1,
        "aurora_cluster_preferred_backup_window": "02:00-02:30",
        "aurora_cluster_preferred_maintenance_window": "sat:04:00-sat:05:00",
        "aurora_cluster_backup_retention_period": 21,
        "aurora_cluster_parameters": {"log_min_duration_statement": 2000},
        "aurora_cluster_tags": {"Project": "vitality", "CostCenter": "db-42"},
    }
    notice = "running 16.8, newer than the configured 16.6 within major 16; kept"
    for check, header in ((True, CHECK_HEADER), (False, "Plan")):
        local_aws.record_from_now()
        result = run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=settings, check=check)
        assert_no_change(result, local_aws, header)
        assert plan_of(result) == [header, "no change", notice]
        cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
        assert cluster["EngineVersion"] == "16.8"


def test_check_mode_plan_names_each_impact_and_changes_nothing(prod, local_aws, run_playbook):
    before = members(local_aws)[1]
    windows = {name: i["PreferredMaintenanceWindow"] for name, i in before.items()}
    local_aws.record_from_now()
    result = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        check=True,
        diff=True,
        extra_vars={
            "aurora_cluster_instance_class": "db.r6g.2xlarge",
            "aurora_cluster_reader_count": 2,
            "aurora_cluster_engine_version": "16.8",
            "aurora_cluster_preferred_backup_window": "02:00-02:30",
            "aurora_cluster_preferred_maintenance_window": "sat:04:00-sat:05:00",
            "aurora_cluster_backup_retention_period": 30,
            "aurora_cluster_parameters": {"log_min_duration_statement": 2000, "work_mem": 65536},
            "aurora_cluster_tags": {"Project": "vitality", "CostCenter": "db-42"},
        },
    )
    assert result.returncode == 0, result.stdout[-5000:]
    plan = plan_of(result)
    class_change = "modify (db_instance_class db.r6g.xlarge -> db.r6g.2xlarge)"
    # Prod does not apply immediately: the class changes wait for each instance's maintenance window,
    # and the writer's is a restart of the writer itself.
    assert steps(plan) == [
        CHECK_HEADER,
        "1. parameter group vitality-prod-aurora-pg16: set parameters (parameters.work_mem (none) -> 65536) "
        "[pending-reboot, next-restart]",
        f"2. cluster {CLUSTER}: modify (backup_retention_period 21 -> 30) [online]",
        f"3. instance {PREFIX}2: create (db_instance_class (none) -> db.r6g.2xlarge) [online]",
        f"4. instance {PREFIX}1: {class_change} [reboot, maintenance-window]",
        f"5. instance {WRITER}: {class_change} [writer-restart, maintenance-window]",
    ], plan
    assert f"{PREFIX}1 restarts in its maintenance window {windows[f'{PREFIX}1']}" in plan[4]
    assert f"{WRITER} restarts in its maintenance window {windows[WRITER]}" in plan[5]
    assert "without a failover, so writes stop while it restarts" in plan[5]
    calls = local_aws.calls()
    actions = [action for action, unused_params in calls]
    assert "DescribeDBClusters" in actions and "DescribeDBInstances" in actions  # the recording works
    assert mutating(calls) == []
    assert result.recap[HOST]["changed"] == 0
    after = members(local_aws)[1]
    assert {n: i["DBInstanceClass"] for n, i in after.items()} == {n: i["DBInstanceClass"] for n, i in before.items()}
    assert sorted(after) == sorted([WRITER, f"{PREFIX}1"])
    rds = local_aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["BackupRetentionPeriod"] == 21
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="vitality-prod-aurora-pg16")["Parameters"]
    assert "work_mem" not in {p["ParameterName"] for p in params if p.get("ParameterValue") is not None}


def test_changing_what_aws_cannot_change_fails_with_the_way_forward(prod, local_aws, run_playbook):
    local_aws.record_from_now()
    result = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        extra_vars={
            "aurora_cluster_instance_class": "db.r6g.xlarge",
            "aurora_cluster_reader_count": 1,
            "aurora_cluster_database_name": "otherdb",
        },
    )
    assert result.returncode != 0
    assert result.recap[HOST]["changed"] == 0, result.stdout[-4000:]
    assert (
        f"Plan and converge the stack failed: cluster {CLUSTER}: database_name is 'dbname', the inventory says 'otherdb' "
        "(impossible-in-place: AWS cannot change it on an existing cluster; restore a snapshot into a new cluster). "
        "Nothing was changed."
    ) in result.stdout, result.stdout[-4000:]
    # The planner stopped: none of the run's other steps (this inventory also sets the backup settings back) ran.
    assert "Report each planned step as done" not in result.stdout
    assert mutating(local_aws.calls()) == []
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["DatabaseName"] == "dbname"
    assert cluster["BackupRetentionPeriod"] == 21
