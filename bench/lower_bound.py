"""The lower bound: one Python process, boto3 only, the fewest AWS calls that converge the stack.

    python bench/lower_bound.py --endpoint-url URL --env dev|prod [--poll 0.25]

It builds what playbooks/provision.yml builds for the core stack (database security group
open to the application group on 5432, DB subnet group, cluster parameter group with
rds.force_ssl=1, the Aurora PostgreSQL 16 cluster, the writer and the readers) and converges
it: every resource is read once, created only when missing and changed only when it differs.
Reads are batched as far as the API allows (the two security groups in one call, every
instance of the cluster in one call).  After creating, it polls the cluster and its instances
together until all are available.  It prints a JSON summary on stdout.

Only the benchmark uses it: it has none of the role's checks, plan, retries or error messages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import boto3
import yaml
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parent.parent
PORT = 5432
ENGINE = "aurora-postgresql"
ENGINE_VERSION = "16.6"
FAMILY = "aurora-postgresql16"
PARAMETERS = {"rds.force_ssl": "1"}


def stack_spec(env: str) -> dict:
    """The inventory's sizing for ``env`` (inventories/<env>/group_vars/aurora.yml) with derived names."""
    data = yaml.safe_load((REPO_ROOT / "inventories" / env / "group_vars" / "aurora.yml").read_text())
    name = data["aurora_cluster_name"]
    cluster = f"{name}-aurora"
    readers = [f"{cluster}-reader-{n}" for n in range(1, int(data.get("aurora_cluster_reader_count", 0)) + 1)]
    return {
        "name": name,
        "subnet_names": list(data["aurora_cluster_private_subnet_names"]),
        "app_sg_name": data["aurora_cluster_app_security_group_name"],
        "db_sg_name": f"{name}-db",
        "subnet_group": f"{name}-db-subnets",
        "parameter_group": f"{name}-aurora-pg16",
        "cluster": cluster,
        "instances": [f"{cluster}-writer", *readers],
        "instance_class": data.get("aurora_cluster_instance_class", "db.r6g.large"),
        "backup_retention": int(data.get("aurora_cluster_backup_retention_period", 7)),
        "deletion_protection": bool(data.get("aurora_cluster_deletion_protection", True)),
        "iam_auth": bool(data.get("aurora_cluster_iam_database_authentication", False)),
        "tags": [{"Key": "Stack", "Value": name}, {"Key": "ManagedBy", "Value": "lower-bound"}],
    }


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def converge_network(ec2, spec: dict) -> tuple[list[str], str]:
    """Subnet ids and the database security group id; creates the group and its rule when missing."""
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": spec["subnet_names"]}])["Subnets"]
    vpc_id = subnets[0]["VpcId"]
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": [spec["app_sg_name"], spec["db_sg_name"]]},
        ]
    )["SecurityGroups"]
    by_name = {group["GroupName"]: group for group in groups}
    app_id = by_name[spec["app_sg_name"]]["GroupId"]
    db = by_name.get(spec["db_sg_name"])
    if db is None:
        db_id = ec2.create_security_group(
            GroupName=spec["db_sg_name"],
            Description=f"Aurora PostgreSQL {spec['name']}: from the application only",
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": spec["tags"]}],
        )["GroupId"]
        rules = []
    else:
        db_id, rules = db["GroupId"], db.get("IpPermissions", [])
    wanted = any(
        rule.get("FromPort") == PORT and any(pair.get("GroupId") == app_id for pair in rule.get("UserIdGroupPairs", []))
        for rule in rules
    )
    if not wanted:
        ec2.authorize_security_group_ingress(
            GroupId=db_id,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "UserIdGroupPairs": [{"GroupId": app_id}]}
            ],
        )
    return [subnet["SubnetId"] for subnet in subnets], db_id


def converge_subnet_group(rds, spec: dict, subnet_ids: list[str]) -> None:
    try:
        group = rds.describe_db_subnet_groups(DBSubnetGroupName=spec["subnet_group"])["DBSubnetGroups"][0]
    except ClientError as exc:
        if error_code(exc) != "DBSubnetGroupNotFoundFault":
            raise
        rds.create_db_subnet_group(
            DBSubnetGroupName=spec["subnet_group"],
            DBSubnetGroupDescription=f"Private subnets of {spec['name']}",
            SubnetIds=subnet_ids,
            Tags=spec["tags"],
        )
        return
    if sorted(s["SubnetIdentifier"] for s in group["Subnets"]) != sorted(subnet_ids):
        rds.modify_db_subnet_group(DBSubnetGroupName=spec["subnet_group"], SubnetIds=subnet_ids)


def converge_parameter_group(rds, spec: dict) -> None:
    name = spec["parameter_group"]
    try:
        current = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=name, Source="user")["Parameters"]
    except ClientError as exc:
        if error_code(exc) not in ("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault"):
            raise
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=name,
            DBParameterGroupFamily=FAMILY,
            Description=f"Aurora PostgreSQL 16 parameters of {spec['name']}",
            Tags=spec["tags"],
        )
        current = []
    have = {p["ParameterName"]: p.get("ParameterValue") for p in current}
    changes = [
        {"ParameterName": key, "ParameterValue": value, "ApplyMethod": "pending-reboot"}
        for key, value in PARAMETERS.items()
        if have.get(key) != value
    ]
    if changes:
        rds.modify_db_cluster_parameter_group(DBClusterParameterGroupName=name, Parameters=changes)


def converge_cluster(rds, spec: dict, db_sg_id: str) -> bool:
    """True when the cluster was created or changed."""
    wanted = {
        "BackupRetentionPeriod": spec["backup_retention"],
        "DeletionProtection": spec["deletion_protection"],
        "IAMDatabaseAuthenticationEnabled": spec["iam_auth"],
        "DBClusterParameterGroup": spec["parameter_group"],
    }
    try:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=spec["cluster"])["DBClusters"][0]
    except ClientError as exc:
        if error_code(exc) != "DBClusterNotFoundFault":
            raise
        rds.create_db_cluster(
            DBClusterIdentifier=spec["cluster"],
            Engine=ENGINE,
            EngineVersion=ENGINE_VERSION,
            Port=PORT,
            DatabaseName="dbname",
            MasterUsername="admin1",
            ManageMasterUserPassword=True,
            StorageEncrypted=True,
            DBSubnetGroupName=spec["subnet_group"],
            VpcSecurityGroupIds=[db_sg_id],
            DBClusterParameterGroupName=spec["parameter_group"],
            BackupRetentionPeriod=spec["backup_retention"],
            PreferredBackupWindow="03:00-04:00",
            PreferredMaintenanceWindow="sun:05:00-sun:06:00",
            CopyTagsToSnapshot=True,
            DeletionProtection=spec["deletion_protection"],
            EnableIAMDatabaseAuthentication=spec["iam_auth"],
            EnableCloudwatchLogsExports=["postgresql"],
            Tags=spec["tags"],
        )
        return True
    names = {
        "BackupRetentionPeriod": "BackupRetentionPeriod",
        "DeletionProtection": "DeletionProtection",
        "IAMDatabaseAuthenticationEnabled": "EnableIAMDatabaseAuthentication",
        "DBClusterParameterGroup": "DBClusterParameterGroupName",
    }
    changes = {names[key]: value for key, value in wanted.items() if cluster.get(key) != value}
    if changes:
        rds.modify_db_cluster(DBClusterIdentifier=spec["cluster"], ApplyImmediately=True, **changes)
    return bool(changes)


def cluster_instances(rds, spec: dict) -> dict[str, dict]:
    found = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [spec["cluster"]]}])
    return {i["DBInstanceIdentifier"]: i for i in found["DBInstances"]}


def converge_instances(rds, spec: dict) -> bool:
    """Requests every missing instance at once (the writer first); True when any was created or changed."""
    existing = cluster_instances(rds, spec)
    changed = False
    for tier, identifier in enumerate(spec["instances"]):
        current = existing.get(identifier)
        if current is None:
            rds.create_db_instance(
                DBInstanceIdentifier=identifier,
                DBClusterIdentifier=spec["cluster"],
                Engine=ENGINE,
                DBInstanceClass=spec["instance_class"],
                PromotionTier=min(tier, 1),
                PubliclyAccessible=False,
                Tags=spec["tags"],
            )
            changed = True
        elif current["DBInstanceClass"] != spec["instance_class"]:
            rds.modify_db_instance(
                DBInstanceIdentifier=identifier, DBInstanceClass=spec["instance_class"], ApplyImmediately=True
            )
            changed = True
    return changed


def wait_available(rds, spec: dict, poll: float, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=spec["cluster"])["DBClusters"][0]
        instances = cluster_instances(rds, spec)
        states = [cluster["Status"], *(i["DBInstanceStatus"] for i in instances.values())]
        if all(state == "available" for state in states) and set(instances) >= set(spec["instances"]):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not available after {timeout}s: {states}")
        time.sleep(poll)


def converge(session, endpoint_url: str, env: str, poll: float = 0.25) -> bool:
    """Converge the stack of ``env``; True when anything changed."""
    spec = stack_spec(env)
    ec2 = session.client("ec2", endpoint_url=endpoint_url)
    rds = session.client("rds", endpoint_url=endpoint_url)
    subnet_ids, db_sg_id = converge_network(ec2, spec)
    converge_subnet_group(rds, spec, subnet_ids)
    converge_parameter_group(rds, spec)
    changed = converge_cluster(rds, spec, db_sg_id)
    changed = converge_instances(rds, spec) or changed
    if changed:
        wait_available(rds, spec, poll)
    return changed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--env", required=True, choices=["dev", "prod"])
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between availability polls")
    args = parser.parse_args(argv)
    started = time.monotonic()
    changed = converge(boto3.session.Session(region_name=args.region), args.endpoint_url, args.env, args.poll)
    print(json.dumps({"changed": changed, "seconds": round(time.monotonic() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
