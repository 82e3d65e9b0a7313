# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an Aurora cluster's settings are, as AWS describes them and as the user asks for them.

Shared by the aurora_cluster module (which changes them) and aurora_stack (which only
compares), so that both see the same differences.
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.api import dict_to_tags, drop_none, tags_to_dict, to_snake
from ansible_collections.vitality.aurora.plugins.module_utils.changes import (
    MAJOR_UPGRADE,
    ONLINE,
    PENDING_REBOOT,
    REBOOT,
    Attribute,
    mark_deferred,
    modify_params,
    plan_changes,
)
from ansible_collections.vitality.aurora.plugins.module_utils.naming import engine_major, version_tuple
from ansible_collections.vitality.aurora.plugins.module_utils.validation import AUTO_PAUSE_DEFAULT_SECONDS, acu_words

# The cluster's settings as options, the same in aurora_cluster and in aurora_stack's cluster option.
SETTING_OPTIONS = dict(
    port=dict(type="int"),
    database_name=dict(type="str"),
    master_username=dict(type="str"),
    manage_master_user_password=dict(type="bool", default=True, no_log=False),
    update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
    master_user_secret_kms_key_id=dict(type="str"),
    storage_encrypted=dict(type="bool", default=True),
    kms_key_id=dict(type="str"),
    db_subnet_group_name=dict(type="str"),
    db_cluster_parameter_group_name=dict(type="str"),
    backup_retention_period=dict(type="int"),
    preferred_backup_window=dict(type="str"),
    preferred_maintenance_window=dict(type="str"),
    copy_tags_to_snapshot=dict(type="bool"),
    deletion_protection=dict(type="bool"),
    enable_iam_database_authentication=dict(type="bool"),
    enable_cloudwatch_logs_exports=dict(type="list", elements="str"),
    serverless_v2_scaling_configuration=dict(
        type="dict",
        options=dict(
            min_capacity=dict(type="float"),
            max_capacity=dict(type="float"),
            seconds_until_auto_pause=dict(type="int"),
        ),
        required_together=[["min_capacity", "max_capacity"]],
    ),
    storage_type=dict(type="str", choices=["aurora", "aurora-iopt1"]),
    apply_immediately=dict(type="bool", default=False),
)


CLUSTER_NOT_FOUND = ("DBClusterNotFoundFault",)
# Keys of PendingModifiedValues that hold a later value of a top-level attribute.
PENDING_OVERRIDES = ("EngineVersion", "IAMDatabaseAuthenticationEnabled", "BackupRetentionPeriod", "StorageType")

# Aurora's storage configurations (StorageType): Standard is "aurora", which AWS assumes when a request leaves it out.
STANDARD_STORAGE = "aurora"
IO_OPTIMIZED_STORAGE = "aurora-iopt1"
STORAGE_WORDS = {STANDARD_STORAGE: "Standard", IO_OPTIMIZED_STORAGE: "I/O-Optimized"}


def storage_type(cluster):
    """The cluster's storage configuration; a description without one is a Standard cluster (AWS's default)."""
    return cluster.get("StorageType") or STANDARD_STORAGE


# What a switch of storage configuration costs, said in the plan (Aurora user guide, "Storage configurations").
STORAGE_NOTES = {
    IO_OPTIMIZED_STORAGE: (
        "online, no restart; I/O-Optimized bills no I/O requests, but instances cost about 30% and storage about 125% "
        "more: it pays when I/O is over about 25% of the cluster's bill; AWS allows a switch to I/O-Optimized once "
        "every 30 days"
    ),
    STANDARD_STORAGE: (
        "online, no restart; Standard bills each I/O request, with instances and storage at the lower rates; a switch "
        "back to I/O-Optimized is allowed only 30 days after the last switch to it"
    ),
}


def key_matches(current, wanted):
    """A KMS key as AWS reports it (an ARN) against one as a user names it (ID, ARN or alias ARN)."""
    if current is None or wanted is None:
        return current == wanted
    return current == wanted or current.endswith("/" + wanted)


def security_group_ids(cluster):
    return [g.get("VpcSecurityGroupId") for g in cluster.get("VpcSecurityGroups") or []]


def master_secret_key(cluster):
    return (cluster.get("MasterUserSecret") or {}).get("KmsKeyId")


def scaling_configuration(config):
    """The wanted Serverless v2 capacity range as the API takes it, or None when none is asked for.

    ``config`` is the option (min_capacity, max_capacity, seconds_until_auto_pause). The pause delay is sent only with
    a minimum of 0 (AWS keeps it for no other), and then always, AWS's default of 300 s when it is not given, so that a
    delay set by hand is put back like any other drift.
    """
    if not config or config.get("min_capacity") is None or config.get("max_capacity") is None:
        return None
    request = {"MinCapacity": float(config["min_capacity"]), "MaxCapacity": float(config["max_capacity"])}
    if request["MinCapacity"] == 0:
        request["SecondsUntilAutoPause"] = int(config.get("seconds_until_auto_pause") or AUTO_PAUSE_DEFAULT_SECONDS)
    return request


def capacity_words(configuration):
    """A ServerlessV2ScalingConfiguration (as AWS describes it, or as scaling_configuration makes it) in the plan's
    words, so that both compare as what they mean: "0.5 to 8 ACU", "0 to 4 ACU, pause after 300 s idle"."""
    if not configuration or configuration.get("MinCapacity") is None or configuration.get("MaxCapacity") is None:
        return None
    minimum, maximum = float(configuration["MinCapacity"]), float(configuration["MaxCapacity"])
    words = f"{acu_words(minimum)} to {acu_words(maximum)} ACU"
    if minimum == 0:
        # AWS reports the delay only with a minimum of 0; absent there, it is AWS's default.
        words += f", pause after {configuration.get('SecondsUntilAutoPause') or AUTO_PAUSE_DEFAULT_SECONDS} s idle"
    return words


# A capacity range applies at once; what AWS derives from it for each instance waits for that instance's restart.
CAPACITY_NOTE = (
    "Serverless v2 instances scale within the new range at once; parameter defaults AWS derives from the capacity "
    "(max_connections, for example) change when each of them next restarts"
)

ATTRIBUTES = [
    # Cannot be changed in place: a difference fails the run (no modify_param).
    Attribute("engine", "Engine"),
    Attribute("database_name", "DatabaseName"),
    Attribute("master_username", "MasterUsername"),
    Attribute("storage_encrypted", "StorageEncrypted"),
    Attribute("db_subnet_group_name", "DBSubnetGroup"),
    # Changed with ModifyDBCluster.
    Attribute("port", "Port", "Port", REBOOT),
    Attribute(
        "db_cluster_parameter_group_name", "DBClusterParameterGroup", "DBClusterParameterGroupName", PENDING_REBOOT
    ),
    Attribute("vpc_security_group_ids", security_group_ids, "VpcSecurityGroupIds", ONLINE, unordered=True),
    Attribute("backup_retention_period", "BackupRetentionPeriod", "BackupRetentionPeriod"),
    Attribute("preferred_backup_window", "PreferredBackupWindow", "PreferredBackupWindow"),
    Attribute(
        "preferred_maintenance_window", "PreferredMaintenanceWindow", "PreferredMaintenanceWindow", normalize=str.lower
    ),
    Attribute("copy_tags_to_snapshot", "CopyTagsToSnapshot", "CopyTagsToSnapshot", default_when_absent=False),
    Attribute("deletion_protection", "DeletionProtection", "DeletionProtection", default_when_absent=False),
    Attribute(
        "enable_iam_database_authentication",
        "IAMDatabaseAuthenticationEnabled",
        "EnableIAMDatabaseAuthentication",
        default_when_absent=False,
        deferrable=True,
    ),
    Attribute(
        "enable_cloudwatch_logs_exports",
        lambda c: c.get("EnabledCloudwatchLogsExports") or [],
        "CloudwatchLogsExportConfiguration",
        unordered=True,
    ),
    Attribute("manage_master_user_password", lambda c: bool(c.get("MasterUserSecret")), "ManageMasterUserPassword"),
    # AWS may hold it for the maintenance window (ClusterPendingModifiedValues has StorageType).
    Attribute("storage_type", storage_type, "StorageType", ONLINE, deferrable=True),
    # Compared as words (capacity_words); the request sends scaling_configuration. AWS cannot remove a range, so
    # none asked for leaves the cluster's as it is.
    Attribute(
        "serverless_v2_scaling_configuration",
        lambda c: capacity_words(c.get("ServerlessV2ScalingConfiguration")),
        "ServerlessV2ScalingConfiguration",
    ),
]

# AWS never returns a password: what a planned password change shows instead of it.
HIDDEN = "(hidden)"
ALWAYS_SENT = (
    "update_password=always: AWS never returns the password to compare it, so it is sent, and reported as a change, "
    "on every run"
)


def password_change(cluster, params):
    """The master password change that update_password=always plans, or None.

    AWS never returns a password, so it cannot be compared: with a self-managed password it is
    sent on every run. A cluster whose password Secrets Manager still holds gets it with the
    manage_master_user_password switch instead (AWS requires it there, whatever update_password says).
    The change is applied with ApplyImmediately: on Aurora it takes effect without a reboot or an outage.
    """
    if params.get("update_password") != "always" or params.get("manage_master_user_password", True):
        return None
    if cluster.get("MasterUserSecret"):
        return None
    change = {
        "attribute": "master_user_password",
        "before": HIDDEN,
        "after": HIDDEN,
        "impact": ONLINE,
        "when": "now",
        "note": ALWAYS_SENT,
    }
    held = sorted(key for key in cluster.get("PendingModifiedValues") or {} if key != "MasterUserPassword")
    if held and not params.get("apply_immediately"):
        # Older ModifyDBCluster documentation says ApplyImmediately also applies what is pending.
        change["note"] += f"; it is sent with ApplyImmediately, which may also apply the pending {', '.join(held)} now"
    return change


# Compared by engine_version_change (minor versions only move up); listed for its deferral.
ENGINE_VERSION = Attribute("engine_version", "EngineVersion", "EngineVersion", REBOOT, deferrable=True)


def effective_state(cluster):
    """The cluster as it will be once accepted changes apply: pending values count as done."""
    pending = cluster.get("PendingModifiedValues") or {}
    merged = dict(cluster)
    for key in PENDING_OVERRIDES:
        if key in pending:
            merged[key] = pending[key]
    return merged


MAJOR_UPGRADE_DOWNTIME = (
    "every instance restarts at once: the cluster is unavailable until the upgrade ends "
    "(typically 10 to 30 minutes; take a snapshot first)"
)


def engine_version_change(running, wanted):
    """(change or None, notice or None, error or None) for the engine version."""
    if not wanted or not running:
        return None, None, None
    if engine_major(running) != engine_major(wanted):
        if int(engine_major(wanted)) < int(engine_major(running)):
            return (
                None,
                None,
                (
                    f"engine_version={wanted!r}: the cluster runs {running}; a lower major version is impossible "
                    "in place. Restore a snapshot taken before the upgrade into a new cluster instead."
                ),
            )
        if "." not in wanted:
            return (
                None,
                None,
                (
                    f"engine_version={wanted!r}: a major version upgrade from {running} needs the target minor "
                    f"version (for example {engine_major(wanted)}.4), as AWS upgrades to a named version"
                ),
            )
        change = {"attribute": "engine_version", "before": running, "after": wanted, "impact": MAJOR_UPGRADE}
        return dict(change, when="now", downtime=MAJOR_UPGRADE_DOWNTIME), None, None
    if "." not in wanted or version_tuple(running) == version_tuple(wanted):
        return None, None, None
    if version_tuple(running) > version_tuple(wanted):
        return (
            None,
            f"running {running}, newer than the configured {wanted} within major {engine_major(wanted)}; kept",
            None,
        )
    return {"attribute": "engine_version", "before": running, "after": wanted, "impact": REBOOT}, None, None


def desired_state(params):
    desired = {attribute.option: params.get(attribute.option) for attribute in ATTRIBUTES}
    desired["serverless_v2_scaling_configuration"] = capacity_words(
        scaling_configuration(params.get("serverless_v2_scaling_configuration"))
    )
    return desired


def plan_cluster_changes(cluster, params):
    """What converging ``cluster`` (as AWS describes it) to ``params`` takes, before tags and KMS keys.

    Returns (changes, major_upgrade, notice, error): the attribute changes with their impact
    and timing (with update_password=always and a self-managed password, the master password
    too, its values hidden); the major version upgrade, planned apart as it is applied on its own; a note
    when the running minor version is kept; an error when the version cannot be reached.
    """
    current = effective_state(cluster)
    changes = plan_changes(ATTRIBUTES, current, desired_state(params))
    for change in changes:
        if change["attribute"] == "serverless_v2_scaling_configuration" and change["before"] is not None:
            change["note"] = CAPACITY_NOTE
        if change["attribute"] == "storage_type":
            change["note"] = STORAGE_NOTES.get(change["after"], "online, no restart")
    version_change, notice, error = engine_version_change(current.get("EngineVersion"), params.get("engine_version"))
    major_upgrade = version_change if version_change and version_change["impact"] == MAJOR_UPGRADE else None
    if version_change and not major_upgrade:
        changes.append(version_change)
    mark_deferred(ATTRIBUTES + [ENGINE_VERSION], changes, params.get("apply_immediately"))
    password = password_change(cluster, params)
    if password:
        changes.append(password)
    return changes, major_upgrade, notice, error


def read_cluster(api, identifier):
    return api.describe_one(
        "describe_db_clusters",
        "DBClusters",
        DBClusterIdentifier=identifier,
        not_found=CLUSTER_NOT_FOUND,
        context=f"cluster {identifier}",
    )


def read_members(api, identifier):
    return api.paginate(
        "describe_db_instances",
        "DBInstances",
        Filters=[{"Name": "db-cluster-id", "Values": [identifier]}],
        context=f"instances of cluster {identifier}",
    )


def describe_members(cluster, instances):
    """Each instance, snake_cased, with the role and parameter status the cluster reports for it."""
    membership = {m.get("DBInstanceIdentifier"): m for m in cluster.get("DBClusterMembers") or []}
    described = []
    for instance in sorted(instances, key=lambda i: i.get("DBInstanceIdentifier", "")):
        member = membership.get(instance.get("DBInstanceIdentifier"), {})
        entry = to_snake(instance)
        entry["role"] = "writer" if member.get("IsClusterWriter") else "reader"
        entry["cluster_parameter_group_status"] = member.get("DBClusterParameterGroupStatus")
        entry["pending_modified_values"] = to_snake(instance.get("PendingModifiedValues") or {})
        described.append(entry)
    return described


def create_request(identifier, params):
    request = {
        "DBClusterIdentifier": identifier,
        "Engine": params.get("engine"),
        "EngineVersion": params.get("engine_version"),
        "Port": params.get("port"),
        "DatabaseName": params.get("database_name"),
        "MasterUsername": params.get("master_username"),
        "StorageEncrypted": params.get("storage_encrypted"),
        "KmsKeyId": params.get("kms_key_id"),
        "DBSubnetGroupName": params.get("db_subnet_group_name"),
        "VpcSecurityGroupIds": params.get("vpc_security_group_ids"),
        "DBClusterParameterGroupName": params.get("db_cluster_parameter_group_name"),
        "BackupRetentionPeriod": params.get("backup_retention_period"),
        "PreferredBackupWindow": params.get("preferred_backup_window"),
        "PreferredMaintenanceWindow": params.get("preferred_maintenance_window"),
        "CopyTagsToSnapshot": params.get("copy_tags_to_snapshot"),
        "DeletionProtection": params.get("deletion_protection"),
        "EnableIAMDatabaseAuthentication": params.get("enable_iam_database_authentication"),
        "EnableCloudwatchLogsExports": params.get("enable_cloudwatch_logs_exports"),
        "ServerlessV2ScalingConfiguration": scaling_configuration(params.get("serverless_v2_scaling_configuration")),
        "StorageType": params.get("storage_type"),
        "Tags": dict_to_tags(params.get("tags")) if params.get("tags") else None,
    }
    if params.get("manage_master_user_password"):
        request["ManageMasterUserPassword"] = True
        request["MasterUserSecretKmsKeyId"] = params.get("master_user_secret_kms_key_id")
    else:
        request["MasterUserPassword"] = params.get("master_user_password")
    return drop_none(request)


def clusters_tagged(api, tags):
    """Identifiers of the clusters carrying every one of ``tags``."""
    wanted = {str(k): str(v) for k, v in tags.items()}
    found = []
    for cluster in api.paginate("describe_db_clusters", "DBClusters", context="clusters of the stack"):
        have = tags_to_dict(cluster.get("TagList"))
        if all(have.get(k) == v for k, v in wanted.items()):
            found.append(cluster.get("DBClusterIdentifier"))
    return sorted(found)


def modify_request(identifier, changes, params):
    request = modify_params(ATTRIBUTES, changes)
    if "CloudwatchLogsExportConfiguration" in request:
        change = next(c for c in changes if c["attribute"] == "enable_cloudwatch_logs_exports")
        before, after = set(change["before"] or []), set(change["after"] or [])
        request["CloudwatchLogsExportConfiguration"] = {
            "EnableLogTypes": sorted(after - before),
            "DisableLogTypes": sorted(before - after),
        }
    if "ServerlessV2ScalingConfiguration" in request:
        # The whole range, as wanted: the change's values are its words.
        request["ServerlessV2ScalingConfiguration"] = scaling_configuration(
            params.get("serverless_v2_scaling_configuration")
        )
    for change in changes:
        if change["attribute"] == "engine_version":
            request["EngineVersion"] = change["after"]
        elif change["attribute"] == "master_user_secret_kms_key_id":
            request["MasterUserSecretKmsKeyId"] = change["after"]
            request["ManageMasterUserPassword"] = True
        elif change["attribute"] == "master_user_password":
            request["MasterUserPassword"] = params["master_user_password"]
    if request.get("ManageMasterUserPassword") is True and params["master_user_secret_kms_key_id"]:
        request["MasterUserSecretKmsKeyId"] = params["master_user_secret_kms_key_id"]
    if request.get("ManageMasterUserPassword") is False:
        request["MasterUserPassword"] = params["master_user_password"]
    request["DBClusterIdentifier"] = identifier
    # A password sent with update_password=always takes effect now: it is why the run was asked for.
    password_now = any(change["attribute"] == "master_user_password" for change in changes)
    request["ApplyImmediately"] = True if password_now else params["apply_immediately"]
    return request


def restore_request(identifier, params):
    """The API call and request that create the cluster from a snapshot or a point in time."""
    common = {
        "DBClusterIdentifier": identifier,
        "Port": params["port"],
        "DBSubnetGroupName": params["db_subnet_group_name"],
        "VpcSecurityGroupIds": params["vpc_security_group_ids"],
        "DBClusterParameterGroupName": params["db_cluster_parameter_group_name"],
        "KmsKeyId": params["kms_key_id"],
        "EnableIAMDatabaseAuthentication": params["enable_iam_database_authentication"],
        "EnableCloudwatchLogsExports": params["enable_cloudwatch_logs_exports"],
        "DeletionProtection": params["deletion_protection"],
        "CopyTagsToSnapshot": params["copy_tags_to_snapshot"],
        # Before any db.serverless instance is made in it, the restored cluster needs its range.
        "ServerlessV2ScalingConfiguration": scaling_configuration(params.get("serverless_v2_scaling_configuration")),
        "StorageType": params.get("storage_type"),
        "Tags": dict_to_tags(params["tags"]) if params["tags"] else None,
    }
    if params["restore_from_snapshot"]:
        request = dict(
            common,
            SnapshotIdentifier=params["restore_from_snapshot"],
            Engine=params["engine"],
            EngineVersion=params["engine_version"] if "." in (params["engine_version"] or "") else None,
        )
        return "restore_db_cluster_from_snapshot", drop_none(request)
    request = dict(common, SourceDBClusterIdentifier=params["restore_from_cluster"])
    if params["restore_to_time"]:
        request["RestoreToTime"] = params["restore_to_time"]
    else:
        request["UseLatestRestorableTime"] = True
    return "restore_db_cluster_to_point_in_time", drop_none(request)
