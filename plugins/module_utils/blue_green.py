# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A major version upgrade by an RDS Blue/Green deployment: what to read, and the plan's steps (pure).

The deployment is named after the cluster (``deployment_name``), so that a run killed at any step and run again
finds it and resumes from its real state (AWS's Status) instead of creating a second one. The steps, each one
action of the plan:

1. the blue cluster's parameter group gets rds.logical_replication=1 (AWS requires logical replication for Aurora
   PostgreSQL blue/green deployments; the parameter is static, so the writer is rebooted, a step of its own);
2. the new family's parameter group is created (stack_plan's parameter group step, from the inventory);
3. CreateBlueGreenDeployment, then a wait until AWS says AVAILABLE;
4. SwitchoverBlueGreenDeployment, only with aurora_cluster_blue_green_switchover=true; the old cluster (AWS
   renames it <cluster>-old1) is tagged with the time of the switchover;
5. a run at least aurora_cluster_blue_green_retention_hours after it deletes the deployment, the old cluster with a
   final snapshot, and the old family's parameter group.

Before the switchover, aurora_cluster_blue_green_rollback=true deletes the deployment and the green cluster
(DeleteTarget) and leaves the blue one as it is.
"""

from __future__ import annotations

from datetime import timedelta

from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    IMPOSSIBLE,
    NEXT_RESTART,
    ONLINE,
    PENDING_REBOOT,
    REPLACEMENT,
    WRITER_RESTART,
    Action,
    as_utc,
)

IN_PLACE = "in-place"
BLUE_GREEN = "blue-green"
STRATEGIES = (IN_PLACE, BLUE_GREEN)

# The deployment's statuses (DescribeBlueGreenDeployments).
PROVISIONING = "PROVISIONING"
AVAILABLE = "AVAILABLE"
SWITCHOVER_IN_PROGRESS = "SWITCHOVER_IN_PROGRESS"
SWITCHOVER_COMPLETED = "SWITCHOVER_COMPLETED"
INVALID_CONFIGURATION = "INVALID_CONFIGURATION"
SWITCHOVER_FAILED = "SWITCHOVER_FAILED"
DELETING = "DELETING"
FAILED = (INVALID_CONFIGURATION, SWITCHOVER_FAILED)

RESOURCE = "blue_green_deployment"
LOGICAL_REPLICATION = "rds.logical_replication"
# On the old cluster: when the switchover ended, which its retention is counted from.
SWITCHED_TAG = "vitality.aurora:switched-over-at"
DEPLOYMENT_NOT_FOUND = ("BlueGreenDeploymentNotFoundFault",)
# BlueGreenDeploymentName: 1 to 60 letters, digits and single hyphens, a letter first.
NAME_LIMIT = 60
SUFFIX = "-bg"

DOWNTIME_WORDS = "writes stop for about a minute while AWS switches the cluster's endpoints to the green cluster"
IN_PLACE_WORDS = "strategy in-place: no extra cost"


def deployment_name(identifier):
    """The deployment's name: derived from the cluster alone, so that every run finds the same one."""
    return identifier[: NAME_LIMIT - len(SUFFIX)].rstrip("-") + SUFFIX


def old_identifier(identifier):
    """What AWS renames the blue cluster (and each of its instances) to at the switchover."""
    return f"{identifier}-old1"


def identifier_of(arn):
    return str(arn or "").rsplit(":", 1)[-1]


def strategy_of(spec):
    return spec.get("major_upgrade_strategy") or IN_PLACE


def find_deployment(rds, name):
    answer = rds.call(
        "describe_blue_green_deployments",
        Filters=[{"Name": "blue-green-deployment-name", "Values": [name]}],
        not_found=DEPLOYMENT_NOT_FOUND,
        context=f"blue/green deployment {name}",
    )
    # Read defensively: only the one of that name.
    found = [d for d in (answer or {}).get("BlueGreenDeployments") or [] if d.get("BlueGreenDeploymentName") == name]
    return found[0] if found else None


def read_blue_green(rds, spec, cluster, read_cluster, read_members, user_parameters):
    """What the blue/green steps are planned from: the deployment (found by its name), the blue cluster's own
    parameters while the upgrade is to come, the old cluster once it is switched over. One call when there is
    nothing under way. The readers are passed in (cluster_settings and parameter_settings own them)."""
    identifier = spec["db_cluster_identifier"]
    name = deployment_name(identifier)
    state = {"name": name, "deployment": find_deployment(rds, name), "blue_parameters": None, "old_cluster": None}
    deployment = state["deployment"]
    status = (deployment or {}).get("Status")
    group = (cluster or {}).get("DBClusterParameterGroup")
    if cluster is not None and status is None and group and group != spec.get("db_cluster_parameter_group_name"):
        state["blue_parameters"] = user_parameters(rds, group)
    if deployment is not None and spec.get("blue_green_rollback") and status != SWITCHOVER_COMPLETED:
        # AWS deletes the green cluster only without deletion protection: the rollback turns it off first.
        state["green_cluster"] = read_cluster(rds, identifier_of(deployment.get("Target")))
    if status == SWITCHOVER_COMPLETED:
        old = read_cluster(rds, old_identifier(identifier))
        state["old_cluster"] = old
        state["old_members"] = (read_members(rds, old_identifier(identifier)) or []) if old else []
    return state


def stamp(moment):
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def tags_of(resource):
    return {t.get("Key"): t.get("Value") for t in (resource or {}).get("TagList") or []}


def final_snapshot_name(old, switched):
    """Deterministic (a plan and its apply name the same snapshot): the old cluster and when it was switched."""
    return f"{old}-final-{switched.strftime('%Y%m%d-%H%M%S')}"


def deployment_action(name, change, changes=(), impact=ONLINE, unavailability="none", calls=(), note="", request=None):
    return Action(
        RESOURCE,
        name,
        change,
        changes,
        impact=impact,
        unavailability=unavailability,
        calls=calls,
        note=note,
        request=request,
    )


def option(spec, name):
    prefix = spec.get("variable_prefix") or ""
    return f"{prefix}{name}" if prefix else f"cluster.{name}"


def preconditions(cluster, spec):
    """What AWS refuses a blue/green deployment for, before anything starts ([] when none)."""
    identifier = spec["db_cluster_identifier"]
    strategy = f"{option(spec, 'major_upgrade_strategy')}=blue-green"
    problems = []
    if cluster.get("MasterUserSecret"):
        problems.append(
            f"{strategy}: cluster {identifier} keeps its master password in Secrets Manager (MasterUserSecret), which "
            "AWS Blue/Green deployments do not support: choose the in-place strategy, or a self-managed password "
            f"({option(spec, 'manage_master_user_password')}=false) first"
        )
    if cluster.get("GlobalClusterIdentifier"):
        problems.append(
            f"{strategy}: cluster {identifier} is a member of global database {cluster['GlobalClusterIdentifier']}; "
            "AWS does not support blue/green deployments for an Aurora global database: choose in-place "
            f"({option(spec, 'major_upgrade_strategy')}=in-place), and the role upgrades the global database in "
            "place, with ModifyGlobalCluster"
        )
    return problems


def plan_blue_green(state, cluster, spec, upgrade, group_change, writer, members, now, problems):
    """(actions, notice) of a blue/green major upgrade, from the deployment's real state.

    ``upgrade``: the major upgrade stack_plan found (before, after) or None; ``group_change``: the cluster's
    parameter group change it brings (the new family's group), or None; ``members``: the cluster's instances.
    """
    identifier = spec["db_cluster_identifier"]
    name = state["name"]
    deployment = state.get("deployment")
    status = (deployment or {}).get("Status")
    if spec.get("blue_green_rollback"):
        return plan_rollback(name, deployment, status, spec, problems, state.get("green_cluster"))
    if status == SWITCHOVER_COMPLETED:
        return plan_retention(state, deployment, spec, now)
    if status == DELETING:
        return [], f"blue/green deployment {name} is being deleted; run again once it is gone"
    if deployment is not None and upgrade is None:
        problems.append(
            f"blue/green deployment {name} of cluster {identifier} is {status}, and the inventory asks for no major "
            f"upgrade: set {option(spec, 'blue_green_rollback')}=true to delete it with its green cluster, or ask "
            "for its target version again"
        )
        return [], None
    if upgrade is None:
        return [], None
    if status in FAILED:
        problems.append(
            f"blue/green deployment {name} is {status}: {deployment.get('StatusDetails') or 'AWS gives no detail'}; "
            f"set {option(spec, 'blue_green_rollback')}=true to delete it and its green cluster (the blue one is left "
            "as it is), fix the cause and run again"
        )
        return [], None
    actions = []
    before, after = upgrade["before"], upgrade["after"]
    new_group = group_change["after"] if group_change else spec.get("db_cluster_parameter_group_name")
    old_group = group_change["before"] if group_change else cluster.get("DBClusterParameterGroup")
    if deployment is None:
        refused = preconditions(cluster, spec)
        if refused:
            problems.extend(refused)
            return [
                Action(
                    "cluster",
                    identifier,
                    "major version upgrade",
                    [{"attribute": "engine_version", "before": before, "after": after}],
                    impact=IMPOSSIBLE,
                    note="blue-green: " + "; ".join(refused),
                )
            ], None
        actions += logical_replication_steps(state, cluster, old_group, writer, members)
        classes = sorted({m.get("DBInstanceClass") for m in members if m.get("DBInstanceClass")})
        size = f"{len(members)} instance(s) of {', '.join(classes) or 'the same class'}"
        request = {"version": after, "group": new_group, "source": cluster.get("DBClusterArn")}
        actions.append(
            deployment_action(
                name,
                "create",
                [
                    {"attribute": "engine_version", "before": before, "after": after},
                    {"attribute": "db_cluster_parameter_group_name", "before": old_group, "after": new_group},
                ],
                calls=["CreateBlueGreenDeployment"],
                note=(
                    f"strategy blue-green: a green copy of cluster {identifier} on {after}, kept in sync by logical "
                    f"replication, then a wait until AWS says it is available; extra cost while it runs: a second "
                    f"cluster of the same size ({size}) and its storage changes, until the old one is deleted; "
                    "write downtime: none now, about a minute at the switchover"
                ),
                request=request,
            )
        )
    elif status == PROVISIONING:
        actions.append(
            deployment_action(
                name,
                "wait until available",
                [{"attribute": "status", "before": status, "after": AVAILABLE}],
                note="found under way (a run before this one created it): no second deployment is made",
            )
        )
    if status == SWITCHOVER_IN_PROGRESS or spec.get("blue_green_switchover"):
        actions.append(switchover_action(name, identifier, spec, status))
        return actions, None
    waiting = "once the green cluster is available" if status != AVAILABLE else "now: the green cluster is available"
    notice = (
        f"blue/green: the switchover to {after} is not planned without {option(spec, 'blue_green_switchover')}=true; "
        f"{waiting}, check it and switch over with -e {option(spec, 'blue_green_switchover')}=true (about a minute "
        f"without writes), or roll back with -e {option(spec, 'blue_green_rollback')}=true"
    )
    return actions, notice


def logical_replication_steps(state, cluster, old_group, writer, members):
    """rds.logical_replication=1 on the blue cluster's group, and the writer's reboot that applies it."""
    actions = []
    current = (state.get("blue_parameters") or {}).get(LOGICAL_REPLICATION)
    if current != "1" and old_group:
        change = {"attribute": f"parameters.{LOGICAL_REPLICATION}", "before": current, "after": "1"}
        actions.append(
            Action(
                "parameter_group",
                old_group,
                "set parameters",
                [change],
                impact=PENDING_REBOOT,
                when=NEXT_RESTART,
                calls=["ModifyDBClusterParameterGroup"],
                note="AWS needs logical replication on the blue cluster for a blue/green deployment",
                request={
                    "changes": [
                        dict(change, name=LOGICAL_REPLICATION, impact=PENDING_REBOOT, apply_method="pending-reboot")
                    ]
                },
            )
        )
    statuses = {
        m.get("DBInstanceIdentifier"): m.get("DBClusterParameterGroupStatus")
        for m in (cluster.get("DBClusterMembers") or [])
    }
    if writer and (actions or statuses.get(writer) == "pending-reboot"):
        readers = [m for m in members if m.get("DBInstanceIdentifier") != writer]
        actions.append(
            Action(
                "instance",
                writer,
                "reboot",
                [{"attribute": f"parameters.{LOGICAL_REPLICATION}", "before": "pending-reboot", "after": "in-sync"}],
                impact=WRITER_RESTART,
                unavailability=f"{writer} restarts in place: writes stop for a minute or two"
                + (" (the readers keep serving reads)" if readers else ""),
                calls=["RebootDBInstance"],
                note="rds.logical_replication is static: it takes effect when the writer restarts",
                request={"identifier": writer},
            )
        )
    return actions


def switchover_action(name, identifier, spec, status):
    timeout = int(spec.get("blue_green_switchover_timeout") or 300)
    hours = spec.get("blue_green_retention_hours")
    resumed = status == SWITCHOVER_IN_PROGRESS
    return deployment_action(
        name,
        "switchover",
        [
            {
                "attribute": "cluster",
                "before": identifier,
                "after": f"green, {identifier} (the old one: {old_identifier(identifier)})",
            }
        ],
        impact=REPLACEMENT,
        unavailability=f"{DOWNTIME_WORDS} (at most the switchover timeout, {timeout} s, or AWS rolls it back)",
        calls=(["SwitchoverBlueGreenDeployment"] if not resumed else []) + ["AddTagsToResource"],
        note=(
            ("found under way: waited for, not asked again; " if resumed else "")
            + f"irreversible once done: the old cluster stays as {old_identifier(identifier)} for "
            f"{hours} h, then a run deletes it with a final snapshot"
        ),
        request={"call": not resumed, "timeout": timeout, "old": old_identifier(identifier)},
    )


def plan_rollback(name, deployment, status, spec, problems, green_cluster=None):
    if deployment is None:
        return [], f"{option(spec, 'blue_green_rollback')}=true: no blue/green deployment {name} to roll back"
    if status in (SWITCHOVER_IN_PROGRESS, SWITCHOVER_COMPLETED):
        problems.append(
            f"{option(spec, 'blue_green_rollback')}=true: blue/green deployment {name} is {status}, past the point of "
            "rollback (the green cluster is the cluster now); restore the old cluster's final snapshot instead"
        )
        return [], None
    if status == DELETING:
        return [], f"blue/green deployment {name} is being deleted"
    green = identifier_of(deployment.get("Target"))
    protected = bool((green_cluster or {}).get("DeletionProtection"))
    note = "rollback before the switchover: the blue cluster is left as it is"
    if protected:
        note += "; the green cluster's deletion protection (copied from blue) is turned off first, as AWS requires"
    action = deployment_action(
        name,
        "delete with its green cluster",
        [{"attribute": "green cluster", "before": green, "after": None}],
        calls=(["ModifyDBCluster"] if protected else []) + ["DeleteBlueGreenDeployment"],
        note=note,
        request={
            "identifier": deployment.get("BlueGreenDeploymentIdentifier"),
            "delete_target": True,
            "green": green,
            "unprotect": protected,
        },
    )
    notice = (
        f"{option(spec, 'blue_green_rollback')}=true: set {option(spec, 'engine_version')} back to the version the "
        "cluster runs, or the next run plans the upgrade again"
    )
    return [action], notice


def plan_retention(state, deployment, spec, now):
    """After the switchover: the old cluster is kept for the retention period, then deleted with a final snapshot."""
    identifier = spec["db_cluster_identifier"]
    name = state["name"]
    old = state.get("old_cluster")
    old_id = old_identifier(identifier)
    hours = int(spec.get("blue_green_retention_hours") or 0)
    delete_deployment = deployment_action(
        name,
        "delete",
        [{"attribute": "deployment", "before": deployment.get("BlueGreenDeploymentIdentifier"), "after": None}],
        calls=["DeleteBlueGreenDeployment"],
        note="the switchover is done: only its record is deleted",
        request={"identifier": deployment.get("BlueGreenDeploymentIdentifier"), "delete_target": False},
    )
    if old is None:
        return [delete_deployment], None
    switched = as_utc(tags_of(old).get(SWITCHED_TAG))
    if switched is None:
        # Killed between the switchover and its tag: the retention counts from now, never less than asked for.
        return [
            Action(
                "cluster",
                old_id,
                "mark the switchover time",
                # The time is the apply's (the plan and its apply, a moment apart, show the same step).
                [{"attribute": f"tags.{SWITCHED_TAG}", "before": None, "after": "(the time of this run)"}],
                calls=["AddTagsToResource"],
                note=f"the old cluster's retention ({hours} h) counts from now",
                request={"arn": old.get("DBClusterArn")},
            )
        ], None
    until = switched + timedelta(hours=hours)
    if as_utc(now) < until:
        return [], (
            f"blue/green: the old cluster {old_id} is kept until {stamp(until)} "
            f"({option(spec, 'blue_green_retention_hours')}={hours} after the switchover); a run after that deletes it "
            "with a final snapshot"
        )
    members = sorted(m.get("DBInstanceIdentifier") for m in state.get("old_members") or [])
    snapshot = final_snapshot_name(old_id, switched)
    calls = (["ModifyDBCluster"] if old.get("DeletionProtection") else []) + ["DeleteDBInstance"] * len(members)
    actions = [
        delete_deployment,
        Action(
            "cluster",
            old_id,
            "delete",
            [{"attribute": "cluster", "before": old_id, "after": None}]
            + [{"attribute": "instance", "before": m, "after": None} for m in members],
            calls=calls + ["DeleteDBCluster"],
            note=(
                f"the old blue cluster, {hours} h after the switchover, with a final snapshot {snapshot}"
                + ("; its deletion protection is turned off first" if old.get("DeletionProtection") else "")
            ),
            request={
                "members": members,
                "snapshot": snapshot,
                "unprotect": bool(old.get("DeletionProtection")),
            },
        ),
    ]
    old_group = old.get("DBClusterParameterGroup")
    if old_group and not old_group.startswith("default.") and old_group != spec.get("db_cluster_parameter_group_name"):
        actions.append(
            Action(
                "parameter_group",
                old_group,
                "delete",
                [{"attribute": "parameter group", "before": old_group, "after": None}],
                calls=["DeleteDBClusterParameterGroup"],
                note="the old cluster was its last user",
            )
        )
    return actions, None
