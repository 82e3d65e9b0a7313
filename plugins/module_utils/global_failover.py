# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Region writes for an Aurora global database: read, plan, execute, wait.

Three ways to move the writer to a secondary cluster (the target), as the RDS API offers them:

* ``switchover``: SwitchoverGlobalCluster. Aurora first synchronises the secondaries, then swaps the roles: no data is
  lost (RPO 0) and the former primary stays in the global cluster as a secondary. Needs a healthy global cluster.
* ``failover``: FailoverGlobalCluster with AllowDataLoss=true, for a Region that is down: the writes the target had
  not yet received are lost (RPO: the replication lag). The former primary rejoins as a secondary when its Region is
  back.
* ``detach-and-promote``: RemoveFromGlobalCluster of the target: it leaves the global cluster and takes writes on its
  own; the global cluster keeps the former primary. The last resort when a failover is not possible.

The plan (one action at most) is what check mode prints and what the apply executes; a re-run when the target already
writes plans nothing and calls nothing.
"""

from __future__ import annotations

import re

from ansible_collections.vitality.aurora.plugins.module_utils.naming import (
    global_cluster_identifier,
    secondary_cluster_identifier,
)
from ansible_collections.vitality.aurora.plugins.module_utils.plan import FAILOVER, Action, number
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import state_label

SWITCHOVER = "switchover"
FAILOVER_MODE = "failover"
DETACH = "detach-and-promote"
MODES = (SWITCHOVER, FAILOVER_MODE, DETACH)
# The modes that can lose writes: each needs the global cluster's identifier typed as confirmation.
LOSSY = (FAILOVER_MODE, DETACH)
# The global cluster's Status while a switchover or failover runs (FailoverState describes it too).
SWITCHING = ("switching-over", "failing-over")

# Who carries the step out (the plan document's runner): this module, not aurora_stack.
RUNNER = "aurora_global_cluster_failover"
CALLS = {
    SWITCHOVER: "SwitchoverGlobalCluster",
    FAILOVER_MODE: "FailoverGlobalCluster",
    DETACH: "RemoveFromGlobalCluster",
}


class Refusal(Exception):
    """The run stops before any modifying call; the message names the value and the rule."""


def region_of(arn):
    """us-west-2 of arn:aws:rds:us-west-2:123456789012:cluster:name; '' when it is not an ARN."""
    parts = str(arn or "").split(":")
    return parts[3] if len(parts) > 5 else ""


def name_of(arn):
    return str(arn or "").rsplit(":", 1)[-1]


def words(arn):
    """A member as the plan shows it: '<cluster> (<region>)'."""
    return f"{name_of(arn)} ({region_of(arn)})" if arn else "(none)"


def members(global_cluster):
    return (global_cluster or {}).get("GlobalClusterMembers") or []


def writer_arn(global_cluster):
    for member in members(global_cluster):
        if member.get("IsWriter"):
            return member.get("DBClusterArn")
    return None


def member(global_cluster, arn):
    return next((m for m in members(global_cluster) if m.get("DBClusterArn") == arn), None)


def failover_state(global_cluster):
    # Empty unless a switchover or failover was asked for (RDS API reference, GlobalCluster.FailoverState).
    return (global_cluster or {}).get("FailoverState") or {}


def switching_to(global_cluster):
    """The ARN a switchover or failover in progress moves the writer to, or None."""
    state = failover_state(global_cluster)
    if state.get("ToDbClusterArn") and (state.get("Status") or (global_cluster or {}).get("Status") in SWITCHING):
        return state["ToDbClusterArn"]
    return None


def confirmation_error(mode, global_cluster_identifier, confirm, option="confirm"):
    """Refusal of a lossy mode without the typed confirmation; checked before any AWS call."""
    if mode in LOSSY and confirm != global_cluster_identifier:
        return (
            f"{option}={confirm!r} does not confirm mode={mode}: it can lose the writes the target Region had not yet "
            f"received, so {option} must be the global cluster identifier, {global_cluster_identifier!r}"
        )
    return None


def is_done(mode, global_cluster, target):
    """The target writes: for a switchover or failover, the writer member of an available global cluster with no
    operation in progress; detached and promoted, out of the global cluster. The target cluster available either way."""
    if target is None or target.get("Status") != "available":
        return False
    arn = target.get("DBClusterArn")
    if mode == DETACH:
        return member(global_cluster, arn) is None
    return (
        global_cluster is not None
        and global_cluster.get("Status") == "available"
        and not switching_to(global_cluster)
        and writer_arn(global_cluster) == arn
    )


def action_for(mode, global_cluster_identifier, before_arn, target):
    arn, region = target["DBClusterArn"], region_of(target["DBClusterArn"])
    change = [{"attribute": "writer", "before": words(before_arn), "after": words(arn)}]
    if mode == SWITCHOVER:
        return Action(
            "global_cluster",
            global_cluster_identifier,
            f"switch over the writer to {target['DBClusterIdentifier']} in {region}",
            changes=change,
            impact=FAILOVER,
            unavailability="writes stop for about a minute while the two clusters swap roles; no data lost (RPO 0)",
            calls=[CALLS[mode]],
            runner=RUNNER,
            note=f"{words(before_arn)} stays in the global cluster as a secondary",
            request={"GlobalClusterIdentifier": global_cluster_identifier, "TargetDbClusterIdentifier": arn},
        )
    if mode == FAILOVER_MODE:
        return Action(
            "global_cluster",
            global_cluster_identifier,
            f"fail over the writer to {target['DBClusterIdentifier']} in {region}, data loss allowed",
            changes=change,
            impact=FAILOVER,
            unavailability=(
                f"writes {region} had not received are lost (RPO: the replication lag, typically under a second); "
                "writes stop until the target writes"
            ),
            calls=[CALLS[mode]],
            runner=RUNNER,
            note=f"{words(before_arn)} rejoins the global cluster as a secondary when its Region is back",
            request={
                "GlobalClusterIdentifier": global_cluster_identifier,
                "TargetDbClusterIdentifier": arn,
                "AllowDataLoss": True,
            },
        )
    return Action(
        "global_cluster",
        global_cluster_identifier,
        f"detach {target['DBClusterIdentifier']} ({region}) and promote it to a standalone writable cluster",
        changes=change,
        impact=FAILOVER,
        unavailability=(
            f"writes {region} had not received are lost; {target['DBClusterIdentifier']} no longer replicates "
            "from or to the global cluster"
        ),
        calls=[CALLS[mode]],
        runner=RUNNER,
        note=f"the global cluster keeps {words(before_arn)} alone: delete or rebuild it when its Region is back",
        request={"GlobalClusterIdentifier": global_cluster_identifier, "DbClusterIdentifier": arn},
    )


def plan(mode, global_cluster_identifier, global_cluster, target, target_region=""):
    """(actions, outcome) of a run: outcome 'done' (the target writes: nothing to do), 'in-progress' (a switchover
    or failover to the target is running: wait, call nothing) or 'planned' (one action). Refusal otherwise."""
    if mode not in MODES:
        raise Refusal(f"mode={mode!r} is not one of {', '.join(MODES)}")
    where = f" in {target_region}" if target_region else ""
    if target is None:
        raise Refusal(f"the target cluster does not exist{where}: nothing can be promoted there")
    name, arn = target.get("DBClusterIdentifier"), target.get("DBClusterArn")
    if is_done(mode, global_cluster, target):
        return [], "done"
    if global_cluster is None:
        raise Refusal(f"global cluster {global_cluster_identifier!r} does not exist (read{where})")
    if member(global_cluster, arn) is None:
        if mode == DETACH:
            # Out of the global cluster already (a detach whose answer was lost, or made by hand): wait for it.
            return [], "in-progress"
        listed = ", ".join(words(m.get("DBClusterArn")) for m in members(global_cluster)) or "none"
        raise Refusal(
            f"target cluster {name}{where} is not a member of global cluster {global_cluster_identifier} "
            f"(members: {listed}): only a secondary of the global cluster can become its writer"
        )
    moving_to = switching_to(global_cluster)
    if moving_to == arn and mode != DETACH:
        return [], "in-progress"
    if moving_to:
        raise Refusal(
            f"global cluster {global_cluster_identifier} is already {global_cluster.get('Status') or 'switching'} "
            f"to {words(moving_to)}: wait for it to finish, then run again"
        )
    before = writer_arn(global_cluster)
    if mode == SWITCHOVER:
        if global_cluster.get("Status") != "available":
            raise Refusal(
                f"global cluster {global_cluster_identifier} is {global_cluster.get('Status')!r}: a switchover needs it "
                "available (for a Region outage, use the failover runbook)"
            )
        sync = member(global_cluster, arn).get("SynchronizationStatus")
        if sync not in (None, "connected"):
            raise Refusal(
                f"target cluster {name} has SynchronizationStatus={sync!r}: a switchover needs a secondary that is "
                "connected (in sync with the primary)"
            )
    if target.get("Status") != "available":
        raise Refusal(
            f"target cluster {name}{where} is {target.get('Status')!r}: it must be available to become the writer"
        )
    return number([action_for(mode, global_cluster_identifier, before, target)]), "planned"


def describe_progress(mode, global_cluster_identifier, target_name):
    """wait_for's ``describe``: the global cluster (status, FailoverState) and the target (status, writer or not)."""

    def describe(state):
        global_cluster, target = state
        ready = is_done(mode, global_cluster, target)
        if global_cluster is None:
            global_label = "absent"
        else:
            step = failover_state(global_cluster).get("Status")
            global_label = global_cluster.get("Status", "unknown") + (f" ({step})" if step else "")
        arn = (target or {}).get("DBClusterArn")
        detached = mode == DETACH and member(global_cluster, arn) is None
        role = "writer" if detached or writer_arn(global_cluster) == arn else "secondary"
        return [
            (global_cluster_identifier, global_label, ready),
            (target_name, f"{state_label(target)}, {role}" if target else "absent", ready),
        ]

    return describe


def outputs(target, global_cluster, previous_arn):
    """What the run returns of the writer (the target, when the run succeeded or would succeed)."""
    return {
        "writer": {
            "cluster_identifier": target.get("DBClusterIdentifier"),
            "cluster_arn": target.get("DBClusterArn"),
            "region": region_of(target.get("DBClusterArn")),
            "endpoint": target.get("Endpoint"),
            "reader_endpoint": target.get("ReaderEndpoint"),
        },
        "previous_writer": {"cluster_arn": previous_arn, "region": region_of(previous_arn)} if previous_arn else None,
        "global_cluster": {
            "identifier": (global_cluster or {}).get("GlobalClusterIdentifier"),
            "status": (global_cluster or {}).get("Status"),
            "members": [
                {
                    "cluster_arn": m.get("DBClusterArn"),
                    "region": region_of(m.get("DBClusterArn")),
                    "is_writer": bool(m.get("IsWriter")),
                }
                for m in members(global_cluster)
            ],
        }
        if global_cluster
        else None,
    }


# -- the role's runbook entry points (switchover, failover): names and settings --------------------------------------

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def runbook_names(cluster_name, cluster_identifier, home_region, target_region):
    """The global cluster and the cluster in ``target_region`` of a stack: the stack's own cluster in its own Region,
    the secondary (naming.secondary_cluster_identifier) anywhere else."""
    in_home = target_region == home_region
    return {
        "global_cluster_identifier": global_cluster_identifier(cluster_name),
        "target_cluster_identifier": cluster_identifier
        if in_home
        else secondary_cluster_identifier(cluster_name, target_region),
        "target_region": target_region,
    }


def runbook_setting_errors(typed, entry_point):
    """Refusals of the role's typed variables for the switchover and failover entry points, before any AWS call."""
    errors = []
    region = typed.get("aurora_cluster_switchover_target_region") or ""
    if not _REGION.match(region):
        errors.append(
            f"aurora_cluster_switchover_target_region={region!r} is not a Region name: name the Region that must write, "
            "for example -e aurora_cluster_switchover_target_region=us-west-2"
        )
    if entry_point == "failover":
        identifier = global_cluster_identifier(typed.get("aurora_cluster_name") or "")
        option = "aurora_cluster_failover_confirm"
        error = confirmation_error(
            typed.get("aurora_cluster_failover_mode") or FAILOVER_MODE, identifier, typed.get(option) or "", option
        )
        if error:
            errors.append(f"{error}: pass -e {option}={identifier}")
    return errors
