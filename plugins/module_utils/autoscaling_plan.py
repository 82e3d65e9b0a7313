# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reader autoscaling: Application Auto Scaling's scalable target and target-tracking policy of the cluster's
reader count (``rds:cluster:ReadReplicaCount``), read once and planned as Actions.

The role and the autoscaler share the reader count: the inventory's ``reader_count`` readers are the role's (named
``<reader prefix><n>``) and are the target's minimum; Application Auto Scaling adds readers above them, up to the
maximum, named ``application-autoscaling-<uuid>``, and removes them again. The role never deletes one of those while
autoscaling is on, nor counts it as drift; the instance steps cover them like any reader (stack_plan).

``desired`` (aurora_stack's ``autoscaling`` option, completed with the cluster's identifier and reader count)::

    {
      "enabled": True,
      "min_readers": 2,              # the inventory's reader_count
      "max_readers": 5,
      "metric": "RDSReaderAverageCPUUtilization",   # or RDSReaderAverageDatabaseConnections
      "target_value": 60.0,
      "scale_in_cooldown": 300, "scale_out_cooldown": 300,  # seconds
      "disable_scale_in": False,
      "readers_on_disable": "keep",  # or "delete": what turning it off does to the readers the autoscaler made
      "policy_name": "vitality.aurora-readers",
    }

``read_autoscaling`` makes one DescribeScalableTargets, and one DescribeScalingPolicies when there is a target or one
is wanted; aurora_stack calls it only when autoscaling is on or the cluster carries ``MARKER_TAG`` (the collection
turned it on earlier), so a stack that never autoscaled makes no such call. ``plan_autoscaling`` is pure.
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.plan import FAILOVER, ONLINE, STACK, Action

SERVICE_NAMESPACE = "rds"
DIMENSION = "rds:cluster:ReadReplicaCount"
# How Application Auto Scaling names the readers it adds to an Aurora cluster.
AUTOSCALED_PREFIX = "application-autoscaling-"
TARGET_TRACKING = "TargetTrackingScaling"
METRICS = ("RDSReaderAverageCPUUtilization", "RDSReaderAverageDatabaseConnections")
# Aurora keeps at most 15 readers in a cluster.
MAX_READERS = 15
DEFAULT_POLICY_NAME = "vitality.aurora-readers"

# What the plan calls each field of the policy.
POLICY_FIELDS = (
    ("PredefinedMetricType", "metric"),
    ("TargetValue", "target_value"),
    ("ScaleInCooldown", "scale_in_cooldown"),
    ("ScaleOutCooldown", "scale_out_cooldown"),
    ("DisableScaleIn", "disable_scale_in"),
)


# The cluster's tag that says the collection registered its scalable target. Read with the cluster (no call of its
# own), it tells a run with autoscaling off that there is a target to deregister; a cluster without it costs no
# Application Auto Scaling call at all, and a target registered by someone else is never deregistered.
MARKER_TAG = "vitality.aurora:reader-autoscaling"
MARKER_VALUE = "on"


def marked(cluster):
    """Whether the cluster (as DescribeDBClusters answers) carries the collection's autoscaling tag."""
    return any(
        tag.get("Key") == MARKER_TAG and tag.get("Value") == MARKER_VALUE
        for tag in (cluster or {}).get("TagList") or []
    )


def resource_id(cluster_identifier):
    return f"cluster:{cluster_identifier}"


def is_autoscaled(identifier):
    return str(identifier or "").startswith(AUTOSCALED_PREFIX)


def autoscaled_readers(instances):
    """The identifiers of the cluster's instances Application Auto Scaling made (not being deleted), sorted."""
    return sorted(
        i.get("DBInstanceIdentifier")
        for i in instances or []
        if is_autoscaled(i.get("DBInstanceIdentifier")) and i.get("DBInstanceStatus") != "deleting"
    )


# -- reading -------------------------------------------------------------------------------------


def read_autoscaling(api, cluster_identifier, enabled):
    """{target: the scalable target or None, policies: {name: policy}} of the cluster's reader count."""
    rid = resource_id(cluster_identifier)
    listed = api.paginate(
        "describe_scalable_targets",
        "ScalableTargets",
        context=f"the scalable target {rid}",
        ServiceNamespace=SERVICE_NAMESPACE,
        ResourceIds=[rid],
        ScalableDimension=DIMENSION,
    )
    # Defensive: only this cluster's reader count, whatever the endpoint answered.
    target = next(
        (t for t in listed or [] if t.get("ResourceId") == rid and t.get("ScalableDimension") == DIMENSION), None
    )
    policies = {}
    if target is not None or enabled:
        found = api.paginate(
            "describe_scaling_policies",
            "ScalingPolicies",
            context=f"the scaling policies of {rid}",
            ServiceNamespace=SERVICE_NAMESPACE,
            ResourceId=rid,
            ScalableDimension=DIMENSION,
        )
        # moto 5.2.5 matches ResourceId as a substring (cluster:a answers for cluster:a-b too): keep exact matches.
        policies = {
            p["PolicyName"]: p
            for p in found or []
            if p.get("ResourceId") == rid and p.get("ScalableDimension") == DIMENSION and p.get("PolicyName")
        }
    return {"target": target, "policies": policies}


# -- what is wanted ------------------------------------------------------------------------------


def policy_name(desired):
    return desired.get("policy_name") or DEFAULT_POLICY_NAME


def target_request(desired, cluster_identifier):
    # No RoleARN: AWS uses (and on the first registration creates) the service-linked role
    # AWSServiceRoleForApplicationAutoScaling_RDSCluster. SuspendedState is left as it is (an operator may have
    # suspended scaling on purpose).
    return {
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id(cluster_identifier),
        "ScalableDimension": DIMENSION,
        "MinCapacity": int(desired["min_readers"]),
        "MaxCapacity": int(desired["max_readers"]),
    }


def policy_request(desired, cluster_identifier):
    return {
        "PolicyName": policy_name(desired),
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id(cluster_identifier),
        "ScalableDimension": DIMENSION,
        "PolicyType": TARGET_TRACKING,
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": float(desired["target_value"]),
            "PredefinedMetricSpecification": {"PredefinedMetricType": desired["metric"]},
            "ScaleInCooldown": int(desired["scale_in_cooldown"]),
            "ScaleOutCooldown": int(desired["scale_out_cooldown"]),
            "DisableScaleIn": bool(desired["disable_scale_in"]),
        },
    }


def policy_values(policy):
    """The compared fields of a policy (request or description); a field the answer leaves out is None."""
    config = (policy or {}).get("TargetTrackingScalingPolicyConfiguration") or {}
    values = {
        "PredefinedMetricType": (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType"),
        "TargetValue": float(config["TargetValue"]) if config.get("TargetValue") is not None else None,
        "ScaleInCooldown": config.get("ScaleInCooldown"),
        "ScaleOutCooldown": config.get("ScaleOutCooldown"),
        "DisableScaleIn": config.get("DisableScaleIn"),
    }
    if values["DisableScaleIn"] is None and config:
        # AWS's default when the request left it out.
        values["DisableScaleIn"] = False
    return values


def policy_changes(current, request):
    if current.get("PolicyType") != TARGET_TRACKING:
        return [{"attribute": "policy_type", "before": current.get("PolicyType"), "after": TARGET_TRACKING}]
    before, after = policy_values(current), policy_values(request)
    return [
        {"attribute": words, "before": before[field], "after": after[field]}
        for field, words in POLICY_FIELDS
        if before[field] != after[field]
    ]


def readers_words(readers):
    count = len(readers)
    return f"{count} reader{'s' if count != 1 else ''} made by Application Auto Scaling" + (
        f" ({', '.join(readers)})" if readers else ""
    )


# -- planning ------------------------------------------------------------------------------------


def plan_autoscaling(current, desired, cluster_identifier, instances, writer=None):
    """(actions, outputs). Enabled: register (or update) the target, then put the policy. Disabled: delete the
    target's policies, deregister it, then, with readers_on_disable=delete, delete the readers the autoscaler made."""
    current = current or {}
    target = current.get("target")
    policies = current.get("policies") or {}
    made = autoscaled_readers(instances)
    rid = resource_id(cluster_identifier)
    actions = []
    if desired["enabled"]:
        request = target_request(desired, cluster_identifier)
        wanted = [("min_readers", "MinCapacity"), ("max_readers", "MaxCapacity")]
        note = (
            f"{readers_words(made)}, left to it" if made else "Application Auto Scaling adds readers above the minimum"
        )
        note += (
            f"; it keeps between {request['MinCapacity']} (reader_count) and {request['MaxCapacity']} readers, "
            f"following {desired['metric']} at {desired['target_value']:g}"
        )
        if target is None:
            changes = [{"attribute": words, "before": None, "after": request[field]} for words, field in wanted]
            actions.append(_target_action(rid, "register", changes, note, request))
        else:
            changes = [
                {"attribute": words, "before": target.get(field), "after": request[field]}
                for words, field in wanted
                if target.get(field) is not None and int(target[field]) != request[field]
            ]
            if changes:
                actions.append(_target_action(rid, "update", changes, note, request))
        put = policy_request(desired, cluster_identifier)
        name = put["PolicyName"]
        found = policies.get(name)
        if found is None:
            values = policy_values(put)
            changes = [{"attribute": words, "before": None, "after": values[field]} for field, words in POLICY_FIELDS]
            actions.append(_policy_action(name, "create", changes, put))
        else:
            changes = policy_changes(found, put)
            if changes:
                actions.append(_policy_action(name, "update", changes, put))
        state = "on"
    else:
        if target is not None:
            for name in sorted(policies):
                actions.append(
                    Action(
                        "scaling_policy",
                        name,
                        "delete",
                        [{"attribute": "policy_type", "before": policies[name].get("PolicyType"), "after": None}],
                        impact=ONLINE,
                        runner=STACK,
                        calls=["DeleteScalingPolicy"],
                        note="autoscaling is turned off (aurora_cluster_autoscaling_enabled=false)",
                        request={
                            "PolicyName": name,
                            "ServiceNamespace": SERVICE_NAMESPACE,
                            "ResourceId": rid,
                            "ScalableDimension": DIMENSION,
                        },
                    )
                )
            fate = (
                "each deleted in the next steps"
                if desired["readers_on_disable"] == "delete"
                else "kept as they are, the role no longer adds nor removes them"
            )
            note = (
                "the reader count stops following the load; "
                + (f"{readers_words(made)}: {fate}" if made else "no reader made by Application Auto Scaling is left")
                + f" (aurora_cluster_autoscaling_readers_on_disable={desired['readers_on_disable']})"
            )
            actions.append(
                _target_action(
                    rid,
                    "deregister",
                    [
                        {"attribute": "min_readers", "before": target.get("MinCapacity"), "after": None},
                        {"attribute": "max_readers", "before": target.get("MaxCapacity"), "after": None},
                    ],
                    note,
                    {"ServiceNamespace": SERVICE_NAMESPACE, "ResourceId": rid, "ScalableDimension": DIMENSION},
                )
            )
        if desired["readers_on_disable"] == "delete":
            for identifier in made:
                actions.append(
                    Action(
                        "instance",
                        identifier,
                        "delete",
                        [{"attribute": "instance", "before": identifier, "after": None}],
                        impact=FAILOVER if identifier == writer else ONLINE,
                        unavailability=f"connections to {identifier} through the reader endpoint drop",
                        runner=STACK,
                        calls=["DeleteDBInstance"],
                        note="made by Application Auto Scaling, which is off "
                        "(aurora_cluster_autoscaling_readers_on_disable=delete)",
                        request={"identifier": identifier},
                    )
                )
        state = "off"
    outputs = {
        "enabled": bool(desired["enabled"]),
        "resource_id": rid,
        "min_readers": int(desired["min_readers"]) if desired["enabled"] else None,
        "max_readers": int(desired["max_readers"]) if desired["enabled"] else None,
        "metric": desired["metric"] if desired["enabled"] else None,
        "target_value": float(desired["target_value"]) if desired["enabled"] else None,
        "autoscaled_readers": made,
        # Policies of someone else's on the target: left alone while autoscaling is on.
        "other_policies": sorted(n for n in policies if desired["enabled"] and n != policy_name(desired)),
        "notice": (
            f"Reader autoscaling is {state}: {readers_words(made)}"
            + (", left to it (never deleted nor counted as drift)" if desired["enabled"] else "")
            if made
            else None
        ),
    }
    return actions, outputs


def _target_action(rid, change, changes, note, request):
    return Action(
        "autoscaling_target",
        rid,
        change,
        changes,
        impact=ONLINE,
        runner=STACK,
        calls=["DeregisterScalableTarget" if change == "deregister" else "RegisterScalableTarget"],
        note=note,
        request=request,
    )


def _policy_action(name, change, changes, request):
    return Action(
        "scaling_policy",
        name,
        change,
        changes,
        impact=ONLINE,
        runner=STACK,
        calls=["PutScalingPolicy"],
        note="target tracking of the reader count",
        request=request,
    )


def lowers_minimum(action):
    return action.resource == "autoscaling_target" and any(
        c["attribute"] == "min_readers"
        and c["before"] is not None
        and c["after"] is not None
        and c["after"] < c["before"]
        for c in action.changes
    )


def place_autoscaling(actions, scaling_actions):
    """The stack's actions with autoscaling's placed: after the instances' steps (the target needs the writer, and a
    higher minimum must not make the autoscaler add readers beside those the role creates), except a lower minimum,
    set before them (else the autoscaler would add a reader back for each reader the role deletes)."""
    early = [a for a in scaling_actions if lowers_minimum(a)]
    late = [a for a in scaling_actions if a not in early]
    actions = list(actions)
    first_instance = next((i for i, a in enumerate(actions) if a.resource == "instance"), len(actions))
    return actions[:first_instance] + early + actions[first_instance:] + late
