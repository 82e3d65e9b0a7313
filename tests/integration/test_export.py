"""playbooks/export.yml against the local AWS: the dev stack converged, then its snapshot exported to S3.

One local AWS for this module, every run through the recording proxy (tests/aws_proxy.py), so a test sees which
calls a run made, S3's REST calls included. In order: a refused setting stops the run before any AWS call; --check
makes no mutating call and leaves nothing behind; the export from the command lines the user guide shows (run as written) makes the
bucket (read back: public access block, SSE-KMS with the export's key, versioning, lifecycle), the IAM role (its
trust and its one inline policy, read back and minimal) and one export task, COMPLETE, whose path, size and tables
are in the outputs; a second run starts no second export and changes nothing; a named snapshot with a table
selection given as -e JSON is exported with progress lines; the final snapshot, into the operator's bucket with the
operator's key, leaves that bucket's settings as they were.

moto's export tasks are extended in scripts/moto_server_ext.py (STARTING, IN_PROGRESS, COMPLETE, as on AWS).
"""

from __future__ import annotations

import json
import subprocess

import pytest
from botocore.exceptions import ClientError
from test_documented_commands import commands_run_by, localised

from aws_proxy import AwsProxy
from local_aws import OUTPUTS_VAR, REPO_ROOT, LocalAws, PlaybookResult, ansible_env, parse_recap
from local_aws import run_playbook as run_local

INVENTORY = "inventories/dev"
# The user guide's commands, in its order: the plan, the export, a named snapshot with a table selection as -e JSON.
CHECK, EXPORT, NAMED = commands_run_by("tests/integration/test_export.py")
ACCOUNT = "123456789012"
CLUSTER = "vitality-dev-aurora"
BUCKET = f"{CLUSTER}-exports-{ACCOUNT}-us-east-1"
ROLE = f"{CLUSTER}-snapshot-export"
KEY_ALIAS = f"alias/{CLUSTER}-snapshot-export"


@pytest.fixture(scope="module")
def aws():
    with LocalAws() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(aws):
    with AwsProxy(aws.endpoint_url) as running:
        yield running


@pytest.fixture(scope="module")
def front(aws, proxy):
    return proxy.front(aws)


@pytest.fixture(scope="module")
def dev(aws, front):
    aws.reset_and_seed(("dev",))
    result = run_local("playbooks/provision.yml", INVENTORY, local_aws=front)
    assert result.returncode == 0, str(result)[-6000:]
    return aws


def run(proxy, front, command, extra_args=(), env=None):
    """The documented command as written, against the local AWS through the proxy: (result, the calls it made)."""
    args = localised(command, front.endpoint_url)
    args += ["-e", json.dumps({OUTPUTS_VAR: str(front.outputs_dir) + "/{{ aurora_cluster_name }}.json"})]
    args += ["-e", json.dumps({"aurora_cluster_report_dir": str(front.outputs_dir / "report")})]
    args += ["-e", "aurora_database_enabled=false", *extra_args]
    proxy.clear_calls()
    proc = subprocess.run(  # noqa: S603
        args,
        cwd=REPO_ROOT,
        env=ansible_env(front.endpoint_url, env),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    return PlaybookResult(args, proc.returncode, proc.stdout, proc.stderr, parse_recap(proc.stdout)), proxy.calls


def mutating(calls):
    return [call.operation or call.action or f"<{call.service} call>" for call in calls if call.mutating]


def tasks(aws):
    return aws.client("rds").describe_export_tasks()["ExportTasks"]


def export_outputs(aws):
    return json.loads((aws.outputs_dir / "vitality-dev-export.json").read_text())


def test_a_refused_setting_stops_the_run_before_any_aws_call(dev, proxy, front):
    result, calls = run(proxy, front, EXPORT, ["-e", "aurora_cluster_export_transition_days=10"])
    assert result.returncode != 0
    assert "aurora_cluster_export_transition_days=10 is neither 0 (never) nor at least 30" in result.stdout
    assert calls == []


def test_check_mode_plans_the_export_and_changes_nothing(dev, proxy, front):
    result, calls = run(proxy, front, CHECK)
    assert result.returncode == 0, str(result)[-6000:]
    assert mutating(calls) == []
    assert "snapshot export export-vitality-dev-aurora-" in result.stdout
    assert "[online]" in result.stdout and "no impact on the cluster" in result.stdout
    assert tasks(dev) == []
    assert BUCKET not in [b["Name"] for b in dev.client("s3").list_buckets()["Buckets"]]
    assert ROLE not in [r["RoleName"] for r in dev.client("iam").list_roles()["Roles"]]


@pytest.fixture(scope="module")
def exported(dev, proxy, front):
    result, calls = run(proxy, front, EXPORT)
    assert result.returncode == 0, str(result)[-6000:]
    return result, calls


def test_the_export_runs_once_and_its_result_is_in_the_outputs(dev, exported):
    result, calls = exported
    assert [c.operation or c.action for c in calls].count("StartExportTask") == 1
    (task,) = tasks(dev)
    assert task["Status"] == "COMPLETE"
    assert task["S3Bucket"] == BUCKET and task["S3Prefix"] == "vitality-dev"
    assert task["IamRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
    outputs = export_outputs(dev)
    assert outputs["s3_path"] == f"s3://{BUCKET}/vitality-dev/{task['ExportTaskIdentifier']}"
    assert outputs["export"]["status"] == "COMPLETE"
    assert outputs["total_extracted_data_in_gb"] == 0
    assert outputs["export_only"] == []
    assert outputs["snapshot"]["type"] == "automated"
    assert task["SourceArn"] == outputs["snapshot"]["arn"]
    assert '"s3_path": "s3://' in result.stdout


def test_the_bucket_is_private_encrypted_with_the_export_key_versioned_and_expires_old_versions(dev, exported):
    s3, kms = dev.client("s3"), dev.client("kms")
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    default = rule["ApplyServerSideEncryptionByDefault"]
    key = kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]
    assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}
    assert key["KeyManager"] == "CUSTOMER"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    assert export_outputs(dev)["export"]["kms_key_id"] == key["Arn"]
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert lifecycle["Transitions"] == [{"Days": 30, "StorageClass": "STANDARD_IA"}]
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_the_export_role_is_trusted_by_rds_exports_of_this_account_only_and_allowed_only_the_export(dev, exported):
    iam = dev.client("iam")
    role = iam.get_role(RoleName=ROLE)["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "export.rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["snapshot-export"]
    document = iam.get_role_policy(RoleName=ROLE, PolicyName="snapshot-export")["PolicyDocument"]
    key_arn = dev.client("kms").describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]
    allowed = {(tuple(sorted(s["Action"])), s["Resource"]) for s in document["Statement"] if s["Effect"] == "Allow"}
    assert allowed == {
        (("s3:GetBucketLocation", "s3:ListBucket"), f"arn:aws:s3:::{BUCKET}"),
        (("s3:DeleteObject*", "s3:GetObject*", "s3:PutObject*"), f"arn:aws:s3:::{BUCKET}/vitality-dev/*"),
        (("kms:Decrypt", "kms:GenerateDataKey"), key_arn),
    }


def test_a_second_run_starts_no_second_export_and_changes_nothing(dev, proxy, front, exported):
    result, calls = run(proxy, front, EXPORT)
    assert result.returncode == 0, str(result)[-6000:]
    assert "StartExportTask" not in [c.operation or c.action for c in calls]
    assert len(tasks(dev)) == 1
    assert "is COMPLETE" in result.stdout
    assert result.recap["vitality-dev"]["changed"] == 0, result.stdout[-6000:]


def test_a_named_snapshot_with_tables_from_json_is_exported_with_progress_lines(dev, proxy, front, exported):
    dev.client("rds").create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="before-migration", DBClusterIdentifier=CLUSTER
    )
    result, _calls = run(proxy, front, NAMED, env={"VITALITY_AURORA_PROGRESS_QUIET_FOR": "0"})
    assert result.returncode == 0, str(result)[-6000:]
    (task,) = [t for t in tasks(dev) if t["SourceArn"].endswith(":before-migration")]
    assert task["ExportOnly"] == ["vitality.app"]
    assert task["Status"] == "COMPLETE"
    assert export_outputs(dev)["export_only"] == ["vitality.app"]
    assert f"export task {task['ExportTaskIdentifier']}" in result.stdout
    assert "IN_PROGRESS 50%" in result.stdout, result.stdout[-6000:]


def test_the_final_snapshot_into_the_operators_bucket_and_key_leaves_the_bucket_as_it_is(dev, proxy, front, exported):
    final = f"{CLUSTER}-final-20261201-010000"  # as playbooks/destroy.yml names final snapshots
    dev.client("rds").create_db_cluster_snapshot(DBClusterSnapshotIdentifier=final, DBClusterIdentifier=CLUSTER)
    dev.client("s3").create_bucket(Bucket="ops-exports")
    kms = dev.client("kms")
    key = kms.create_key(Description="the operator's export key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ops-exports", TargetKeyId=key["KeyId"])
    extra = ["-e", "aurora_cluster_export_source=final", "-e", "aurora_cluster_export_bucket=ops-exports"]
    extra += ["-e", "aurora_cluster_export_kms_key_id=alias/ops-exports"]
    result, _calls = run(proxy, front, EXPORT, extra)
    assert result.returncode == 0, str(result)[-6000:]
    (task,) = [t for t in tasks(dev) if t["SourceArn"].endswith(f":{final}")]
    assert (task["Status"], task["S3Bucket"], task["KmsKeyId"]) == ("COMPLETE", "ops-exports", key["Arn"])
    s3 = dev.client("s3")
    assert "Status" not in s3.get_bucket_versioning(Bucket="ops-exports")
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket="ops-exports")
    document = dev.client("iam").get_role_policy(RoleName=ROLE, PolicyName="snapshot-export")["PolicyDocument"]
    resources = {s["Resource"] for s in document["Statement"]}
    assert resources == {"arn:aws:s3:::ops-exports", "arn:aws:s3:::ops-exports/vitality-dev/*", key["Arn"]}
