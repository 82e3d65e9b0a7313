# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster parameter group's parameters: how values compare and what changes them.

Shared by aurora_cluster_parameter_group and aurora_stack.
"""

from __future__ import annotations

from ansible_collections.vitality.aurora.plugins.module_utils.changes import ONLINE, PENDING_REBOOT


def parameter_value(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def desired_parameters(parameters):
    """Name -> value as AWS reports it (a string), from the parameters the user gives."""
    return {key: parameter_value(value) for key, value in (parameters or {}).items()}


def public_change(change):
    """A parameter change as modules return it (without the name and apply method they work with)."""
    return {key: change[key] for key in ("attribute", "before", "after", "impact") if key in change}


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


# ModifyDBClusterParameterGroup and ResetDBClusterParameterGroup take at most 20 parameters a call.
PARAMETERS_PER_CALL = 20


def parameter_catalog(api, name):
    """Name -> description of every parameter the group lists, and whether the list is complete.

    AWS lists every parameter of the family with its ApplyType. An endpoint that
    lists only user-set parameters gives no such catalogue; then unknown
    parameters are neither refused nor assumed dynamic.
    """
    listed = read_parameters(api, name) or []
    complete = any(p.get("Source") not in (None, "user") for p in listed)
    return {p["ParameterName"]: p for p in listed}, complete


def apply_method(described):
    if described and described.get("ApplyType") == "dynamic":
        return "immediate"
    return "pending-reboot"


def classify(changes, catalog, complete, group_name):
    """Set each change's impact and apply method; return the problems that stop the run."""
    problems = []
    for change in changes:
        described = catalog.get(change["name"])
        if described is None and complete and change["after"] is not None:
            problems.append(f"parameters.{change['name']} is not a parameter of parameter group {group_name}")
            continue
        if described is not None and described.get("IsModifiable") is False:
            problems.append(f"parameters.{change['name']} cannot be modified (AWS marks it not modifiable)")
            continue
        change["apply_method"] = apply_method(described)
        change["impact"] = ONLINE if change["apply_method"] == "immediate" else PENDING_REBOOT
    return problems


def batches(items, size=PARAMETERS_PER_CALL):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_parameter_changes(api, name, changes):
    to_set = [c for c in changes if c["after"] is not None]
    to_reset = [c for c in changes if c["after"] is None]
    for batch in batches(to_set):
        api.call(
            "modify_db_cluster_parameter_group",
            DBClusterParameterGroupName=name,
            Parameters=[
                {"ParameterName": c["name"], "ParameterValue": c["after"], "ApplyMethod": c["apply_method"]}
                for c in batch
            ],
            context=f"parameter group {name}",
        )
    for batch in batches(to_reset):
        api.call(
            "reset_db_cluster_parameter_group",
            DBClusterParameterGroupName=name,
            Parameters=[{"ParameterName": c["name"], "ApplyMethod": c["apply_method"]} for c in batch],
            context=f"parameter group {name}",
        )
