#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_reader_autoscaling
short_description: Reader autoscaling of an Aurora cluster (Application Auto Scaling on its reader count)
version_added: 0.2.0
description:
  - Registers the cluster's reader count (C(rds:cluster:ReadReplicaCount), resource C(cluster:<cluster>)) as an
    Application Auto Scaling target with a target-tracking policy, or, with O(state=absent), deletes the target's
    policies and deregisters it. It uses the planner of M(vitality.aurora.aurora_stack) (C(autoscaling_plan.py)), so
    the steps are planned first, check mode returns them, and a real run makes exactly them.
  - The readers Application Auto Scaling adds are named C(application-autoscaling-<uuid>); with O(state=absent) and
    O(readers_on_disable=delete) each is deleted too (and waited for), otherwise they are kept and reported.
  - The role M(vitality.aurora.aurora_cluster) plans autoscaling with M(vitality.aurora.aurora_stack); its teardown
    uses this module with O(state=absent) first, so that the autoscaler adds no reader while the stack is deleted.
author:
  - Vitality platform team (@vitality)
options:
  db_cluster_identifier:
    description: The cluster identifier.
    type: str
    required: true
  state:
    description:
      - V(present) registers the target and puts the policy; V(absent) deletes the target's policies and
        deregisters it (nothing when there is no target).
      - Omitted, V(present).
    type: str
    choices: [present, absent]
    default: present
  min_readers:
    description:
      - The target's minimum (the readers the inventory keeps itself). Required with O(state=present).
      - Omitted, none (allowed with O(state=absent) only).
    type: int
  max_readers:
    description:
      - The target's maximum, above O(min_readers) and at most 15. Required with O(state=present).
      - Omitted, none (allowed with O(state=absent) only).
    type: int
  metric:
    description:
      - The predefined metric the policy tracks, averaged over the readers.
      - Omitted, V(RDSReaderAverageCPUUtilization).
    type: str
    choices: [RDSReaderAverageCPUUtilization, RDSReaderAverageDatabaseConnections]
    default: RDSReaderAverageCPUUtilization
  target_value:
    description:
      - The value of O(metric) the readers are kept at (percent, or connections per reader).
      - Omitted, V(60.0).
    type: float
    default: 60.0
  scale_in_cooldown:
    description:
      - Seconds after a scale-in before another.
      - Omitted, V(300).
    type: int
    default: 300
  scale_out_cooldown:
    description:
      - Seconds after a scale-out before another.
      - Omitted, V(300).
    type: int
    default: 300
  disable_scale_in:
    description:
      - Whether the policy only adds readers.
      - Omitted, V(false).
    type: bool
    default: false
  readers_on_disable:
    description:
      - With O(state=absent), V(keep) leaves the readers the autoscaler made, V(delete) deletes each.
      - Omitted, V(keep).
    type: str
    choices: [keep, delete]
    default: keep
  policy_name:
    description:
      - The name of the module's target-tracking policy.
      - Omitted, V(vitality.aurora-readers).
    type: str
    default: vitality.aurora-readers
  wait_timeout:
    description:
      - Seconds to wait for each deleted reader to be gone.
      - Omitted, V(3600) seconds.
    type: int
    default: 3600
extends_documentation_fragment:
  - vitality.aurora.waiting
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode.
  - The first registration in an account makes the service-linked role
    C(AWSServiceRoleForApplicationAutoScaling_RDSCluster) (the caller needs C(iam:CreateServiceLinkedRole) once).
"""

EXAMPLES = r"""
- name: Keep between 2 and 5 readers at 60 % CPU
  vitality.aurora.aurora_reader_autoscaling:
    db_cluster_identifier: vitality-prod-aurora
    min_readers: 2
    max_readers: 5

- name: Stop autoscaling before tearing the cluster down
  vitality.aurora.aurora_reader_autoscaling:
    db_cluster_identifier: vitality-prod-aurora
    state: absent
"""

RETURN = r"""
plan:
  description: The steps, made or (check mode) planned, each as in the stack's plan.
  returned: always
  type: list
  elements: str
  sample: ["1. scalable target cluster:vitality-prod-aurora: deregister (min_readers 2 -> (none); max_readers 5 -> (none)) [online]"]
autoscaling:
  description: Autoscaling as the run leaves it, as M(vitality.aurora.aurora_stack) returns it.
  returned: always
  type: dict
  sample: {"enabled": false, "resource_id": "cluster:vitality-prod-aurora", "autoscaled_readers": []}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.autoscaling_plan import (
    DEFAULT_POLICY_NAME,
    MAX_READERS,
    METRICS,
    plan_autoscaling,
    read_autoscaling,
)
from ansible_collections.vitality.aurora.plugins.module_utils.instance_settings import INSTANCE_NOT_FOUND
from ansible_collections.vitality.aurora.plugins.module_utils.plan import number
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import (
    WAIT_MAX_POLL_INTERVAL_OPTION,
    check_wait_options,
    wait_or_fail,
)

CALLS = {
    ("autoscaling_target", "register"): "register_scalable_target",
    ("autoscaling_target", "update"): "register_scalable_target",
    ("autoscaling_target", "deregister"): "deregister_scalable_target",
    ("scaling_policy", "create"): "put_scaling_policy",
    ("scaling_policy", "update"): "put_scaling_policy",
    ("scaling_policy", "delete"): "delete_scaling_policy",
}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_cluster_identifier=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            min_readers=dict(type="int"),
            max_readers=dict(type="int"),
            metric=dict(type="str", choices=list(METRICS), default=METRICS[0]),
            target_value=dict(type="float", default=60.0),
            scale_in_cooldown=dict(type="int", default=300),
            scale_out_cooldown=dict(type="int", default=300),
            disable_scale_in=dict(type="bool", default=False),
            readers_on_disable=dict(type="str", choices=["keep", "delete"], default="keep"),
            policy_name=dict(type="str", default=DEFAULT_POLICY_NAME),
            wait_timeout=dict(type="int", default=3600),
            wait_max_poll_interval=WAIT_MAX_POLL_INTERVAL_OPTION,
        ),
        required_if=[("state", "present", ("min_readers", "max_readers"))],
        supports_check_mode=True,
    )
    check_wait_options(module)
    params = module.params
    enabled = params["state"] == "present"
    if enabled and not 0 <= params["min_readers"] < params["max_readers"] <= MAX_READERS:
        module.fail_json(
            msg=f"min_readers={params['min_readers']} and max_readers={params['max_readers']} are out of range: "
            f"0 <= min_readers < max_readers <= {MAX_READERS} (Aurora's limit of readers in a cluster)"
        )
    identifier = params["db_cluster_identifier"]
    rds = AwsApi(module, "rds")
    scaling = AwsApi(module, "application-autoscaling")
    instances = rds.paginate(
        "describe_db_instances",
        "DBInstances",
        context=f"the instances of cluster {identifier}",
        Filters=[{"Name": "db-cluster-id", "Values": [identifier]}],
    )
    desired = dict(
        {key: params[key] for key in ("max_readers", "metric", "target_value", "readers_on_disable", "policy_name")},
        enabled=enabled,
        min_readers=params["min_readers"] or 0,
        scale_in_cooldown=params["scale_in_cooldown"],
        scale_out_cooldown=params["scale_out_cooldown"],
        disable_scale_in=params["disable_scale_in"],
    )
    current = read_autoscaling(scaling, identifier, enabled)
    actions, outputs = plan_autoscaling(current, desired, identifier, instances)
    lines = [action.line() for action in number(actions)]
    if module.check_mode or not actions:
        module.exit_json(changed=bool(actions), plan=lines, autoscaling=outputs)
    for action in actions:
        if action.resource == "instance":
            name = action.name
            rds.call(
                "delete_db_instance",
                DBInstanceIdentifier=name,
                not_found=INSTANCE_NOT_FOUND + ("InvalidDBInstanceState",),
                context=action.label(),
            )
            wait_or_fail(
                module,
                lambda name=name: rds.describe_one(
                    "describe_db_instances", "DBInstances", DBInstanceIdentifier=name, not_found=INSTANCE_NOT_FOUND
                ),
                lambda instance: instance is None,
                what=f"instance {name}",
                wanted="deleted",
            )
            continue
        missing = ("ObjectNotFoundException",) if action.change in ("delete", "deregister") else ()
        scaling.call(
            CALLS[(action.resource, action.change)], not_found=missing, context=action.label(), **action.request
        )
    module.exit_json(changed=True, plan=lines, autoscaling=outputs)


if __name__ == "__main__":
    main()
