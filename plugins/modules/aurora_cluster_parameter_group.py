#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_cluster_parameter_group
short_description: Manage an Aurora DB cluster parameter group and its parameters
version_added: 0.1.0
description:
  - Creates, updates and deletes an Aurora DB cluster parameter group, and converges the parameters set in it.
  - Only the parameters a user set (source V(user)) are compared, so a re-run with the same inputs makes
    no change and no modifying call.
  - Each changed parameter is reported with its impact. A dynamic parameter is applied at once (V(online));
    a static one is applied with C(pending-reboot) and takes effect when the instances reboot.
  - When the endpoint does not say whether a parameter is static or dynamic, the change is applied with
    C(pending-reboot), which AWS accepts for both, and reported as V(pending-reboot).
author:
  - Vitality platform team (@vitality)
options:
  name:
    description:
      - Name of the DB cluster parameter group.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the group, V(absent) deletes it.
      - Omitted, V(present).
    type: str
    choices: [present, absent]
    default: present
  family:
    description:
      - The parameter group family, for example V(aurora-postgresql16).
      - The family of an existing group cannot change; a different family fails with the way forward.
      - Omitted, V(aurora-postgresql16).
    type: str
    default: aurora-postgresql16
  description:
    description:
      - Description of the group. Used when the group is created; AWS cannot change it afterwards.
      - Omitted, C(Cluster parameters for <name>).
    type: str
  parameters:
    description:
      - Parameters to set, as a mapping of parameter name to value.
      - Booleans become V(1) or V(0); other values are compared as strings.
      - Omitted or empty, no parameter is set, and with O(purge_parameters=true) every user-set parameter is reset to
        its default.
    type: dict
    default: {}
  purge_parameters:
    description:
      - Reset user-set parameters that are not in O(parameters) to their engine defaults.
      - Omitted, V(true).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode. In check mode, RV(changes) is the plan.
"""

EXAMPLES = r"""
- name: Require TLS for every connection to the Vitality cluster
  vitality.aurora.aurora_cluster_parameter_group:
    name: vitality-dev-aurora-pg16
    family: aurora-postgresql16
    parameters:
      rds.force_ssl: 1
      log_min_duration_statement: 2000
    tags:
      Project: vitality

- name: Remove the parameter group once no cluster uses it
  vitality.aurora.aurora_cluster_parameter_group:
    name: vitality-dev-aurora-pg16
    state: absent
"""

RETURN = r"""
parameter_group:
  description:
    - The parameter group as AWS describes it, snake_cased, with C(tags) when O(tags) is set. In check mode before
      the group is created, only C(db_cluster_parameter_group_name).
  returned: when O(state=present)
  type: dict
  sample:
    db_cluster_parameter_group_name: vitality-dev-aurora-pg16
    db_parameter_group_family: aurora-postgresql16
    description: Vitality cluster parameters
    db_cluster_parameter_group_arn: arn:aws:rds:us-east-1:123456789012:cluster-pg:vitality-dev-aurora-pg16
    tags:
      Project: vitality
parameters:
  description: The user-set parameters after the run (in check mode, as the run would leave them), name to value.
  returned: when O(state=present)
  type: dict
  sample: {"rds.force_ssl": "1"}
changes:
  description:
    - What the run changed, or in check mode would change, each with its impact; empty when nothing changes.
    - Also returned when the run fails on a change it refuses (a different O(family), a parameter the family does
      not have or AWS does not let users modify).
  returned: always
  type: list
  elements: dict
  contains:
    attribute:
      description:
        - What changes - C(parameters.<name>) for a parameter, C(tags), C(family), or C(parameter_group) for the
          group itself when it is created or deleted.
      type: str
      returned: always
      sample: parameters.rds.force_ssl
    before:
      description: The value before the run; null for a parameter not set before, or a group created.
      type: raw
      returned: always
      sample: "0"
    after:
      description: The value after the run; null for a parameter reset to its default, or a group deleted.
      type: raw
      returned: always
      sample: "1"
    impact:
      description:
        - V(online) (a dynamic parameter, tags, the group itself), V(pending-reboot) (a static parameter, or one whose
          kind the endpoint does not report), or V(impossible-in-place) (the family).
      type: str
      returned: always, except for a parameter change the run refuses before classifying it
      sample: online
  sample:
    - attribute: parameters.rds.force_ssl
      before: "0"
      after: "1"
      impact: online
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import (
    AwsApi,
    apply_rds_tags,
    dict_to_tags,
    tag_changes,
    tags_to_dict,
    to_snake,
)
from ansible_collections.vitality.aurora.plugins.module_utils.changes import IMPOSSIBLE, ONLINE, diff_of
from ansible_collections.vitality.aurora.plugins.module_utils.naming import identifier_error
from ansible_collections.vitality.aurora.plugins.module_utils.parameter_settings import (
    apply_parameter_changes,
    classify,
    desired_parameters,
    parameter_catalog,
    plan_parameter_changes,
    public_change,
    read_group,
    user_parameters,
)

ALREADY_EXISTS = ("DBParameterGroupAlreadyExists", "DBParameterGroupAlreadyExistsFault")


def ensure_absent(module, api, name):
    group = read_group(api, name)
    if group is None:
        module.exit_json(changed=False, changes=[])
    changes = [{"attribute": "parameter_group", "before": name, "after": None, "impact": ONLINE}]
    if not module.check_mode:
        api.call(
            "delete_db_cluster_parameter_group", DBClusterParameterGroupName=name, context=f"parameter group {name}"
        )
    module.exit_json(changed=True, changes=changes, diff={"before": {"name": name}, "after": {}})


def ensure_present(module, api, name):
    params = module.params
    desired = desired_parameters(params["parameters"])
    group = read_group(api, name)
    changes = []
    created = group is None

    if created:
        changes.append({"attribute": "parameter_group", "before": None, "after": name, "impact": ONLINE})
        if not module.check_mode:
            response = api.create(
                "create_db_cluster_parameter_group",
                exists=lambda: read_group(api, name) is not None,
                DBClusterParameterGroupName=name,
                DBParameterGroupFamily=params["family"],
                Description=params["description"] or f"Cluster parameters for {name}",
                Tags=dict_to_tags(params["tags"]),
                already_exists=ALREADY_EXISTS,
                context=f"parameter group {name}",
            )
            if response is None:
                # Created first by another run, or by our own retried request: converge what exists.
                created = False
                changes = []
                group = read_group(api, name)
            else:
                group = response["DBClusterParameterGroup"]
        current_parameters = {}
    if not created:
        family = group.get("DBParameterGroupFamily")
        if family and family != params["family"]:
            module.fail_json(
                msg=(
                    f"family={params['family']!r}: parameter group {name} belongs to family {family!r} and AWS cannot "
                    "change a group's family (impossible-in-place). Give the new family a new parameter group name, "
                    "point the cluster at it, then remove the old group."
                ),
                changes=[{"attribute": "family", "before": family, "after": params["family"], "impact": IMPOSSIBLE}],
            )
        current_parameters = user_parameters(api, name)

    parameter_changes = plan_parameter_changes(current_parameters, desired, params["purge_parameters"])
    if parameter_changes:
        if created and module.check_mode:
            catalog, complete = {}, False
        else:
            catalog, complete = parameter_catalog(api, name)
        problems = classify(parameter_changes, catalog, complete, name)
        if problems:
            module.fail_json(msg="; ".join(problems), changes=[public_change(c) for c in parameter_changes])
        if not module.check_mode:
            apply_parameter_changes(api, name, parameter_changes)
    changes.extend(parameter_changes)

    tags = None
    if params["tags"] is not None and group is not None:
        arn = group.get("DBClusterParameterGroupArn")
        current_tags = (
            {}
            if created
            else tags_to_dict(
                api.call("list_tags_for_resource", ResourceName=arn, context=f"parameter group {name}").get("TagList")
            )
        )
        to_set, to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
        if not created and (to_set or to_remove):
            changes.append({"attribute": "tags", "before": current_tags, "after": params["tags"], "impact": ONLINE})
            if not module.check_mode:
                apply_rds_tags(api, arn, to_set, to_remove, f"parameter group {name}")
        tags = dict(params["tags"])

    result_group = to_snake(group) if group else {"db_cluster_parameter_group_name": name}
    if tags is not None:
        result_group["tags"] = tags
    final_parameters = dict(current_parameters)
    for change in parameter_changes:
        if change["after"] is None:
            final_parameters.pop(change["name"], None)
        else:
            final_parameters[change["name"]] = change["after"]

    public = [public_change(c) for c in changes]
    module.exit_json(
        changed=bool(changes),
        changes=public,
        parameter_group=result_group,
        parameters=final_parameters,
        diff=diff_of(public),
    )


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        family=dict(type="str", default="aurora-postgresql16"),
        description=dict(type="str"),
        parameters=dict(type="dict", default={}),
        purge_parameters=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    name = module.params["name"]
    error = identifier_error("name", name, "parameter group")
    if error:
        module.fail_json(msg=error)

    api = AwsApi(module, "rds")
    if module.params["state"] == "absent":
        ensure_absent(module, api, name)
    ensure_present(module, api, name)


if __name__ == "__main__":
    main()
