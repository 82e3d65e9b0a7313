# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: instance_layout
short_description: Where the writer and each reader of an Aurora cluster go, and their failover order
version_added: 0.1.0
description:
  - Lays out the writer and O(reader_count) readers over the Availability Zones of the subnet group.
  - The writer goes in the first AZ with promotion tier 0. Readers are numbered from 1, go round the other AZs
    (so that a failover moves the writer to another AZ) and take promotion tier equal to their number (at most
    15), so the first reader takes over first.
author:
  - Vitality platform team (@vitality)
options:
  _input:
    description: The Availability Zones of the subnet group, the writer's first.
    type: list
    elements: str
    required: true
  writer:
    description: The writer's identifier.
    type: str
    required: true
  reader_prefix:
    description: Readers are named this prefix followed by their number.
    type: str
    required: true
  reader_count:
    description: How many readers.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Lay out a writer and two readers over two AZs
  ansible.builtin.debug:
    msg: "{{ ['us-east-1c', 'us-east-1d'] | vitality.aurora.instance_layout('db-writer', 'db-reader-', 2) }}"
  # [{id: db-writer, az: us-east-1c, tier: 0, role: writer},
  #  {id: db-reader-1, az: us-east-1d, tier: 1, role: reader},
  #  {id: db-reader-2, az: us-east-1d, tier: 2, role: reader}]
"""

RETURN = r"""
_value:
  description: One entry per instance, the writer first, with C(id), C(az), C(tier) and C(role).
  type: list
  elements: dict
"""

from ansible_collections.vitality.aurora.plugins.module_utils.layout import instance_layout


class FilterModule:
    def filters(self):
        return {"instance_layout": instance_layout}
