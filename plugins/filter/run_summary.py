# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: run_summary
short_description: The closing lines of a run over one or many stacks - stacks done, AWS calls throttled
version_added: 0.2.0
description:
  - Turns, for every host (stack) of the play, the C(throttled_calls) its AWS modules returned into the run's
    closing lines - how many stacks reached their outputs (naming those that did not), how many AWS answers asked
    the run to slow down (each retried by botocore with jittered backoff), and which stacks met them, most first.
author:
  - Vitality platform team (@vitality)
options:
  _input:
    description:
      - A dict of host name to that stack's throttled calls (C(total), C(by_operation)), or null for a host that
        stopped before its outputs.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Report the run's stacks and the AWS calls throttled
  ansible.builtin.debug:
    msg: "{{ {'vitality-a': {'total': 2, 'by_operation': {'DescribeDBClusters': 2}}, 'vitality-b': none} | vitality.aurora.run_summary }}"
"""

RETURN = r"""
_value:
  description: The lines, the stacks' count first, then the throttled calls in all, then one line per stack that met any.
  type: list
  elements: str
"""

from ansible_collections.vitality.aurora.plugins.module_utils.fleet import run_summary


class FilterModule:
    def filters(self):
        return {"run_summary": run_summary}
