# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster parameter group's parameters: how values compare and what changes them.

Shared by aurora_cluster_parameter_group and aurora_stack_drift.
"""

from __future__ import annotations


def parameter_value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def plan_parameter_changes(current, desired, purge):
    changes = []
    for name in sorted(desired):
        if current.get(name) != desired[name]:
            changes.append(
                {"attribute": f"parameters.{name}", "name": name, "before": current.get(name), "after": desired[name]}
            )
    if purge:
        for name in sorted(set(current) - set(desired)):
            changes.append({"attribute": f"parameters.{name}", "name": name, "before": current[name], "after": None})
    return changes
