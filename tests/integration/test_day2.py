"""Day-2 changes on prod: edit the variables, re-run provision.yml, assert the end state and idempotency.

The operations baseline (monitoring, backup plan, event notifications) is off here: these runs are about
the topology, the cluster and its instances; test_prod_baseline covers the baseline and its day-2 changes.
"""

import pytest

from local_aws import RecordedAws
from local_aws import run_playbook as run_local

CLUSTER = "vitality-prod-aurora"
WRITER = "vitality-prod-aurora-writer"
PREFIX = "vitality-prod-aurora-reader-"
WITHOUT_BASELINE = {
    "aurora_cluster_monitoring_interval": 0,
    "aurora_cluster_backup_plan_enabled": False,
    "aurora_cluster_event_notifications_enabled": False,
}


@pytest.fixture(scope="module")
def recorded_aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as aws:
        yield aws


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
    """The lines of the role's plan, as printed at the end of the run."""
    text = result.stdout.split("Show the plan, each change with its impact", 1)[1].split("\n}\n", 1)[0]
    quoted = [line.strip() for line in text.splitlines() if line.strip().startswith('"') and '"msg"' not in line]
    return [line.rstrip(",").strip('"') for line in quoted]


def test_instance_class_change_rolls_and_keeps_the_writer(prod, local_aws):
    local_aws.record_from_now()
    changed = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_apply_immediately=True)
    disruptive = [
        (action, params.get("DBInstanceIdentifier") or params.get("TargetDBInstanceIdentifier"))
        for action, params in local_aws.calls()
        if action in ("ModifyDBInstance", "FailoverDBCluster", "RebootDBInstance", "ModifyDBCluster")
    ]
    # Readers one at a time, then the writer role moves to a changed reader, then the former writer
    # changes, then it is the writer again.
    assert disruptive == [
        ("ModifyDBInstance", f"{PREFIX}1"),
        ("ModifyDBInstance", f"{PREFIX}2"),
        ("FailoverDBCluster", f"{PREFIX}1"),
        ("ModifyDBInstance", WRITER),
        ("FailoverDBCluster", WRITER),
    ]
    cluster, instances, writer = members(local_aws)
    assert {name: i["DBInstanceClass"] for name, i in instances.items()} == {
        WRITER: "db.r6g.xlarge",
        f"{PREFIX}1": "db.r6g.xlarge",
        f"{PREFIX}2": "db.r6g.xlarge",
    }
    assert writer == [WRITER]
    plan = plan_of(changed)
    assert f"instance {PREFIX}1: db_instance_class db.r6g.large -> db.r6g.xlarge [reboot]" in plan
    assert f"cluster {CLUSTER}: writer {WRITER} -> {PREFIX}1 [failover]" in plan
    assert f"cluster {CLUSTER}: writer {PREFIX}1 -> {WRITER} [failover]" in plan
    again = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_apply_immediately=True)
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-5000:]


def test_reader_count_up_then_down_removes_the_highest_numbered(prod, local_aws):
    up = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_reader_count=3)
    cluster, instances, writer = members(local_aws)
    assert sorted(instances) == sorted([WRITER, f"{PREFIX}1", f"{PREFIX}2", f"{PREFIX}3"])
    assert instances[f"{PREFIX}3"]["PromotionTier"] == 3
    assert instances[f"{PREFIX}3"]["AvailabilityZone"] != instances[WRITER]["AvailabilityZone"]
    assert f"instance {PREFIX}3: create [online]" in plan_of(up)

    down = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_reader_count=1)
    cluster, instances, writer = members(local_aws)
    assert sorted(instances) == sorted([WRITER, f"{PREFIX}1"])
    assert writer == [WRITER]
    assert f"cluster {CLUSTER}: delete {PREFIX}3 [online]" in plan_of(down)
    again = prod(aurora_cluster_instance_class="db.r6g.xlarge", aurora_cluster_reader_count=1)
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-5000:]


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
    rds = local_aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["EngineVersion"] == "16.8"
    assert cluster["PreferredBackupWindow"] == "02:00-02:30"
    assert cluster["PreferredMaintenanceWindow"] == "sat:04:00-sat:05:00"
    assert cluster["BackupRetentionPeriod"] == 21
    assert {t["Key"]: t["Value"] for t in cluster["TagList"]}["CostCenter"] == "db-42"
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName="vitality-prod-aurora-pg16")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in params}["log_min_duration_statement"] == "2000"
    plan = plan_of(changed)
    assert f"cluster {CLUSTER}: engine_version 16.6 -> 16.8 [reboot]" in plan
    assert f"cluster {CLUSTER}: backup_retention_period 14 -> 21 [online]" in plan
    again = prod(**settings)
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-5000:]


def test_a_newer_running_minor_is_kept_not_downgraded(prod, local_aws, run_playbook):
    # The cluster now runs 16.8; the inventory still says 16.6 (as after an automatic minor upgrade).
    result = run_playbook(
        "playbooks/provision.yml",
        "inventories/prod",
        extra_vars={
            "aurora_cluster_instance_class": "db.r6g.xlarge",
            "aurora_cluster_reader_count": 1,
            "aurora_cluster_preferred_backup_window": "02:00-02:30",
            "aurora_cluster_preferred_maintenance_window": "sat:04:00-sat:05:00",
            "aurora_cluster_backup_retention_period": 21,
            "aurora_cluster_parameters": {"log_min_duration_statement": 2000},
            "aurora_cluster_tags": {"Project": "vitality", "CostCenter": "db-42"},
        },
        check=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "engine_version" not in "\n".join(plan_of(result))
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["EngineVersion"] == "16.8"


def test_check_mode_plan_names_each_impact_and_changes_nothing(prod, local_aws, run_playbook):
    before = members(local_aws)[1]
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
    assert plan[0] == "Plan (check mode: nothing was changed)"
    expected = [
        "parameter group vitality-prod-aurora-pg16: parameters.work_mem (none) -> 65536 [pending-reboot]",
        f"cluster {CLUSTER}: backup_retention_period 21 -> 30 [online]",
        f"instance {PREFIX}1: db_instance_class db.r6g.xlarge -> db.r6g.2xlarge [reboot, in the maintenance window]",
        f"instance {WRITER}: db_instance_class db.r6g.xlarge -> db.r6g.2xlarge [reboot, in the maintenance window]",
        f"instance {PREFIX}2: create [online]",
    ]
    for line in expected:
        assert line in plan, plan
    actions = [action for action, unused_params in local_aws.calls()]
    assert "DescribeDBClusters" in actions and "DescribeDBInstances" in actions  # the recording works
    mutating = [action for action in actions if not action.startswith(("Describe", "List", "Get"))]
    assert mutating == [], mutating
    after = members(local_aws)[1]
    assert {n: i["DBInstanceClass"] for n, i in after.items()} == {n: i["DBInstanceClass"] for n, i in before.items()}
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["BackupRetentionPeriod"] == 21


def test_changing_what_aws_cannot_change_fails_with_the_way_forward(prod, local_aws, run_playbook):
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
    assert result.recap["vitality-prod"]["changed"] == 0, result.stdout[-4000:]
    assert "cannot change database_name ('dbname' -> 'otherdb') in place" in result.stdout
    assert "snapshot" in result.stdout
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["DatabaseName"] == "dbname"
