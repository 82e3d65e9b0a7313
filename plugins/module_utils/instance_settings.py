# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an Aurora instance's settings are, as AWS describes them and as the user asks for them.

Shared by the aurora_instance module (which changes them) and aurora_stack (which only
compares), so that both see the same differences.
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.api import dict_to_tags, drop_none
from ansible_collections.vitality.aurora.plugins.module_utils.changes import (
    IMPOSSIBLE,
    PENDING_REBOOT,
    REBOOT,
    UNKNOWN,
    Attribute,
    mark_deferred,
    modify_params,
    plan_changes,
)

INSTANCE_NOT_FOUND = ("DBInstanceNotFound", "DBInstanceNotFoundFault")

# Keys of PendingModifiedValues that hold a later value of a top-level attribute.
PENDING_OVERRIDES = ("DBInstanceClass", "CACertificateIdentifier")


def parameter_group_name(instance):
    groups = instance.get("DBParameterGroups") or []
    return groups[0].get("DBParameterGroupName") if groups else None


def performance_insights_setting(instance, key):
    """A Performance Insights setting as AWS reports it.

    AWS always says whether Performance Insights is on, and reports its retention and key
    only while it is on: with it off they are None (enabling it plans them too). A description
    that leaves out even PerformanceInsightsEnabled, or a setting while it is on, is incomplete:
    the setting is then unknown, and no change is planned for it.
    """
    enabled = instance.get("PerformanceInsightsEnabled")
    if enabled is False:
        return None
    if enabled is None or key not in instance:
        return UNKNOWN
    return instance[key]


def kms_key_id(value):
    """A KMS key ARN reduced to its key ID, so that an ARN and an ID of the same key compare equal."""
    if isinstance(value, str) and value.startswith("arn:") and ":key/" in value:
        return value.split(":key/", 1)[1]
    return value


ATTRIBUTES = [
    Attribute("engine", "Engine"),
    Attribute("db_cluster_identifier", "DBClusterIdentifier"),
    Attribute("availability_zone", "AvailabilityZone"),
    Attribute("db_instance_class", "DBInstanceClass", "DBInstanceClass", REBOOT, deferrable=True),
    Attribute("publicly_accessible", "PubliclyAccessible", "PubliclyAccessible", default_when_absent=False),
    Attribute("promotion_tier", "PromotionTier", "PromotionTier"),
    Attribute("db_parameter_group_name", parameter_group_name, "DBParameterGroupName", PENDING_REBOOT),
    Attribute("auto_minor_version_upgrade", "AutoMinorVersionUpgrade", "AutoMinorVersionUpgrade"),
    Attribute(
        "preferred_maintenance_window", "PreferredMaintenanceWindow", "PreferredMaintenanceWindow", normalize=str.lower
    ),
    Attribute(
        "ca_certificate_identifier", "CACertificateIdentifier", "CACertificateIdentifier", REBOOT, deferrable=True
    ),
    Attribute(
        "enable_performance_insights",
        "PerformanceInsightsEnabled",
        "EnablePerformanceInsights",
        unknown_when_absent=True,
    ),
    Attribute(
        "performance_insights_retention_period",
        lambda instance: performance_insights_setting(instance, "PerformanceInsightsRetentionPeriod"),
        "PerformanceInsightsRetentionPeriod",
    ),
    Attribute(
        "performance_insights_kms_key_id",
        lambda instance: performance_insights_setting(instance, "PerformanceInsightsKMSKeyId"),
        "PerformanceInsightsKMSKeyId",
        normalize=kms_key_id,
    ),
    Attribute("monitoring_interval", "MonitoringInterval", "MonitoringInterval", default_when_absent=0),
    Attribute("monitoring_role_arn", "MonitoringRoleArn", "MonitoringRoleArn"),
]


def effective_state(instance):
    pending = instance.get("PendingModifiedValues") or {}
    merged = dict(instance)
    for key in PENDING_OVERRIDES:
        if key in pending:
            merged[key] = pending[key]
    return merged


def desired_state(params):
    desired = {attribute.option: params.get(attribute.option) for attribute in ATTRIBUTES}
    desired["publicly_accessible"] = False
    if params.get("enable_performance_insights") is False:
        # Retention and key mean nothing while Performance Insights is off.
        desired["performance_insights_retention_period"] = None
        desired["performance_insights_kms_key_id"] = None
    return desired


# A CA rotation is planned as a restart: ModifyDBInstance restarts the instance unless CertificateRotationRestart=false,
# which AWS says to send only when no client uses TLS, and the role's clusters require it (rds.force_ssl=1).
CA_ROTATION_NOTE = (
    "the certificate authority changes with a restart of the instance (AWS's rotation; clients use TLS); clients must "
    "trust {after} first (the RDS global CA bundle holds it)"
)


def planned_changes(instance, params):
    """The attribute changes, each with its impact, from the instance as AWS describes it."""
    changes = plan_changes(ATTRIBUTES, effective_state(instance), desired_state(params))
    for change in changes:
        if change["attribute"] == "ca_certificate_identifier":
            change["note"] = CA_ROTATION_NOTE.format(after=change["after"])
        # AWS takes a key when Performance Insights is turned on, and keeps it while it stays on.
        if change["attribute"] == "performance_insights_kms_key_id" and change["before"] is not None:
            change["impact"] = IMPOSSIBLE
    return mark_deferred(ATTRIBUTES, changes, params["apply_immediately"])


def member_of(cluster, identifier):
    """The cluster's DBClusterMembers entry for an instance, or None."""
    for member in (cluster or {}).get("DBClusterMembers") or []:
        if member.get("DBInstanceIdentifier") == identifier:
            return member
    return None


def waits_for_reboot(instance, cluster):
    """Whether parameter changes wait for this instance to reboot (its own or the cluster's parameter group)."""
    if any(g.get("ParameterApplyStatus") == "pending-reboot" for g in instance.get("DBParameterGroups") or []):
        return True
    member = member_of(cluster, instance.get("DBInstanceIdentifier"))
    return bool(member) and member.get("DBClusterParameterGroupStatus") == "pending-reboot"


def create_request(params):
    request = {
        "DBInstanceIdentifier": params.get("db_instance_identifier"),
        "DBClusterIdentifier": params.get("db_cluster_identifier"),
        "Engine": params.get("engine"),
        "DBInstanceClass": params.get("db_instance_class"),
        "PubliclyAccessible": False,
        "AvailabilityZone": params.get("availability_zone"),
        "PromotionTier": params.get("promotion_tier"),
        "DBParameterGroupName": params.get("db_parameter_group_name"),
        "AutoMinorVersionUpgrade": params.get("auto_minor_version_upgrade"),
        "PreferredMaintenanceWindow": params.get("preferred_maintenance_window"),
        "CACertificateIdentifier": params.get("ca_certificate_identifier"),
        "EnablePerformanceInsights": params.get("enable_performance_insights"),
        "PerformanceInsightsRetentionPeriod": params.get("performance_insights_retention_period"),
        "PerformanceInsightsKMSKeyId": params.get("performance_insights_kms_key_id"),
        "MonitoringInterval": params.get("monitoring_interval"),
        "MonitoringRoleArn": params.get("monitoring_role_arn"),
        "Tags": dict_to_tags(params.get("tags")) if params.get("tags") else None,
    }
    if not params.get("enable_performance_insights"):
        request.pop("PerformanceInsightsRetentionPeriod")
        request.pop("PerformanceInsightsKMSKeyId")
    return drop_none(request)


def modify_request(params, attribute_changes):
    request = modify_params(ATTRIBUTES, attribute_changes)
    if "PerformanceInsightsKMSKeyId" in request:
        request["PerformanceInsightsKMSKeyId"] = params["performance_insights_kms_key_id"]  # as given, not reduced
    request.update(DBInstanceIdentifier=params["db_instance_identifier"], ApplyImmediately=params["apply_immediately"])
    return request
