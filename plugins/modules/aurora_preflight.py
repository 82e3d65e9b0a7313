#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aurora_preflight
short_description: Refuse, before any change, the engine, classes, parameters and KMS keys AWS would refuse
version_added: 0.2.0
description:
  - Reads what AWS offers in the Region and compares the settings with it, so that a run stops before its first
    mutating call instead of halfway through. The engine version must be offered and belong to
    O(parameter_group_family), each instance class be orderable for that version, each cluster parameter be known
    to the family, changeable and given an allowed value, each KMS key exist, be enabled and be a symmetric
    encryption key, and each log type to export be one the version exports.
  - Makes no change. C(changed) is always false, and check mode behaves the same.
  - When any check fails, the module fails with all the errors at once, its C(msg) starting with
    C(Invalid settings, nothing was changed:). Each error names its subject as O(variable_prefix) followed by the
    option name (a parameter as C(<prefix>parameters.<name>), an instance class as C(<prefix>instance_class)), or,
    for a KMS key, by its label in O(kms_keys).
  - Where the RDS API lists nothing (an endpoint without these catalogues, such as the moto server of the tests),
    or refuses the caller with AccessDenied, the answers come from a catalogue shipped with the collection (Aurora
    PostgreSQL 16 and 17 versions with their family and log types, instance classes per major version, the common
    cluster parameters). RV(sources) says, for each catalogue, where the answers came from. An empty answer is never
    taken for "not offered". A Region that lists the engine's versions without the one asked for refuses it, and
    one that lists no version at all has no catalogue.
  - Calls only DescribeDBEngineVersions, DescribeOrderableDBInstanceOptions, DescribeEngineDefaultClusterParameters
    and, per KMS key, kms DescribeKey; a check whose options are omitted makes no call.
author:
  - Vitality platform team (@vitality)
options:
  engine:
    description:
      - The database engine.
      - Omitted, V(aurora-postgresql), the only engine the module checks.
    type: str
    choices: [aurora-postgresql]
    default: aurora-postgresql
  engine_version:
    description:
      - The engine version the cluster runs or will run, for example V(16.6). A major version alone (V(16)) stands
        for the version AWS creates by default for it.
      - Omitted, no version is checked, and neither are O(instance_classes) and O(cloudwatch_logs_exports), which
        depend on it.
    type: str
  parameter_group_family:
    description:
      - The family of the cluster parameter group, for example V(aurora-postgresql16). It must be the family of
        O(engine_version), and O(parameters) are checked against it.
      - Omitted, the family of O(engine_version) is used for O(parameters), and nothing is compared.
    type: str
  instance_classes:
    description:
      - DB instance classes the cluster's instances use (for example V(db.r6g.large)); each must be orderable for
        O(engine) and O(engine_version) in the Region. Each is named C(<variable_prefix>instance_class) in errors.
      - Omitted or empty, no instance class is checked.
    type: list
    elements: str
    default: []
  parameters:
    description:
      - The cluster parameters set by the user, name to value, as M(vitality.aurora.aurora_cluster_parameter_group)
        takes them (V(true) and V(false) are sent as V(1) and V(0)).
      - Each must be a parameter of the family that AWS lets users change, with a value within its AllowedValues
        (a value AWS computes, such as V({DBInstanceClassMemory/12038}), is not checked).
      - Omitted or empty, no parameter is checked and DescribeEngineDefaultClusterParameters is not called.
    type: dict
    default: {}
  kms_keys:
    description:
      - KMS keys the stack uses, label to key ID, key ARN, alias name or alias ARN. Each must exist in the Region,
        be enabled and be a symmetric encryption key (KeyUsage C(ENCRYPT_DECRYPT), KeySpec C(SYMMETRIC_DEFAULT)),
        as RDS, Performance Insights and Secrets Manager require.
      - The label names the key in errors as it is, without O(variable_prefix) (for example
        C(aurora_cluster_kms_key_id)).
      - A label with an empty value is ignored (the service's AWS managed key is used then). Omitted or empty, no
        key is checked.
    type: dict
    default: {}
  cloudwatch_logs_exports:
    description:
      - Log types the cluster exports to CloudWatch Logs; each must be among those AWS lists for O(engine_version)
        (not checked when AWS's answer lists none for it).
      - Omitted or empty, nothing is checked.
    type: list
    elements: str
    default: []
  variable_prefix:
    description:
      - Put before each option name in errors, so that they name the caller's own variables (the role passes
        V(aurora_cluster_), and an unknown version is then reported as C(aurora_cluster_engine_version=...)).
      - Omitted, errors name the module's options.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - The shipped catalogue records its date and source in C(plugins/module_utils/catalog_data_aurora_postgresql.py);
    C(scripts/refresh_catalog.py) rewrites it from a real account. Its parameter list is partial, so a parameter it
    does not list is reported as a warning, not an error, when the catalogue answers.
"""

EXAMPLES = r"""
- name: Stop before any change if AWS would refuse the settings
  vitality.aurora.aurora_preflight:
    engine_version: "16.6"
    parameter_group_family: aurora-postgresql16
    instance_classes: [db.r6g.large]
    parameters:
      rds.force_ssl: 1
      log_min_duration_statement: 2000
    kms_keys:
      aurora_cluster_kms_key_id: alias/vitality-db
      aurora_cluster_performance_insights_kms_key_id: ""
    cloudwatch_logs_exports: [postgresql]
    variable_prefix: aurora_cluster_
  register: preflight

- name: Show where the answers came from
  ansible.builtin.debug:
    var: preflight.sources
"""

RETURN = r"""
errors:
  description:
    - What AWS would refuse, one message per problem, each naming its subject and value. Empty when everything
      passed; otherwise the module fails with them.
  returned: always
  type: list
  elements: str
  sample:
    - "aurora_cluster_engine_version='16.99' is not an Aurora PostgreSQL version offered in us-east-1 (offered: 16.1,
      16.2, 16.3, 16.4, 16.6, 16.8, 16.9, 16.10)"
sources:
  description:
    - Where the answers of each catalogue came from. V(api) is the RDS API of the Region; V(catalog <date>) the
      catalogue shipped with the collection, generated on that date; V(not checked) when nothing was asked of that
      catalogue (its options omitted, or the engine version not offered).
  returned: always
  type: dict
  contains:
    engine_versions:
      description: Where the engine version, its family and its exportable log types came from.
      type: str
      returned: always
      sample: api
    orderable_instance_classes:
      description: Where the orderable instance classes came from.
      type: str
      returned: always
      sample: catalog 2026-11-30
    cluster_parameters:
      description: Where the default cluster parameters of the family came from.
      type: str
      returned: always
      sample: api
  sample: {"engine_versions": "api", "orderable_instance_classes": "api", "cluster_parameters": "api"}
kms_keys:
  description:
    - Each non-empty key of O(kms_keys) as KMS describes it, by label (the label is the key of this dictionary), as
      C(arn) (the key's ARN), C(state) (its KeyState) and C(enabled) (whether it is enabled). C(arn) and C(state)
      are null, and C(enabled) false, when the key could not be described (the reason is in RV(errors)).
  returned: always
  type: dict
  sample:
    aurora_cluster_kms_key_id:
      arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
      state: Enabled
      enabled: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.preflight import FAILURE_PREFIX, Preflight


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            engine=dict(type="str", default="aurora-postgresql", choices=["aurora-postgresql"]),
            engine_version=dict(type="str"),
            parameter_group_family=dict(type="str"),
            instance_classes=dict(type="list", elements="str", default=[]),
            parameters=dict(type="dict", default={}),
            kms_keys=dict(type="dict", default={}, no_log=False),  # key IDs and aliases, not secrets
            cloudwatch_logs_exports=dict(type="list", elements="str", default=[]),
            variable_prefix=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    rds = AwsApi(module, "rds")
    kms = AwsApi(module, "kms") if any(str(v or "").strip() for v in module.params["kms_keys"].values()) else None
    preflight = Preflight(module.params, rds, kms, module.region).run()
    for warning in preflight.warnings:
        module.warn(warning)
    result = {"errors": preflight.errors, "sources": preflight.sources, "kms_keys": preflight.kms_keys}
    if preflight.errors:
        module.fail_json(msg=FAILURE_PREFIX + "; ".join(preflight.errors), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
