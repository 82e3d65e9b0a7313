# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse, before any AWS call, a stack whose names another stack of the same run also derives.

Runs on the controller after vitality.aurora.aurora_settings has typed every host's variables: it compares this
host's typed names (facts ``__aurora_cluster_*``) with those of every other host of the play that has them. Hosts
whose settings were refused have none and are left out (their own check names their error); so are hosts outside
``--limit``.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.vitality.aurora.plugins.module_utils.fleet import VARIABLES, name_collisions

TYPED_MARK = "__aurora_cluster_identifier"


def typed_names(variables):
    """The stack's names from a host's typed facts, or None when that host's settings were not typed."""
    if variables.get(TYPED_MARK) is None:
        return None
    return {name: variables.get("__" + name) for name in VARIABLES}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        result["changed"] = False
        mine = typed_names(task_vars)
        if mine is None:
            result.update(
                failed=True, msg="vitality.aurora.aurora_fleet_names runs after vitality.aurora.aurora_settings"
            )
            return result
        me = task_vars.get("inventory_hostname")
        hostvars = task_vars.get("hostvars") or {}
        others = {}
        for host in task_vars.get("ansible_play_hosts_all") or ():
            if host == me:
                continue
            names = typed_names(hostvars[host])
            if names is not None:
                others[host] = names
        errors = name_collisions(me, mine, others)
        result["stacks_compared"] = len(others)
        if errors:
            result.update(
                failed=True,
                errors=errors,
                msg="Stacks of one run share names, nothing was changed: " + "; ".join(errors),
            )
        return result
