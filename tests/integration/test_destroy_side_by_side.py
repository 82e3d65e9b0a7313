"""destroy.yml deletes a cluster's instances side by side, then the cluster, on a local AWS where an instance's
deletion takes a while (bench/moto_latency.py: ``deleting`` for 4 s, then gone), as on AWS where it takes minutes.

What is asserted is what the local AWS recorded: each instance's ``deleting`` window, and the stack left behind.
"""

from __future__ import annotations

import json

import pytest

from local_aws import LatencyAws

pytestmark = pytest.mark.integration

CLUSTER = "vitality-dev-aurora"
INSTANCES = {f"{CLUSTER}-writer", f"{CLUSTER}-reader-1", f"{CLUSTER}-reader-2"}
THREE_INSTANCES = {"aurora_cluster_reader_count": 2}


@pytest.fixture
def slow_deletes(tmp_path):
    windows = tmp_path / "windows.jsonl"
    server = LatencyAws(
        {"cluster_create": 0, "instance_create": 0, "instance_delete": 4},
        log_dir=tmp_path,
        extra_env={"BENCH_LATENCY_LOG": str(windows)},
    )
    server.start()
    try:
        server.seed(("dev",))
        yield server, windows
    finally:
        server.stop()


def deleting_windows(windows):
    if not windows.exists():
        return {}
    records = [json.loads(line) for line in windows.read_text().splitlines()]
    return {r["id"]: (r["start"], r["end"]) for r in records if r["kind"] == "instance" and r["status"] == "deleting"}


def test_the_instances_are_deleted_side_by_side_and_the_cluster_after_them(slow_deletes):
    aws, windows = slow_deletes
    made = aws.run_playbook("playbooks/provision.yml", "inventories/dev", extra_vars=THREE_INSTANCES)
    assert made.ok, made
    rds = aws.client("rds")
    assert {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]} == INSTANCES

    # Check mode deletes nothing and waits for nothing.
    checked = aws.run_playbook("playbooks/destroy.yml", "inventories/dev", extra_vars=THREE_INSTANCES, check=True)
    assert checked.ok, checked
    assert deleting_windows(windows) == {}
    assert {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]} == INSTANCES

    gone = aws.run_playbook("playbooks/destroy.yml", "inventories/dev", extra_vars=THREE_INSTANCES)
    assert gone.ok, gone
    deleting = deleting_windows(windows)
    assert set(deleting) == INSTANCES, deleting
    # Side by side: every deletion was asked for before the first one ended.
    assert max(start for start, unused_end in deleting.values()) < min(end for unused_start, end in deleting.values())
    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_db_clusters()["DBClusters"] == []
