"""What a converged dev stack looks like, asserted through boto3; shared by the fault tests.

``assert_dev_stack`` checks that exactly one of each resource exists (no duplicate), that
nothing else was left in the account (no orphan), and that each is configured as a clean
provision leaves it.  ``tail`` and ``fatal_lines`` shorten playbook output for messages.
"""

from __future__ import annotations

CLUSTER = "vitality-dev-aurora"
WRITER = "vitality-dev-aurora-writer"
DB_SG = "vitality-dev-db"
SUBNET_GROUP = "vitality-dev-db-subnets"
PARAM_GROUP = "vitality-dev-aurora-pg16"
HOST = "vitality-dev"
PROVISION = ("playbooks/provision.yml", "inventories/dev")


def tail(result, chars=5000):
    return f"rc={result.returncode}\n{result.stdout[-chars:]}\n{result.stderr[-2000:]}"


def fatal_lines(result):
    return [line[:1500] for line in result.stdout.splitlines() if line.startswith(("fatal:", "failed:"))]


def assert_dev_stack(local_aws, zone):
    """The dev stack exactly as a fault-free provision leaves it: one of each, nothing extra."""
    rds, ec2 = local_aws.client("rds"), local_aws.client("ec2")

    clusters = rds.describe_db_clusters()["DBClusters"]
    assert [c["DBClusterIdentifier"] for c in clusters] == [CLUSTER]
    cluster = clusters[0]
    assert cluster["Status"] == "available"
    assert cluster["StorageEncrypted"] is True
    instances = rds.describe_db_instances()["DBInstances"]
    assert [i["DBInstanceIdentifier"] for i in instances] == [WRITER]
    assert instances[0]["PubliclyAccessible"] is False
    assert [(m["DBInstanceIdentifier"], m["IsClusterWriter"]) for m in cluster["DBClusterMembers"]] == [(WRITER, True)]

    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [zone["vpc_id"]]}])["SecurityGroups"]
    names = sorted(g["GroupName"] for g in groups)
    assert names.count(DB_SG) == 1, names
    # Nothing orphaned: the VPC holds only its default group, the landing zone's app group and ours.
    assert len(groups) == 3, names
    db_sg = next(g for g in groups if g["GroupName"] == DB_SG)
    assert len(db_sg["IpPermissions"]) == 1, db_sg["IpPermissions"]
    rule = db_sg["IpPermissions"][0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 5432, 5432)
    assert [pair["GroupId"] for pair in rule["UserIdGroupPairs"]] == [zone["app_security_group_id"]]
    assert rule.get("IpRanges", []) == [] and rule.get("Ipv6Ranges", []) == []
    assert [g["VpcSecurityGroupId"] for g in cluster["VpcSecurityGroups"]] == [db_sg["GroupId"]]

    subnet_groups = rds.describe_db_subnet_groups()["DBSubnetGroups"]
    assert [g["DBSubnetGroupName"] for g in subnet_groups] == [SUBNET_GROUP]
    assert cluster["DBSubnetGroup"] == SUBNET_GROUP

    param_groups = [
        g["DBClusterParameterGroupName"]
        for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
        if not g["DBClusterParameterGroupName"].startswith("default.")
    ]
    assert param_groups == [PARAM_GROUP]
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=PARAM_GROUP)["Parameters"]
    assert {p["ParameterName"]: p.get("ParameterValue") for p in params}["rds.force_ssl"] == "1"
    assert cluster["DBClusterParameterGroup"] == PARAM_GROUP


def assert_rerun_changes_nothing(local_aws):
    again = local_aws.run_playbook(*PROVISION)
    assert again.returncode == 0, tail(again)
    assert again.recap[HOST]["changed"] == 0, tail(again, 8000)
