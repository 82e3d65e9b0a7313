# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_fleet_names
short_description: Refuse two stacks of one run that would share a resource name, before any AWS call
version_added: 0.2.0
description:
  - For an inventory that holds many stacks (one host each, converged side by side with Ansible's forks), compares
    the names this host's stack derives with those of every other host of the play, and fails naming each name two
    stacks share, the other host and the rule.
  - Compared within the scope where the name must be unique - DB cluster, DB instance (the writer, and the readers by
    their prefix), DB subnet group, DB cluster parameter group, AWS Backup plan and vault, SNS topic per endpoint and
    region; the database security group per VPC; IAM roles per endpoint (IAM is global, names compared without
    case); the outputs file, the plan file and the report's files on the controller. Two hosts with the same
    region and endpoint are taken to share an AWS account (the account is not known before an AWS call).
  - Reads the typed facts C(__aurora_cluster_*) that M(vitality.aurora.aurora_settings) sets; runs after it. Hosts
    whose settings were refused, and hosts outside C(--limit), are not compared.
  - Runs on the controller as an action plugin; it calls no AWS API and takes no option.
author:
  - Vitality platform team (@vitality)
options: {}
attributes:
  check_mode:
    support: full
    description: Nothing is changed in either mode.
  action:
    support: full
    description: Runs on the controller.
notes:
  - With the V(free) strategy or C(serial), a host may run this before the others have typed their settings; it then
    compares with those that have.
"""

EXAMPLES = r"""
- name: Type and check the role's variables before any AWS call
  vitality.aurora.aurora_settings:
    entry_point: main

- name: Check that no other stack of the run shares a name with this one
  vitality.aurora.aurora_fleet_names:
"""

RETURN = r"""
stacks_compared:
  description: How many other hosts' stacks this host's names were compared with.
  returned: success and failure after the settings were read
  type: int
  sample: 3
errors:
  description: One message per other stack that shares a name, naming the other host, each shared name with its variable, and the rule.
  returned: failure, when two stacks share a name
  type: list
  elements: str
  sample:
    - >-
      host vitality-a's stack and host vitality-b's would share DB cluster 'vitality-shared-aurora'
      (aurora_cluster_identifier), DB instance 'vitality-shared-aurora-writer' (aurora_cluster_writer_identifier),
      DB instances vitality-shared-aurora-reader-<n> (aurora_cluster_reader_identifier_prefix), DB subnet group
      'vitality-shared-db-subnets' (aurora_cluster_subnet_group_name) and 9 more: two stacks of one run may not
      share a name, or each would undo the other's changes (give each stack its own aurora_cluster_name, from which
      every name is derived)
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.fail_json(msg="vitality.aurora.aurora_fleet_names runs on the controller as an action plugin")


if __name__ == "__main__":
    main()
