#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_snapshot_export
short_description: Export a snapshot of an Aurora cluster to Amazon S3, once per snapshot
version_added: 0.2.0
description:
  - Chooses a snapshot of the cluster (the newest available automated snapshot, the newest final snapshot
    C(playbooks/destroy.yml) left, or one named), then makes sure it is exported to S3 as Apache Parquet files
    with StartExportTask, and waits for the export with progress lines.
  - The export task identifier is derived from the snapshot's ARN and the sorted O(export_only), as
    C(export-<snapshot name>-<digest>); a second run for the same snapshot finds the task the first one started
    and starts no other.
    A start whose answer was lost is read back by that identifier. When the last attempt FAILED or was CANCELED,
    a new attempt is started under the same identifier with C(-2), C(-3)... appended.
  - An export reads the snapshot, not the cluster, so it has no impact on the cluster's instances or connections
    (impact V(online)). AWS charges per GB of snapshot data the export reads.
  - In check mode, reads only, and returns the planned action in the collection's plan form (RV(actions), RV(plan)).
  - The bucket, the KMS key and the IAM role must exist (the M(vitality.aurora.aurora_cluster) role's C(export)
    entry point, C(playbooks/export.yml), makes them); see the Aurora user guide, "Exporting DB cluster snapshot
    data to Amazon S3", for the permissions they need.
author:
  - Vitality platform team (@vitality)
options:
  db_cluster_identifier:
    description:
      - The cluster whose snapshots are looked at (for O(source=automated) and O(source=final)).
    type: str
    required: true
  source:
    description:
      - Which snapshot to export. V(automated), the newest available automated snapshot of the cluster;
        V(final), the newest final snapshot C(playbooks/destroy.yml) left (named
        C(<db_cluster_identifier>-final-YYYYMMDD-HHMMSS)); V(named), O(db_cluster_snapshot_identifier).
      - Omitted, V(automated).
    type: str
    choices: [automated, final, named]
    default: automated
  db_cluster_snapshot_identifier:
    description:
      - The identifier or ARN of the cluster snapshot to export; required with O(source=named), refused otherwise.
      - Omitted, the snapshot is chosen by O(source).
    type: str
  s3_bucket_name:
    description:
      - The S3 bucket the data is exported to.
    type: str
    required: true
  s3_prefix:
    description:
      - The prefix, inside the bucket, under which AWS writes the export's folder (named as the export task).
      - Omitted or empty, the folder is at the top of the bucket.
    type: str
    default: ""
  iam_role_arn:
    description:
      - The IAM role RDS assumes to write to the bucket (trusted by C(export.rds.amazonaws.com), allowed
        C(s3:PutObject*), C(s3:GetObject*), C(s3:ListBucket), C(s3:DeleteObject*) and C(s3:GetBucketLocation) on the
        bucket and its objects).
    type: str
    required: true
  kms_key_id:
    description:
      - The symmetric customer managed KMS key (ARN, key ID, alias name or alias ARN) that encrypts the exported
        data. The caller needs C(kms:CreateGrant) and C(kms:DescribeKey) on it.
    type: str
    required: true
  export_only:
    description:
      - The part of the snapshot to export, each item C(database), C(database.schema) or C(database.schema.table).
      - Omitted or empty, everything is exported. AWS reads (and charges for) the whole snapshot either way.
    type: list
    elements: str
    default: []
  wait:
    description:
      - Wait for the export to end (COMPLETE, FAILED or CANCELED), printing its progress.
      - Omitted, V(true). With V(false), the module returns once the export is started (or found running).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait before failing with the state last seen (the export goes on in AWS; a later run finds it).
      - Omitted, V(14400) seconds (an export of a large snapshot takes hours).
    type: int
    default: 14400
extends_documentation_fragment:
  - vitality.aurora.waiting
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reads only and returns the planned action.
notes:
  - Waits honour O(wait_timeout); progress is printed by the collection's C(aurora_progress) callback.
  - A newly made IAM role may not be visible to RDS for some seconds; StartExportTask is tried again a few times
    while RDS says the role is missing or lacks permissions.
"""

EXAMPLES = r"""
- name: Export the newest automated snapshot
  vitality.aurora.aurora_snapshot_export:
    db_cluster_identifier: vitality-prod-aurora
    s3_bucket_name: vitality-prod-aurora-exports-123456789012-us-east-1
    s3_prefix: vitality-prod
    iam_role_arn: arn:aws:iam::123456789012:role/vitality-prod-aurora-snapshot-export
    kms_key_id: alias/vitality-prod-aurora-snapshot-export
  register: exported

- name: Export one schema of the final snapshot destroy left, without waiting
  vitality.aurora.aurora_snapshot_export:
    db_cluster_identifier: vitality-dev-aurora
    source: final
    s3_bucket_name: my-exports
    iam_role_arn: arn:aws:iam::123456789012:role/my-export-role
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    export_only: [vitality.app]
    wait: false
"""

RETURN = r"""
action:
  description:
    - What the run did (in check mode, would do) - V(start) a new export, V(wait) for one already running, or
      V(none) when the snapshot was already exported.
  returned: always
  type: str
  sample: start
snapshot:
  description: The snapshot chosen.
  returned: always
  type: dict
  sample:
    identifier: rds:vitality-prod-aurora-2026-12-01-03-10
    arn: arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:vitality-prod-aurora-2026-12-01-03-10
    type: automated
    cluster: vitality-prod-aurora
    create_time: "2026-12-01T03:10:00+00:00"
  contains:
    identifier:
      description: Its identifier.
      type: str
      returned: always
      sample: rds:vitality-prod-aurora-2026-12-01-03-10
    arn:
      description: Its ARN (the export's source).
      type: str
      returned: always
      sample: arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:vitality-prod-aurora-2026-12-01-03-10
    type:
      description: Its type as AWS gives it (V(automated), V(manual)...).
      type: str
      returned: always
      sample: automated
    cluster:
      description: The cluster it was taken of.
      type: str
      returned: always
      sample: vitality-prod-aurora
    create_time:
      description: When it was taken (ISO 8601, UTC); null when AWS does not say.
      type: str
      returned: always
      sample: "2026-12-01T03:10:00+00:00"
export:
  description:
    - The export task, as AWS last described it (in check mode for a new export, the task planned, with a null
      status).
  returned: always
  type: dict
  sample:
    identifier: export-rds-vitality-prod-aurora-2026-12-01-03-10-1a2b3c4d
    status: COMPLETE
    s3_path: s3://vitality-prod-aurora-exports-123456789012-us-east-1/vitality-prod/export-rds-vitality-prod-aurora-2026-12-01-03-10-1a2b3c4d
    percent_progress: 100
    total_extracted_data_in_gb: 12
    export_only: []
    failure_cause: null
  contains:
    identifier:
      description: The export task identifier.
      type: str
      returned: always
      sample: export-rds-vitality-prod-aurora-2026-12-01-03-10-1a2b3c4d
    status:
      description: V(STARTING), V(IN_PROGRESS), V(COMPLETE), V(FAILED), V(CANCELING) or V(CANCELED); null when planned only.
      type: str
      returned: always
      sample: COMPLETE
    s3_path:
      description: Where the files are, C(s3://<bucket>/<prefix>/<identifier>).
      type: str
      returned: always
      sample: s3://vitality-prod-aurora-exports-123456789012-us-east-1/vitality-prod/export-rds-vitality-prod-aurora-2026-12-01-03-10-1a2b3c4d
    s3_bucket:
      description: The bucket.
      type: str
      returned: always
      sample: vitality-prod-aurora-exports-123456789012-us-east-1
    s3_prefix:
      description: The prefix in the bucket; empty for none.
      type: str
      returned: always
      sample: vitality-prod
    percent_progress:
      description: How far the export got, in percent; null when AWS does not say.
      type: float
      returned: always
      sample: 100
    total_extracted_data_in_gb:
      description: The data extracted, in GB, as AWS reports it once the export progresses; null until then.
      type: float
      returned: always
      sample: 12
    export_only:
      description: The databases, schemas or tables exported as AWS lists them; empty for everything.
      type: list
      elements: str
      returned: always
      sample: ["vitality.app"]
    source_arn:
      description: The snapshot's ARN.
      type: str
      returned: always
      sample: arn:aws:rds:us-east-1:123456789012:cluster-snapshot:rds:vitality-prod-aurora-2026-12-01-03-10
    source_type:
      description: V(SNAPSHOT) or V(CLUSTER) as AWS gives it; null when it does not say.
      type: str
      returned: always
      sample: SNAPSHOT
    snapshot_time:
      description: When the snapshot was taken (ISO 8601, UTC); null when AWS does not say.
      type: str
      returned: always
      sample: "2026-12-01T03:10:00+00:00"
    task_start_time:
      description: When the export started (ISO 8601, UTC); null when AWS does not say.
      type: str
      returned: always
      sample: "2026-12-01T08:00:00+00:00"
    task_end_time:
      description: When the export ended (ISO 8601, UTC); null while it runs.
      type: str
      returned: always
      sample: "2026-12-01T08:40:00+00:00"
    iam_role_arn:
      description: The role RDS writes with.
      type: str
      returned: always
      sample: arn:aws:iam::123456789012:role/vitality-prod-aurora-snapshot-export
    kms_key_id:
      description: The key the data is encrypted with.
      type: str
      returned: always
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    failure_cause:
      description: Why the export failed, as AWS says; null otherwise.
      type: str
      returned: always
      sample: null
    warning_message:
      description: A warning AWS gave about the export; null when none.
      type: str
      returned: always
      sample: null
actions:
  description: The planned action (the collection's plan form, as M(vitality.aurora.aurora_stack) returns it); empty when there is nothing to start.
  returned: always
  type: list
  elements: dict
  sample:
    - order: 1
      resource: snapshot_export
      name: export-rds-vitality-prod-aurora-2026-12-01-03-10-1a2b3c4d
      change: start
      impact: online
      calls: [StartExportTask]
plan:
  description: The planned action as one line of text each; empty when there is nothing to start.
  returned: always
  type: list
  elements: str
  sample:
    - "1. snapshot export export-rds-vitality-prod-aurora-2026-12-01-03-10-1a2b3c4d: start (snapshot ...) [online]. The export reads ..."
"""

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, error_code
from ansible_collections.vitality.aurora.plugins.module_utils.plan import as_utc, number
from ansible_collections.vitality.aurora.plugins.module_utils.snapshot_export import (
    AUTOMATED,
    FINISHED,
    NAMED,
    ROLE_NOT_READY_CODES,
    SOURCES,
    SelectionError,
    decide,
    export_action,
    export_identifier,
    progress_label,
    result_of,
    select_snapshot,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)

# Pauses before StartExportTask is tried again while RDS cannot see a new role yet (IAM propagation).
ROLE_RETRY_DELAYS = (2, 4, 8, 16)


def list_snapshots(api, cluster, source, named):
    context = f"snapshots of cluster {cluster}"
    if source == NAMED:
        return (
            api.paginate(
                "describe_db_cluster_snapshots",
                "DBClusterSnapshots",
                not_found=("DBClusterSnapshotNotFoundFault",),
                context=f"cluster snapshot {named}",
                DBClusterSnapshotIdentifier=named,
            )
            or []
        )
    kind = "automated" if source == AUTOMATED else "manual"
    return (
        api.paginate(
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            not_found=("DBClusterNotFoundFault",),
            context=context,
            DBClusterIdentifier=cluster,
            SnapshotType=kind,
        )
        or []
    )


def tasks_of(api, snapshot_arn):
    """Every export task of the snapshot (AWS filters by SourceArn; the answer is filtered again here)."""
    tasks = (
        api.paginate(
            "describe_export_tasks",
            "ExportTasks",
            context=f"export tasks of {snapshot_arn}",
            SourceArn=snapshot_arn,
        )
        or []
    )
    return [t for t in tasks if isinstance(t, dict) and t.get("SourceArn", snapshot_arn) == snapshot_arn]


def read_task(api, identifier):
    response = api.call(
        "describe_export_tasks",
        not_found=("ExportTaskNotFound",),
        context=f"export task {identifier}",
        ExportTaskIdentifier=identifier,
    )
    found = [t for t in (response or {}).get("ExportTasks") or [] if t.get("ExportTaskIdentifier") == identifier]
    return found[0] if found else None


def start(module, api, request, sleep=time.sleep):
    """StartExportTask; a start whose answer was lost (or that met the same task started beside it) is read back."""
    identifier = request["ExportTaskIdentifier"]
    for delay in ROLE_RETRY_DELAYS + (None,):
        try:
            return api.client.start_export_task(**request)
        except ClientError as e:
            code = error_code(e)
            if code == "ExportTaskAlreadyExists":
                break
            if code in ROLE_NOT_READY_CODES and delay is not None:
                sleep(delay)
                continue
            if read_task(api, identifier) is not None:
                break
            api.fail(e, "start_export_task", f"export task {identifier}")
        except BotoCoreError as e:  # a connection lost after the request was sent may have started it
            if read_task(api, identifier) is not None:
                break
            api.fail(e, "start_export_task", f"export task {identifier}")
    task = read_task(api, identifier)
    if task is None:
        module.fail_json(msg=f"export task {identifier} was not found after StartExportTask answered that it exists")
    return task


def snapshot_result(snapshot):
    create_time = as_utc(snapshot.get("SnapshotCreateTime"))
    return {
        "identifier": snapshot.get("DBClusterSnapshotIdentifier"),
        "arn": snapshot.get("DBClusterSnapshotArn"),
        "type": snapshot.get("SnapshotType"),
        "cluster": snapshot.get("DBClusterIdentifier"),
        "create_time": create_time.isoformat() if create_time else None,
    }


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_cluster_identifier=dict(type="str", required=True),
            source=dict(type="str", default=AUTOMATED, choices=list(SOURCES)),
            db_cluster_snapshot_identifier=dict(type="str"),
            s3_bucket_name=dict(type="str", required=True),
            s3_prefix=dict(type="str", default=""),
            iam_role_arn=dict(type="str", required=True),
            kms_key_id=dict(type="str", required=True, no_log=False),
            export_only=dict(type="list", elements="str", default=[]),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=14400),
            wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        ),
        required_if=[("source", NAMED, ["db_cluster_snapshot_identifier"])],
        supports_check_mode=True,
    )
    check_wait_options(module)
    p = module.params
    if p["source"] != NAMED and p["db_cluster_snapshot_identifier"]:
        module.fail_json(
            msg=f"db_cluster_snapshot_identifier={p['db_cluster_snapshot_identifier']!r} is only read with source=named "
            f"(source={p['source']!r} chooses the snapshot itself)"
        )
    cluster = p["db_cluster_identifier"]
    bucket, prefix = p["s3_bucket_name"], (p["s3_prefix"] or "").strip("/")
    export_only = sorted(set(p["export_only"] or []))
    api = AwsApi(module, "rds")

    try:
        snapshot = select_snapshot(
            list_snapshots(api, cluster, p["source"], p["db_cluster_snapshot_identifier"]),
            p["source"],
            cluster,
            p["db_cluster_snapshot_identifier"] or "",
        )
    except SelectionError as e:
        module.fail_json(msg=f"Nothing to export: {e}")
    arn = snapshot.get("DBClusterSnapshotArn")
    base = export_identifier(arn, snapshot.get("DBClusterSnapshotIdentifier"), export_only)
    what, previous, identifier = decide(tasks_of(api, arn), base)

    actions, task = [], previous
    if what == "start":
        actions = number([export_action(snapshot, identifier, bucket, prefix, export_only, previous)])
        task = None
    result = dict(
        changed=what == "start",
        action=what,
        snapshot=snapshot_result(snapshot),
        actions=[a.to_dict() for a in actions],
        plan=[a.line() for a in actions],
    )
    if module.check_mode or what == "none":
        planned = task or {
            "ExportTaskIdentifier": identifier,
            "ExportOnly": export_only or None,
            "SourceArn": arn,
            "IamRoleArn": p["iam_role_arn"],
            "KmsKeyId": p["kms_key_id"],
        }
        module.exit_json(export=result_of(planned, bucket, prefix), **result)

    if what == "start":
        request = dict(
            ExportTaskIdentifier=identifier,
            SourceArn=arn,
            S3BucketName=bucket,
            IamRoleArn=p["iam_role_arn"],
            KmsKeyId=p["kms_key_id"],
        )
        if prefix:
            request["S3Prefix"] = prefix
        if export_only:
            request["ExportOnly"] = export_only
        task = start(module, api, request)

    if p["wait"] and str(task.get("Status") or "").upper() not in FINISHED:
        task = (
            wait_or_fail(
                module,
                lambda: read_task(api, identifier),
                lambda t: t is None or str(t.get("Status") or "").upper() in FINISHED,
                what=f"export task {identifier}",
                wanted="COMPLETE",
                timeout_message=lambda e: (
                    f"{e} - the export goes on in AWS: run again to wait for it (no second export is started)"
                ),
                describe=lambda t: [
                    (identifier, progress_label(t), t is not None and str(t.get("Status") or "").upper() in FINISHED)
                ],
            )
            or task
        )
    exported = result_of(task, bucket, prefix)
    if exported["status"] in ("FAILED", "CANCELED"):
        module.fail_json(
            msg=f"export task {identifier} ended {exported['status']}: {exported['failure_cause'] or 'AWS gave no cause'}; "
            "run again to start a new attempt once the cause is fixed",
            export=exported,
            **result,
        )
    module.exit_json(export=exported, **result)


if __name__ == "__main__":
    main()
