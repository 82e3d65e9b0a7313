"""What a restore drill must leave as it found it, read through boto3; shared by the drill tests of one Region
(test_drill) and of another (test_drill_region).

``live_state`` is what of the live cluster and its instances a drill must not change; ``drill_made`` lists whatever a
drill could leave behind in one Region: clusters, instances and cluster snapshots named ``-drill-``, and snapshots
(copies included) carrying the drill's tag.
"""

from __future__ import annotations

TAG = "vitality.aurora:restore-drill"
LIVE_KEYS = (
    "DBClusterIdentifier",
    "Status",
    "DeletionProtection",
    "VpcSecurityGroups",
    "DBSubnetGroup",
    "TagList",
    "Endpoint",
    "GlobalClusterIdentifier",
)


def live_state(rds, identifier):
    cluster = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
    instances = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [identifier]}])["DBInstances"]
    return {k: cluster.get(k) for k in LIVE_KEYS}, sorted(
        (i["DBInstanceIdentifier"], i["DBInstanceStatus"]) for i in instances
    )


def drill_made(rds):
    """Whatever a drill could leave in the Region of ``rds``: by name or by the drill tag."""
    clusters = [
        c["DBClusterIdentifier"]
        for c in rds.describe_db_clusters()["DBClusters"]
        if "-drill-" in c["DBClusterIdentifier"]
    ]
    instances = [
        i["DBInstanceIdentifier"]
        for i in rds.describe_db_instances()["DBInstances"]
        if "-drill-" in i["DBInstanceIdentifier"]
    ]
    snapshots = [
        s["DBClusterSnapshotIdentifier"]
        for s in rds.describe_db_cluster_snapshots()["DBClusterSnapshots"]
        if "-drill-" in s["DBClusterSnapshotIdentifier"]
        or "-drill-" in s["DBClusterIdentifier"]
        or any(t["Key"] == TAG for t in s.get("TagList") or [])
    ]
    return clusters + instances + snapshots
