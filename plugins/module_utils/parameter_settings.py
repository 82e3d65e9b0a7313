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


NOT_FOUND = ("DBParameterGroupNotFound", "DBParameterGroupNotFoundFault")


def read_group(api, name):
    return api.describe_one(
        "describe_db_cluster_parameter_groups",
        "DBClusterParameterGroups",
        DBClusterParameterGroupName=name,
        not_found=NOT_FOUND,
        context=f"parameter group {name}",
    )


def read_parameters(api, name, source=None):
    params = {"DBClusterParameterGroupName": name}
    if source:
        params["Source"] = source
    return api.paginate("describe_db_cluster_parameters", "Parameters", context=f"parameter group {name}", **params)


def user_parameters(api, name):
    """The parameters a user set, name -> value (AWS lists the family's defaults apart)."""
    listed = read_parameters(api, name, source="user") or []
    return {p["ParameterName"]: p.get("ParameterValue") for p in listed if p.get("Source", "user") == "user"}
