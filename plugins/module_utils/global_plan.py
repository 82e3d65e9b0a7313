# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Aurora Global Database: the global cluster, its secondary cluster in another Region, read and planned in the one
planner run (stack_plan plans the cluster of the stack's own Region; this module the rest).

Which member writes is read from the global cluster (IsWriter), never assumed from the Region: after a managed
switchover the secondary Region's cluster writes, and the plan adopts that (it fails nothing back on its own).

Names (naming.py): the global cluster ``<name>-global``, the secondary cluster ``<name>-<region>``, its readers
``<name>-<region>-reader-N``; its security group, DB subnet group and cluster parameter group have the names of the
primary's (another Region, no clash); its KMS key is ``alias/<name>-<region>``, a customer managed key of that Region
(one key per Region, as the backup copies have).

What the secondary's removal keeps: its security group, DB subnet group, cluster parameter group and KMS key (free
or nearly, and found again if a secondary is added back); user guide, "Aurora Global Database".
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.api import concurrently
from ansible_collections.vitality.aurora.plugins.module_utils.baseline_plan import read_key
from ansible_collections.vitality.aurora.plugins.module_utils.cluster_settings import (
    engine_version_change,
    read_cluster,
    read_members,
)
from ansible_collections.vitality.aurora.plugins.module_utils.naming import (
    engine_major,
    global_cluster_identifier,
    secondary_cluster_identifier,
    version_tuple,
)
from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    ALL_INSTANCES_RESTART,
    IMPOSSIBLE,
    NEXT_RESTART,
    NOW,
    ONLINE,
    PENDING_REBOOT,
    REBOOT,
    STACK,
    Action,
)

GLOBAL_NOT_FOUND = ("GlobalClusterNotFoundFault",)
CONFIRM = "aurora_cluster_secondary_remove_confirm"
REGION_OPTION = "aurora_cluster_secondary_region"
# Set on the cluster of the stack's Region, so the secondary's settings follow the primary's ones.
MASTER_SETTINGS = (
    "master_username",
    "database_name",
    "manage_master_user_password",
    "master_user_secret_kms_key_id",
    "update_password",
)


def region_of(arn):
    """The Region of an RDS ARN (arn:aws:rds:<region>:<account>:cluster:<id>), or None."""
    parts = str(arn or "").split(":")
    return parts[3] if len(parts) > 6 and parts[3] else None


def key_alias(secondary_identifier):
    return f"alias/{secondary_identifier}"


def reader_identifier(secondary_identifier, number):
    return f"{secondary_identifier}-reader-{number}"


def secondary_params(params, region, key_id=None, engine_version=None):
    """The secondary Region's stack as read_stack and the plan functions take it: the primary's settings with the
    secondary's network, names and key; no master user (AWS refuses one on a secondary: it is the global cluster's)."""
    desired = params["global_database"]
    identifier = secondary_cluster_identifier(desired["name"], region)
    cluster = {k: v for k, v in params["cluster"].items() if k not in MASTER_SETTINGS}
    cluster.update(
        db_cluster_identifier=identifier,
        # Compared on the global cluster as a whole (an engine upgrade of a global database is refused: plan_global).
        engine_version=engine_version,
        allow_major_version_upgrade=False,
        major_upgrade_strategy="in-place",
        restore_from_snapshot=None,
        restore_from_cluster=None,
        restore_to_time=None,
        kms_key_id=key_id if params["cluster"].get("storage_encrypted") else None,
        variable_prefix="aurora_cluster_secondary_",
    )
    return {
        "vpc_name": desired["vpc_name"],
        "private_subnet_names": desired["private_subnet_names"],
        "app_security_group_name": desired["app_security_group_name"],
        "security_group": params["security_group"],
        "subnet_group": params["subnet_group"],
        "parameter_group": params["parameter_group"],
        "cluster": cluster,
        "custom_endpoints": [],
        "identifier": identifier,
        "region": region,
    }


def read_global_cluster(rds, name):
    """The global cluster ``name`` as DescribeGlobalClusters describes it; None when there is none (1 call)."""
    found = rds.call(
        "describe_global_clusters",
        GlobalClusterIdentifier=name,
        not_found=GLOBAL_NOT_FOUND,
        context=f"global cluster {name}",
    )
    # Read defensively: only the one asked for, whatever the answer lists.
    return next(
        (
            g
            for g in (found or {}).get("GlobalClusters") or []
            if str(g.get("GlobalClusterIdentifier") or "").lower() == name.lower()
        ),
        None,
    )


def secondary_regions(params, glob, own_region):
    """The Regions of the global database other than ``own_region``: the inventory's secondary and the Region of
    every other member of ``glob`` (after a failure half way, or a secondary being removed)."""
    regions = {(params["global_database"] or {}).get("region") or ""}
    regions |= {region_of(m.get("DBClusterArn")) for m in members_of(glob)}
    return sorted(regions - {"", None, own_region})


def read_global(rds, params, primary_cluster, region_apis, read_secondary_stack, read_operations=None):
    """The global cluster (1 call; none when no secondary is wanted and the cluster is in no global cluster) and, in
    the secondary's Region, its stack (read_secondary_stack: stack_plan.read_stack on that Region's APIs) and key.

    ``read_operations(apis, region, identifier, removal)``: the secondary Region's operations baseline (secondary_ops), read
    beside the stack into ``current["operations"]``."""
    desired = params["global_database"]
    name = global_cluster_identifier(desired["name"])
    wanted = desired.get("region") or ""
    current = {"identifier": name, "global_cluster": None, "region": wanted, "stack": None, "key": None}
    # DescribeDBClusters names the global cluster of a member (GlobalClusterIdentifier): no read without one.
    if not wanted and not (primary_cluster or {}).get("GlobalClusterIdentifier"):
        return current
    glob = read_global_cluster(rds, name)
    current["global_cluster"] = glob
    own_arn = (primary_cluster or {}).get("DBClusterArn")
    others = [m for m in (glob or {}).get("GlobalClusterMembers") or [] if m.get("DBClusterArn") != own_arn]
    current["member_regions"] = sorted({region_of(m.get("DBClusterArn")) for m in others} - {None})
    region = wanted or (current["member_regions"][0] if current["member_regions"] else "")
    current["region"] = region
    if not region:
        return current
    apis = region_apis(region)
    spec = secondary_params(params, region)
    # The stack's chain, the key's and the operations baseline's, side by side.
    reads = []
    if wanted:
        reads.append(("stack", lambda: read_secondary_stack(apis["ec2"], apis["rds"], spec)))
        if params["cluster"].get("storage_encrypted"):
            reads.append(("key", lambda: read_key(apis["kms"], key_alias(spec["identifier"]), with_policy=False)))
    else:
        reads.append(("stack", lambda: read_removed_stack(apis["rds"], spec["identifier"])))
    if read_operations is not None:
        reads.append(("operations", lambda: read_operations(apis, region, spec["identifier"], not wanted)))
    current.update(concurrently(reads))
    return current


def read_removed_stack(rds, identifier):
    """A removal reads the cluster and its instances only: the network names may be gone from the inventory."""
    cluster = read_cluster(rds, identifier)
    return {"cluster": cluster, "instances": (read_members(rds, identifier) or []) if cluster else []}


def members_of(glob):
    return (glob or {}).get("GlobalClusterMembers") or []


def writer_arn(glob):
    return next((m.get("DBClusterArn") for m in members_of(glob) if m.get("IsWriter")), None)


def writer_region(current, primary_cluster, own_region):
    """The Region whose cluster writes: the global cluster's writer member, else the stack's own Region."""
    arn = writer_arn(current.get("global_cluster"))
    if arn:
        return region_of(arn) or own_region
    return own_region


def own_cluster_is_reader(current, primary_cluster):
    """The cluster of the stack's Region is a member that does not write (a switchover moved the writer away)."""
    arn = writer_arn(current.get("global_cluster"))
    own = (primary_cluster or {}).get("DBClusterArn")
    return bool(
        arn and own and arn != own and any(m.get("DBClusterArn") == own for m in members_of(current["global_cluster"]))
    )


def engine_problems(actions, cluster_identifier, global_name, planned):
    """What plan_engine_upgrade left of an engine change of a global database, refused before any call: a blue/green
    deployment (AWS supports none for a global database), and an upgrade in the run that builds the global database
    or removes its secondary (AWS's order needs both clusters there, members, before and after)."""
    if not planned:
        return [], []
    problems, refused = [], []
    for action in actions:
        # A cluster created now is created on the version asked for: no upgrade.
        if action.region or action.impact == IMPOSSIBLE or (action.resource == "cluster" and action.change == "create"):
            continue
        blue_green = action.resource == "blue_green_deployment"
        engine = (
            action.resource == "cluster"
            and action.name == cluster_identifier
            and any(c.get("attribute") == "engine_version" for c in action.changes)
        )
        if not (blue_green or engine):
            continue
        version = next((c.get("after") for c in action.changes if c.get("attribute") == "engine_version"), None)
        if blue_green:
            problems.append(
                f"cluster {cluster_identifier} is the primary of global cluster {global_name}: AWS does not support "
                "blue/green deployments for an Aurora global database (aurora_cluster_major_upgrade_strategy="
                "blue-green; impossible-in-place): set aurora_cluster_major_upgrade_strategy=in-place, and the role "
                f"upgrades the global database in place, with ModifyGlobalCluster (aws rds modify-global-cluster "
                f"--global-cluster-identifier {global_name} --allow-major-version-upgrade)"
            )
        else:
            problems.append(
                f"cluster {cluster_identifier} is the primary of global cluster {global_name}: an engine version change "
                f"(to {version}) in the run that builds the global database or removes its secondary is refused "
                "(impossible-in-place: AWS upgrades a global database over all its clusters, a minor version on the "
                "secondary clusters first, a major one with modify-global-cluster): make the upgrade in a run of its "
                "own, with the secondary as it is"
            )
        refused.append(action)
    return problems, refused


UPGRADING = "upgrading"
MINOR = "minor version upgrade"
MAJOR = "major version upgrade"
WAIT_MINOR = "wait for the minor version upgrade under way"
WAIT_MAJOR = "wait for the major version upgrade under way"
SET_GROUP = "set its parameter group back"
RESTART_WORDS = "every instance of this cluster restarts together: its endpoints take no connections until it is back"


def is_member(glob, cluster):
    arn = (cluster or {}).get("DBClusterArn")
    return bool(arn) and any(m.get("DBClusterArn") == arn for m in members_of(glob))


def plan_engine_upgrade(actions, global_actions, current, params, primary, problems):
    """An engine upgrade of the global database in AWS's order; (stack actions, global actions, planned).

    The planner of the stack's Region planned the upgrade of its own cluster (a ModifyDBCluster); here it becomes:

    - a minor version: each cluster that does not write first, then the writer (AWS: "upgrade all of the secondary
      clusters before you upgrade the primary cluster"), each a ModifyDBCluster applied now and waited for before
      the next, as two maintenance windows could not keep that order. AWS's managed minor upgrade of a whole
      Aurora PostgreSQL global database (ModifyGlobalCluster EngineVersion, 2026) is not used: it does no patch
      level, is newer than the API the role is tested against, and would hide the per-Region steps from the plan;
    - a major version (allowed, in place): the new family's parameter group created in both Regions first (the
      planners did), one ModifyGlobalCluster (EngineVersion, AllowMajorVersionUpgrade) that upgrades every member,
      then, as ModifyGlobalCluster takes no parameter group and AWS gives each cluster the new family's default,
      a ModifyDBCluster per Region that sets ours back (pending-reboot: no restart of its own; its static
      parameters take effect at each instance's next restart), then the old family's groups are deleted.

    A re-run reads the state first: a cluster already on the version gets no step, and one AWS is upgrading
    (cluster or global cluster Status ``upgrading``) gets a step that waits for it, with no call.
    Not planned here (engine_problems refuses them): a blue/green deployment, a global database being built or
    removed in the same run.
    """
    glob = current.get("global_cluster")
    secondary = (current.get("stack") or {}).get("cluster")
    spec = params["cluster"]
    primary_id = spec["db_cluster_identifier"]
    if (
        glob is None
        or not (params.get("global_database") or {}).get("region")
        or not is_member(glob, secondary)
        or not is_member(glob, primary)
        or any(a.resource == "blue_green_deployment" for a in actions)
    ):
        return actions, global_actions, False
    target = spec.get("engine_version")
    name = current["identifier"]
    region = current.get("region")
    mine = [a for a in actions if a.resource == "cluster" and a.name == primary_id]
    if any(a.change == MAJOR and a.impact == IMPOSSIBLE for a in mine):
        # Not allowed: the stack's planner refused it already, naming the variable.
        return actions, global_actions, False
    major = next((a for a in mine if a.change == MAJOR), None)
    clusters = [(region, secondary), (None, primary)]
    if region_of(writer_arn(glob)) == region:
        # After a switchover the secondary Region's cluster writes: AWS's order follows the writer.
        clusters.reverse()
    # A member on a lower major than the one asked for (a higher one is the stack planner's refusal).
    behind = [
        c
        for _r, c in clusters
        if version_tuple(engine_major(c.get("EngineVersion") or "0"))[0] < version_tuple(engine_major(target or "0"))[0]
    ]
    if target and "." in target and (major is not None or behind):
        return plan_major(actions, global_actions, major, glob, clusters, params, name, region, problems)
    return plan_minor(actions, global_actions, mine, clusters, params, problems)


def strip_engine_change(action):
    """The primary's modify without its engine version change (planned as a step of its own); None if nothing left."""
    kept = [c for c in action.changes if c.get("attribute") != "engine_version"]
    if not kept:
        return None
    action.changes = kept
    # Its words about the engine version (the maintenance window it waited for) go with it.
    action.note = "; ".join(part for part in action.note.split("; ") if "engine_version" not in part)
    changes = [c for c in action.request.get("changes") or [] if c.get("attribute") != "engine_version"]
    action.request = dict(action.request, changes=changes)
    if action.impact == ALL_INSTANCES_RESTART and all(c.get("attribute") != "port" for c in changes):
        # What is left restarts nothing by itself (a port change would, and keeps the impact).
        statics = any(c.get("attribute") == "db_cluster_parameter_group_name" for c in changes)
        action.impact = PENDING_REBOOT if statics else ONLINE
        action.unavailability = "none"
    return action


def plan_minor(actions, global_actions, mine, clusters, params, problems):
    target = params["cluster"].get("engine_version")
    steps = []
    for region, cluster in clusters:
        change, _notice, error = engine_version_change(cluster.get("EngineVersion"), target)
        identifier = cluster.get("DBClusterIdentifier")
        if error and region:
            problems.append(f"cluster {identifier} in {region}: {error}")
        if change is None:
            continue
        shown = [{"attribute": "engine_version", "before": change["before"], "after": change["after"]}]
        upgrading = cluster.get("Status") == UPGRADING
        steps.append(
            Action(
                "cluster",
                identifier,
                WAIT_MINOR if upgrading else MINOR,
                shown,
                impact=ALL_INSTANCES_RESTART,
                when=NOW,
                unavailability=RESTART_WORDS,
                calls=[] if upgrading else ["ModifyDBCluster"],
                note=(
                    "AWS is upgrading it (a run before this one asked): no second request, a wait until it is available"
                    if upgrading
                    else "AWS's order for a global database: the clusters that do not write first, then the writer; "
                    "applied now whatever aurora_cluster_apply_immediately says (two maintenance windows could not "
                    "keep that order), and waited for before the next step"
                ),
                request={"version": change["after"]},
                region=region,
            )
        )
    if not steps:
        return actions, global_actions, False
    kept = []
    for action in actions:
        if (
            action in mine
            and action.change == "modify"
            and any(c.get("attribute") == "engine_version" for c in action.changes)
        ):
            action = strip_engine_change(action)
        if action is not None:
            kept.append(action)
    for step in steps:
        step.runner = STACK
    return kept, list(global_actions) + steps, True


def plan_major(actions, global_actions, major, glob, clusters, params, name, region, problems):
    target = params["cluster"].get("engine_version")
    new_group = params["parameter_group"]["name"]
    family = params["parameter_group"]["family"]
    versions = {c.get("EngineVersion") for _r, c in clusters}
    upgrading = glob.get("Status") == UPGRADING or any(c.get("Status") == UPGRADING for _r, c in clusters)
    if versions == {target} and not upgrading:
        return actions, global_actions, False
    if major is None and not upgrading:
        # The stack's cluster is on the new major and a member is not: not something the role made.
        problems.append(
            f"global cluster {name}: its clusters run {', '.join(sorted(filter(None, versions)))}, the inventory says "
            f"{target}; upgrade the one behind with aws rds modify-global-cluster --global-cluster-identifier {name} "
            f"--engine-version {target} --allow-major-version-upgrade, then run again"
        )
        return actions, global_actions, False
    before = glob.get("EngineVersion") or (major.changes[0]["before"] if major else None)
    old_groups = {}
    kept = []
    for action in actions:
        if action is major:
            continue
        if action.resource == "parameter_group" and action.change == "delete" and action.name != new_group:
            # The old family's group goes once the clusters no longer use it: after the upgrade and the set back.
            old_groups[None] = action
            continue
        kept.append(action)
    staying = []
    for action in global_actions:
        if action.resource == "cluster" and action.change == "modify" and action.region:
            # The secondary's move to the new family's group waits for the upgrade (a 16 cluster takes no 17 group).
            changes = [c for c in action.changes if c.get("attribute") != "db_cluster_parameter_group_name"]
            if not changes:
                continue
            action.changes = changes
            action.request = dict(
                action.request,
                changes=[
                    c
                    for c in action.request.get("changes") or []
                    if c.get("attribute") != "db_cluster_parameter_group_name"
                ],
            )
        staying.append(action)
    secondary = next(c for r, c in clusters if r)
    old_secondary = secondary.get("DBClusterParameterGroup")
    if old_secondary and old_secondary != new_group and not old_secondary.startswith("default."):
        old_groups[region] = Action(
            "parameter_group",
            old_secondary,
            "delete",
            [{"attribute": "parameter group", "before": old_secondary, "after": None}],
            calls=["DeleteDBClusterParameterGroup"],
            note="the major version upgrade replaced it",
            region=region,
        )
    shown = [{"attribute": "engine_version", "before": before, "after": target}]
    members = [(r, c.get("DBClusterIdentifier")) for r, c in clusters]
    steps = [
        Action(
            "global_cluster",
            name,
            WAIT_MAJOR if upgrading else MAJOR,
            shown,
            impact=ALL_INSTANCES_RESTART,
            when=NOW,
            unavailability="every instance of every member restarts together: the global database takes no "
            "connections until the upgrade ends (typically 10 to 30 minutes)",
            calls=[] if upgrading else ["ModifyGlobalCluster"],
            note=(
                "AWS is upgrading it (a run before this one asked): no second request, a wait until every member "
                f"runs {target}"
                if upgrading
                else f"in place, every member at once ({', '.join(m for _r, m in members)}), as AWS upgrades a global "
                "database's major version; AWS gives each cluster the new family's default parameter group, set "
                "back to ours by the next steps; take a snapshot first"
            ),
            request={"version": target, "members": members},
        )
    ]
    for member_region, cluster in clusters:
        identifier = cluster.get("DBClusterIdentifier")
        change = {"attribute": "db_cluster_parameter_group_name", "before": f"default.{family}", "after": new_group}
        steps.append(
            Action(
                "cluster",
                identifier,
                SET_GROUP,
                [change],
                impact=PENDING_REBOOT,
                when=NEXT_RESTART,
                calls=["ModifyDBCluster"],
                note="ModifyGlobalCluster sets no parameter group: AWS gave it the new family's default; no instance "
                "restarts for this, its static parameters take effect at each instance's next restart",
                request={"changes": [dict(change, impact=PENDING_REBOOT)], "cluster": identifier},
                region=member_region,
            )
        )
    for member_region, _cluster in clusters:
        if member_region in old_groups:
            steps.append(old_groups[member_region])
    for step in steps:
        step.runner = STACK
    return kept, staying + steps, True


def refusal(global_name, change, note, changes=()):
    return Action("global_cluster", global_name, change, changes, impact=IMPOSSIBLE, note=note)


def in_region(actions, region):
    """The secondary's actions, all carried out by aurora_stack with that Region's clients."""
    for action in actions:
        action.region = region
        action.runner = STACK
    return actions


def wanted_readers(params, spec, zones):
    desired = params["global_database"]
    instances = params["instances"]
    instance_class = desired.get("instance_class") or instances.get("db_instance_class")
    zones = sorted(set(zones)) or [None]
    wanted = []
    for number in range(1, int(desired.get("reader_count") or 0) + 1):
        identifier = reader_identifier(spec["identifier"], number)
        wanted.append(
            {
                "db_instance_identifier": identifier,
                "db_cluster_identifier": spec["identifier"],
                "engine": "aurora-postgresql",
                "db_instance_class": instance_class,
                "availability_zone": zones[(number - 1) % len(zones)],
                "promotion_tier": min(number, 15),
                "auto_minor_version_upgrade": instances.get("auto_minor_version_upgrade"),
                "ca_certificate_identifier": instances.get("ca_certificate_identifier"),
                "enable_performance_insights": instances.get("enable_performance_insights"),
                "performance_insights_retention_period": instances.get("performance_insights_retention_period"),
                # A key of the stack's Region is of no use here: Performance Insights uses the AWS managed one.
                "monitoring_interval": instances.get("monitoring_interval"),
                "monitoring_role_arn": instances.get("monitoring_role_arn"),
                "apply_immediately": instances.get("apply_immediately"),
                "tags": dict(instances.get("tags") or {}, Role="reader"),
            }
        )
    return wanted


def plan_readers(stack, params, spec):
    """Readers created, their class converged, readers beyond the count deleted; the secondary has no writer."""
    instances = {i.get("DBInstanceIdentifier"): i for i in stack.get("instances") or []}
    zones = [s["availability_zone"] for s in stack["network"]["subnets"]]
    wanted = wanted_readers(params, spec, zones)
    actions = []
    for reader in wanted:
        identifier = reader["db_instance_identifier"]
        have = instances.get(identifier)
        if have is None:
            actions.append(
                Action(
                    "instance",
                    identifier,
                    "create",
                    [
                        {"attribute": "db_instance_class", "before": None, "after": reader["db_instance_class"]},
                        {"attribute": "availability_zone", "before": None, "after": reader["availability_zone"]},
                    ],
                    calls=["CreateDBInstance"],
                    request={"params": reader},
                )
            )
        elif have.get("DBInstanceClass") != reader["db_instance_class"]:
            immediately = bool(params["instances"].get("apply_immediately"))
            change = {
                "attribute": "db_instance_class",
                "before": have.get("DBInstanceClass"),
                "after": reader["db_instance_class"],
                "impact": REBOOT,
            }
            actions.append(
                Action(
                    "instance",
                    identifier,
                    "modify",
                    [{k: change[k] for k in ("attribute", "before", "after")}],
                    impact=REBOOT,
                    when=NOW if immediately else "maintenance-window",
                    unavailability=f"{identifier} restarts: reads in the secondary Region go to its other readers, if any",
                    calls=["ModifyDBInstance"],
                    request={
                        "changes": [dict(change, when="now" if immediately else "maintenance-window")],
                        "params": reader,
                    },
                )
            )
    names = {r["db_instance_identifier"] for r in wanted}
    for identifier in sorted(set(instances) - names):
        if instances[identifier].get("DBInstanceStatus") == "deleting":
            continue
        actions.append(
            Action(
                "instance",
                identifier,
                "delete",
                [{"attribute": "instance", "before": identifier, "after": None}],
                unavailability="reads in the secondary Region lose this reader",
                calls=["DeleteDBInstance"],
            )
        )
    return actions


def plan_global(current, params, primary_snapshot, plan_parts, problems):
    """The global cluster's and the secondary's actions, in the order they are made.

    ``plan_parts``: stack_plan's plan functions {security_group, subnet_group, parameter_group, cluster}, so the
    secondary's resources are planned exactly as the primary's.
    """
    desired = params["global_database"]
    name = current["identifier"]
    glob = current.get("global_cluster")
    wanted = desired.get("region") or ""
    primary = primary_snapshot.get("cluster")
    primary_id = params["cluster"]["db_cluster_identifier"]
    if not wanted:
        return plan_removal(current, params, primary, problems) if glob is not None else []
    spec_identifier = secondary_cluster_identifier(desired["name"], wanted)
    others = current.get("member_regions") or []
    if glob is not None and others and wanted not in others:
        note = (
            f"its secondary is in {', '.join(others)}: a secondary moves Region only by its removal first "
            f'({REGION_OPTION}: "" with {CONFIRM}), then a run with the new Region'
        )
        problems.append(f"{REGION_OPTION}={wanted!r}: global cluster {name} {note}")
        return [refusal(name, f"move the secondary to {wanted}", note)]
    own_arn = (primary or {}).get("DBClusterArn")
    if glob is not None and own_arn and all(m.get("DBClusterArn") != own_arn for m in members_of(glob)):
        # Made by someone else, or this cluster was detached by hand: joining a secondary to it could make that
        # secondary the writer of a global cluster without this one.
        note = (
            f"cluster {primary_id} is not a member of it: delete the global cluster (aws rds delete-global-cluster) "
            "or detach its members, then run again"
        )
        problems.append(f"global cluster {name} exists and {note}")
        return [refusal(name, f"add the secondary in {wanted}", note)]
    actions = []
    if glob is None:
        actions.append(
            Action(
                "global_cluster",
                name,
                "create",
                [
                    {"attribute": "primary cluster", "before": None, "after": primary_id},
                    {"attribute": "secondary Region", "before": None, "after": wanted},
                ],
                calls=["CreateGlobalCluster"],
                note=f"cluster {primary_id} becomes its primary in place: no replacement, no downtime",
            )
        )
    stack = current["stack"]
    key = current.get("key")
    encrypted = bool(params["cluster"].get("storage_encrypted"))
    alias = key_alias(spec_identifier)
    if encrypted and key is None:
        actions += in_region(
            [
                Action(
                    "secondary_key",
                    alias,
                    "create",
                    [
                        {"attribute": "key", "before": None, "after": f"{alias} (customer managed, rotation on)"},
                        {"attribute": "tags", "before": None, "after": sorted(params["cluster"].get("tags") or {})},
                    ],
                    calls=["CreateKey", "CreateAlias", "EnableKeyRotation"],
                    note="encrypts the secondary cluster's storage",
                    request={"alias": alias},
                )
            ],
            wanted,
        )
    elif encrypted and key.get("state") not in (None, "Enabled"):
        note = f"the key is {key.get('state')}: enable it (or cancel its deletion) in {wanted}, then run again"
        problems.append(f"KMS key {alias} in {wanted}: {note}")
        actions.append(refusal(name, f"use KMS key {alias}", note))
    spec = secondary_params(
        params,
        wanted,
        key_id=(key or {}).get("arn") or alias,
        engine_version=None,
    )
    actions += in_region(plan_parts["security_group"](stack, spec["security_group"]), wanted)
    actions += in_region(plan_parts["subnet_group"](stack, spec["subnet_group"]), wanted)
    parameter_actions, _static = plan_parts["parameter_group"](stack, spec["parameter_group"], problems)
    actions += in_region(parameter_actions, wanted)
    if stack["cluster"] is None:
        cluster_spec = dict(
            spec["cluster"],
            engine_version=(primary or {}).get("EngineVersion") or params["cluster"].get("engine_version"),
        )
        shown = [
            {"attribute": "global cluster", "before": None, "after": name},
            {"attribute": "engine_version", "before": None, "after": cluster_spec["engine_version"]},
            {"attribute": "storage_encrypted", "before": None, "after": encrypted},
            {"attribute": "kms_key_id", "before": None, "after": alias if encrypted else None},
            {"attribute": "deletion_protection", "before": None, "after": cluster_spec.get("deletion_protection")},
            {
                "attribute": "enable_iam_database_authentication",
                "before": None,
                "after": cluster_spec.get("enable_iam_database_authentication"),
            },
            {
                "attribute": "db_cluster_parameter_group_name",
                "before": None,
                "after": cluster_spec.get("db_cluster_parameter_group_name"),
            },
        ]
        actions += in_region(
            [
                Action(
                    "cluster",
                    spec["identifier"],
                    "create",
                    [c for c in shown if c["after"] is not None],
                    calls=["CreateDBCluster"],
                    note="a secondary of the global cluster: no master user of its own (the primary's, replicated)",
                    request={"secondary": True, "spec": cluster_spec},
                )
            ],
            wanted,
        )
    else:
        group = stack.get("security_group")
        cluster_actions, _notice = plan_parts["cluster"](
            stack, spec["cluster"], group["GroupId"] if group else None, problems
        )
        actions += in_region(cluster_actions, wanted)
    actions += in_region(plan_readers(stack, params, spec), wanted)
    return actions


def plan_removal(current, params, primary, problems):
    """The secondary Region emptied while the global cluster exists: detach, delete the secondary, detach the
    primary, delete the global cluster; the secondary's deletion needs its identifier as confirmation."""
    desired = params["global_database"]
    name = current["identifier"]
    region = current.get("region") or ""
    stack = current.get("stack") or {}
    cluster = stack.get("cluster")
    actions = []
    if cluster is not None:
        identifier = cluster.get("DBClusterIdentifier")
        if own_cluster_is_reader(current, primary) or writer_arn(current.get("global_cluster")) == cluster.get(
            "DBClusterArn"
        ):
            note = (
                f"cluster {identifier} in {region} writes: removing it would remove the writer; switch over back to "
                f"the stack's Region first (playbooks/switchover.yml), then run again"
            )
            problems.append(f"{REGION_OPTION}='': {note}")
            return [refusal(name, f"remove the secondary {identifier}", note)]
        if desired.get("remove_confirm") != identifier:
            note = (
                f"it deletes cluster {identifier} in {region} and its instances: set {CONFIRM}={identifier} to "
                "confirm, or set aurora_cluster_secondary_region back to keep it"
            )
            problems.append(
                f"{REGION_OPTION}='' (global cluster {name} exists): removing its secondary is refused, {note}"
            )
            return [refusal(name, f"remove the secondary {identifier}", note)]
        member = any(
            m.get("DBClusterArn") == cluster.get("DBClusterArn") for m in members_of(current["global_cluster"])
        )
        steps = []
        if member:
            steps.append(
                Action(
                    "cluster",
                    identifier,
                    "detach from the global cluster",
                    [{"attribute": "global cluster", "before": name, "after": None}],
                    calls=["RemoveFromGlobalCluster"],
                    note="it stops replicating and becomes a standalone cluster; the primary keeps serving",
                    request={"global": name, "arn": cluster.get("DBClusterArn")},
                )
            )
        if cluster.get("DeletionProtection"):
            steps.append(
                Action(
                    "cluster",
                    identifier,
                    "turn off deletion protection",
                    [{"attribute": "deletion_protection", "before": True, "after": False}],
                    calls=["ModifyDBCluster"],
                    note=f"confirmed by {CONFIRM}",
                )
            )
        for instance in sorted(stack.get("instances") or [], key=lambda i: i.get("DBInstanceIdentifier") or ""):
            steps.append(
                Action(
                    "instance",
                    instance.get("DBInstanceIdentifier"),
                    "delete",
                    [{"attribute": "instance", "before": instance.get("DBInstanceIdentifier"), "after": None}],
                    calls=["DeleteDBInstance"],
                    unavailability="reads in the secondary Region stop",
                )
            )
        steps.append(
            Action(
                "cluster",
                identifier,
                "delete",
                [{"attribute": "cluster", "before": identifier, "after": None}],
                calls=["DeleteDBCluster"],
                note="no final snapshot: it held a copy of the primary's data, which the primary keeps",
                request={"secondary": True},
            )
        )
        actions += in_region(steps, region)
    own_arn = (primary or {}).get("DBClusterArn")
    if own_arn and any(m.get("DBClusterArn") == own_arn for m in members_of(current["global_cluster"])):
        actions.append(
            Action(
                "cluster",
                params["cluster"]["db_cluster_identifier"],
                "detach from the global cluster",
                [{"attribute": "global cluster", "before": name, "after": None}],
                calls=["RemoveFromGlobalCluster"],
                note="the last member: it stays as it is, a standalone cluster (no restart, no downtime)",
                request={"global": name, "arn": own_arn},
            )
        )
    actions.append(
        Action(
            "global_cluster",
            name,
            "delete",
            [{"attribute": "global cluster", "before": name, "after": None}],
            calls=["DeleteGlobalCluster"],
            note="the secondary's security group, DB subnet group, parameter group and KMS key are kept",
        )
    )
    return actions


def global_outputs(current, primary_cluster, own_region, secondary_cluster=None, operations=None):
    """The outputs' global_database: None without one. ``operations``: secondary_ops.operations_outputs, or None."""
    glob = current.get("global_cluster")
    if glob is None:
        return None
    cluster = secondary_cluster if secondary_cluster is not None else (current.get("stack") or {}).get("cluster")
    return {
        "global_cluster_identifier": glob.get("GlobalClusterIdentifier"),
        "global_cluster_arn": glob.get("GlobalClusterArn"),
        "writer_region": writer_region(current, primary_cluster, own_region),
        "secondary_region": current.get("region") or None,
        "secondary_cluster_arn": (cluster or {}).get("DBClusterArn"),
        "secondary_cluster_identifier": (cluster or {}).get("DBClusterIdentifier"),
        "secondary_reader_endpoint": (cluster or {}).get("ReaderEndpoint"),
        "secondary_writer_endpoint": (cluster or {}).get("Endpoint"),
        "members": [
            {
                "arn": m.get("DBClusterArn"),
                "region": region_of(m.get("DBClusterArn")),
                "is_writer": bool(m.get("IsWriter")),
            }
            for m in members_of(glob)
        ],
        "operations": operations,
    }
