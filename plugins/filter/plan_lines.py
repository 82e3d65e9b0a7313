# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: plan_lines
short_description: One readable line per change, with its impact
version_added: 0.1.0
description:
  - Turns the C(changes) that the collection's modules return (each with C(attribute), C(before), C(after) and
    C(impact)) into one line per change, naming the resource, the attribute, the values before and after,
    and the impact in brackets.
  - Resources without changes are left out.
  - A major version upgrade comes first, with its downtime, as it decides whether the run may go on.
author:
  - Vitality platform team (@vitality)
options:
  _input:
    description:
      - A list of C(resource) (a name) and C(changes) (the RV(vitality.aurora.aurora_cluster#module:changes) of
        M(vitality.aurora.aurora_cluster), or the list of the same shape another of the collection's modules returns).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ [{'resource': 'cluster c', 'changes': cluster_result.changes}] | vitality.aurora.plan_lines }}"
"""

RETURN = r"""
_value:
  description: One line per change.
  type: list
  elements: str
"""


# Changes whose attribute is the resource itself: its creation or deletion.
WHOLE_RESOURCES = ("cluster", "instance", "parameter_group", "security_group", "subnet_group", "subscription")


def _value(value):
    if value is None:
        return "(none)"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    return str(value)


def plan_lines(resources):
    first, lines = [], []
    for item in resources or []:
        for change in item.get("changes") or []:
            what = change.get("attribute", "change")
            if what in WHOLE_RESOURCES and change.get("before") is None:
                what = f"create (restored from {change['restored_from']})" if change.get("restored_from") else "create"
            elif what in WHOLE_RESOURCES and "after" in change and change["after"] is None:
                what = f"delete {change.get('before') or ''}".rstrip()
            elif "before" in change or "after" in change:
                what += f" {_value(change.get('before'))} -> {_value(change.get('after'))}"
            impact = change.get("impact", "online")
            if change.get("when") == "maintenance-window":
                impact += ", in the maintenance window"
            if change.get("downtime"):
                impact += f"; downtime: {change['downtime']}"
            if change.get("note"):
                impact += f"; {change['note']}"
            line = f"{item.get('resource')}: {what} [{impact}]"
            is_major_upgrade = change.get("impact") == "major-upgrade" and change.get("attribute") == "engine_version"
            (first if is_major_upgrade else lines).append(line)
    return first + lines


class FilterModule:
    def filters(self):
        return {"plan_lines": plan_lines}
