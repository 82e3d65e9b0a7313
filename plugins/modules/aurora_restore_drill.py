#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_restore_drill
short_description: Restore an Aurora cluster's latest backup into a temporary cluster, time it, delete it
version_added: 0.2.0
description:
  - A restore drill with a measured recovery time. Restores the live cluster's latest automated snapshot (or the
    newest of any type, a named snapshot, or a point in time of the live cluster) into a temporary cluster
    C(<cluster>-drill-<UTC timestamp>) with one writer instance, in the same region, with the stack's security
    (its KMS key, DB subnet group, security groups, cluster parameter group that requires TLS, IAM database
    authentication, no public access); waits until both are available; reads back the security it got;
    then deletes the writer and the cluster (no final snapshot, its automated backups with it) and checks the
    account that nothing the drill made is left.
  - Returns, and writes to O(report_path) C(.json) and C(.md), the snapshot used and its time, the data age at
    restore (RPO, the drill's start minus the snapshot or restore time), the time until the cluster and its writer
    were available (RTO), each step's start and duration, and the clean-up check.
  - The live cluster is only read. Everything the drill creates is tagged C(vitality.aurora:restore-drill=<live
    cluster>); every delete reads the resource again and refuses one without that tag, or whose identifier is not
    a drill identifier. A drill whose run was killed leaves a tagged cluster, which the next drill of the same
    cluster deletes first (the plan shows it).
  - Clean-up runs when the restore fails too. The module fails (Ansible exits non-zero) when the drill failed or
    left something behind.
  - Every create survives a lost answer, as a failed create is followed by a read of the identifier.
  - With O(target_region), the drill runs in another Region (the loss of the stack's Region). The chosen snapshot is
    copied there (C(CopyDBClusterSnapshot) with C(SourceRegion), encrypted with the stack's key of that Region,
    C(alias/<stack_name>-<target_region>)) as C(<drill cluster>-copy), and the copy is restored into the stack's
    network there (the security group O(target_security_group_name) of the VPC O(target_vpc_name), the DB subnet
    group O(db_subnet_group_name), the cluster parameter group O(db_cluster_parameter_group_name), which are the Aurora Global
    Database's secondary resources). Any of them missing stops the drill before any mutating call, naming it. The
    copy is timed as its own step, deleted with the rest, and the account check covers that Region.
author:
  - Vitality platform team (@vitality)
options:
  source_cluster_identifier:
    description: The live cluster whose backup is restored. Only read.
    type: str
    required: true
  source:
    description:
      - What is restored. V(latest-automated), the newest available automated snapshot of the cluster;
        V(latest-snapshot), the newest available snapshot of any type; V(snapshot), O(snapshot_identifier);
        V(point-in-time), the live cluster at O(restore_to_time) (omitted, its latest restorable time).
      - Omitted, V(latest-automated).
    type: str
    choices: [latest-automated, latest-snapshot, snapshot, point-in-time]
    default: latest-automated
  snapshot_identifier:
    description:
      - With O(source=snapshot), the cluster snapshot to restore (identifier or ARN).
      - Omitted, none; required by O(source=snapshot) and refused with any other source.
    type: str
  restore_to_time:
    description:
      - With O(source=point-in-time), the UTC time to restore to, for example V(2026-11-25T06:00:00Z).
      - Omitted, the live cluster's latest restorable time.
    type: str
  db_instance_class:
    description: The class of the temporary writer (the stack's writer class, so the time measured is the stack's).
    type: str
    required: true
  db_subnet_group_name:
    description: The stack's DB subnet group. Omitted, the live cluster's.
    type: str
  vpc_security_group_ids:
    description: The stack's database security groups. Omitted, the live cluster's.
    type: list
    elements: str
  db_cluster_parameter_group_name:
    description: The stack's cluster parameter group (it requires TLS). Omitted, the live cluster's.
    type: str
  kms_key_id:
    description: The stack's KMS key. Omitted, the live cluster's, else the snapshot's.
    type: str
  port:
    description: The port of the temporary cluster. Omitted, the live cluster's, else the snapshot's.
    type: int
  enable_iam_database_authentication:
    description: IAM database authentication on the temporary cluster, as on the stack. Omitted, V(true).
    type: bool
    default: true
  serverless_v2_scaling_configuration:
    description:
      - The stack's Serverless v2 range (C(min_capacity), C(max_capacity)), needed when O(db_instance_class) is
        V(db.serverless). Omitted or empty, none.
    type: dict
  storage_type:
    description: The stack's storage type (V(aurora) or V(aurora-iopt1)). Omitted, AWS's default.
    type: str
  tags:
    description:
      - The stack's tags, given to the temporary cluster and writer besides the drill tag.
      - Omitted, only the drill tag.
    type: dict
    default: {}
  report_path:
    description:
      - Where to write the drill report, without extension (C(.json) and C(.md) are added); on the machine the
        module runs on. Omitted, no file is written (the report is returned).
    type: path
  target_region:
    description:
      - The Region to restore in, when it is not the module's (the stack's) Region, for example V(us-west-2).
        V(point-in-time) is refused there (Aurora restores a point in time in the cluster's own Region only).
      - Omitted, empty, or the module's Region, the drill restores in the module's Region.
    type: str
  target_vpc_name:
    description: With O(target_region), the Name tag of the stack's VPC there. Omitted, none (required then).
    type: str
  target_security_group_name:
    description:
      - With O(target_region), the name of the stack's database security group in O(target_vpc_name) there.
      - Omitted, none (required then).
    type: str
  stack_name:
    description:
      - The stack's name (the role's C(aurora_cluster_name)); with O(target_region), the key there is
        C(alias/<stack_name>-<target_region>), the key the role gives the global database's secondary.
      - Omitted, O(target_kms_key_id) names it.
    type: str
  target_kms_key_id:
    description:
      - With O(target_region), the KMS key there (ID, ARN or alias) that encrypts the copy and the restored cluster.
      - Omitted, C(alias/<stack_name>-<target_region>).
    type: str
  wait_timeout:
    description: Seconds each wait (copy, restore, writer, deletes) may take before the drill fails. Omitted, V(3600).
    type: int
    default: 3600
extends_documentation_fragment:
  - vitality.aurora.waiting
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode, which reads the live cluster, its snapshots and earlier drills' leftovers and returns
    the planned steps, with no mutating call.
  - The temporary cluster is billed while it runs (instance hours of the writer, the restored storage and I/O).
  - Run one drill of a cluster at a time (the cron line in the user guide takes a lock), since a drill deletes
    the tagged clusters of the same live cluster that it finds when it starts.
  - The restore is in the region of the module, or in O(target_region); the snapshot is read in the module's
    region.
"""

EXAMPLES = r"""
- name: Restore drill of the latest automated snapshot, report written beside the stack's
  vitality.aurora.aurora_restore_drill:
    source_cluster_identifier: vitality-dev-aurora
    db_instance_class: db.t4g.medium
    tags:
      Environment: dev
    report_path: report/vitality-dev-aurora-drill-20261201T0300Z

- name: Restore drill in us-west-2 of prod's newest automated snapshot, copied there (the loss of us-east-1)
  vitality.aurora.aurora_restore_drill:
    region: us-east-1
    source_cluster_identifier: vitality-prod-aurora
    db_instance_class: db.r6g.large
    target_region: us-west-2
    target_vpc_name: vitality-prod-app-vpc
    target_security_group_name: vitality-prod-db
    db_subnet_group_name: vitality-prod-db-subnets
    db_cluster_parameter_group_name: vitality-prod-aurora-pg16
    stack_name: vitality-prod

- name: Restore drill of the live cluster as it was at 06:00 UTC
  vitality.aurora.aurora_restore_drill:
    source_cluster_identifier: vitality-prod-aurora
    source: point-in-time
    restore_to_time: "2026-11-25T06:00:00Z"
    db_instance_class: db.r6g.large
"""

RETURN = r"""
drill:
  description: What the drill did and measured (the report's content).
  returned: always
  type: dict
  sample: {"outcome": "passed", "snapshot": "rds:vitality-dev-aurora-2026-12-01-03-00", "rpo_seconds": 3600.0, "rto_seconds": 850.0}
  contains:
    outcome:
      description: V(passed), V(failed), or V(planned) in check mode.
      type: str
      sample: passed
    error:
      description: Why the drill failed (null when it passed).
      type: str
      sample: null
    source_cluster:
      description: The live cluster.
      type: str
      sample: vitality-dev-aurora
    source:
      description: The O(source) asked for.
      type: str
      sample: latest-automated
    region:
      description: The region the drill restored in.
      type: str
      sample: us-east-1
    source_region:
      description: The region of the live cluster and its snapshot.
      type: str
      sample: us-east-1
    snapshot_origin:
      description: Where the restored snapshot came from (C(this Region), or C(copy of <snapshot> from <region>)).
      type: str
      sample: copy of rds:vitality-prod-aurora-2026-12-01-03-00 from us-east-1
    copied_snapshot:
      description: With O(target_region), the copy made there (deleted at the end).
      type: str
      sample: vitality-prod-aurora-drill-20261201040000-copy
    copy_seconds:
      description: With O(target_region), seconds the copy took, a step of its own (not in RV(drill.rto_seconds)).
      type: float
      sample: 1200.0
    rto_with_copy_seconds:
      description: With O(target_region), RV(drill.copy_seconds) plus RV(drill.rto_seconds).
      type: float
      sample: 2050.0
    snapshot:
      description: The snapshot restored (null for a point-in-time restore).
      type: str
      sample: rds:vitality-dev-aurora-2026-12-01-03-00
    snapshot_type:
      description: Its type (V(automated), V(manual)).
      type: str
      sample: automated
    restored_to:
      description: The time of the data restored (the snapshot's creation, or the restore time), UTC.
      type: str
      sample: "2026-12-01T03:00:00Z"
    started:
      description: When the drill started, UTC.
      type: str
      sample: "2026-12-01T04:00:00Z"
    available_at:
      description: When the cluster and its writer were available, UTC.
      type: str
      sample: "2026-12-01T04:14:10Z"
    finished:
      description: When the drill ended (clean-up checked), UTC.
      type: str
      sample: "2026-12-01T04:25:00Z"
    rpo_seconds:
      description: Data age at restore, the drill's start minus RV(drill.restored_to).
      type: float
      sample: 3600.0
    cluster_available_seconds:
      description: Seconds from the restore call until the cluster was available.
      type: float
      sample: 520.0
    rto_seconds:
      description: Seconds from the restore call until the cluster and its writer were available (the RTO).
      type: float
      sample: 850.0
    drill_identifier:
      description: The temporary cluster.
      type: str
      sample: vitality-dev-aurora-drill-20261201040000
    writer_identifier:
      description: The temporary writer.
      type: str
      sample: vitality-dev-aurora-drill-20261201040000-writer
    security_checks:
      description: The stack's security, read back from the temporary cluster.
      type: list
      elements: dict
      sample: [{"check": "the stack's DB subnet group", "ok": true, "seen": "vitality-dev-aurora"}]
    steps:
      description: Each step, in order, with C(step), C(started), C(finished), C(seconds), C(result), C(plan_line).
      type: list
      elements: dict
      sample: [{"step": "restore the cluster", "started": "2026-12-01T04:00:01Z", "seconds": 520.0, "result": "ok"}]
    cleanup:
      description: The account check after the clean-up; C(left) lists what remains, empty when nothing.
      type: dict
      sample: {"checked": true, "left": [], "looked_for": "tag vitality.aurora:restore-drill=vitality-dev-aurora"}
    plan:
      description: The planned steps, as lines.
      type: list
      elements: str
      sample: ["1. cluster vitality-dev-aurora-drill-20261201040000: create (drill): restore from snapshot rds:x [online]"]
    calls:
      description: The mutating AWS calls made, in order.
      type: list
      elements: str
      sample: ["rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance", "rds:DeleteDBInstance", "rds:DeleteDBCluster"]
    failed:
      description: Whether the drill failed or left something behind.
      type: bool
      sample: false
plan:
  description: The planned steps, as plan.py's actions (order, resource, name, change, impact, unavailability, calls, note).
  returned: always
  type: list
  elements: dict
  sample: [{"order": 1, "resource": "cluster", "name": "vitality-dev-aurora-drill-20261201040000", "impact": "online"}]
report:
  description: The report files written, C(json) and C(markdown) (absent without O(report_path)).
  returned: when O(report_path) is given and not in check mode
  type: dict
  sample: {"json": "report/vitality-dev-aurora-drill-20261201T040000Z.json", "markdown": "report/vitality-dev-aurora-drill-20261201T040000Z.md"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.drill_settings import SOURCES, input_errors, other_region
from ansible_collections.vitality.aurora.plugins.module_utils.restore_drill import (
    Drill,
    DrillError,
    RaisingModule,
    write_drill_report,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    ProgressLog,
    check_wait_options,
)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            source_cluster_identifier=dict(type="str", required=True),
            source=dict(type="str", choices=list(SOURCES), default="latest-automated"),
            snapshot_identifier=dict(type="str"),
            restore_to_time=dict(type="str"),
            db_instance_class=dict(type="str", required=True),
            db_subnet_group_name=dict(type="str"),
            vpc_security_group_ids=dict(type="list", elements="str"),
            db_cluster_parameter_group_name=dict(type="str"),
            kms_key_id=dict(type="str", no_log=False),
            port=dict(type="int"),
            enable_iam_database_authentication=dict(type="bool", default=True),
            serverless_v2_scaling_configuration=dict(type="dict"),
            storage_type=dict(type="str"),
            tags=dict(type="dict", default={}),
            report_path=dict(type="path"),
            target_region=dict(type="str"),
            target_vpc_name=dict(type="str"),
            target_security_group_name=dict(type="str"),
            stack_name=dict(type="str"),
            target_kms_key_id=dict(type="str", no_log=False),
            wait_timeout=dict(type="int", default=3600),
            wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        ),
        supports_check_mode=True,
    )
    check_wait_options(module)
    params = dict(module.params, region=getattr(module, "region", None))
    errors = input_errors(params)
    if errors:
        module.fail_json(msg="Invalid drill settings, nothing was done: " + "; ".join(errors), errors=errors)
    # The drill's own calls raise instead of ending the run, so that its clean-up still runs after a failure.
    source_api = AwsApi(RaisingModule(), "rds", client=AwsApi(module, "rds").client)
    target = other_region(params)
    drill_api, network_apis = source_api, None
    if target:
        clients = {service: AwsApi(module, service, region=target).client for service in ("rds", "ec2", "kms")}
        drill_api = AwsApi(RaisingModule(), "rds", client=clients["rds"])
        network_apis = {
            service: AwsApi(RaisingModule(), service, client=clients[service]) for service in ("ec2", "kms")
        }
    drill = Drill(
        params, drill_api, progress=ProgressLog.from_environment(), source_api=source_api, network_apis=network_apis
    )
    if module.check_mode:
        try:
            actions, snapshot, live = drill.plan()
            # What the temporary cluster would be given: a missing setting shows in the plan's run, not later.
            drill.security_of(live, snapshot)
        except DrillError as e:
            module.fail_json(msg=f"The drill cannot run: {e}")
        result = {
            "outcome": "planned",
            "source_cluster": drill.source,
            "source": params["source"],
            "region": target or params["region"],
            "source_region": params["region"],
            "snapshot": (snapshot or {}).get("DBClusterSnapshotIdentifier"),
            "copied_snapshot": drill.copy_identifier,
            "snapshot_type": (snapshot or {}).get("SnapshotType"),
            "drill_identifier": drill.identifier,
            "writer_identifier": drill.writer,
            "plan": [a.line() for a in actions],
            "calls": [],
            "failed": False,
        }
        module.exit_json(changed=True, drill=result, plan=[a.to_dict() for a in actions])
    result = drill.run()
    outputs = {"drill": result, "plan": [a.to_dict() for a in drill.actions]}
    if module.params["report_path"]:
        outputs["report"] = write_drill_report(module.params["report_path"], result)
    if result["failed"]:
        module.fail_json(
            msg=f"The restore drill of {drill.source} failed: {result['error']}",
            changed=bool(result["calls"]),
            **outputs,
        )
    module.exit_json(changed=True, **outputs)


if __name__ == "__main__":
    main()
