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
      sample: api
    orderable_instance_classes:
      description: Where the orderable instance classes came from.
      type: str
      sample: catalog 2026-11-30
    cluster_parameters:
      description: Where the default cluster parameters of the family came from.
      type: str
      sample: api
  sample: {"engine_versions": "api", "orderable_instance_classes": "api", "cluster_parameters": "api"}
kms_keys:
  description:
    - Each non-empty key of O(kms_keys) as KMS describes it, by label. C(arn) and C(state) are null when the key
      could not be described (the reason is in RV(errors)).
  returned: always
  type: dict
  sample:
    aurora_cluster_kms_key_id:
      arn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
      state: Enabled
      enabled: true
"""

import difflib

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi, error_code
from ansible_collections.vitality.aurora.plugins.module_utils.catalog import (
    API,
    NOT_CHECKED,
    CatalogReader,
    value_error,
    version_key,
)
from ansible_collections.vitality.aurora.plugins.module_utils.parameter_settings import parameter_value

ENGINE_NAMES = {"aurora-postgresql": "Aurora PostgreSQL"}
FAILURE_PREFIX = "Invalid settings, nothing was changed: "
# RDS, Performance Insights and Secrets Manager encrypt with symmetric encryption keys only.
KEY_USAGE = "ENCRYPT_DECRYPT"
KEY_SPEC = "SYMMETRIC_DEFAULT"
KMS_REFUSALS = ("NotFoundException", "AccessDeniedException", "InvalidArnException", "DisabledException")


class Preflight:
    """The checks, from the module's parameters; ``errors``, ``warnings``, ``sources`` and ``kms_keys`` after run()."""

    def __init__(self, params, rds, kms, region):
        self.params = params
        self.prefix = params.get("variable_prefix") or ""
        self.engine = params.get("engine") or "aurora-postgresql"
        self.name = ENGINE_NAMES.get(self.engine, self.engine)
        self.region = region or "this Region"
        self.reader = CatalogReader(rds, self.engine)
        self.kms = kms
        self.errors = []
        self.warnings = []
        self.sources = {
            "engine_versions": NOT_CHECKED,
            "orderable_instance_classes": NOT_CHECKED,
            "cluster_parameters": NOT_CHECKED,
        }
        self.kms_keys = {}

    def subject(self, option):
        return f"{self.prefix}{option}"

    @staticmethod
    def according(source, separator="; "):
        """How a message says its answer came from the shipped catalogue (nothing when AWS answered)."""
        return "" if source == API else f"{separator}according to the shipped {source}"

    def run(self):
        version = self.check_engine_version()
        self.check_instance_classes(version)
        self.check_log_exports(version)
        self.check_parameters(version)
        self.check_kms_keys()
        self.warnings.extend(self.reader.warnings)
        return self

    # -- 1. engine version and family, 5. log exports -------------------------------------------------------------

    def check_engine_version(self):
        """The version's entry (EngineVersion, DBParameterGroupFamily, ExportableLogTypes), or None."""
        version = self.params.get("engine_version")
        if not version:
            return None
        answer = self.reader.engine_version(version)
        self.sources["engine_versions"] = answer["source"]
        found = answer["found"]
        if found is None:
            offered = ", ".join(answer["offered"]) or "none"
            self.errors.append(
                f"{self.subject('engine_version')}={version!r} is not an {self.name} version offered in "
                f"{self.region} (offered: {offered}{self.according(answer['source'])})"
            )
            return None
        family = self.params.get("parameter_group_family")
        actual = found.get("DBParameterGroupFamily")
        if family and actual and family != actual:
            self.errors.append(
                f"{self.subject('parameter_group_family')}={family!r} is not the family of "
                f"{self.subject('engine_version')}={version!r}: {self.name} {found['EngineVersion']} takes "
                f"parameter groups of family {actual!r}"
            )
        return found

    def check_log_exports(self, version):
        wanted = unique(self.params.get("cloudwatch_logs_exports"))
        if not wanted or version is None or "ExportableLogTypes" not in version:
            return
        exportable = sorted(version["ExportableLogTypes"])
        for log_type in wanted:
            if log_type not in exportable:
                self.errors.append(
                    f"{self.subject('cloudwatch_logs_exports')} names {log_type!r}: {self.name} "
                    f"{version['EngineVersion']} exports {'only ' + ', '.join(exportable) if exportable else 'no logs'} "
                    f"to CloudWatch Logs{self.according(self.sources['engine_versions'], ', ')}"
                )

    # -- 2. instance classes --------------------------------------------------------------------------------------

    def check_instance_classes(self, version):
        wanted = unique(self.params.get("instance_classes"))
        if not wanted or version is None:
            return
        answer = self.reader.orderable_classes(version["EngineVersion"])
        self.sources["orderable_instance_classes"] = answer["source"]
        if answer["classes"] is None:
            self.warnings.append(
                f"Neither AWS nor the shipped catalogue lists the instance classes of {self.name} "
                f"{version['EngineVersion']}: {self.subject('instance_classes')} not checked"
            )
            return
        orderable = set(answer["classes"])
        for instance_class in wanted:
            if instance_class not in orderable:
                self.errors.append(
                    f"{self.subject('instance_class')}={instance_class!r} is not orderable for {self.name} "
                    f"{version['EngineVersion']} in {self.region} "
                    f"(orderable: {', '.join(answer['classes'])}{self.according(answer['source'])})"
                )

    # -- 3. cluster parameters ------------------------------------------------------------------------------------

    def check_parameters(self, version):
        wanted = self.params.get("parameters") or {}
        if not wanted:
            return
        family = self.params.get("parameter_group_family") or (version or {}).get("DBParameterGroupFamily")
        if not family:
            self.warnings.append(
                f"{self.subject('parameters')} not checked: neither {self.subject('parameter_group_family')} nor an "
                f"offered {self.subject('engine_version')} gives the parameter group family"
            )
            return
        if version and version.get("DBParameterGroupFamily") and version["DBParameterGroupFamily"] != family:
            return  # the family is refused above: its parameters would be checked against the wrong list
        answer = self.reader.cluster_parameters(family)
        self.sources["cluster_parameters"] = answer["source"]
        if answer["refused"]:
            self.errors.append(
                f"{self.subject('parameter_group_family')}={family!r} is refused by AWS in {self.region}: "
                f"{answer['refused']}"
            )
            return
        if answer["parameters"] is None:
            self.warnings.append(
                f"Neither AWS nor the shipped catalogue lists the cluster parameters of {family}: "
                f"{self.subject('parameters')} not checked"
            )
            return
        for name in sorted(wanted):
            self.check_parameter(name, parameter_value(wanted[name]), family, answer, version)

    def check_parameter(self, name, value, family, answer, version):
        subject = f"{self.subject('parameters')}.{name}"
        known = answer["parameters"].get(name)
        if known is None:
            if not answer["complete"]:
                self.warnings.append(
                    f"{subject} is not among the {len(answer['parameters'])} parameters the shipped {answer['source']} "
                    f"lists for {family} (a partial list): its name and value were not checked"
                )
                return
            close = difflib.get_close_matches(name, list(answer["parameters"]), n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.errors.append(
                f"{subject} is not a parameter of the {family} DB cluster parameter group family in {self.region}"
                f"{self.according(answer['source'], ', ')}{hint}"
            )
            return
        if known.get("IsModifiable") is False:
            self.errors.append(
                f"{subject} cannot be set: AWS does not let users change it in {family}"
                f"{self.according(answer['source'], ', ')}"
            )
            return
        minimum = known.get("MinimumEngineVersion")
        if minimum and version and version_key(version["EngineVersion"]) < version_key(minimum):
            self.errors.append(
                f"{subject} needs {self.name} {minimum} or later, and {self.subject('engine_version')} is "
                f"{version['EngineVersion']!r}"
            )
            return
        reason = value_error(value, known.get("AllowedValues"), known.get("DataType"))
        if reason:
            self.errors.append(
                f"{subject}={value!r} {reason}: {family} allows {known['AllowedValues']} "
                f"({known.get('DataType') or 'string'}){self.according(answer['source'], ', ')}"
            )

    # -- 4. KMS keys ----------------------------------------------------------------------------------------------

    def check_kms_keys(self):
        described = {}
        for label, key_id in sorted((self.params.get("kms_keys") or {}).items()):
            if key_id is None or not str(key_id).strip():
                continue
            key_id = str(key_id).strip()
            if key_id not in described:
                described[key_id] = self.describe_key(key_id)
            metadata, refusal = described[key_id]
            if metadata is None:
                self.kms_keys[label] = {"arn": None, "state": None, "enabled": False}
                self.errors.append(f"{label}={key_id!r} {refusal}")
                continue
            self.kms_keys[label] = {
                "arn": metadata.get("Arn"),
                "state": metadata.get("KeyState"),
                "enabled": bool(metadata.get("Enabled")),
            }
            problem = key_problem(metadata)
            if problem:
                self.errors.append(f"{label}={key_id!r} ({metadata.get('Arn')}) {problem}")

    def describe_key(self, key_id):
        """(KeyMetadata, None), or (None, why KMS refused to describe it)."""
        try:
            return self.kms.client.describe_key(KeyId=key_id)["KeyMetadata"], None
        except ClientError as e:
            code = error_code(e)
            message = (getattr(e, "response", None) or {}).get("Error", {}).get("Message", "")
            if code == "NotFoundException":
                return None, f"is not a KMS key in {self.region}: {message or code}"
            if code == "AccessDeniedException":
                return None, (
                    f"cannot be described with these credentials ({code}): RDS uses a key only for a caller "
                    "allowed kms:DescribeKey and kms:CreateGrant on it"
                )
            if code in KMS_REFUSALS:
                return None, f"is refused by KMS ({code}: {message})"
            self.kms.module.fail_json_aws(e, msg=self.kms.failure_message("describe_key", f"key {key_id}"))
        except BotoCoreError as e:
            self.kms.module.fail_json_aws(e, msg=self.kms.failure_message("describe_key", f"key {key_id}"))


def unique(values):
    """The values in their order, each once."""
    return list(dict.fromkeys(values or []))


def key_problem(metadata):
    """Why RDS would refuse a described key, or None."""
    state = metadata.get("KeyState")
    if state and state != "Enabled":
        advice = " (cancel its deletion, then enable it)" if state == "PendingDeletion" else ""
        return f"is {state}: RDS needs an enabled key{advice}"
    if state is None and metadata.get("Enabled") is False:
        return "is disabled: RDS needs an enabled key"
    usage = metadata.get("KeyUsage")  # absent: KMS did not say, so not judged
    spec = metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec")
    if (usage and usage != KEY_USAGE) or (spec and spec != KEY_SPEC):
        return (
            f"is not a symmetric encryption key (KeyUsage {usage or 'not reported'}, KeySpec {spec or 'not reported'}): "
            f"RDS needs KeyUsage {KEY_USAGE} and KeySpec {KEY_SPEC}"
        )
    return None


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
