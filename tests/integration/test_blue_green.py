"""A prod major upgrade (16.6 to 17.4) by an RDS Blue/Green deployment, end to end against the local AWS.

One prod stack (the inventory as it is: aurora_cluster_major_upgrade_strategy=blue-green), with a self-managed master
password, as AWS refuses blue/green for a password Secrets Manager manages. The scenarios run in order, each from the
state the one before left, and each real run makes exactly the planned calls, one to one with the plan's steps
(tests/integration/test_plan_is_the_program.py's Stack does the checking):

a. --check plans the upgrade (logical replication on the blue group and the writer's reboot, the new family's group,
   the deployment) and changes nothing; the real run makes those calls and stops once green is available, saying
   how to switch over; a re-run plans no step of its own and makes no call;
b. rollback before the switchover deletes the deployment and the green cluster and leaves blue as it was;
c. a run killed right after CreateBlueGreenDeployment (the deployment made as the role makes it, outside a run),
   then re-run with the switchover confirmed: no second deployment, the switchover only; the cluster runs 17.4 with
   the new group under the same identifier and instance names, the old one is <cluster>-old1;
d. within the retention period nothing is deleted; once it is over (the switchover tag moved 25 h back, as time
   would) the deployment, the old cluster (with a final snapshot) and the old group are deleted, each a step.

moto's Blue/Green deployments are extended in scripts/moto_server_ext.py (README, local-AWS gaps): the green copy
gets the blue settings AWS copies, and the switchover renames the instances as AWS does. moto makes a deployment
AVAILABLE and a switchover COMPLETED at once, so the waits are not exercised here (the unit tests plan from each
status: tests/unit/test_blue_green_plan.py).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from test_documented_commands import commands_run_by, localised
from test_plan_is_the_program import (
    CHECK_HEADER,
    CLUSTER,
    PG,
    READER_1,
    READER_2,
    WRITER,
    Stack,
    planned_calls,
    summary,
)

from local_aws import REPO_ROOT, ansible_env, parse_recap, printed_plan

PASSWORD = {
    "aurora_cluster_manage_master_user_password": False,
    "aurora_cluster_master_user_password": "Blue-green-upgrade-2026",
    # AWS supports no blue/green deployment of a global database (refused: test_global_database.py): prod's
    # secondary is off here.
    "aurora_cluster_secondary_region": "",
}
UPGRADE = {"aurora_cluster_engine_version": "17.4", "aurora_cluster_allow_major_version_upgrade": True}
SWITCH = dict(UPGRADE, aurora_cluster_blue_green_switchover=True)
ROLLBACK = dict(UPGRADE, aurora_cluster_blue_green_rollback=True)
NEW_PG = "vitality-prod-aurora-pg17"
NAME = "vitality-prod-aurora-bg"
OLD = f"{CLUSTER}-old1"
SWITCHED_TAG = "vitality.aurora:switched-over-at"


@pytest.fixture(scope="module")
def prod(recorded_aws, proxy, validator, tmp_path_factory):
    recorded_aws.reset_and_seed()
    stack = Stack(recorded_aws, proxy, validator, tmp_path_factory.mktemp("plans"))
    stack.settled.update(PASSWORD)
    first = stack.run(plan_file=True)
    assert first.result.returncode == 0, str(first.result)[-6000:]
    assert sorted(stack.instances()) == sorted([WRITER, READER_1, READER_2])
    return stack


def rds(stack):
    return stack.aws.client("rds")


def deployments(stack):
    return rds(stack).describe_blue_green_deployments()["BlueGreenDeployments"]


def clusters(stack):
    return {c["DBClusterIdentifier"]: c for c in rds(stack).describe_db_clusters()["DBClusters"]}


def members(stack, identifier):
    return sorted(m["DBInstanceIdentifier"] for m in clusters(stack)[identifier]["DBClusterMembers"])


def group_parameters(stack, name):
    listed = rds(stack).describe_db_cluster_parameters(DBClusterParameterGroupName=name)["Parameters"]
    return {p["ParameterName"]: p.get("ParameterValue") for p in listed}


def groups(stack):
    listed = rds(stack).describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    return sorted(
        g["DBClusterParameterGroupName"] for g in listed if not g["DBClusterParameterGroupName"].startswith("default.")
    )


def printed_steps(run, header):
    """The plan printed: the header, the plan's lines, then any notice (the blue/green ones say what waits)."""
    printed = printed_plan(run.result.stdout)
    lines = run.plan["lines"] or ["no change"]
    assert printed[: len(lines) + 1] == [header] + lines, printed
    return printed[len(lines) + 1 :]


def scenario(stack, extra):
    """--check then the real run: the check changes nothing, the run makes exactly the planned calls."""
    planned = stack.run(extra, check=True, plan_file=True)
    assert planned.result.returncode == 0, str(planned.result)[-6000:]
    assert planned.mutating == [], planned.mutating
    planned.notices = printed_steps(planned, CHECK_HEADER)
    applied = stack.run(extra, plan_file=True)
    assert applied.result.returncode == 0, str(applied.result)[-6000:]
    applied.notices = printed_steps(applied, "Plan")
    assert summary(applied.plan) == summary(planned.plan)
    assert applied.mutating == planned_calls(planned.plan), (applied.mutating, planned_calls(planned.plan))
    return planned, applied


def test_a_the_upgrade_is_planned_then_made_up_to_a_green_cluster_ready_for_the_switchover(prod):
    planned, applied = scenario(prod, UPGRADE)
    assert summary(planned.plan) == [
        ("parameter_group", NEW_PG, "create", "online", "now"),
        ("parameter_group", PG, "set parameters", "pending-reboot", "next-restart"),
        ("instance", WRITER, "reboot", "writer-restart", "now"),
        ("blue_green_deployment", NAME, "create", "online", "now"),
        # The instances' DB parameter group events follow the new family (as they do in place).
        ("event_subscription", f"{CLUSTER}-parameter-group-events", "add sources", "online", "now"),
        ("event_subscription", f"{CLUSTER}-parameter-group-events", "remove sources", "online", "now"),
    ]
    lines = planned.plan["lines"]
    assert lines[3].startswith(
        f"4. blue/green deployment {NAME}: create (engine_version 16.6 -> 17.4; db_cluster_parameter_group_name "
        f"{PG} -> {NEW_PG}) [online]. strategy blue-green:"
    ), lines
    assert "extra cost while it runs: a second cluster of the same size (3 instance(s) of db.r6g.large)" in lines[3]
    assert "write downtime: none now, about a minute at the switchover" in lines[3]
    for run in (planned, applied):
        assert run.notices == [
            "blue/green: the switchover to 17.4 is not planned without aurora_cluster_blue_green_switchover=true; "
            "once the green cluster is available, check it and switch over with -e "
            "aurora_cluster_blue_green_switchover=true (about a minute without writes), or roll back with -e "
            "aurora_cluster_blue_green_rollback=true"
        ], run.notices
    # The run stopped once green was available: blue still serves, on 16.6, under its names.
    found = deployments(prod)
    assert [(d["BlueGreenDeploymentName"], d["Status"]) for d in found] == [(NAME, "AVAILABLE")]
    assert clusters(prod)[CLUSTER]["EngineVersion"] == "16.6"
    assert members(prod, CLUSTER) == sorted([WRITER, READER_1, READER_2])
    assert group_parameters(prod, PG)["rds.logical_replication"] == "1"
    green = found[0]["Target"].rsplit(":", 1)[1]
    assert clusters(prod)[green]["EngineVersion"] == "17.4"
    assert clusters(prod)[green]["DBClusterParameterGroup"] == NEW_PG
    # Re-run, not confirmed: nothing of its own to do, and it says so again.
    again = prod.run(UPGRADE)
    assert again.result.returncode == 0, str(again.result)[-4000:]
    assert again.mutating == [], again.mutating
    printed = printed_plan(again.result.stdout)
    assert printed[1] == "no change", printed
    assert "check it and switch over with -e aurora_cluster_blue_green_switchover=true" in printed[2], printed
    assert "now: the green cluster is available" in printed[2], printed
    assert len(deployments(prod)) == 1


def test_b_rollback_before_the_switchover_deletes_green_and_leaves_blue(prod):
    green = deployments(prod)[0]["Target"].rsplit(":", 1)[1]
    planned, _applied = scenario(prod, ROLLBACK)
    assert summary(planned.plan) == [("blue_green_deployment", NAME, "delete with its green cluster", "online", "now")]
    # The green cluster copied blue's deletion protection: AWS deletes it only without.
    assert planned.plan["actions"][0]["calls"] == ["ModifyDBCluster", "DeleteBlueGreenDeployment"]
    assert deployments(prod) == []
    assert green not in clusters(prod)
    blue = clusters(prod)[CLUSTER]
    assert (blue["EngineVersion"], blue["DBClusterParameterGroup"], blue["DeletionProtection"]) == ("16.6", PG, True)
    assert members(prod, CLUSTER) == sorted([WRITER, READER_1, READER_2])


def test_c_a_run_killed_after_the_create_resumes_with_one_deployment_and_switches_over(prod):
    # What a run killed right after its CreateBlueGreenDeployment leaves: the deployment, made as the role makes it.
    source = clusters(prod)[CLUSTER]["DBClusterArn"]
    rds(prod).create_blue_green_deployment(
        BlueGreenDeploymentName=NAME,
        Source=source,
        TargetEngineVersion="17.4",
        TargetDBClusterParameterGroupName=NEW_PG,
    )
    planned, applied = scenario(prod, SWITCH)
    assert summary(planned.plan) == [("blue_green_deployment", NAME, "switchover", "replacement", "now")]
    assert planned.plan["actions"][0]["calls"] == ["SwitchoverBlueGreenDeployment", "AddTagsToResource"]
    assert "CreateBlueGreenDeployment" not in applied.mutating
    line = planned.plan["lines"][0]
    assert "writes stop for about a minute" in line and "switchover timeout, 300 s" in line, line
    # One deployment, switched over; the cluster is the green one, under the same names.
    assert [(d["BlueGreenDeploymentName"], d["Status"]) for d in deployments(prod)] == [(NAME, "SWITCHOVER_COMPLETED")]
    cluster = clusters(prod)[CLUSTER]
    assert (cluster["EngineVersion"], cluster["DBClusterParameterGroup"]) == ("17.4", NEW_PG)
    assert members(prod, CLUSTER) == sorted([WRITER, READER_1, READER_2])
    assert prod.writer() == [WRITER]
    assert members(prod, OLD) == sorted(f"{name}-old1" for name in (WRITER, READER_1, READER_2))
    assert clusters(prod)[OLD]["EngineVersion"] == "16.6"
    tags = {t["Key"]: t["Value"] for t in clusters(prod)[OLD]["TagList"]}
    assert SWITCHED_TAG in tags


def test_d_the_old_cluster_is_kept_for_the_retention_then_deleted_with_a_final_snapshot(prod):
    # Within the retention: nothing to do, and the notice says until when.
    kept = prod.run(SWITCH)
    assert kept.result.returncode == 0, str(kept.result)[-4000:]
    assert kept.mutating == [], kept.mutating
    assert f"the old cluster {OLD} is kept until" in kept.out
    # 25 hours later (the switchover tag moved back, as time would move on).
    earlier = (datetime.now(UTC) - timedelta(hours=25)).replace(microsecond=0)
    old_arn = clusters(prod)[OLD]["DBClusterArn"]
    rds(prod).add_tags_to_resource(
        ResourceName=old_arn, Tags=[{"Key": SWITCHED_TAG, "Value": earlier.strftime("%Y-%m-%dT%H:%M:%SZ")}]
    )
    planned, _applied = scenario(prod, SWITCH)
    assert summary(planned.plan) == [
        ("blue_green_deployment", NAME, "delete", "online", "now"),
        ("cluster", OLD, "delete", "online", "now"),
        ("parameter_group", PG, "delete", "online", "now"),
    ]
    assert planned.plan["actions"][1]["calls"] == ["ModifyDBCluster"] + ["DeleteDBInstance"] * 3 + ["DeleteDBCluster"]
    snapshot = f"{OLD}-final-{earlier.strftime('%Y%m%d-%H%M%S')}"
    assert snapshot in planned.plan["lines"][1]
    assert deployments(prod) == []
    assert OLD not in clusters(prod)
    assert groups(prod) == [NEW_PG]
    snapshots = rds(prod).describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=snapshot)["DBClusterSnapshots"]
    assert [s["DBClusterIdentifier"] for s in snapshots] == [OLD]
    cluster = clusters(prod)[CLUSTER]
    assert (cluster["EngineVersion"], cluster["DBClusterParameterGroup"]) == ("17.4", NEW_PG)
    assert members(prod, CLUSTER) == sorted([WRITER, READER_1, READER_2])
    prod.settled.update(SWITCH)
    prod.no_change()


# --- the user guide's commands, as written -------------------------------------------------------------------


def test_e_the_guides_blue_green_commands_run_as_written(recorded_aws, tmp_path):
    """The guide's block of blue/green commands (docs/user-guide.md, "Major version upgrade"), in its order, on a
    fresh prod stack with a self-managed password: plan, prepare, roll back, then prepare again and switch over."""
    recorded_aws.reset_and_seed()
    env = ansible_env(recorded_aws.endpoint_url)
    local = ["-e", f"aurora_cluster_outputs_file={tmp_path}/out.json", "-e", f"aurora_cluster_report_dir={tmp_path}/r"]
    local += ["-e", "aurora_database_enabled=false"]
    local += [
        item
        for name, value in PASSWORD.items()
        for item in ("-e", f"{name}={str(value).lower() if isinstance(value, bool) else value}")
    ]
    first = recorded_aws.run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=PASSWORD)
    assert first.returncode == 0, str(first)[-4000:]
    commands = commands_run_by("tests/integration/test_blue_green.py")
    assert len(commands) == 4
    for command in commands:
        args = localised(command, recorded_aws.endpoint_url) + local
        proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)  # noqa: S603
        recap = parse_recap(proc.stdout)
        assert proc.returncode == 0 and recap, f"$ {command}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    client = recorded_aws.client("rds")
    found = client.describe_blue_green_deployments()["BlueGreenDeployments"]
    assert [(d["BlueGreenDeploymentName"], d["Status"]) for d in found] == [(NAME, "SWITCHOVER_COMPLETED")]
    cluster = client.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert (cluster["EngineVersion"], cluster["DBClusterParameterGroup"]) == ("17.4", NEW_PG)
    assert sorted(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]) == sorted(
        [WRITER, READER_1, READER_2]
    )
