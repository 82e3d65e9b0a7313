"""The restore drill against the local AWS: playbooks/drill.yml as the user guide shows it, on a converged dev stack.

One local AWS for the module (the dev stack converged once). The drill must restore the latest automated snapshot
into a tagged temporary cluster, write its report (JSON and Markdown), delete what it made and leave the live
cluster as it was; a drill cut short (its tagged cluster left behind) is cleaned by the next run; --check makes no
mutating call. Under moto everything is available at once: the RTO measured here is not AWS's (bench/run.py's
latency launcher gives AWS-like durations).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from drill_checks import TAG, drill_made
from drill_checks import live_state as live_state_of
from local_aws import RecordedAws

REPO = Path(__file__).resolve().parents[2]
LIVE = "vitality-dev-aurora"
MUTATING = ("Create", "Delete", "Modify", "Restore", "AddTags", "RemoveTags", "Start", "Stop", "Reboot", "Failover")


def documented_command(check=False):
    """The drill's command line as the user guide writes it (its --check form with ``check``)."""
    guide = (REPO / "docs" / "user-guide.md").read_text()
    wanted = "ansible-playbook playbooks/drill.yml -i inventories/dev" + (" --check" if check else "")
    line = next(raw.strip() for raw in guide.splitlines() if raw.strip() == wanted)
    words = shlex.split(line)
    return words[1], words[3], words[4:]


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    server = RecordedAws(tmp_path_factory.mktemp("drill") / "recording.jsonl")
    with server:
        server.reset_and_seed(("dev",))
        provisioned = server.run_playbook("playbooks/provision.yml", "inventories/dev")
        assert provisioned.ok, provisioned
        yield server


def test_check_mode_plans_the_drill_and_calls_nothing_mutating(aws):
    playbook, inventory, extra = documented_command(check=True)
    assert extra == ["--check"]
    aws.record_from_now()
    checked = aws.run_playbook(playbook, inventory, check=True, extra_args=extra)
    assert checked.ok, checked
    assert "Restore drill planned" in checked.stdout and "create (drill): restore from snapshot rds:" in checked.stdout
    mutating = [action for action, _params in aws.calls() if action.startswith(MUTATING)]
    assert mutating == []
    assert drill_made(aws.client("rds")) == []


def test_the_drill_restores_reports_and_leaves_nothing(aws):
    rds = aws.client("rds")
    before = live_state_of(rds, LIVE)
    playbook, inventory, extra = documented_command()
    aws.record_from_now()
    drilled = aws.run_playbook(playbook, inventory, extra_args=extra)
    assert drilled.ok, drilled
    reports = sorted((aws.outputs_dir / "report").glob("vitality-dev-drill-*.json"))
    assert reports, "no drill report written"
    report = json.loads(reports[-1].read_text())
    assert report["schema"] == "vitality.aurora/restore-drill"
    assert report["outcome"] == "passed"
    assert report["source_cluster"] == LIVE and report["snapshot"].startswith(f"rds:{LIVE}-")
    assert report["snapshot_type"] == "automated"
    assert report["rpo_seconds"] >= 0 and report["rto_seconds"] >= report["cluster_available_seconds"] >= 0
    assert report["cleanup"] == {"checked": True, "left": [], "looked_for": f"tag {TAG}={LIVE}"}
    assert all(check["ok"] for check in report["security_checks"]), report["security_checks"]
    assert [s["step"] for s in report["steps"]][:2] == ["restore the cluster", "create the writer"]
    assert reports[-1].with_suffix(".md").read_text().startswith(f"# Restore drill of {LIVE}: passed")
    # What it did, by AWS's record: a restore into the drill identifier, tagged, and deletes of only what it made.
    calls = [(a, p) for a, p in aws.calls() if a.startswith(MUTATING)]
    assert [a for a, _p in calls] == [
        "RestoreDBClusterFromSnapshot",
        "CreateDBInstance",
        "DeleteDBInstance",
        "DeleteDBCluster",
    ]
    drill_id = report["drill_identifier"]
    assert calls[0][1]["DBClusterIdentifier"] == drill_id and drill_id.startswith(f"{LIVE}-drill-")
    assert calls[0][1]["DeletionProtection"] == "false"
    assert calls[1][1]["PubliclyAccessible"] == "false"
    assert calls[3][1] == {
        "Version": "2014-10-31",
        "DBClusterIdentifier": drill_id,
        "SkipFinalSnapshot": "true",
        "DeleteAutomatedBackups": "true",
    }
    assert drill_made(rds) == []
    assert live_state_of(rds, LIVE) == before


def test_an_interrupted_drills_leftover_is_deleted_by_the_next(aws):
    rds = aws.client("rds")
    # What a killed run leaves: its tagged cluster and writer (made here as the drill makes them).
    old = f"{LIVE}-drill-20261130030000"
    snapshot = rds.describe_db_cluster_snapshots(DBClusterIdentifier=LIVE, SnapshotType="automated")[
        "DBClusterSnapshots"
    ][0]
    live = rds.describe_db_clusters(DBClusterIdentifier=LIVE)["DBClusters"][0]
    tags = [{"Key": TAG, "Value": LIVE}]
    rds.restore_db_cluster_from_snapshot(
        DBClusterIdentifier=old,
        SnapshotIdentifier=snapshot["DBClusterSnapshotIdentifier"],
        Engine="aurora-postgresql",
        DBSubnetGroupName=live["DBSubnetGroup"],
        VpcSecurityGroupIds=[g["VpcSecurityGroupId"] for g in live["VpcSecurityGroups"]],
        Tags=tags,
    )
    rds.create_db_instance(
        DBInstanceIdentifier=old + "-writer",
        DBClusterIdentifier=old,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
        Tags=tags,
    )
    before = live_state_of(rds, LIVE)
    playbook, inventory, extra = documented_command()
    drilled = aws.run_playbook(playbook, inventory, extra_args=extra)
    assert drilled.ok, drilled
    report = json.loads(sorted((aws.outputs_dir / "report").glob("vitality-dev-drill-*.json"))[-1].read_text())
    assert [s["step"] for s in report["steps"]][:2] == [
        f"delete leftover instance {old}-writer",
        f"delete leftover cluster {old}",
    ]
    assert drill_made(rds) == []
    assert live_state_of(rds, LIVE) == before


def test_a_bad_setting_is_refused_before_any_aws_call(aws):
    aws.record_from_now()
    refused = aws.run_playbook(
        "playbooks/drill.yml", "inventories/dev", extra_args=["-e", "aurora_cluster_drill_restore_to_time=yesterday"]
    )
    assert not refused.ok
    assert (
        "aurora_cluster_drill_restore_to_time='yesterday' is only read with aurora_cluster_drill_source=point-in-time"
        in refused.stdout
    )
    assert aws.calls() == []


def test_a_point_in_time_drill_given_as_json(aws):
    rds = aws.client("rds")
    before = live_state_of(rds, LIVE)
    aws.record_from_now()
    drilled = aws.run_playbook(
        "playbooks/drill.yml", "inventories/dev", extra_vars={"aurora_cluster_drill_source": "point-in-time"}
    )
    assert drilled.ok, drilled
    restores = [p for a, p in aws.calls() if a.startswith("Restore")]
    assert (
        len(restores) == 1
        and restores[0]["SourceDBClusterIdentifier"] == LIVE
        and restores[0]["UseLatestRestorableTime"] == "true"
    )
    report = json.loads(sorted((aws.outputs_dir / "report").glob("vitality-dev-drill-*.json"))[-1].read_text())
    assert report["outcome"] == "passed" and report["snapshot"] is None and report["source"] == "point-in-time"
    assert drill_made(rds) == []
    assert live_state_of(rds, LIVE) == before
