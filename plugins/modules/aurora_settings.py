# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_settings
short_description: Type and check the aurora_cluster role's variables, once, before any AWS call
version_added: 0.2.0
description:
  - Reads every C(aurora_cluster_*) variable the play sees and converts it to the type the role's
    C(meta/argument_specs.yml) declares (bool, int, float, str, list, dict), with Ansible's boolean words
    (V(true)/V(false), V(yes)/V(no), V(on)/V(off), V(1)/V(0), any case). A value given as C(-e name=value), in YAML
    or as C(-e) JSON becomes the same typed value.
  - Refuses what the conversion would have to guess, naming the variable; a list or dict where text is wanted, a
    YAML float where text is wanted (an unquoted V(16.10) is read as V(16.1)), a word that is not a boolean.
  - Refuses a C(aurora_cluster_*) variable the role does not declare, naming the closest declared one, unless
    C(aurora_cluster_unknown_variables=warn).
  - For the V(main) entry point, checks the typed values against the rules of RDS and PostgreSQL; for the V(export)
    entry point, the rules of the snapshot export (S3 bucket names, lifecycle days, the snapshot chosen); for the
    V(switchover) and V(failover) entry points, the target Region's form and the failover's typed confirmation.
  - Sets each typed value as the fact C(__aurora_cluster_<name>), except secrets (C(no_log) variables), which are
    never set as facts.
  - Runs on the controller as an action plugin; it calls no AWS API.
author:
  - Vitality platform team (@vitality)
options:
  role:
    description:
      - The role whose variables are typed and checked (C(<role>_*) variables, facts C(__<role>_*)); omitted,
        V(aurora_cluster).
    type: str
    choices: [aurora_cluster, aurora_database]
    default: aurora_cluster
    version_added: 0.2.0
  entry_point:
    description:
      - The role entry point whose variables are typed and checked; omitted, V(main).
    type: str
    choices: [main, destroy, report, rotate, drill, export, switchover, failover]
    default: main
attributes:
  check_mode:
    support: full
    description: Nothing is changed in either mode.
  action:
    support: full
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Type and check the role's variables before any AWS call
  vitality.aurora.aurora_settings:
    entry_point: main
"""

RETURN = r"""
typed:
  description:
    - The names of the facts set, sorted (one C(__aurora_cluster_<name>) per declared variable that is set, secrets
      left out). With ansible-core 2.20 and later the typed values are set as host variables, as
      M(ansible.builtin.set_fact) sets them, and this list names them.
  returned: success, with ansible-core 2.20 or later
  type: list
  elements: str
  sample: ["__aurora_cluster_port", "__aurora_cluster_storage_encrypted"]
ansible_facts:
  description:
    - The typed values, one fact C(__aurora_cluster_<name>) per declared variable that is set, secrets left out.
  returned: success, with ansible-core older than 2.20
  type: dict
  sample: {"__aurora_cluster_storage_encrypted": true, "__aurora_cluster_port": 5432}
errors:
  description: One message per refused value, naming the variable, the value (never a secret) and the rule.
  returned: failure, when a value is refused
  type: list
  elements: str
  sample: ["aurora_cluster_port='x' (str) is not an integer"]
"""

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec={
            "role": {"type": "str", "default": "aurora_cluster", "choices": ["aurora_cluster", "aurora_database"]},
            "entry_point": {
                "type": "str",
                "default": "main",
                "choices": ["main", "destroy", "report", "rotate", "drill", "export", "switchover", "failover"],
            },
        },
        supports_check_mode=True,
    )
    module.fail_json(msg="vitality.aurora.aurora_settings runs on the controller as an action plugin")


if __name__ == "__main__":
    main()
