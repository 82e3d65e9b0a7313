# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one planner of the Aurora stack: read everything once, return the ordered actions.

``read_stack`` reads the stack (network, security group, subnet group, parameter group, cluster,
instances; the operations baseline through baseline_plan) with as few calls as AWS allows.
``plan_stack`` is pure: from that snapshot and the desired state it returns every difference as
an Action (plan.py), in the order the apply carries them out, with what each one costs.

The order has three phases, because some steps are carried out by the role's amazon.aws tasks:
  1. before the stack: security group rules added, subnet group, monitoring role, events topic;
  2. the stack (aurora_stack's own apply): creates in one pass, parameter group, cluster, instances
     (rolling: readers one at a time, failover to a changed reader, the former writer, failback),
     removals of readers;
  3. after it: security group rules revoked (a port change stops using the old rule only once the
     cluster listens on the new port), event subscriptions, AWS Backup.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ansible_collections.vitality.aurora.plugins.module_utils.api import concurrently, tag_changes, tags_to_dict
from ansible_collections.vitality.aurora.plugins.module_utils.autoscaling_plan import is_autoscaled
from ansible_collections.vitality.aurora.plugins.module_utils.blue_green import (
    BLUE_GREEN,
    IN_PLACE_WORDS,
    plan_blue_green,
    read_blue_green,
    strategy_of,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import (
    IMPOSSIBLE as CHANGE_IMPOSSIBLE,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import REBOOT as CHANGE_REBOOT
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    IO_OPTIMIZED_STORAGE,
    STORAGE_WORDS,
    capacity_words,
    key_matches,
    master_secret_key,
    plan_cluster_changes,
    read_cluster,
    read_members,
    scaling_configuration,
)
from ansible_collections.vitality.aurora.plugins.module_utils.endpoint_plan import (
    endpoint_errors,
    plan_endpoints,
    read_endpoints,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import (
    planned_changes as planned_instance_changes,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import waits_for_reboot
from ansible_collections.vitality.aurora.plugins.module_utils.layout import instance_layout
from ansible_collections.vitality.aurora.plugins.module_utils.naming import (
    adopted_generation,
    generation_members,
    generation_of,
    generations,
    identifier_error,
)
from ansible_collections.vitality.aurora.plugins.module_utils.parameter_settings import (
    classify,
    desired_parameters,
    parameter_catalog,
    plan_parameter_changes,
    read_group,
    user_parameters,
)
from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    ALL_INSTANCES_RESTART,
    FAILOVER,
    IMPOSSIBLE,
    MAINTENANCE_WINDOW,
    NEXT_RESTART,
    NOW,
    ONLINE,
    PENDING_REBOOT,
    REBOOT,
    STACK,
    WRITER_RESTART,
    Action,
    as_utc,
    number,
)
from ansible_collections.vitality.aurora.plugins.module_utils.security_group_rules import (
    UnsupportedRule,
    describe_rule,
    flatten_permissions,
    flatten_rules,
)
from ansible_collections.vitality.aurora.plugins.module_utils.surge import (
    SURGE,
    leftover_deletes,
    plan_surge,
    refused,
)
from ansible_collections.vitality.aurora.plugins.module_utils.surge import (
    strategy_of as instance_change_strategy,
)

# Who carries out an action, in the order the role runs them. AWS Backup's role, vaults and plan need nothing of the
# stack, so they come first; the selection, which names the cluster, is the stack's own step (baseline_plan).
PHASE_BEFORE = ("security_group", "subnet_group", "monitoring_role", "event_topic", "backup")
PHASE_STACK = (STACK,)
PHASE_AFTER = ("security_group_revoke",)
RUNNERS = PHASE_BEFORE + PHASE_STACK + PHASE_AFTER

SUBNET_GROUP_NOT_FOUND = ("DBSubnetGroupNotFoundFault",)

# The rule AWS gives every new VPC security group, flattened as security_group_rules does.
DEFAULT_EGRESS = ("-1", None, None, "cidr", "0.0.0.0/0", None)

FAILOVER_WORDS = "writes pause while the writer endpoint moves to {target} (typically under 30 s)"
READER_RESTART_WORDS = "{name} restarts: its connections drop for a few minutes while the other instances serve"
WRITER_RESTART_WORDS = "{name} is the only instance: the cluster takes no connections while it restarts"
ALL_RESTART_WORDS = "every instance restarts together: the cluster takes no connections for a few minutes"


class NetworkProblem(Exception):
    """The network the stack goes into is not as the inventory says: nothing can be planned."""


# --- reading ------------------------------------------------------------------------------------


def read_network(ec2, params):
    """(network, database security group or None); NetworkProblem names the variable at fault."""
    vpc_name = params["vpc_name"]
    vpcs = ec2.call("describe_vpcs", Filters=[{"Name": "tag:Name", "Values": [vpc_name]}], context=f"VPC {vpc_name}")[
        "Vpcs"
    ]
    if len(vpcs) != 1:
        region = getattr(getattr(ec2, "client", None), "meta", None)
        region = getattr(region, "region_name", None) or "the region in use"
        # None in the region: most often the region, not the name, is what is wrong.
        hint = "; is the region the one the network is in?" if not vpcs else ""
        raise NetworkProblem(
            f"vpc_name={vpc_name}: expected exactly one VPC tagged Name={vpc_name} in {region}, found {len(vpcs)}{hint}"
        )
    vpc_id = vpcs[0]["VpcId"]
    names = params["private_subnet_names"]
    subnets = ec2.call(
        "describe_subnets",
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:Name", "Values": names}],
        context="private subnets",
    )["Subnets"]
    found = sorted({tags_to_dict(s.get("Tags")).get("Name") for s in subnets})
    missing = sorted(set(names) - set(found))
    zones = sorted({s["AvailabilityZone"] for s in subnets})
    if missing or len(zones) < 2:
        raise NetworkProblem(
            f"private_subnet_names: subnets not found in VPC {vpc_name} ({vpc_id}): {missing}; "
            f"found AZs {zones} (at least two are needed)"
        )
    wanted_group = params["security_group"]["name"]
    groups = ec2.call(
        "describe_security_groups",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": [params["app_security_group_name"], wanted_group]},
        ],
        context="security groups",
    )["SecurityGroups"]
    by_name = {g["GroupName"]: g for g in groups}
    app = by_name.get(params["app_security_group_name"])
    if app is None:
        raise NetworkProblem(
            f"app_security_group_name={params['app_security_group_name']}: no security group of that name in VPC "
            f"{vpc_name} ({vpc_id})"
        )
    network = {
        "vpc_id": vpc_id,
        "subnets": [
            {"subnet_id": s["SubnetId"], "availability_zone": s["AvailabilityZone"]}
            for s in sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"]))
        ],
        "app_security_group_id": app["GroupId"],
    }
    return network, by_name.get(wanted_group)


def read_tags(rds, arn, context):
    if not arn:
        return {}
    return tags_to_dict((rds.call("list_tags_for_resource", ResourceName=arn, context=context) or {}).get("TagList"))


def read_stack(ec2, rds, params, meanwhile=None):
    """Everything the core stack's plan needs, read once. The parameter catalogue only when a parameter changes.

    Four chains of dependent reads run side by side (api.concurrently): the network, the subnet group, the
    parameter group, the cluster with what hangs off it. ``meanwhile`` (a callable) runs in this thread while they
    are on their way; what it returns is the snapshot's ``meanwhile``."""
    # When it was read: a time AWS gives (the next allowed switch to I/O-Optimized) is compared with it.
    snapshot = {"read_at": datetime.now(timezone.utc)}
    identifier = params["cluster"]["db_cluster_identifier"]

    def subnet_group():
        name = params["subnet_group"]["name"]
        found = {
            "subnet_group": rds.describe_one(
                "describe_db_subnet_groups",
                "DBSubnetGroups",
                DBSubnetGroupName=name,
                not_found=SUBNET_GROUP_NOT_FOUND,
                context=f"DB subnet group {name}",
            )
        }
        if found["subnet_group"] is not None:
            found["subnet_group_tags"] = read_tags(
                rds, found["subnet_group"].get("DBSubnetGroupArn"), f"DB subnet group {name}"
            )
        return found

    def parameter_group():
        spec = params["parameter_group"]
        found = {"parameter_group": read_group(rds, spec["name"])}
        if found["parameter_group"] is not None:
            found["parameter_group_tags"] = read_tags(
                rds, found["parameter_group"].get("DBClusterParameterGroupArn"), f"parameter group {spec['name']}"
            )
            current = user_parameters(rds, spec["name"])
            found["parameters"] = current
            if plan_parameter_changes(current, desired_parameters(spec.get("parameters")), purge=True):
                found["parameter_catalog"] = parameter_catalog(rds, spec["name"])
        return found

    def cluster():
        found = {"cluster": read_cluster(rds, identifier)}
        found["instances"] = (read_members(rds, identifier) or []) if found["cluster"] is not None else []
        if found["cluster"] is not None and strategy_of(params["cluster"]) == BLUE_GREEN:
            # The deployment found by its name (one call), so that a run resumes one under way.
            found["blue_green"] = read_blue_green(
                rds, params["cluster"], found["cluster"], read_cluster, read_members, user_parameters
            )
        found["custom_endpoints"] = read_endpoints(rds, found["cluster"], identifier, params.get("custom_endpoints"))
        return found

    read = concurrently(
        meanwhile=meanwhile,
        jobs=[
            ("network", lambda: read_network(ec2, params)),
            ("subnet_group", subnet_group),
            ("parameter_group", parameter_group),
            ("cluster", cluster),
        ],
    )
    snapshot["network"], snapshot["security_group"] = read["network"]
    for part in ("subnet_group", "parameter_group", "cluster"):
        snapshot.update(read[part])
    if meanwhile is not None:
        snapshot["meanwhile"] = read["meanwhile"]
    return snapshot


# --- planning -----------------------------------------------------------------------------------


def ingress_rules(spec, app_group_id):
    """The database security group's ingress rules, as amazon.aws.ec2_security_group takes them: PostgreSQL from the
    application's group, then the inventory's extra rules."""
    app_rule = {
        "proto": "tcp",
        "ports": [spec["app_port"]],
        "group_id": app_group_id,
        "rule_desc": spec.get("app_rule_description"),
    }
    return [app_rule] + list(spec.get("extra_ingress") or [])


def wanted_rules(spec, app_group_id):
    """(ingress, egress) of the database security group, flattened."""
    return flatten_rules(ingress_rules(spec, app_group_id)), flatten_rules(spec.get("egress"))


def security_group_request(spec, network):
    """amazon.aws.ec2_security_group's parameters for the database security group, from the rules the plan compares
    (purge_rules is the role's: off when it adds rules, on when it revokes them after the stack's steps)."""
    return {
        "name": spec["name"],
        "description": spec["description"],
        "vpc_id": network["vpc_id"],
        "rules": ingress_rules(spec, network["app_security_group_id"]),
        "rules_egress": list(spec.get("egress") or []),
        "tags": dict(spec.get("tags") or {}),
        "purge_tags": True,
    }


def subnet_group_request(spec, network):
    """amazon.aws.rds_subnet_group's parameters for the DB subnet group: the private subnets the plan compares."""
    return {
        "name": spec["name"],
        "description": spec["description"],
        "subnets": [subnet["subnet_id"] for subnet in network["subnets"]],
        "tags": dict(spec.get("tags") or {}),
        "purge_tags": True,
        "state": "present",
    }


def tag_actions(resource, name, current, desired, runner, calls, remove_first=False):
    """Tags set and tags removed, one action each (each is one call), in the order their runner makes the calls."""
    to_set, to_remove = tag_changes(current or {}, desired or {}, purge=True)
    actions = []
    if to_set:
        actions.append(
            Action(
                resource,
                name,
                "set tags",
                [
                    {"attribute": f"tags.{k}", "before": (current or {}).get(k), "after": v}
                    for k, v in sorted(to_set.items())
                ],
                runner=runner,
                calls=[calls[0]],
            )
        )
    if to_remove:
        actions.append(
            Action(
                resource,
                name,
                "remove tags",
                [
                    {"attribute": f"tags.{k}", "before": (current or {}).get(k), "after": None}
                    for k in sorted(to_remove)
                ],
                runner=runner,
                calls=[calls[1]],
            )
        )
    if remove_first:
        actions.reverse()
    return actions


def plan_security_group(snapshot, spec):
    """Rule by rule: additions run before the stack's changes, revocations after them."""
    network, group = snapshot["network"], snapshot["security_group"]
    name = spec["name"]
    try:
        ingress, egress = wanted_rules(spec, network["app_security_group_id"])
    except UnsupportedRule as e:
        raise NetworkProblem(f"security group {name}: {e}") from e
    if group is None:
        # As the create makes them: AWS gives a new group an allow-all egress rule, kept only when it is wanted.
        calls = ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"]
        if DEFAULT_EGRESS not in egress:
            calls.append("RevokeSecurityGroupEgress")
        if egress - {DEFAULT_EGRESS}:
            calls.append("AuthorizeSecurityGroupEgress")
        return [
            Action(
                "security_group",
                name,
                "create",
                [{"attribute": "ingress", "before": None, "after": sorted(map(describe_rule, ingress))}],
                calls=calls,
                runner=STACK,
            )
        ]
    actions = []
    for direction, wanted, permissions in (
        ("ingress", ingress, group.get("IpPermissions")),
        ("egress", egress, group.get("IpPermissionsEgress")),
    ):
        have = flatten_permissions(permissions)
        operation = "Ingress" if direction == "ingress" else "Egress"
        added = sorted(map(describe_rule, wanted - have))
        removed = sorted(map(describe_rule, have - wanted))
        if added:
            actions.append(
                Action(
                    "security_group",
                    name,
                    f"allow {direction}",
                    [{"attribute": f"{direction} rule", "before": None, "after": rule} for rule in added],
                    runner="security_group",
                    calls=[f"AuthorizeSecurityGroup{operation}"],
                )
            )
        if removed:
            actions.append(
                Action(
                    "security_group",
                    name,
                    f"revoke {direction}",
                    [{"attribute": f"{direction} rule", "before": rule, "after": None} for rule in removed],
                    runner="security_group_revoke",
                    calls=[f"RevokeSecurityGroup{operation}"],
                )
            )
    actions += tag_actions(
        "security_group",
        name,
        tags_to_dict(group.get("Tags")),
        spec.get("tags"),
        "security_group",
        ("CreateTags", "DeleteTags"),
        # amazon.aws.ec2_security_group removes tags before it sets them.
        remove_first=True,
    )
    return actions


def plan_subnet_group(snapshot, spec):
    name = spec["name"]
    group = snapshot["subnet_group"]
    wanted = sorted(s["subnet_id"] for s in snapshot["network"]["subnets"])
    if group is None:
        return [
            Action(
                "subnet_group",
                name,
                "create",
                [{"attribute": "subnets", "before": None, "after": wanted}],
                runner=STACK,
                calls=["CreateDBSubnetGroup"],
            )
        ]
    actions = []
    have = sorted(s.get("SubnetIdentifier") for s in group.get("Subnets") or [])
    changes = []
    for subnet in sorted(set(wanted) - set(have)):
        changes.append({"attribute": "subnet", "before": None, "after": subnet})
    for subnet in sorted(set(have) - set(wanted)):
        changes.append({"attribute": "subnet", "before": subnet, "after": None})
    description = spec.get("description")
    if description is not None and group.get("DBSubnetGroupDescription") not in (None, description):
        changes.append(
            {"attribute": "description", "before": group.get("DBSubnetGroupDescription"), "after": description}
        )
    if changes:
        actions.append(
            Action("subnet_group", name, "modify", changes, runner="subnet_group", calls=["ModifyDBSubnetGroup"])
        )
    actions += tag_actions(
        "subnet_group",
        name,
        snapshot.get("subnet_group_tags"),
        spec.get("tags"),
        "subnet_group",
        ("AddTagsToResource", "RemoveTagsFromResource"),
    )
    return actions


def plan_parameter_group(snapshot, spec, problems):
    """Parameter changes, with whether each waits for a restart; whether any static one is set."""
    name = spec["name"]
    group = snapshot["parameter_group"]
    desired = desired_parameters(spec.get("parameters"))
    if group is None:
        calls = ["CreateDBClusterParameterGroup"] + ["ModifyDBClusterParameterGroup"] * (-(-len(desired) // 20))
        changes = [{"attribute": f"parameters.{k}", "before": None, "after": v} for k, v in sorted(desired.items())]
        return [Action("parameter_group", name, "create", changes, runner=STACK, calls=calls)], False
    if group.get("DBParameterGroupFamily") not in (None, spec["family"]):
        problems.append(
            f"parameter group {name}: its family is {group.get('DBParameterGroupFamily')}, the inventory says "
            f"{spec['family']} (impossible-in-place: a parameter group's family cannot change; name a new group)"
        )
    changes = plan_parameter_changes(snapshot.get("parameters") or {}, desired, purge=True)
    actions = []
    static = False
    if changes:
        catalog, complete = snapshot.get("parameter_catalog") or ({}, False)
        problems.extend(classify(changes, catalog, complete, name))
        to_set = [c for c in changes if c["after"] is not None]
        to_reset = [c for c in changes if c["after"] is None]
        for verb, chosen, call in (
            ("set parameters", to_set, "ModifyDBClusterParameterGroup"),
            ("reset parameters", to_reset, "ResetDBClusterParameterGroup"),
        ):
            for start in range(0, len(chosen), 20):
                batch = [c for c in chosen[start : start + 20] if "impact" in c]
                if not batch:
                    continue
                pending = any(c["impact"] == PENDING_REBOOT for c in batch)
                static = static or pending
                action = Action(
                    "parameter_group",
                    name,
                    verb,
                    [{"attribute": c["attribute"], "before": c["before"], "after": c["after"]} for c in batch],
                    impact=PENDING_REBOOT if pending else ONLINE,
                    when=NEXT_RESTART if pending else NOW,
                    runner=STACK,
                    calls=[call],
                    note="static parameters take effect when each instance restarts" if pending else "",
                    request={"changes": batch},
                )
                actions.append(action)
    actions += tag_actions(
        "parameter_group",
        name,
        snapshot.get("parameter_group_tags"),
        spec.get("tags"),
        STACK,
        ("AddTagsToResource", "RemoveTagsFromResource"),
    )
    return actions, static


def key_changes(cluster, spec):
    """The storage key (fixed for the cluster's life) and the secret's key, compared only when one is named.

    ``resolved_keys`` maps a key named by alias to its ARN (the module asks KMS), as RDS reports ARNs.
    """
    resolved = spec.get("resolved_keys") or {}
    # A key KMS does not know is the preflight's refusal, not a change of key.
    unresolved = set(spec.get("unresolved_keys") or ())
    changes = []
    wanted = spec.get("kms_key_id")
    if wanted and wanted not in unresolved and not key_matches(cluster.get("KmsKeyId"), resolved.get(wanted, wanted)):
        changes.append(
            {"attribute": "kms_key_id", "before": cluster.get("KmsKeyId"), "after": wanted, "impact": CHANGE_IMPOSSIBLE}
        )
    wanted = spec.get("master_user_secret_kms_key_id")
    if (
        wanted
        and wanted not in unresolved
        and spec.get("manage_master_user_password")
        and cluster.get("MasterUserSecret")
    ):
        if not key_matches(master_secret_key(cluster), resolved.get(wanted, wanted)):
            changes.append(
                {
                    "attribute": "master_user_secret_kms_key_id",
                    "before": master_secret_key(cluster),
                    "after": wanted,
                    "impact": "online",
                }
            )
    return changes


def cluster_action_impact(change, apply_immediately):
    """(impact, when) of one cluster attribute change."""
    attribute = change["attribute"]
    if attribute == "port":
        # AWS applies a port change at once and restarts every instance, whatever ApplyImmediately says.
        return ALL_INSTANCES_RESTART, NOW
    if attribute == "engine_version":
        # A minor upgrade restarts every instance together, now or in the cluster's window.
        return ALL_INSTANCES_RESTART, NOW if apply_immediately else MAINTENANCE_WINDOW
    if attribute == "db_cluster_parameter_group_name":
        return PENDING_REBOOT, NEXT_RESTART
    when = change.get("when") or NOW
    return ONLINE, MAINTENANCE_WINDOW if when == "maintenance-window" else NOW


# What a reviewer checks in a new cluster, shown in its create step: the settings the guards protect and those AWS
# fixes for the cluster's life (the rest is in the inventory and the role's defaults).
CREATE_SHOWN = (
    "engine_version",
    "port",
    "database_name",
    "master_username",
    "storage_encrypted",
    "kms_key_id",
    "manage_master_user_password",
    "deletion_protection",
    "enable_iam_database_authentication",
    "backup_retention_period",
    "serverless_v2_scaling_configuration",
    "storage_type",
)


def create_changes(spec):
    shown = dict(
        spec,
        serverless_v2_scaling_configuration=capacity_words(
            scaling_configuration(spec.get("serverless_v2_scaling_configuration"))
        ),
    )
    return [
        {"attribute": attribute, "before": None, "after": shown[attribute]}
        for attribute in CREATE_SHOWN
        if shown.get(attribute) is not None
    ]


def storage_switch_refused(cluster, changes, now):
    """Why the planned switch to I/O-Optimized cannot be made now, or None.

    AWS allows a switch to aurora-iopt1 once every 30 days and says when the next is allowed
    (IOOptimizedNextAllowedModificationTime); a switch asked for before then would fail in the apply, after the steps
    before it, so the plan refuses it first. Without that time (never switched, or not reported) the switch is planned.
    """
    change = next((c for c in changes if c["attribute"] == "storage_type"), None)
    if change is None or change["after"] != IO_OPTIMIZED_STORAGE:
        return None
    allowed = as_utc(cluster.get("IOOptimizedNextAllowedModificationTime"))
    now = as_utc(now)
    if allowed is None or now is None or now >= allowed:
        return None
    return (
        f"cluster {cluster.get('DBClusterIdentifier')} is {STORAGE_WORDS.get(change['before'], change['before'])} "
        f"and AWS allows its next switch to {STORAGE_WORDS[IO_OPTIMIZED_STORAGE]} only from "
        f"{allowed.strftime('%Y-%m-%d %H:%M UTC')} (once every 30 days): run again after that time, or keep "
        f"storage_type={change['before']} until then"
    )


def plan_cluster(snapshot, spec, security_group_id, problems):
    identifier = spec["db_cluster_identifier"]
    cluster = snapshot["cluster"]
    if cluster is None:
        source = spec.get("restore_from_snapshot") or spec.get("restore_from_cluster")
        if source:
            # A restored cluster carries its source's settings: the same step then converges them to the inventory's.
            call = (
                "RestoreDBClusterFromSnapshot" if spec.get("restore_from_snapshot") else "RestoreDBClusterToPointInTime"
            )
            return [
                Action(
                    "cluster",
                    identifier,
                    "create",
                    [{"attribute": "restored from", "before": None, "after": source}],
                    runner=STACK,
                    calls=[call, "ModifyDBCluster"],
                    note="then its settings are converged to the inventory's (what differs is known once it exists)",
                    request={"restore": True},
                )
            ], None
        return [
            Action("cluster", identifier, "create", create_changes(spec), runner=STACK, calls=["CreateDBCluster"])
        ], None
    params = dict(spec, vpc_security_group_ids=[security_group_id] if security_group_id else None)
    changes, major_upgrade, notice, error = plan_cluster_changes(cluster, params)
    if error:
        problems.append(error)
    actions = []
    after_upgrade = []
    blue_green = strategy_of(spec) == BLUE_GREEN and snapshot.get("blue_green") is not None
    if major_upgrade and not spec.get("allow_major_version_upgrade"):
        words = (
            "every instance restarts together, the cluster is unavailable for 10 to 30 minutes; set "
            "aurora_cluster_allow_major_version_upgrade=true to upgrade, after a snapshot"
        )
        problems.append(
            f"{spec.get('variable_prefix') or ''}engine_version={major_upgrade['after']}: cluster {identifier} runs "
            f"{major_upgrade['before']}, the inventory says "
            f"{major_upgrade['after']}, a major version upgrade (impossible-in-place unless allowed: {words})"
        )
        actions.append(
            Action(
                "cluster",
                identifier,
                "major version upgrade",
                [{"attribute": "engine_version", "before": major_upgrade["before"], "after": major_upgrade["after"]}],
                impact=IMPOSSIBLE,
                note="not allowed",
            )
        )
    if blue_green and (major_upgrade is None or spec.get("allow_major_version_upgrade")):
        # The new family's parameter group goes to the green cluster in the deployment's own request.
        group_change = major_upgrade and next(
            (c for c in changes if c["attribute"] == "db_cluster_parameter_group_name"), None
        )
        changes = [c for c in changes if c is not group_change]
        blue_green_actions, blue_green_notice = plan_blue_green(
            snapshot["blue_green"],
            cluster,
            spec,
            major_upgrade,
            group_change,
            current_writer(cluster),
            snapshot.get("instances") or [],
            snapshot.get("read_at"),
            problems,
        )
        actions += blue_green_actions
        notice = "; ".join(filter(None, [notice, blue_green_notice])) or None
    elif major_upgrade and spec.get("allow_major_version_upgrade"):
        # The new family's parameter group travels in the upgrade's own request; the old one is removed after it.
        group_change = next((c for c in changes if c["attribute"] == "db_cluster_parameter_group_name"), None)
        changes = [c for c in changes if c is not group_change]
        upgrade_changes = [
            {"attribute": "engine_version", "before": major_upgrade["before"], "after": major_upgrade["after"]}
        ]
        if group_change:
            upgrade_changes.append(
                {
                    "attribute": "db_cluster_parameter_group_name",
                    "before": group_change["before"],
                    "after": group_change["after"],
                }
            )
        actions.append(
            Action(
                "cluster",
                identifier,
                "major version upgrade",
                upgrade_changes,
                impact=ALL_INSTANCES_RESTART,
                unavailability="every instance restarts together: the cluster is unavailable until the upgrade ends (typically 10 to 30 minutes)",
                runner=STACK,
                calls=["ModifyDBCluster"],
                note=f"{IN_PLACE_WORDS}; take a snapshot first",
                request={"version": major_upgrade["after"]},
            )
        )
        old_group = group_change["before"] if group_change else None
        if old_group and not old_group.startswith("default."):
            after_upgrade.append(
                Action(
                    "parameter_group",
                    old_group,
                    "delete",
                    [{"attribute": "parameter group", "before": old_group, "after": None}],
                    runner=STACK,
                    calls=["DeleteDBClusterParameterGroup"],
                    note="the major version upgrade replaced it",
                )
            )
    changes += key_changes(cluster, spec)
    refused = storage_switch_refused(cluster, changes, snapshot.get("read_at"))
    if refused:
        problems.append(f"{spec.get('variable_prefix') or 'cluster.'}storage_type={IO_OPTIMIZED_STORAGE}: {refused}")
        change = next(c for c in changes if c["attribute"] == "storage_type")
        changes.remove(change)
        actions.append(
            Action(
                "cluster",
                identifier,
                "change storage_type",
                [{"attribute": "storage_type", "before": change["before"], "after": change["after"]}],
                impact=IMPOSSIBLE,
                note=f"impossible now: {refused}",
            )
        )
    impossible_changes = [c for c in changes if c["impact"] == CHANGE_IMPOSSIBLE]
    for change in impossible_changes:
        problems.append(
            f"cluster {identifier}: {change['attribute']} is {change['before']!r}, the inventory says {change['after']!r} "
            "(impossible-in-place: AWS cannot change it on an existing cluster; restore a snapshot into a new cluster)"
        )
        actions.append(
            Action(
                "cluster",
                identifier,
                f"change {change['attribute']}",
                [{"attribute": change["attribute"], "before": change["before"], "after": change["after"]}],
                impact=IMPOSSIBLE,
            )
        )
    possible = [c for c in changes if c["impact"] != CHANGE_IMPOSSIBLE]
    if possible:
        apply_immediately = bool(spec.get("apply_immediately"))
        costs = [cluster_action_impact(c, apply_immediately) for c in possible]
        order = (ONLINE, PENDING_REBOOT, ALL_INSTANCES_RESTART)
        impact = max((cost[0] for cost in costs), key=order.index)
        whens = {cost[1] for cost in costs}
        when = NOW if NOW in whens else sorted(whens)[0]
        unavailability = ALL_RESTART_WORDS if impact == ALL_INSTANCES_RESTART else "none"
        note = "; ".join(c["note"] for c in possible if c.get("note"))
        deferred = [possible[i]["attribute"] for i, cost in enumerate(costs) if cost[1] == MAINTENANCE_WINDOW]
        if deferred and when == NOW:
            note = "; ".join(filter(None, [note, f"{', '.join(deferred)} waits for the maintenance window"]))
        actions.append(
            Action(
                "cluster",
                identifier,
                "modify",
                [{"attribute": c["attribute"], "before": c["before"], "after": c["after"]} for c in possible],
                impact=impact,
                when=when,
                unavailability=unavailability,
                runner=STACK,
                calls=["ModifyDBCluster"],
                note=note,
                request={"changes": possible},
            )
        )
    actions += tag_actions(
        "cluster",
        identifier,
        tags_to_dict(cluster.get("TagList")),
        spec.get("tags"),
        STACK,
        ("AddTagsToResource", "RemoveTagsFromResource"),
    )
    return actions + after_upgrade, notice


def current_writer(cluster):
    for member in (cluster or {}).get("DBClusterMembers") or []:
        if member.get("IsClusterWriter"):
            return member.get("DBInstanceIdentifier")
    return None


def instance_restarts_now(changes):
    return any(c["impact"] == CHANGE_REBOOT and c.get("when", NOW) == NOW for c in changes)


LAYOUT_OPTIONS = (
    "writer_identifier",
    "reader_identifier_prefix",
    "reader_count",
    "allow_rolling_reboot",
    "reader_db_instance_class",
    "instance_change_strategy",
    "configured_names",
    "generation",
)


def wanted_instances(spec, cluster_identifier, zones):
    """Each instance of the layout with the options it is created or converged with."""
    layout = instance_layout(zones, spec["writer_identifier"], spec["reader_identifier_prefix"], spec["reader_count"])
    settings = {k: v for k, v in spec.items() if k not in LAYOUT_OPTIONS}
    # Readers may have a class of their own (a provisioned writer with Serverless v2 readers, or the reverse).
    reader_class = spec.get("reader_db_instance_class") or spec.get("db_instance_class")
    wanted = []
    for entry in layout:
        wanted.append(
            dict(
                settings,
                db_instance_class=reader_class if entry["role"] == "reader" else spec.get("db_instance_class"),
                engine="aurora-postgresql",
                db_instance_identifier=entry["id"],
                db_cluster_identifier=cluster_identifier,
                availability_zone=entry["az"],
                promotion_tier=entry["tier"],
                tags=dict(settings.get("tags") or {}, Role=entry["role"]),
                role=entry["role"],
            )
        )
    return wanted


def autoscaled_instances(spec, cluster_identifier, instances):
    """The readers Application Auto Scaling added (application-autoscaling-...), with the options a reader of the
    layout is converged with: a class change or a rolling reboot covers them too. Their class is the writer's, the
    one AWS creates them with (so a new one needs no change); their zone and promotion tier (15) are the ones AWS
    gave them, and their tags are left as AWS set them."""
    settings = {k: v for k, v in spec.items() if k not in LAYOUT_OPTIONS}
    wanted = []
    for instance in sorted(instances, key=lambda i: i.get("DBInstanceIdentifier") or ""):
        identifier = instance.get("DBInstanceIdentifier")
        if not is_autoscaled(identifier) or instance.get("DBInstanceStatus") == "deleting":
            continue
        wanted.append(
            dict(
                settings,
                db_instance_class=spec.get("db_instance_class"),
                engine="aurora-postgresql",
                db_instance_identifier=identifier,
                db_cluster_identifier=cluster_identifier,
                availability_zone=instance.get("AvailabilityZone"),
                promotion_tier=instance.get("PromotionTier"),
                tags=None,
                role="reader",
                autoscaled=True,
            )
        )
    return wanted


def resolve_generation(snapshot, spec, cluster_identifier):
    """Which generation of names (naming.py) the instances have now and after this run (a surge moves them to the
    other one), and whether a surge is due; pure. adopt_generation gives the spec under those names."""
    configured = tuple(spec.get("configured_names") or (spec["writer_identifier"], spec["reader_identifier_prefix"]))
    cluster = snapshot.get("cluster")
    by_id = {
        i.get("DBInstanceIdentifier"): i
        for i in snapshot.get("instances") or []
        if i.get("DBInstanceStatus") != "deleting"
    }
    state = {
        "configured": configured,
        "current": configured,
        "target": configured,
        "surge": False,
        "leftovers": None,
        "problems": [],
        "refused": None,
    }
    if cluster is None:
        return state
    pair = generations(*configured)
    writer_now = current_writer(cluster)
    index = adopted_generation(configured[0], configured[1], list(by_id), writer_now)
    current, other = pair[index], pair[1 - index]
    state["current"] = state["target"] = current
    current_spec = dict(spec, writer_identifier=current[0], reader_identifier_prefix=current[1])
    if instance_change_strategy(spec) == SURGE and surge_due(snapshot, current_spec, cluster_identifier, by_id):
        names = [other[0]] + [f"{other[1]}{n}" for n in range(1, int(spec["reader_count"]) + 1)]
        too_long = [e for e in (identifier_error("instance", n, "instance") for n in names) if e]
        if writer_now is None or generation_of(writer_now, *configured) != index:
            state["refused"] = (
                f"the cluster's writer is {writer_now or 'none'}, not an instance of the layout: fail back first"
            )
        elif too_long:
            state["refused"] = (
                f"the new generation's names would be too long ({names[-1]}, more than 63 characters): shorten the "
                "writer identifier or the reader prefix, or use the rolling strategy"
            )
        else:
            state["surge"] = True
            state["target"] = other
        if state["refused"]:
            state["problems"].append(
                f"{spec.get('variable_prefix') or ''}instance_change_strategy=surge: {state['refused']}"
            )
        return state
    # Only beside a writer of the adopted generation: with none reported (a failover under way), nothing is deleted.
    if generation_members(by_id, other) and writer_now and generation_of(writer_now, *configured) == index:
        state["leftovers"] = other
    return state


def adopt_generation(spec, generation):
    """The instances' spec under the names they have after this run."""
    writer, prefix = generation["target"]
    return dict(
        spec,
        writer_identifier=writer,
        reader_identifier_prefix=prefix,
        configured_names=generation["configured"],
        generation=generation,
    )


def surge_due(snapshot, spec, cluster_identifier, by_id):
    """A change that restarts an instance of the layout (now or in its window): the surge makes it by new ones."""
    zones = [s["availability_zone"] for s in snapshot["network"]["subnets"]]
    for params in wanted_instances(spec, cluster_identifier, zones):
        instance = by_id.get(params["db_instance_identifier"])
        if instance is not None and any(
            c["impact"] == CHANGE_REBOOT for c in planned_instance_changes(instance, params)
        ):
            return True
    return False


def plan_instances(snapshot, spec, cluster_identifier, static_parameters_set, problems, restarted_by_cluster=False):
    """Creates, then the rolling work (readers one at a time, failover, former writer, failback), then removals; or,
    with the surge strategy and a change that restarts the instances, the surge's steps (surge.py)."""
    zones = [s["availability_zone"] for s in snapshot["network"]["subnets"]]
    generation = spec.get("generation") or resolve_generation(snapshot, spec, cluster_identifier)
    spec = adopt_generation(spec, generation)
    problems.extend(generation["problems"])
    if generation.get("refused"):
        return [refused(spec["writer_identifier"], generation["refused"])]
    wanted = wanted_instances(spec, cluster_identifier, zones)
    cluster = snapshot["cluster"]
    surge = []
    if generation["surge"]:
        surge = plan_surge(
            snapshot["instances"],
            wanted,
            generation["current"],
            generation["target"],
            cluster_identifier,
            current_writer(cluster),
        )
        # The readers the autoscaler made are not the layout's: they take the change in place after the surge.
        wanted = []
    by_id = {i.get("DBInstanceIdentifier"): i for i in snapshot["instances"]}
    writer_id = spec["writer_identifier"]
    apply_immediately = bool(spec.get("apply_immediately"))
    rolling_reboot = bool(spec.get("allow_rolling_reboot"))
    creates, readers, writer_steps, tags, removals = [], [], [], [], []
    first = []

    now_writer = current_writer(cluster)
    if not surge and cluster is not None and now_writer and now_writer != writer_id and writer_id in by_id:
        # AWS moved the writer role (a failover of its own): give it back before any rolling work.
        first.append(
            failover_action(
                cluster_identifier, now_writer, writer_id, "the writer role is back on the configured writer"
            )
        )

    reader_ids = [w["db_instance_identifier"] for w in wanted if w["role"] == "reader"]
    # The failover target of a writer restart is a reader of the layout: the autoscaler may remove one of its own.
    existing_readers = [r for r in reader_ids if r in by_id]
    autoscaled = autoscaled_instances(spec, cluster_identifier, snapshot["instances"] if cluster is not None else [])
    for params in wanted + autoscaled:
        identifier = params["db_instance_identifier"]
        instance = by_id.get(identifier)
        if instance is None:
            creates.append(
                Action(
                    "instance",
                    identifier,
                    "create",
                    [{"attribute": "db_instance_class", "before": None, "after": params.get("db_instance_class")}],
                    runner=STACK,
                    calls=["CreateDBInstance"],
                    note=f"{params['role']} in {params['availability_zone']}",
                    request={"params": params},
                )
            )
            continue
        changes = planned_instance_changes(instance, params)
        for change in [c for c in changes if c["impact"] == CHANGE_IMPOSSIBLE]:
            problems.append(
                f"instance {identifier}: {change['attribute']} is {change['before']!r}, the inventory says "
                f"{change['after']!r} (impossible-in-place: AWS keeps it for the instance's life; replace the instance)"
            )
            (readers if params["role"] == "reader" else writer_steps).append(
                Action(
                    "instance",
                    identifier,
                    f"change {change['attribute']}",
                    [{"attribute": change["attribute"], "before": change["before"], "after": change["after"]}],
                    impact=IMPOSSIBLE,
                )
            )
        changes = [c for c in changes if c["impact"] != CHANGE_IMPOSSIBLE]
        is_writer = params["role"] == "writer"
        restarts_now = instance_restarts_now(changes)
        pending = (waits_for_reboot(instance, cluster) or static_parameters_set) and not restarted_by_cluster
        steps = readers if not is_writer else writer_steps
        if changes:
            steps.append(
                modify_action(
                    identifier, instance, params, changes, is_writer, bool(existing_readers), apply_immediately, pending
                )
            )
        if rolling_reboot and pending and not restarts_now:
            steps.append(
                Action(
                    "instance",
                    identifier,
                    "reboot",
                    [{"attribute": "parameters", "before": "pending-reboot", "after": "in-sync"}],
                    impact=REBOOT if (not is_writer or existing_readers) else WRITER_RESTART,
                    unavailability=(
                        READER_RESTART_WORDS if (not is_writer or existing_readers) else WRITER_RESTART_WORDS
                    ).format(name=identifier),
                    runner=STACK,
                    calls=["RebootDBInstance"],
                    request={"identifier": identifier},
                )
            )
        if params.get("autoscaled"):
            continue
        tags += tag_actions(
            "instance",
            identifier,
            tags_to_dict(instance.get("TagList")),
            params["tags"],
            STACK,
            ("AddTagsToResource", "RemoveTagsFromResource"),
        )

    # The writer restarts now: with a reader, the writer role moves to the first reader first and comes back after.
    writer_restarts = any(a.impact in (REBOOT, WRITER_RESTART) and a.when == NOW for a in writer_steps)
    target = existing_readers[0] if existing_readers else None
    if writer_restarts and target:
        writer_steps = (
            [failover_action(cluster_identifier, writer_id, target, f"{writer_id} restarts as a reader")]
            + writer_steps
            + [
                failover_action(
                    cluster_identifier, target, writer_id, "the writer role goes back to the configured writer"
                )
            ]
        )

    numbered = re.compile(re.escape(spec["reader_identifier_prefix"]) + r"[0-9]+$")
    wanted_ids = {w["db_instance_identifier"] for w in wanted}
    # Highest-numbered first, by number (reader-10 before reader-3); a surge deletes the old generation itself.
    extra = sorted(
        (i for i in by_id if not surge and i not in wanted_ids and numbered.match(i) and i != writer_id),
        key=lambda i: int(i[len(spec["reader_identifier_prefix"]) :]),
        reverse=True,
    )
    # The failback planned first runs before any removal: by then the configured writer writes.
    writer_at_removal = writer_id if first else now_writer
    for identifier in extra:
        removals.append(
            Action(
                "instance",
                identifier,
                "delete",
                [{"attribute": "instance", "before": identifier, "after": None}],
                impact=FAILOVER if identifier == writer_at_removal else ONLINE,
                unavailability=f"connections to {identifier} through the reader endpoint drop",
                runner=STACK,
                calls=["DeleteDBInstance"],
                note=f"beyond reader_count={spec['reader_count']}, highest-numbered first",
                request={"identifier": identifier},
            )
        )
    if generation["leftovers"]:
        removals += leftover_deletes(
            snapshot["instances"],
            generation["leftovers"],
            f"an instance of the generation the cluster does not run on (its writer is {now_writer}): what a surge left",
        )
    return surge + first + creates + tags + readers + writer_steps + removals


def failover_action(cluster_identifier, source, target, note):
    return Action(
        "cluster",
        cluster_identifier,
        "failover",
        [{"attribute": "writer", "before": source, "after": target}],
        impact=FAILOVER,
        unavailability=FAILOVER_WORDS.format(target=target),
        runner=STACK,
        calls=["FailoverDBCluster"],
        note=note,
        request={"target": target},
    )


def modify_action(identifier, instance, params, changes, is_writer, has_readers, apply_immediately, pending):
    restarts = any(c["impact"] == CHANGE_REBOOT for c in changes)
    restarts_now = instance_restarts_now(changes)
    impact, when, unavailability, note = ONLINE, NOW, "none", ""
    if restarts_now:
        if is_writer and not has_readers:
            impact, unavailability = WRITER_RESTART, WRITER_RESTART_WORDS.format(name=identifier)
        else:
            impact, unavailability = REBOOT, READER_RESTART_WORDS.format(name=identifier)
    elif restarts:
        window = instance.get("PreferredMaintenanceWindow") or "(not reported)"
        when = MAINTENANCE_WINDOW
        # A deferred change restarts the instance in its own window, the writer in place, without a failover.
        impact = WRITER_RESTART if is_writer else REBOOT
        unavailability = f"{identifier} restarts in its maintenance window {window}" + (
            ": as the writer, without a failover, so writes stop while it restarts" if is_writer else ""
        )
        note = "set aurora_cluster_apply_immediately=true to roll it now, one instance at a time"
    elif any(c["impact"] == PENDING_REBOOT for c in changes):
        impact, when = PENDING_REBOOT, NEXT_RESTART
    if restarts_now and pending:
        note = "the restart also applies the pending static parameters"
    note = "; ".join(filter(None, [note] + [c.get("note") for c in changes]))
    return Action(
        "instance",
        identifier,
        "modify",
        [{"attribute": c["attribute"], "before": c["before"], "after": c["after"]} for c in changes],
        impact=impact,
        when=when,
        unavailability=unavailability,
        runner=STACK,
        calls=["ModifyDBInstance"],
        note=note,
        request={"changes": changes, "params": params},
    )


# The stack Region's steps of aurora_stack's own that need nothing of the stack: they lead its phase, in the planner's
# order. A key and its alias are then made one right after the other, as no wait for the stack's creates comes between
# them (a run stopped in such a wait would leave a key without the alias that finds it, and the next run would make
# another); AWS Backup's vaults (the copy vault with its key) come before the plan whose rule names them.
LEADING = ("event_topic_key", "backup_vault", "backup_copy_key", "backup_copy_vault", "backup_plan")


def order_actions(actions):
    """Number the actions in execution order: the role's phases, and within each the planner's order."""
    phase = {runner: position for position, runner in enumerate(RUNNERS)}

    def rank(item):
        position, action = item
        leading = action.resource in LEADING and not action.region
        return (phase.get(action.runner, phase[STACK]), not leading, position)

    return number([action for _position, action in sorted(enumerate(actions), key=rank)])


SERVERLESS_CLASS = "db.serverless"


def serverless_without_range(snapshot, params):
    """A db.serverless instance asked for in a cluster that will have no Serverless v2 capacity range: AWS refuses
    it (the role's own checks say so first; a cluster given one by hand keeps it and passes)."""
    instances = params["instances"]
    classes = {instances.get("db_instance_class")}
    if instances.get("reader_count"):
        classes.add(instances.get("reader_db_instance_class") or instances.get("db_instance_class"))
    if SERVERLESS_CLASS not in classes:
        return []
    if scaling_configuration(params["cluster"].get("serverless_v2_scaling_configuration")):
        return []
    if (snapshot.get("cluster") or {}).get("ServerlessV2ScalingConfiguration"):
        return []
    prefix = params["cluster"].get("variable_prefix") or ""
    option = f"{prefix}serverless_v2_min_capacity" if prefix else "cluster.serverless_v2_scaling_configuration"
    return [
        f"instances of class {SERVERLESS_CLASS} need the cluster's Serverless v2 capacity range, and cluster "
        f"{params['cluster']['db_cluster_identifier']} has none: give one ({option}), as AWS refuses a "
        f"{SERVERLESS_CLASS} instance in a cluster without one"
    ]


def custom_endpoint_actions(snapshot, params, problems):
    endpoints = params.get("custom_endpoints") or []
    prefix = params["cluster"].get("variable_prefix") or ""
    option = f"{prefix}custom_endpoints" if prefix else "custom_endpoints"
    instances, identifier = params["instances"], params["cluster"]["db_cluster_identifier"]
    errors = endpoint_errors(
        option,
        endpoints,
        identifier,
        instances["writer_identifier"],
        instances["reader_identifier_prefix"],
        instances.get("reader_count") or 0,
    )
    if errors:
        problems.extend(errors)
        return []
    return plan_endpoints(
        snapshot.get("custom_endpoints") or {},
        endpoints,
        identifier,
        instances,
        params["cluster"].get("tags"),
        problems,
        option,
    )


def plan_stack(snapshot, params, baseline_actions=()):
    """(actions in execution order, problems, notice): problems stop the apply before any change."""
    problems = []
    actions = []
    if "generation" not in params["instances"]:
        # The instances' names after this run, for everything named after them (aurora_stack resolves them first).
        cluster_identifier = params["cluster"]["db_cluster_identifier"]
        generation = resolve_generation(snapshot, params["instances"], cluster_identifier)
        params = dict(params, instances=adopt_generation(params["instances"], generation))
    actions += plan_security_group(snapshot, params["security_group"])
    actions += plan_subnet_group(snapshot, params["subnet_group"])
    parameter_actions, static = plan_parameter_group(snapshot, params["parameter_group"], problems)
    actions += parameter_actions
    group = snapshot["security_group"]
    cluster_actions, notice = plan_cluster(snapshot, params["cluster"], group["GroupId"] if group else None, problems)
    actions += cluster_actions
    cluster_identifier = params["cluster"]["db_cluster_identifier"]
    restarts_all = [a for a in cluster_actions if a.impact == ALL_INSTANCES_RESTART and a.when == NOW]
    if restarts_all and static:
        # Every instance restarts with the cluster's change, which applies the static parameters: no reboot of its own.
        restarts_all[0].note = "; ".join(
            filter(None, [restarts_all[0].note, "the restart also applies the static parameters"])
        )
        static = False
    problems += serverless_without_range(snapshot, params)
    instance_actions = plan_instances(
        snapshot, params["instances"], cluster_identifier, static, problems, bool(restarts_all)
    )
    # The custom endpoints after the instances' creates and rolling work (a new reader joins the endpoints that name
    # it), before any instance is deleted (no endpoint still names it then).
    removals = [a for a in instance_actions if a.resource == "instance" and a.change == "delete"]
    actions += [a for a in instance_actions if a not in removals]
    actions += custom_endpoint_actions(snapshot, params, problems)
    actions += removals
    actions += list(baseline_actions)
    return order_actions(actions), problems, notice


def runners_of(actions):
    return sorted({action.runner for action in actions if action.impact != IMPOSSIBLE}, key=RUNNERS.index)
