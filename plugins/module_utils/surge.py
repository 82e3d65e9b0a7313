# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Instance changes by surge: the plan's steps (pure).

A change that restarts the instances of the layout (a class change above all) is made, with the strategy ``surge``,
by new instances instead of restarts:

1. one new instance beside each instance of the layout, with every setting the inventory asks for, the old one's
   availability zone and promotion tier, all created together (one wait);
2. one failover moves the writer role to the new writer (the only pause of writes);
3. the old instances are deleted (together, one wait; an instance holds no data of its own, so no snapshot).

The new instances take the other generation's names (naming.py), which every later run adopts. A run killed at any
step resumes from the instances' real state: a new instance already there is not created again, a failover made is
not repeated (the writer's generation is then the adopted one, and what is left of the old one is deleted).
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.naming import generation_members, reader_number
from ansible_collections.vitality.aurora.plugins.module_utils.plan import FAILOVER, IMPOSSIBLE, ONLINE, Action

ROLLING = "rolling"
SURGE = "surge"
STRATEGIES = (ROLLING, SURGE)

DOWNTIME_WORDS = "writes pause once, while the writer endpoint moves to {target} (typically under 30 s)"


def strategy_of(spec):
    return spec.get("instance_change_strategy") or ROLLING


def live(instances):
    return {i.get("DBInstanceIdentifier"): i for i in instances or [] if i.get("DBInstanceStatus") != "deleting"}


def counterpart(identifier, from_names, to_names):
    """The name an instance has in the other generation (the writer's writer, reader N's reader N)."""
    if identifier == from_names[0]:
        return to_names[0]
    number = reader_number(identifier, from_names[1])
    return f"{to_names[1]}{number}" if number is not None else None


def summary(old_count, new_count, target):
    return (
        f"strategy surge: {new_count} new instance(s) beside the {old_count} old one(s), so the cluster never has "
        f"fewer instances than before; write downtime: one failover to {target} (typically under 30 s); extra cost "
        f"while it runs: {new_count} more instance(s) (twice the instances) from the creates until the old ones are deleted"
    )


def plan_surge(instances, wanted, old_names, new_names, cluster_identifier, writer_now):
    """The surge's steps: creates of the new generation (those not made yet), the failover to the new writer (unless it
    writes already), the deletes of the old generation (those left). ``wanted``: the layout's instances under the new
    names (stack_plan.wanted_instances), each with the options it is created with."""
    by_id = live(instances)
    old_ids = generation_members(by_id, old_names)
    new_writer = new_names[0]
    wanted_ids = [w["db_instance_identifier"] for w in wanted]
    words = summary(len(old_ids), len(wanted_ids), new_writer)
    actions = []
    for params in wanted:
        identifier = params["db_instance_identifier"]
        if identifier in by_id:
            continue
        old_id = counterpart(identifier, new_names, old_names)
        old = by_id.get(old_id)
        if old is not None:
            # The old instance's placement and failover priority, whatever the layout would give today.
            params = dict(
                params,
                availability_zone=old.get("AvailabilityZone") or params["availability_zone"],
                promotion_tier=old.get("PromotionTier", params["promotion_tier"]),
            )
        beside = f"beside {old_id}" if old is not None else "new"
        actions.append(
            Action(
                "instance",
                identifier,
                "create",
                [{"attribute": "db_instance_class", "before": None, "after": params.get("db_instance_class")}],
                runner="stack",
                calls=["CreateDBInstance"],
                note=(
                    f"surge: {params['role']} {beside} in {params['availability_zone']}, promotion tier "
                    f"{params['promotion_tier']}; the new instances are created together, one wait"
                ),
                request={"params": params},
            )
        )
    if writer_now != new_writer:
        actions.append(
            Action(
                "cluster",
                cluster_identifier,
                "failover",
                [{"attribute": "writer", "before": writer_now, "after": new_writer}],
                impact=FAILOVER,
                unavailability=DOWNTIME_WORDS.format(target=new_writer),
                runner="stack",
                calls=["FailoverDBCluster"],
                note="surge: the writer role moves to the new generation once every new instance is available",
                request={"target": new_writer, "wait_for": wanted_ids},
            )
        )
    for identifier in deletion_order(old_ids, old_names):
        actions.append(
            delete_action(
                identifier,
                "the new instances serve",
                "surge: the old generation goes, deleted together, one wait (an instance holds no data: no snapshot)",
            )
        )
    if actions:
        actions[0].note = f"{words}; {actions[0].note}"
    return actions


def deletion_order(identifiers, names):
    """Readers highest-numbered first, the generation's writer last (by then a reader)."""
    readers = sorted(
        (i for i in identifiers if i != names[0]), key=lambda i: reader_number(i, names[1]) or 0, reverse=True
    )
    return readers + [i for i in identifiers if i == names[0]]


def leftover_deletes(instances, names, reason):
    """Deletes of the instances of a generation the cluster does not run on (what a surge killed after its failover
    left, or a surge given up before its failover)."""
    return [
        delete_action(identifier, "the cluster's other instances serve", reason)
        for identifier in deletion_order(generation_members(live(instances), names), names)
    ]


def delete_action(identifier, who_serves, note):
    """One instance of a generation deleted with the others (together, one wait)."""
    return Action(
        "instance",
        identifier,
        "delete",
        [{"attribute": "instance", "before": identifier, "after": None}],
        impact=ONLINE,
        unavailability=f"connections to {identifier} drop; {who_serves}",
        runner="stack",
        calls=["DeleteDBInstance"],
        note=note,
        request={"identifier": identifier, "together": True},
    )


def refused(identifier, reason):
    return Action(
        "instance",
        identifier,
        "surge",
        [],
        impact=IMPOSSIBLE,
        note=f"strategy surge refused: {reason}",
    )
