"""provision.yml and destroy.yml for prod against the local AWS: topology and the guards on destroy."""

import pytest

CLUSTER = "vitality-prod-aurora"
WRITER = "vitality-prod-aurora-writer"
READERS = ["vitality-prod-aurora-reader-1", "vitality-prod-aurora-reader-2"]


@pytest.fixture(scope="module")
def prod_stack(local_aws, run_playbook):
    zone = local_aws.reset_and_seed()
    first = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    return zone["prod"]


def test_prod_has_a_writer_and_two_readers_outside_its_az(prod_stack, local_aws):
    rds = local_aws.client("rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    roles = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in cluster["DBClusterMembers"]}
    assert roles == {WRITER: True, READERS[0]: False, READERS[1]: False}
    instances = {i["DBInstanceIdentifier"]: i for i in rds.describe_db_instances()["DBInstances"]}
    writer_az = instances[WRITER]["AvailabilityZone"]
    assert writer_az in ("us-east-1c", "us-east-1d")
    for reader in READERS:
        assert instances[reader]["AvailabilityZone"] in ("us-east-1c", "us-east-1d")
        assert instances[reader]["AvailabilityZone"] != writer_az
        assert instances[reader]["PubliclyAccessible"] is False
        assert instances[reader]["DBInstanceClass"] == "db.r6g.large"
    tiers = {name: instances[name]["PromotionTier"] for name in [WRITER, *READERS]}
    assert tiers == {WRITER: 0, READERS[0]: 1, READERS[1]: 2}


def test_prod_baseline(prod_stack, local_aws):
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert cluster["DeletionProtection"] is True
    assert cluster["BackupRetentionPeriod"] >= 14
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert cluster["StorageEncrypted"] is True


def test_prod_second_run_changes_nothing(prod_stack, run_playbook):
    again = run_playbook("playbooks/provision.yml", "inventories/prod")
    assert again.returncode == 0, again.stdout[-4000:]
    assert again.recap["vitality-prod"]["changed"] == 0, again.stdout[-6000:]


def test_destroy_of_prod_needs_confirmation_then_honours_deletion_protection(prod_stack, local_aws, run_playbook):
    rds = local_aws.client("rds")
    unconfirmed = run_playbook("playbooks/destroy.yml", "inventories/prod")
    assert unconfirmed.returncode != 0
    assert "aurora_cluster_destroy_confirm=vitality-prod-aurora" in unconfirmed.stdout

    protected = run_playbook(
        "playbooks/destroy.yml", "inventories/prod", extra_vars={"aurora_cluster_destroy_confirm": CLUSTER}
    )
    assert protected.returncode != 0
    assert "deletion protection on" in protected.stdout
    assert len(rds.describe_db_instances()["DBInstances"]) == 3

    done = run_playbook(
        "playbooks/destroy.yml",
        "inventories/prod",
        extra_vars={
            "aurora_cluster_destroy_confirm": CLUSTER,
            "aurora_cluster_destroy_disable_deletion_protection": True,
        },
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert rds.describe_db_clusters()["DBClusters"] == []
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [s for s in snapshots if s["DBClusterSnapshotIdentifier"].startswith(f"{CLUSTER}-final-")]
