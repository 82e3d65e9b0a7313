# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: stack_errors
short_description: The rules the aurora_cluster role's settings break
version_added: 0.1.0
description:
  - Checks the settings of the C(vitality.aurora.aurora_cluster) role against the rules of RDS, AWS and PostgreSQL
    (identifiers, database and user names, password, engine version and family, instance class, subnets, ranges,
    backup and maintenance windows, tags, KMS key forms, log exports, public ingress, encryption, TLS, deletion
    protection in prod).
  - The settings must already be typed as the role's C(meta/argument_specs.yml) declares (a bool a Python bool, an
    int an int, ...); a value of another type is a TypeError, never a pass. The role itself runs these rules through
    M(vitality.aurora.aurora_settings), which types the variables first.
  - Returns one message per broken rule, naming the variable, its value (never a secret) and the rule.
author:
  - Vitality platform team (@vitality)
options:
  _input:
    description: The role's variables, name to typed value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop before any AWS call when a setting is invalid
  ansible.builtin.fail:
    msg: "{{ errors | join('; ') }}"
  vars:
    errors: "{{ settings | vitality.aurora.stack_errors }}"
  when: errors | length > 0
"""

RETURN = r"""
_value:
  description: One message per broken rule; empty when every setting is valid.
  type: list
  elements: str
"""

from ansible_collections.vitality.aurora.plugins.module_utils.validation import stack_errors


class FilterModule:
    def filters(self):
        return {"stack_errors": stack_errors}
