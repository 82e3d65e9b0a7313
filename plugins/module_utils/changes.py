# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare what AWS describes with what the user asked for, and say what each change costs.

Every managed attribute is declared once, as an ``Attribute``: where AWS
reports it, which API parameter changes it, and the impact of changing it.
Modules turn the resulting list of changes into their ``changes`` return
value (the plan), their diff, and the modify call.
"""

from __future__ import annotations

# What a change does to a running database, from least to most disruptive.
ONLINE = "online"  # applied without interrupting connections
PENDING_REBOOT = "pending-reboot"  # recorded now, takes effect at the next reboot
REBOOT = "reboot"  # the instance (or every instance) restarts while it is applied
FAILOVER = "failover"  # the writer role moves to another instance
IMPOSSIBLE = "impossible-in-place"  # AWS cannot change it; needs snapshot and restore or a new resource
MAJOR_UPGRADE = "major-upgrade"  # every instance restarts together: the cluster is down while it runs

IMPACT_ORDER = (ONLINE, PENDING_REBOOT, FAILOVER, REBOOT, MAJOR_UPGRADE, IMPOSSIBLE)

# What Attribute.read returns when AWS left the attribute out and it is declared unknown_when_absent.
UNKNOWN = object()


class Attribute:
    """One attribute a module manages.

    ``option``: the module option; ``read``: how to get the current value from
    AWS's description; ``modify_param``: the API parameter that changes it
    (None when it cannot be changed in place); ``impact``: what changing it costs;
    ``unordered``: compare lists as sets; ``deferrable``: AWS holds the change for the
    maintenance window unless it is applied immediately; ``unknown_when_absent``: a
    description without the key says nothing about the attribute, so no change is planned
    for it (AWS always reports such a key; a response without it is incomplete).
    """

    def __init__(
        self,
        option,
        read,
        modify_param=None,
        impact=ONLINE,
        unordered=False,
        normalize=None,
        default_when_absent=None,
        deferrable=False,
        unknown_when_absent=False,
    ):
        self.option = option
        if unknown_when_absent and not callable(read):
            default_when_absent = UNKNOWN
        self.read = read if callable(read) else (lambda current, key=read: current.get(key, default_when_absent))
        self.modify_param = modify_param
        self.impact = impact if modify_param else IMPOSSIBLE
        self.unordered = unordered
        self.normalize = normalize
        self.deferrable = deferrable

    def canonical(self, value):
        if value is None:
            return None
        if self.normalize:
            value = self.normalize(value)
        if self.unordered and isinstance(value, (list, tuple)):
            return sorted(value)
        return value


def plan_changes(attributes, current, desired):
    """The changes needed to take ``current`` (an AWS description) to ``desired`` (option -> value).

    A desired value of None means "not managed": it is never a change.
    """
    changes = []
    for attribute in attributes:
        wanted = attribute.canonical(desired.get(attribute.option))
        if wanted is None:
            continue
        have = attribute.read(current)
        if have is UNKNOWN:
            continue
        have = attribute.canonical(have)
        if have != wanted:
            changes.append(
                {
                    "attribute": attribute.option,
                    "before": have,
                    "after": wanted,
                    "impact": attribute.impact,
                }
            )
    return changes


def mark_deferred(attributes, changes, apply_immediately):
    """Say when each change takes effect: now, or in the next maintenance window."""
    deferrable = {attribute.option for attribute in attributes if attribute.deferrable}
    for change in changes:
        if change["attribute"] in deferrable:
            change["when"] = "now" if apply_immediately else "maintenance-window"
    return changes


def modify_params(attributes, changes):
    """API parameters for the changes that can be made in place."""
    by_option = {attribute.option: attribute for attribute in attributes}
    params = {}
    for change in changes:
        attribute = by_option.get(change["attribute"])
        if attribute is None or not attribute.modify_param:
            continue
        params[attribute.modify_param] = change["after"]
    return params


def impossible(changes):
    return [change for change in changes if change["impact"] == IMPOSSIBLE]


def impossible_message(resource, changes, remedy):
    described = ", ".join(f"{c['attribute']} ({c['before']!r} -> {c['after']!r})" for c in changes)
    return f"{resource}: cannot change {described} in place; AWS does not allow it. {remedy}"


def worst_impact(changes):
    worst = None
    for change in changes:
        if worst is None or IMPACT_ORDER.index(change["impact"]) > IMPACT_ORDER.index(worst):
            worst = change["impact"]
    return worst


def diff_of(changes, extra_before=None, extra_after=None):
    """An Ansible diff (before/after) limited to what changes."""
    before = dict(extra_before or {})
    after = dict(extra_after or {})
    for change in changes:
        before[change["attribute"]] = change["before"]
        after[change["attribute"]] = change["after"]
    return {"before": before, "after": after}
