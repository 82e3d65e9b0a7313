# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read-only checks that stop a run before any change when AWS would refuse the engine version, an
instance class, a cluster parameter, a KMS key or a log export type.

Shared by aurora_preflight (the role's converge path) and aurora_stack (before it creates a stack in one
pass), so both refuse the same inputs with the same words.
"""

from __future__ import annotations

import difflib

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.vitality.aurora.plugins.module_utils.api import error_code
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
        self.check_serverless_v2(version)
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
        # The option each class comes from, when they differ (a reader class of its own).
        options = self.params.get("instance_class_options") or {}
        for instance_class in wanted:
            if instance_class not in orderable:
                self.errors.append(
                    f"{self.subject(options.get(instance_class, 'instance_class'))}={instance_class!r} is not orderable for {self.name} "
                    f"{version['EngineVersion']} in {self.region} "
                    f"(orderable: {', '.join(answer['classes'])}{self.according(answer['source'])})"
                )

    # -- 2b. Serverless v2 capacity ---------------------------------------------------------------------------------

    def check_serverless_v2(self, version):
        """The capacity range against the limits AWS reports for the engine version (ServerlessV2FeaturesSupport):
        the largest maximum (256 or 128) and whether a minimum of 0 (automatic pause) is offered. A version described
        without them, as the shipped catalogue and older endpoints do, leaves the range to the static rules."""
        wanted = self.params.get("serverless_v2") or {}
        features = (version or {}).get("ServerlessV2FeaturesSupport") or {}
        if wanted.get("max_capacity") is None or not features:
            return
        names = wanted.get("names") or {}
        lowest, highest = features.get("MinCapacity"), features.get("MaxCapacity")
        if highest is not None and wanted["max_capacity"] > highest:
            self.errors.append(
                f"{self.subject(names.get('max_capacity', 'serverless_v2_max_capacity'))}={wanted['max_capacity']:g} is "
                f"above the {highest:g} ACU {self.name} {version['EngineVersion']} allows in {self.region}"
            )
        if lowest is not None and wanted["min_capacity"] < lowest:
            self.errors.append(
                f"{self.subject(names.get('min_capacity', 'serverless_v2_min_capacity'))}={wanted['min_capacity']:g} is "
                f"below the {lowest:g} ACU {self.name} {version['EngineVersion']} allows in {self.region}"
                + (" (it has no automatic pause)" if wanted["min_capacity"] == 0 else "")
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
            self.kms.fail(e, "describe_key", f"key {key_id}")
        except BotoCoreError as e:
            self.kms.fail(e, "describe_key", f"key {key_id}")


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
