#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_alarms
short_description: Delete the CloudWatch metric alarms whose names start with a prefix, up to 100 in a call
version_added: 0.2.0
description:
  - Lists the CloudWatch metric alarms whose names start with O(name_prefix) and deletes them with DeleteAlarms, up to
    100 names in one call (the API's limit), where M(amazon.aws.cloudwatch_metric_alarm) takes one module run and one
    call per alarm.
  - The role's teardown (C(playbooks/destroy.yml)) removes a stack's alarms with it, under
    C(vitality.aurora/<cluster>/), whether the role's alarms are on now or not.
  - It only removes alarms. The alarms a stack wants are made and kept in line by M(vitality.aurora.aurora_stack), from
    its plan.
author:
  - Vitality platform team (@vitality)
options:
  name_prefix:
    description:
      - The start of the names of the alarms to delete, for example C(vitality.aurora/vitality-dev-aurora/). It must
        not be empty or blank, which would name every alarm of the account and Region.
    type: str
    required: true
  state:
    description:
      - V(absent) deletes every metric alarm under O(name_prefix). It is the only state, since the stack's alarms are
        created from aurora_stack's plan.
      - Omitted, V(absent).
    type: str
    choices: [absent]
    default: absent
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Supports check mode and diff mode. In check mode, RV(deleted) names the alarms that would be deleted.
  - Composite alarms are left alone; the collection makes none.
"""

EXAMPLES = r"""
- name: Delete the alarms of the dev stack's cluster
  vitality.aurora.aurora_alarms:
    name_prefix: vitality.aurora/vitality-dev-aurora/
    state: absent
"""

RETURN = r"""
deleted:
  description:
    - The names of the alarms deleted (in check mode, those that would be), sorted; empty when none was found.
  returned: always
  type: list
  elements: str
  sample:
    - vitality.aurora/vitality-prod-aurora/Deadlocks
    - vitality.aurora/vitality-prod-aurora/vitality-prod-aurora-writer/CPUUtilization
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi

# DeleteAlarms takes at most 100 names a call.
DELETE_BATCH = 100


def alarm_names(api, prefix):
    """The names of the metric alarms under ``prefix``, sorted."""
    alarms = api.paginate(
        "describe_alarms",
        "MetricAlarms",
        AlarmNamePrefix=prefix,
        AlarmTypes=["MetricAlarm"],
        context=f"alarms under {prefix}",
    )
    return sorted(alarm["AlarmName"] for alarm in alarms or [])


def delete_alarms(api, names):
    for start in range(0, len(names), DELETE_BATCH):
        batch = names[start : start + DELETE_BATCH]
        api.call("delete_alarms", AlarmNames=batch, context=f"alarms {batch[0]} to {batch[-1]}")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name_prefix=dict(type="str", required=True),
            state=dict(type="str", choices=["absent"], default="absent"),
        ),
        supports_check_mode=True,
    )
    prefix = module.params["name_prefix"]
    if not prefix.strip():
        module.fail_json(
            msg=f"name_prefix={prefix!r} is blank: it would name every alarm of the account and Region; give the "
            "stack's prefix, for example vitality.aurora/<cluster>/"
        )
    api = AwsApi(module, "cloudwatch")
    names = alarm_names(api, prefix)
    if names and not module.check_mode:
        delete_alarms(api, names)
    module.exit_json(changed=bool(names), deleted=names, diff={"before": {"alarms": names}, "after": {"alarms": []}})


if __name__ == "__main__":
    main()
