# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: global_cluster_names
short_description: The global cluster and the cluster of a Region of an Aurora PostgreSQL stack
version_added: 0.2.0
description:
  - Names, as the collection derives them from the stack's name, the stack's global cluster (C(<name>-global)) and
    its cluster in O(target_region) - the stack's own cluster (O(cluster_identifier)) in its own Region
    (O(home_region)), the secondary C(<name>-<region>) in any other.
author:
  - Vitality platform team (@vitality)
options:
  _input:
    description: The stack's name (C(aurora_cluster_name)).
    type: str
    required: true
  cluster_identifier:
    description: The stack's cluster identifier (C(aurora_cluster_identifier)).
    type: str
    required: true
  home_region:
    description: The stack's own Region (C(aurora_cluster_aws_region)).
    type: str
    required: true
  target_region:
    description: The Region whose cluster is named.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Name the cluster that must write in us-west-2
  ansible.builtin.set_fact:
    names: "{{ 'vitality-prod' | vitality.aurora.global_cluster_names('vitality-prod-aurora', 'us-east-1', 'us-west-2') }}"
"""

RETURN = r"""
_value:
  description: C(global_cluster_identifier), C(target_cluster_identifier) and C(target_region).
  type: dict
"""

from ansible_collections.vitality.aurora.plugins.module_utils.global_failover import runbook_names


class FilterModule:
    def filters(self):
        return {"global_cluster_names": runbook_names}
