"""The restore drill in another Region against the local AWS: playbooks/drill.yml as the user guide shows it, for
prod with its Aurora Global Database secondary in us-west-2 (built once for the module, as
tests/integration/test_global_database.py builds it).

The drill must copy the newest automated snapshot of us-east-1's cluster to us-west-2 under the stack's key there,
restore the copy into the secondary's network (its security group, DB subnet group, parameter group), write the
report (Region, origin of the snapshot, the copy's time), delete the cluster, writer and copy, and leave both Regions'
live clusters as they were; --check makes no mutating call and labels each step with its Region; a point-in-time
drill there is refused before any AWS call. Under moto a copy is available at once (its time here is not AWS's).
"""

from __future__ import annotations

import json
import shlex

import pytest
from test_documented_commands import commands_run_by

from drill_checks import TAG, drill_made, live_state
from local_aws import RecordedAws

PRIMARY = "vitality-prod-aurora"
REGION = "us-west-2"
SECONDARY = f"vitality-prod-{REGION}"
KEY_ALIAS = f"alias/{SECONDARY}"
MUTATING = (
    "Create",
    "Delete",
    "Modify",
    "Restore",
    "Copy",
    "AddTags",
    "RemoveTags",
    "Start",
    "Stop",
    "Reboot",
    "Failover",
)
CHECK, DRILL = commands_run_by("tests/integration/test_drill_region.py")
# As tests/integration/test_global_database.py: the baseline's parts only slow the build.
LEAN = {
    "aurora_cluster_alarms_enabled": False,
    "aurora_cluster_autoscaling_enabled": False,
    "aurora_cluster_backup_plan_enabled": False,
    "aurora_cluster_backup_copy_region": "",
    "aurora_cluster_event_notifications_enabled": False,
    "aurora_cluster_reader_count": 0,
}


def as_written(command):
    """(playbook, inventory, the rest) of a documented command line."""
    words = shlex.split(command)
    assert words[0] == "ansible-playbook" and words[2] == "-i", command
    return words[1], words[3], words[4:]


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("drill-region") / "recording.jsonl") as server:
        server.reset_and_seed()
        built = server.run_playbook("playbooks/provision.yml", "inventories/prod", extra_vars=LEAN)
        assert built.ok, built.stdout[-6000:]
        yield server


def both(aws):
    return aws.client("rds"), aws.client("rds", REGION)


def test_the_guide_shows_the_drill_in_us_west_2():
    assert (
        CHECK
        == f"ansible-playbook playbooks/drill.yml -i inventories/prod -e aurora_cluster_drill_region={REGION} --check"
    )
    assert DRILL == CHECK.removesuffix(" --check")


def test_check_mode_plans_each_step_in_us_west_2_and_calls_nothing_mutating(aws):
    east, west = both(aws)
    playbook, inventory, extra = as_written(CHECK)
    aws.record_from_now()
    checked = aws.run_playbook(playbook, inventory, check=True, extra_args=[e for e in extra if e != "--check"])
    assert checked.ok, checked.stdout[-4000:]
    assert f"Restore drill planned in {REGION}" in checked.stdout
    assert f"-copy in {REGION}: create (drill): copy snapshot rds:{PRIMARY}-" in checked.stdout
    assert f"-writer in {REGION}: create (drill writer" in checked.stdout
    assert [a for a, _p in aws.calls() if a.startswith(MUTATING)] == []
    assert drill_made(east) == [] and drill_made(west) == []


def test_the_drill_in_us_west_2_restores_a_copy_reports_and_leaves_nothing(aws):
    east, west = both(aws)
    before = live_state(east, PRIMARY), live_state(west, SECONDARY)
    key_arn = aws.client("kms", REGION).describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]
    playbook, inventory, extra = as_written(DRILL)
    aws.record_from_now()
    drilled = aws.run_playbook(playbook, inventory, extra_args=extra)
    assert drilled.ok, drilled.stdout[-4000:]
    report = json.loads(sorted((aws.outputs_dir / "report").glob("vitality-prod-drill-*.json"))[-1].read_text())
    assert report["outcome"] == "passed", report["error"]
    assert report["region"] == REGION and report["source_region"] == "us-east-1"
    assert report["snapshot"].startswith(f"rds:{PRIMARY}-") and report["snapshot_type"] == "automated"
    drill_id = report["drill_identifier"]
    assert report["copied_snapshot"] == f"{drill_id}-copy"
    assert report["snapshot_origin"] == f"copy of {report['snapshot']} from us-east-1"
    assert report["copy_seconds"] >= 0 and report["rto_with_copy_seconds"] >= report["rto_seconds"] >= 0
    assert [s["step"] for s in report["steps"]] == [
        f"copy the snapshot to {REGION}",
        "restore the cluster",
        "create the writer",
        f"delete instance {drill_id}-writer",
        f"delete cluster {drill_id}",
        f"delete cluster snapshot {drill_id}-copy",
        "check the account for what the drill created",
    ]
    assert report["cleanup"] == {"checked": True, "left": [], "looked_for": f"tag {TAG}={PRIMARY}", "region": REGION}
    assert all(c["ok"] for c in report["security_checks"]), report["security_checks"]
    # By AWS's record: the copy (under us-west-2's key, signed for us-east-1), the restore of the copy into the
    # secondary's network, the writer, then deletes of only what the drill made.
    calls = [(a, p) for a, p in aws.calls() if a.startswith(MUTATING)]
    assert [a for a, _p in calls] == [
        "CopyDBClusterSnapshot",
        "RestoreDBClusterFromSnapshot",
        "CreateDBInstance",
        "DeleteDBInstance",
        # moto keeps the source cluster's deletion protection (prod's) on a restore that sends it off (README's
        # local-AWS gaps): the drill turns it off on its own tagged cluster, and only there.
        "ModifyDBCluster",
        "DeleteDBCluster",
        "DeleteDBClusterSnapshot",
    ]
    assert all(p["DBClusterIdentifier"] == drill_id for a, p in calls[3:] if a.endswith("DBCluster"))
    copy, restore = calls[0][1], calls[1][1]
    source = east.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=report["snapshot"])["DBClusterSnapshots"][0]
    assert copy["SourceDBClusterSnapshotIdentifier"] == source["DBClusterSnapshotArn"]
    assert copy["TargetDBClusterSnapshotIdentifier"] == f"{drill_id}-copy" and copy["KmsKeyId"] == key_arn
    assert "us-east-1" in copy.get("PreSignedUrl", ""), "botocore signs the copy for the source Region"
    secondary = west.describe_db_clusters(DBClusterIdentifier=SECONDARY)["DBClusters"][0]
    assert restore["DBClusterIdentifier"] == drill_id and restore["SnapshotIdentifier"] == f"{drill_id}-copy"
    assert restore["DBSubnetGroupName"] == secondary["DBSubnetGroup"]
    assert restore["DBClusterParameterGroupName"] == secondary["DBClusterParameterGroup"]
    assert (
        restore["VpcSecurityGroupIds.VpcSecurityGroupId.1"] == secondary["VpcSecurityGroups"][0]["VpcSecurityGroupId"]
    )
    assert restore["KmsKeyId"] == key_arn
    # Read back in both Regions: nothing of the drill's left, the live clusters as they were.
    assert drill_made(east) == [] and drill_made(west) == []
    assert (live_state(east, PRIMARY), live_state(west, SECONDARY)) == before


def test_a_point_in_time_drill_in_us_west_2_is_refused_before_any_aws_call(aws):
    aws.record_from_now()
    refused = aws.run_playbook(
        "playbooks/drill.yml",
        "inventories/prod",
        extra_vars={"aurora_cluster_drill_region": REGION, "aurora_cluster_drill_source": "point-in-time"},
    )
    assert not refused.ok
    assert (
        f"aurora_cluster_drill_source=point-in-time with aurora_cluster_drill_region='{REGION}': Aurora restores a "
        "point in time from the cluster's continuous backup" in refused.stdout
    )
    assert aws.calls() == []
