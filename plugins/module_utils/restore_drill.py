# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore drill: restore the stack's latest backup into a temporary cluster, time it, delete it, check the account.

``Drill(params, api, clock).run()`` returns the drill's result (the report's facts, its steps with their times, the
clean-up check); ``Drill.plan()`` returns the steps a run takes (plan.py's actions) with no mutating call. Every
AWS call goes through ``api`` (an AwsApi whose failures raise ``DrillError``), every time through ``clock``: the unit
tests fake both, so the step order and the RTO arithmetic are tested without AWS and without waiting.

Safety: the temporary identifier is derived (``<cluster>-drill-<UTC timestamp>``, never the live cluster's), every
resource the drill creates carries the tag DRILL_TAG (value: the live cluster's identifier), and every delete reads
the resource again and refuses one without that tag. A drill whose run was killed leaves a tagged cluster: the next
drill of the same stack finds it by the tag and deletes it first.

In another Region (``target_region``, the loss of the stack's Region): the chosen snapshot is copied there
(CopyDBClusterSnapshot, encrypted with that Region's key of the stack) and the copy is restored into the stack's
network there (the Aurora Global Database's secondary security group, DB subnet group and parameter group, found by
name). The live clusters of both Regions are only read; the copy carries the drill tag and is deleted with the rest.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timezone

from ansible_collections.vitality.aurora.plugins.module_utils.api import dict_to_tags, drop_none, tags_to_dict
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import restore_request
from ansible_collections.vitality.aurora.plugins.module_utils.drill_settings import other_region, parse_restore_time
from ansible_collections.vitality.aurora.plugins.module_utils.naming import secondary_cluster_identifier
from ansible_collections.vitality.aurora.plugins.module_utils.plan import ONLINE, Action, as_utc, number
from ansible_collections.vitality.aurora.plugins.module_utils.report import _write_changed, cell
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import WaitTimeout, wait_for

DRILL_TAG = "vitality.aurora:restore-drill"
CLUSTER_NOT_FOUND = ("DBClusterNotFoundFault",)
INSTANCE_NOT_FOUND = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
SNAPSHOT_NOT_FOUND = ("DBClusterSnapshotNotFoundFault",)
SUBNET_GROUP_NOT_FOUND = ("DBSubnetGroupNotFoundFault",)
PARAMETER_GROUP_NOT_FOUND = ("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault")
KEY_NOT_FOUND = ("NotFoundException",)
# The copy of the snapshot in the drill's Region: the drill cluster's identifier plus this (at most 63 characters).
COPY_SUFFIX = "-copy"
# RDS identifiers: at most 63 characters; the writer's is the cluster's plus WRITER_SUFFIX.
IDENTIFIER_MAX = 63
WRITER_SUFFIX = "-writer"
STAMP = "%Y%m%d%H%M%S"
RUNNING_COST = (
    "the temporary cluster and its writer are billed (instance hours and the restored storage) until the drill "
    "deletes them, minutes later"
)
NO_LIVE_IMPACT = "none on the live cluster"
REPORT_SCHEMA = "vitality.aurora/restore-drill"


class DrillError(Exception):
    """An AWS call failed, a guard refused, or a wait timed out: the drill stops, its clean-up still runs."""


class RaisingModule:
    """What AwsApi is given instead of the Ansible module: a failed call raises DrillError (the module's
    fail_json would end the run before the clean-up)."""

    def fail_json_aws(self, error, msg=None, **_kwargs):
        raise DrillError(f"{msg}: {error}" if msg else str(error))

    def fail_json(self, msg, **_kwargs):
        raise DrillError(msg)


class Clock:
    """Wall time (UTC, for the report) and a monotonic count (for durations); the tests give a fake one."""

    def now(self):
        return datetime.now(timezone.utc)

    def monotonic(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)


def iso(value):
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def drill_identifier(source, started):
    """``<source>-drill-<UTC timestamp>``, the source part shortened so the writer's identifier fits in 63."""
    suffix = f"-drill-{started.strftime(STAMP)}"
    room = IDENTIFIER_MAX - len(WRITER_SUFFIX) - len(suffix)
    stem = re.sub(r"-+", "-", source[:room]).rstrip("-")
    return stem + suffix


def has_marker(resource, source):
    """Whether ``resource`` (as describe answers it, TagList inside) carries the drill tag of ``source``."""
    return tags_to_dict((resource or {}).get("TagList")).get(DRILL_TAG) == source


class Drill:
    def __init__(self, params, api, clock=None, progress=None, source_api=None, network_apis=None):
        """``api``: RDS of the Region the drill restores in; ``source_api``: RDS of the stack's Region (the same one
        when omitted); ``network_apis``: {"ec2", "kms"} of the drill's Region, read when it is another one."""
        self.params = params
        self.api = api
        self.source_api = source_api or api
        self.network_apis = network_apis or {}
        self.target_region = other_region(params)
        self.source_region = params.get("region")
        self.network = None
        self.clock = clock or Clock()
        self.progress = progress
        self.source = params["source_cluster_identifier"]
        self.started = self.clock.now()
        self.started_count = self.clock.monotonic()
        self.identifier = drill_identifier(self.source, self.started)
        self.writer = self.identifier + WRITER_SUFFIX
        self.copy_identifier = self.identifier + COPY_SUFFIX if self.target_region else None
        self.steps = []
        self.calls = []
        self.actions = []

    # -- reading ---------------------------------------------------------------------------------------------------

    def read_cluster(self, identifier, api=None):
        return (api or self.api).describe_one(
            "describe_db_clusters",
            "DBClusters",
            DBClusterIdentifier=identifier,
            not_found=CLUSTER_NOT_FOUND,
            context=f"cluster {identifier}",
        )

    def read_instance(self, identifier):
        return self.api.describe_one(
            "describe_db_instances",
            "DBInstances",
            DBInstanceIdentifier=identifier,
            not_found=INSTANCE_NOT_FOUND,
            context=f"instance {identifier}",
        )

    def drill_clusters(self):
        """Every cluster of the account and region tagged as a drill of this stack."""
        found = self.api.paginate("describe_db_clusters", "DBClusters", context="the drill's clusters") or []
        return [c for c in found if has_marker(c, self.source)]

    def drill_instances(self, cluster_ids=()):
        """Every instance tagged as a drill's of this stack, or a member of a drill cluster."""
        found = self.api.paginate("describe_db_instances", "DBInstances", context="the drill's instances") or []
        return [i for i in found if has_marker(i, self.source) or i.get("DBClusterIdentifier") in cluster_ids]

    def read_snapshot(self, identifier):
        return self.api.describe_one(
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            DBClusterSnapshotIdentifier=identifier,
            not_found=SNAPSHOT_NOT_FOUND,
            context=f"cluster snapshot {identifier}",
        )

    def drill_copies(self):
        """The copies of snapshots a drill of this stack made in its Region (manual, tagged, a drill identifier)."""
        if not self.target_region:
            return []
        found = self.api.paginate(
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            SnapshotType="manual",
            context="the drill's snapshot copies",
        )
        return [
            s
            for s in found or []
            if "-drill-" in str(s.get("DBClusterSnapshotIdentifier")) and has_marker(s, self.source)
        ]

    def drill_snapshots(self, cluster_ids):
        """The cluster snapshots tagged as a drill's or taken of a drill cluster (AWS deletes a cluster's automated
        ones with it; the drill takes none)."""
        left = []
        for identifier in sorted(cluster_ids):
            found = self.api.paginate(
                "describe_db_cluster_snapshots",
                "DBClusterSnapshots",
                not_found=SNAPSHOT_NOT_FOUND,
                DBClusterIdentifier=identifier,
                context=f"the snapshots of {identifier}",
            )
            left += found or []
        return left

    def choose_snapshot(self):
        """The snapshot to restore: the named one, or the newest available of the live cluster."""
        source = self.params["source"]
        if source == "snapshot":
            name = self.params["snapshot_identifier"]
            snapshot = self.source_api.describe_one(
                "describe_db_cluster_snapshots",
                "DBClusterSnapshots",
                DBClusterSnapshotIdentifier=name,
                not_found=SNAPSHOT_NOT_FOUND,
                context=f"snapshot {name}",
            )
            if snapshot is None:
                raise DrillError(f"snapshot_identifier={name!r}: no such cluster snapshot in this account and region")
            return snapshot
        kind = {"latest-automated": {"SnapshotType": "automated"}, "latest-snapshot": {}}[source]
        found = (
            self.source_api.paginate(
                "describe_db_cluster_snapshots",
                "DBClusterSnapshots",
                DBClusterIdentifier=self.source,
                context=f"the snapshots of {self.source}",
                **kind,
            )
            or []
        )
        ready = [s for s in found if s.get("Status") == "available" and as_utc(s.get("SnapshotCreateTime"))]
        if not ready:
            words = "automated snapshot" if source == "latest-automated" else "snapshot"
            raise DrillError(
                f"cluster {self.source} has no available {words} to restore (source={source}); "
                "name one with source=snapshot, or restore a point in time with source=point-in-time"
            )
        return max(ready, key=lambda s: as_utc(s.get("SnapshotCreateTime")))

    # -- the plan --------------------------------------------------------------------------------------------------

    def leftover_actions(self, clusters, instances, copies=()):
        actions = []
        for instance in sorted(instances, key=lambda i: i.get("DBInstanceIdentifier")):
            actions.append(
                Action(
                    "instance",
                    instance["DBInstanceIdentifier"],
                    "delete (left by an interrupted drill)",
                    impact=ONLINE,
                    unavailability=NO_LIVE_IMPACT,
                    calls=["rds:DeleteDBInstance"],
                    request={"kind": "delete_instance", "identifier": instance["DBInstanceIdentifier"]},
                    region=self.target_region,
                )
            )
        for cluster in sorted(clusters, key=lambda c: c.get("DBClusterIdentifier")):
            actions.append(self.delete_cluster_action(cluster["DBClusterIdentifier"], "(left by an interrupted drill)"))
        for copy in sorted(copies, key=lambda c: c.get("DBClusterSnapshotIdentifier")):
            actions.append(
                self.delete_copy_action(copy["DBClusterSnapshotIdentifier"], "(left by an interrupted drill)")
            )
        return actions

    def delete_copy_action(self, identifier, why=""):
        return Action(
            "cluster snapshot",
            identifier,
            ("delete (the drill's copy) " + why).strip(),
            impact=ONLINE,
            unavailability=NO_LIVE_IMPACT,
            calls=["rds:DeleteDBClusterSnapshot"],
            request={"kind": "delete_copy", "identifier": identifier},
            region=self.target_region,
        )

    def delete_cluster_action(self, identifier, why=""):
        return Action(
            "cluster",
            identifier,
            ("delete, no final snapshot, its automated backups with it " + why).strip(),
            impact=ONLINE,
            unavailability=NO_LIVE_IMPACT,
            calls=["rds:ModifyDBCluster", "rds:DeleteDBCluster"],
            note="deletion protection turned off first only if the temporary cluster has it on",
            request={"kind": "delete_cluster", "identifier": identifier},
            region=self.target_region,
        )

    def restore_words(self, snapshot):
        if snapshot is not None and self.target_region:
            return f"restore from snapshot {self.copy_identifier} (the copy)"
        if snapshot is not None:
            return f"restore from snapshot {snapshot.get('DBClusterSnapshotIdentifier')}"
        when = self.params.get("restore_to_time") or "its latest restorable time"
        return f"restore cluster {self.source} to {when}"

    def drill_actions(self, snapshot):
        cost = f"{NO_LIVE_IMPACT}; costs while it runs"
        method = "RestoreDBClusterFromSnapshot" if snapshot is not None else "RestoreDBClusterToPointInTime"
        region = self.target_region
        copy = []
        if region:
            copy = [
                Action(
                    "cluster snapshot",
                    self.copy_identifier,
                    f"create (drill): copy snapshot {snapshot.get('DBClusterSnapshotIdentifier')} from "
                    f"{self.source_region}, encrypted with {(self.network or {}).get('kms_key_id') or 'no key'}",
                    impact=ONLINE,
                    unavailability=NO_LIVE_IMPACT,
                    calls=["rds:CopyDBClusterSnapshot"],
                    note="billed as snapshot storage in the drill's Region, plus the inter-Region transfer, until "
                    "the drill deletes it",
                    request={"kind": "copy"},
                    region=region,
                )
            ]
        actions = copy + [
            Action(
                "cluster",
                self.identifier,
                f"create (drill): {self.restore_words(snapshot)}",
                impact=ONLINE,
                unavailability=cost,
                calls=[f"rds:{method}"],
                note=RUNNING_COST,
                request={"kind": "restore"},
                region=region,
            ),
            Action(
                "instance",
                self.writer,
                f"create (drill writer, {self.params['db_instance_class']}, not publicly accessible)",
                impact=ONLINE,
                unavailability=cost,
                calls=["rds:CreateDBInstance"],
                request={"kind": "writer"},
                region=region,
            ),
            Action(
                "instance",
                self.writer,
                "delete (drill writer)",
                impact=ONLINE,
                unavailability=NO_LIVE_IMPACT,
                calls=["rds:DeleteDBInstance"],
                request={"kind": "delete_instance", "identifier": self.writer},
                region=region,
            ),
            self.delete_cluster_action(self.identifier),
        ]
        if region:
            actions.append(self.delete_copy_action(self.copy_identifier))
        return actions

    def target_network(self, snapshot):
        """The stack's network and key in the drill's Region (the Aurora Global Database's secondary's), read by
        name: {vpc_security_group_ids, db_subnet_group_name, db_cluster_parameter_group_name, kms_key_id}. What is
        missing stops the drill before any mutating call, named with the way to get it."""
        params, region = self.params, self.target_region
        ec2, kms = self.network_apis["ec2"], self.network_apis["kms"]
        missing, groups = [], []
        vpc_name, group_name = params["target_vpc_name"], params["target_security_group_name"]
        vpcs = ec2.call(
            "describe_vpcs", Filters=[{"Name": "tag:Name", "Values": [vpc_name]}], context=f"VPC {vpc_name}"
        )
        vpc_ids = [v["VpcId"] for v in (vpcs or {}).get("Vpcs") or [] if v.get("VpcId")]
        if len(vpc_ids) != 1:
            missing.append(f"one VPC named {vpc_name} (found {len(vpc_ids)})")
        else:
            found = ec2.call(
                "describe_security_groups",
                Filters=[{"Name": "group-name", "Values": [group_name]}, {"Name": "vpc-id", "Values": vpc_ids}],
                context=f"security group {group_name}",
            )
            groups = [
                g["GroupId"] for g in (found or {}).get("SecurityGroups") or [] if g.get("GroupName") == group_name
            ]
            if not groups:
                missing.append(f"security group {group_name} in VPC {vpc_name}")
        subnet_group = params.get("db_subnet_group_name")
        if not subnet_group or not self.api.describe_one(
            "describe_db_subnet_groups",
            "DBSubnetGroups",
            DBSubnetGroupName=subnet_group,
            not_found=SUBNET_GROUP_NOT_FOUND,
            context=f"DB subnet group {subnet_group}",
        ):
            missing.append(f"DB subnet group {subnet_group}")
        parameter_group = params.get("db_cluster_parameter_group_name")
        if not parameter_group or not self.api.describe_one(
            "describe_db_cluster_parameter_groups",
            "DBClusterParameterGroups",
            DBClusterParameterGroupName=parameter_group,
            not_found=PARAMETER_GROUP_NOT_FOUND,
            context=f"cluster parameter group {parameter_group}",
        ):
            missing.append(f"cluster parameter group {parameter_group}")
        key_id = params.get("target_kms_key_id") or (
            f"alias/{secondary_cluster_identifier(params['stack_name'], region)}" if params.get("stack_name") else None
        )
        key = None
        if key_id:
            key = (
                kms.call("describe_key", KeyId=key_id, not_found=KEY_NOT_FOUND, context=f"KMS key {key_id}") or {}
            ).get("KeyMetadata")
        if not key or key.get("KeyState") not in (None, "Enabled"):
            missing.append(f"KMS key {key_id} (enabled)" if key_id else "a KMS key (target_kms_key_id)")
        if missing:
            raise DrillError(
                f"the drill in {region} restores into the stack's network and key there (the Aurora Global "
                f"Database's secondary resources), and these are missing in {region}: {'; '.join(missing)}. "
                f"Build them with aurora_cluster_secondary_region={region} and playbooks/provision.yml first; nothing "
                "was changed"
            )
        return {
            "vpc_security_group_ids": sorted(groups),
            "db_subnet_group_name": subnet_group,
            "db_cluster_parameter_group_name": parameter_group,
            "kms_key_id": key.get("Arn") or key.get("KeyId"),
        }

    def plan(self):
        """(actions, snapshot, live cluster): what a run does, read with no mutating call."""
        live = self.read_cluster(self.source, self.source_api)
        snapshot = None if self.params["source"] == "point-in-time" else self.choose_snapshot()
        if self.params["source"] == "point-in-time" and live is None:
            raise DrillError(f"cluster {self.source} does not exist: a point-in-time restore needs the live cluster")
        if self.target_region:
            if snapshot is None:
                raise DrillError(
                    f"a point-in-time restore cannot run in {self.target_region}: restore a snapshot there"
                )
            self.network = self.target_network(snapshot)
        leftovers = self.drill_clusters()
        instances = self.drill_instances({c["DBClusterIdentifier"] for c in leftovers})
        copies = self.drill_copies()
        self.actions = number(self.leftover_actions(leftovers, instances, copies) + self.drill_actions(snapshot))
        return self.actions, snapshot, live

    # -- the run ---------------------------------------------------------------------------------------------------

    def step(self, name, action=None):
        entry = {"step": name, "started": iso(self.clock.now()), "seconds": None, "result": "running"}
        if action is not None:
            entry["plan_line"] = action.line()
        self.steps.append(entry)
        return entry, self.clock.monotonic()

    def done(self, entry, counted, result="ok"):
        entry["finished"] = iso(self.clock.now())
        entry["seconds"] = round(self.clock.monotonic() - counted, 1)
        entry["result"] = result

    def wait(self, read, ready, what, wanted):
        try:
            return wait_for(
                read,
                ready,
                what=what,
                wanted=wanted,
                timeout=self.params["wait_timeout"],
                max_delay=self.params["wait_max_poll_interval"],
                clock=self.clock.monotonic,
                sleep=self.clock.sleep,
                progress=self.progress,
            )
        except WaitTimeout as e:
            raise DrillError(str(e)) from e

    def guard(self, resource, identifier, kind):
        """Refuse to delete what the drill did not make: the live cluster, or anything without the drill tag."""
        if identifier == self.source or "-drill-" not in identifier:
            raise DrillError(f"refused to delete {kind} {identifier}: not a drill identifier (<cluster>-drill-<time>)")
        if not has_marker(resource, self.source):
            raise DrillError(
                f"refused to delete {kind} {identifier}: it has no {DRILL_TAG}={self.source} tag, so the drill did not make it"
            )

    def guarded_delete(self, kind, identifier, resource, status, action, operation, read, **request):
        """Delete one resource the drill made (its tag checked first), unless AWS is deleting it already, and wait
        until it is gone."""
        self.guard(resource, identifier, kind)
        if resource.get(status) != "deleting":
            self.calls.append(f"rds:{action}")
            self.api.call(operation, context=f"{kind} {identifier}", **request)
        self.wait(lambda: read(identifier), lambda s: s is None, f"{kind} {identifier}", "deleted")
        return True

    def delete_instance(self, identifier):
        instance = self.read_instance(identifier)
        if instance is None:
            return False
        return self.guarded_delete(
            "instance",
            identifier,
            instance,
            "DBInstanceStatus",
            "DeleteDBInstance",
            "delete_db_instance",
            self.read_instance,
            DBInstanceIdentifier=identifier,
            SkipFinalSnapshot=True,
            not_found=INSTANCE_NOT_FOUND,
        )

    def delete_cluster(self, identifier):
        cluster = self.read_cluster(identifier)
        if cluster is None:
            return False
        self.guard(cluster, identifier, "cluster")
        for member in cluster.get("DBClusterMembers") or []:
            self.delete_instance(member["DBInstanceIdentifier"])
        if cluster.get("DeletionProtection"):
            # Only this cluster's: it carries the drill tag (checked above) and is not the live one.
            self.calls.append("rds:ModifyDBCluster")
            self.api.call(
                "modify_db_cluster",
                DBClusterIdentifier=identifier,
                DeletionProtection=False,
                ApplyImmediately=True,
                context=f"cluster {identifier}",
            )
        return self.guarded_delete(
            "cluster",
            identifier,
            cluster,
            "Status",
            "DeleteDBCluster",
            "delete_db_cluster",
            self.read_cluster,
            DBClusterIdentifier=identifier,
            SkipFinalSnapshot=True,
            DeleteAutomatedBackups=True,
            not_found=CLUSTER_NOT_FOUND,
        )

    def delete_copy(self, identifier):
        snapshot = self.read_snapshot(identifier)
        if snapshot is None:
            return False
        return self.guarded_delete(
            "cluster snapshot",
            identifier,
            snapshot,
            "Status",
            "DeleteDBClusterSnapshot",
            "delete_db_cluster_snapshot",
            self.read_snapshot,
            DBClusterSnapshotIdentifier=identifier,
            not_found=SNAPSHOT_NOT_FOUND,
        )

    def copy(self, snapshot):
        """The chosen snapshot copied into the drill's Region, tagged, under that Region's key of the stack."""
        tags = dict(self.params.get("tags") or {})
        tags[DRILL_TAG] = self.source
        encrypted = snapshot.get("StorageEncrypted", True)
        request = drop_none(
            {
                # Another Region's snapshot is named by its ARN; SourceRegion makes botocore sign the PreSignedUrl
                # AWS needs for an encrypted copy (an unencrypted one ignores it).
                "SourceDBClusterSnapshotIdentifier": snapshot.get("DBClusterSnapshotArn")
                or snapshot.get("DBClusterSnapshotIdentifier"),
                "TargetDBClusterSnapshotIdentifier": self.copy_identifier,
                # A key of the destination Region: an encrypted snapshot cannot keep its source Region's key.
                "KmsKeyId": self.network["kms_key_id"] if encrypted else None,
                "SourceRegion": self.source_region,
                "CopyTags": False,
                "Tags": dict_to_tags(tags),
            }
        )
        self.calls.append("rds:CopyDBClusterSnapshot")
        self.api.create(
            "copy_db_cluster_snapshot",
            exists=lambda: self.read_snapshot(self.copy_identifier) is not None,
            already_exists=("DBClusterSnapshotAlreadyExistsFault",),
            context=f"cluster snapshot {self.copy_identifier} in {self.target_region}",
            **request,
        )
        return self.wait(
            lambda: self.read_snapshot(self.copy_identifier),
            lambda c: c is not None and c.get("Status") == "available",
            f"cluster snapshot {self.copy_identifier}",
            "available",
        )

    def security_of(self, live, snapshot):
        """What the temporary cluster is given: the stack's own settings (the inventory's, else the live cluster's);
        in another Region, the stack's network and key there (target_network)."""
        if self.target_region:
            return dict(self.network)
        params = self.params
        live = live or {}
        groups = params.get("vpc_security_group_ids") or [
            g["VpcSecurityGroupId"] for g in live.get("VpcSecurityGroups") or [] if g.get("VpcSecurityGroupId")
        ]
        subnet_group = params.get("db_subnet_group_name") or live.get("DBSubnetGroup")
        parameter_group = params.get("db_cluster_parameter_group_name") or live.get("DBClusterParameterGroup")
        kms_key = params.get("kms_key_id") or live.get("KmsKeyId") or (snapshot or {}).get("KmsKeyId")
        missing = [
            name
            for name, value in (
                ("vpc_security_group_ids", groups),
                ("db_subnet_group_name", subnet_group),
                ("db_cluster_parameter_group_name", parameter_group),
            )
            if not value
        ]
        if missing:
            raise DrillError(
                f"the live cluster {self.source} could not be read for {', '.join(missing)}: give them to the drill"
            )
        return {
            "vpc_security_group_ids": groups,
            "db_subnet_group_name": subnet_group,
            "db_cluster_parameter_group_name": parameter_group,
            "kms_key_id": kms_key,
        }

    def restore_params(self, live, snapshot):
        """The parameters cluster_settings.restore_request reads, as aurora_cluster gives them for its restores."""
        params = self.params
        tags = dict(params.get("tags") or {})
        tags[DRILL_TAG] = self.source
        return dict(
            self.security_of(live, snapshot),
            port=params.get("port") or (live or {}).get("Port") or (snapshot or {}).get("Port"),
            enable_iam_database_authentication=params["enable_iam_database_authentication"],
            enable_cloudwatch_logs_exports=None,
            deletion_protection=False,
            copy_tags_to_snapshot=False,
            serverless_v2_scaling_configuration=params.get("serverless_v2_scaling_configuration"),
            storage_type=params.get("storage_type"),
            tags=tags,
            engine=(snapshot or live or {}).get("Engine") or "aurora-postgresql",
            engine_version=(snapshot or {}).get("EngineVersion"),
            # The identifier: the snapshot is of this account and region (AWS takes an ARN too; moto does not).
            restore_from_snapshot=self.copy_identifier
            if snapshot and self.target_region
            else (snapshot or {}).get("DBClusterSnapshotIdentifier"),
            restore_from_cluster=None if snapshot else self.source,
            restore_to_time=self.params.get("restore_to_time") or None,
        )

    def restore(self, live, snapshot):
        method, request = restore_request(self.identifier, self.restore_params(live, snapshot))
        self.calls.append("rds:" + self.api.operation_name(method))
        self.api.create(
            method,
            exists=lambda: self.read_cluster(self.identifier) is not None,
            already_exists=("DBClusterAlreadyExistsFault",),
            context=f"cluster {self.identifier}",
            **request,
        )
        return self.wait(
            lambda: self.read_cluster(self.identifier),
            lambda c: c is not None and c.get("Status") == "available",
            f"cluster {self.identifier}",
            "available",
        )

    def create_writer(self, cluster):
        tags = dict(self.params.get("tags") or {})
        tags[DRILL_TAG] = self.source
        request = drop_none(
            {
                "DBInstanceIdentifier": self.writer,
                "DBClusterIdentifier": self.identifier,
                "Engine": cluster.get("Engine") or "aurora-postgresql",
                "DBInstanceClass": self.params["db_instance_class"],
                "PubliclyAccessible": False,
                "Tags": dict_to_tags(tags),
            }
        )
        self.calls.append("rds:CreateDBInstance")
        self.api.create(
            "create_db_instance",
            exists=lambda: self.read_instance(self.writer) is not None,
            already_exists=("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"),
            context=f"instance {self.writer}",
            **request,
        )
        return self.wait(
            lambda: self.read_instance(self.writer),
            lambda i: i is not None and i.get("DBInstanceStatus") == "available",
            f"instance {self.writer}",
            "available",
        )

    def security_checks(self, cluster, writer, wanted):
        """[(check, ok, seen)]: the temporary cluster has the stack's security, as read back."""
        groups = sorted(g.get("VpcSecurityGroupId") for g in cluster.get("VpcSecurityGroups") or [])
        key = cluster.get("KmsKeyId") or ""
        wanted_key = wanted.get("kms_key_id") or ""
        key_ok = bool(cluster.get("StorageEncrypted")) and (
            not wanted_key or key == wanted_key or key.endswith("/" + wanted_key.rsplit("/", 1)[-1])
        )
        return [
            ("storage encrypted with the stack's key", key_ok, key or "not encrypted"),
            (
                "the stack's security groups",
                groups == sorted(wanted["vpc_security_group_ids"]),
                ", ".join(groups) or "none",
            ),
            (
                "the stack's DB subnet group",
                cluster.get("DBSubnetGroup") == wanted["db_subnet_group_name"],
                cluster.get("DBSubnetGroup"),
            ),
            (
                "the stack's parameter group (TLS required)",
                cluster.get("DBClusterParameterGroup") == wanted["db_cluster_parameter_group_name"],
                cluster.get("DBClusterParameterGroup"),
            ),
            (
                "IAM database authentication",
                bool(cluster.get("IAMDatabaseAuthenticationEnabled"))
                == bool(self.params["enable_iam_database_authentication"]),
                str(bool(cluster.get("IAMDatabaseAuthenticationEnabled"))).lower(),
            ),
            (
                "writer not publicly accessible",
                not writer.get("PubliclyAccessible"),
                str(bool(writer.get("PubliclyAccessible"))).lower(),
            ),
        ]

    def run(self):
        """The drill: clean earlier leftovers, restore, time it, delete, check the account. Returns the result;
        ``result["failed"]`` says whether the drill failed or left something behind."""
        result = {
            "drill_identifier": self.identifier,
            "writer_identifier": self.writer,
            "source_cluster": self.source,
            "source": self.params["source"],
            "started": iso(self.started),
            "region": self.target_region or self.source_region,
            "source_region": self.source_region,
            "snapshot_origin": "this Region" if not self.target_region else None,
        }
        error = None
        cluster = writer = None
        try:
            actions, snapshot, live = self.plan()
            result["plan"] = [a.line() for a in actions]
            result["snapshot"] = (snapshot or {}).get("DBClusterSnapshotIdentifier")
            result["snapshot_type"] = (snapshot or {}).get("SnapshotType")
            wanted = self.security_of(live, snapshot)
            for action in actions:
                kind = action.request.get("kind")
                if kind in ("delete_instance", "delete_cluster", "delete_copy") and action.name not in (
                    self.identifier,
                    self.writer,
                    self.copy_identifier,
                ):
                    entry, counted = self.step(f"delete leftover {action.label()}", action)
                    {"delete_instance": self.delete_instance, "delete_cluster": self.delete_cluster}.get(
                        kind, self.delete_copy
                    )(action.name)
                    self.done(entry, counted)
            planned = {
                a.request.get("kind"): a for a in actions if a.request.get("kind") in ("copy", "restore", "writer")
            }
            restored_to = as_utc((snapshot or {}).get("SnapshotCreateTime"))
            if snapshot is None:
                restored_to = parse_restore_time(self.params.get("restore_to_time")) or as_utc(
                    (live or {}).get("LatestRestorableTime")
                )
            result["restored_to"] = iso(restored_to)
            if self.target_region:
                result["snapshot_origin"] = f"copy of {result['snapshot']} from {self.source_region}"
                result["copied_snapshot"] = self.copy_identifier
                entry, counted = self.step(f"copy the snapshot to {self.target_region}", planned["copy"])
                self.copy(snapshot)
                self.done(entry, counted)
                result["copy_seconds"] = entry["seconds"]
            entry, counted = self.step("restore the cluster", planned["restore"])
            rto_start = counted
            cluster = self.restore(live, snapshot)
            self.done(entry, counted)
            result["cluster_available_seconds"] = round(self.clock.monotonic() - rto_start, 1)
            entry, counted = self.step("create the writer", planned["writer"])
            writer = self.create_writer(cluster)
            self.done(entry, counted)
            available_at = self.clock.now()
            result["rto_seconds"] = round(self.clock.monotonic() - rto_start, 1)
            if "copy_seconds" in result:
                # A Region lost before a copy was made there must wait for one too: the copy is part of that RTO.
                result["rto_with_copy_seconds"] = round(result["rto_seconds"] + result["copy_seconds"], 1)
            result["available_at"] = iso(available_at)
            if restored_to is not None:
                result["rpo_seconds"] = round((self.started - restored_to).total_seconds(), 1)
            cluster = self.read_cluster(self.identifier) or cluster
            checks = self.security_checks(cluster, writer, wanted)
            result["security_checks"] = [{"check": c, "ok": ok, "seen": seen} for c, ok, seen in checks]
            failed_checks = [c for c, ok, _seen in checks if not ok]
            if failed_checks:
                error = "the temporary cluster does not have the stack's security: " + "; ".join(failed_checks)
        except Exception as e:  # noqa: BLE001 - whatever failed (botocore's ResponseParserError is no BotoCoreError), the clean-up runs
            error = str(e)
            for entry in self.steps:
                if entry["result"] == "running":
                    entry.update(result="failed", finished=iso(self.clock.now()))
        # The clean-up runs whatever happened above.
        try:
            if writer is not None or self.read_instance(self.writer) is not None:
                entry, counted = self.step(f"delete instance {self.writer}")
                self.delete_instance(self.writer)
                self.done(entry, counted)
            entry, counted = self.step(f"delete cluster {self.identifier}")
            deleted = self.delete_cluster(self.identifier)
            self.done(entry, counted, "ok" if deleted else "nothing to delete")
            if self.copy_identifier:
                entry, counted = self.step(f"delete cluster snapshot {self.copy_identifier}")
                deleted = self.delete_copy(self.copy_identifier)
                self.done(entry, counted, "ok" if deleted else "nothing to delete")
        except Exception as e:  # noqa: BLE001 - reported, and the account check below still runs
            self.steps[-1]["result"] = "failed"
            error = "; ".join(filter(None, [error, f"clean-up: {e}"]))
        result["cleanup"] = self.check_account()
        if result["cleanup"].get("left"):
            error = "; ".join(
                filter(None, [error, "the drill left resources behind: " + ", ".join(result["cleanup"]["left"])])
            )
        result["steps"] = self.steps
        result["finished"] = iso(self.clock.now())
        result["calls"] = self.calls
        result["error"] = error
        result["failed"] = error is not None
        result["outcome"] = "failed" if error else "passed"
        return result

    def check_account(self):
        """What the drill left: drill-tagged clusters and instances of this stack, and snapshots of drill clusters."""
        entry, counted = self.step("check the account for what the drill created")
        try:
            clusters = self.drill_clusters()
            ids = {c["DBClusterIdentifier"] for c in clusters} | {self.identifier}
            instances = self.drill_instances(ids)
            snapshots = self.drill_snapshots(ids)
            known = {s.get("DBClusterSnapshotIdentifier") for s in snapshots}
            snapshots += [c for c in self.drill_copies() if c.get("DBClusterSnapshotIdentifier") not in known]
        except Exception as e:  # noqa: BLE001 - a check that cannot run fails the drill, it is not a pass
            self.done(entry, counted, "failed")
            return {"checked": False, "left": [f"the check failed: {e}"]}
        left = (
            [f"cluster {c['DBClusterIdentifier']}" for c in clusters]
            + [f"instance {i['DBInstanceIdentifier']}" for i in instances]
            + [f"cluster snapshot {s['DBClusterSnapshotIdentifier']}" for s in snapshots]
        )
        self.done(entry, counted, "nothing left" if not left else "left: " + ", ".join(left))
        checked = {"checked": True, "left": left, "looked_for": f"tag {DRILL_TAG}={self.source}"}
        if self.target_region:
            checked["region"] = self.target_region
        return checked


# -- the report ------------------------------------------------------------------------------------------------------


def _duration(seconds):
    if seconds is None:
        return None
    seconds = float(seconds)
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min ({seconds:.0f} s)"
    return f"{seconds / 3600:.1f} h ({seconds:.0f} s)"


def report_document(result):
    """The drill report as JSON (versioned) and Markdown."""
    document = {"schema": REPORT_SCHEMA, "schema_version": 1}
    keys = (
        "outcome", "error", "source_cluster", "region", "source_region", "source", "snapshot", "snapshot_type",
        "snapshot_origin", "copied_snapshot", "restored_to", "started", "available_at", "finished", "rpo_seconds",
        "copy_seconds", "cluster_available_seconds", "rto_seconds", "rto_with_copy_seconds",
        "drill_identifier", "writer_identifier", "security_checks", "steps", "cleanup", "plan",
    )  # fmt: skip
    document.update({key: result.get(key) for key in keys})
    rows = [
        ("Outcome", result.get("outcome")),
        ("Error", result.get("error")),
        ("Live cluster", result.get("source_cluster")),
        ("Region", result.get("region")),
        ("Live cluster's Region", result.get("source_region")),
        ("Restored from", result.get("snapshot") or f"point in time of {result.get('source_cluster')}"),
        ("Snapshot origin", result.get("snapshot_origin")),
        ("Snapshot type", result.get("snapshot_type")),
        ("Data as of (snapshot or restore time)", result.get("restored_to")),
        ("Drill started", result.get("started")),
        ("Data age at restore (RPO)", _duration(result.get("rpo_seconds"))),
        ("Copy to the drill's Region", _duration(result.get("copy_seconds"))),
        ("Cluster available after", _duration(result.get("cluster_available_seconds"))),
        ("Time to available, cluster and writer (RTO)", _duration(result.get("rto_seconds"))),
        ("RTO with the copy", _duration(result.get("rto_with_copy_seconds"))),
        ("Temporary cluster", result.get("drill_identifier")),
        (
            "Left behind (checked by tag)",
            ", ".join((result.get("cleanup") or {}).get("left") or []) or "nothing",
        ),
    ]
    out = [f"# Restore drill of {result.get('source_cluster')}: {result.get('outcome')}", ""]
    out += ["| Fact | Value |", "| --- | --- |"] + [
        f"| {k} | {cell(str(v) if v is not None else '')} |" for k, v in rows
    ]
    out += ["", "## Security of the restored cluster", "", "| Check | Result | Seen |", "| --- | --- | --- |"]
    out += [
        f"| {cell(c['check'])} | {'ok' if c['ok'] else 'FAILED'} | {cell(str(c['seen'] or ''))} |"
        for c in result.get("security_checks") or []
    ]
    out += ["", "## Steps", "", "| Step | Started (UTC) | Seconds | Result |", "| --- | --- | --- | --- |"]
    out += [
        f"| {cell(s['step'])} | {cell(s.get('started'))} | {s.get('seconds') if s.get('seconds') is not None else '-'} | {cell(s.get('result'))} |"
        for s in result.get("steps") or []
    ]
    return document, "\n".join(out) + "\n"


def write_drill_report(stem, result):
    """``<stem>.json`` and ``<stem>.md`` (mode 0600, the directory 0700 when made here): the paths written."""
    directory = os.path.dirname(stem) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    document, markdown = report_document(result)
    _write_changed(stem + ".json", json.dumps(document, indent=2, sort_keys=True) + "\n", directory)
    _write_changed(stem + ".md", markdown, directory)
    return {"json": stem + ".json", "markdown": stem + ".md"}
