# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules RDS and PostgreSQL apply to the stack's settings, checked before any AWS call.

Every check returns a message naming the setting, the offending value (never
for a secret) and the rule, or None. The role calls ``stack_errors`` through
the ``vitality.aurora.stack_errors`` filter; the modules call the single checks.

``stack_errors`` judges typed values only: each variable it reads must already
have the Python type ``roles/aurora_cluster/meta/argument_specs.yml`` declares
(``SETTING_TYPES``). A string where a bool belongs ("false") is a programming
error of the caller and raises TypeError instead of being read for its truth.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata

from ansible_collections.vitality.aurora.plugins.module_utils.naming import (
    engine_major,
    identifier_error,
    version_tuple,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import poll_interval_error

# DB instance classes Aurora PostgreSQL 16 runs on: the one list the role and the modules use.
# 16 is the product's engine; 17 is accepted as the target of a major version upgrade.
SUPPORTED_MAJOR_VERSIONS = ("16", "17")
_SIZES_STANDARD = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
AURORA_POSTGRESQL_16_INSTANCE_CLASSES = frozenset(
    [f"db.r5.{size}" for size in _SIZES_STANDARD + ("24xlarge",)]
    + [f"db.r6g.{size}" for size in _SIZES_STANDARD]
    + [f"db.r6gd.{size}" for size in _SIZES_STANDARD]
    + [f"db.r6i.{size}" for size in _SIZES_STANDARD + ("24xlarge", "32xlarge")]
    + [f"db.r6id.{size}" for size in _SIZES_STANDARD + ("24xlarge", "32xlarge")]
    + [f"db.r7g.{size}" for size in _SIZES_STANDARD]
    + [f"db.r7i.{size}" for size in _SIZES_STANDARD + ("24xlarge", "48xlarge")]
    + [f"db.r8g.{size}" for size in _SIZES_STANDARD + ("24xlarge", "48xlarge")]
    + [f"db.x2g.{size}" for size in _SIZES_STANDARD]
    + ["db.t3.medium", "db.t3.large", "db.t4g.medium", "db.t4g.large", "db.serverless"]
)

# The type argument_specs.yml declares for every variable stack_errors reads: "str", "int", "float", "bool",
# "dict", or "list[<element type>]". tests/unit/test_validation_guards.py fails when the two disagree.
SETTING_TYPES = {
    "aurora_cluster_environment": "str",
    "aurora_cluster_aws_region": "str",
    "aurora_cluster_identifier": "str",
    "aurora_cluster_writer_identifier": "str",
    "aurora_cluster_reader_identifier_prefix": "str",
    "aurora_cluster_reader_count": "int",
    "aurora_cluster_parameter_group_name": "str",
    "aurora_cluster_parameter_group_family": "str",
    "aurora_cluster_subnet_group_name": "str",
    "aurora_cluster_database_name": "str",
    "aurora_cluster_master_username": "str",
    "aurora_cluster_manage_master_user_password": "bool",
    "aurora_cluster_master_user_password": "str",
    "aurora_cluster_master_user_secret_kms_key_id": "str",
    "aurora_cluster_engine_version": "str",
    "aurora_cluster_instance_class": "str",
    "aurora_cluster_reader_instance_class": "str",
    "aurora_cluster_serverless_v2_min_capacity": "float",
    "aurora_cluster_serverless_v2_max_capacity": "float",
    "aurora_cluster_serverless_v2_seconds_until_auto_pause": "int",
    "aurora_cluster_ca_certificate_identifier": "str",
    "aurora_cluster_custom_endpoints": "list[dict]",
    "aurora_cluster_private_subnet_names": "list[str]",
    "aurora_cluster_backup_retention_period": "int",
    "aurora_cluster_port": "int",
    "aurora_cluster_preferred_backup_window": "str",
    "aurora_cluster_preferred_maintenance_window": "str",
    "aurora_cluster_db_security_group_extra_ingress": "list[dict]",
    "aurora_cluster_default_parameters": "dict",
    "aurora_cluster_parameters": "dict",
    "aurora_cluster_storage_encrypted": "bool",
    "aurora_cluster_kms_key_id": "str",
    "aurora_cluster_deletion_protection": "bool",
    "aurora_cluster_cloudwatch_logs_exports": "list[str]",
    "aurora_cluster_performance_insights_enabled": "bool",
    "aurora_cluster_performance_insights_retention_period": "int",
    "aurora_cluster_performance_insights_kms_key_id": "str",
    "aurora_cluster_event_topic_kms_key_id": "str",
    "aurora_cluster_monitoring_interval": "int",
    "aurora_cluster_backup_start_window_minutes": "int",
    "aurora_cluster_backup_retention_days": "int",
    "aurora_cluster_default_tags": "dict",
    "aurora_cluster_tags": "dict",
    "aurora_cluster_wait_timeout": "int",
    "aurora_cluster_wait_max_poll_interval": "float",
    "aurora_cluster_allow_plaintext_transport": "bool",
    "aurora_cluster_allow_unencrypted_storage": "bool",
    "aurora_cluster_allow_prod_without_deletion_protection": "bool",
    "aurora_cluster_allow_public_ingress": "bool",
    "aurora_cluster_event_notifications_enabled": "bool",
    "aurora_cluster_event_topic_arn": "str",
    "aurora_cluster_alarms_enabled": "bool",
    "aurora_cluster_alarm_period_seconds": "int",
    "aurora_cluster_alarm_evaluation_periods": "int",
    "aurora_cluster_alarm_cpu_percent": "float",
    "aurora_cluster_alarm_freeable_memory_percent": "float",
    "aurora_cluster_alarm_connections_percent": "float",
    "aurora_cluster_alarm_replica_lag_ms": "float",
    "aurora_cluster_alarm_deadlocks_per_second": "float",
    "aurora_cluster_alarm_free_local_storage_gib": "float",
    "aurora_cluster_alarm_acu_utilization_percent": "float",
    "aurora_cluster_autoscaling_enabled": "bool",
    "aurora_cluster_autoscaling_max_readers": "int",
    "aurora_cluster_autoscaling_metric": "str",
    "aurora_cluster_autoscaling_target_value": "float",
    "aurora_cluster_autoscaling_scale_in_cooldown": "int",
    "aurora_cluster_autoscaling_scale_out_cooldown": "int",
    "aurora_cluster_autoscaling_disable_scale_in": "bool",
    "aurora_cluster_autoscaling_readers_on_disable": "str",
    "aurora_cluster_major_upgrade_strategy": "str",
    "aurora_cluster_blue_green_switchover": "bool",
    "aurora_cluster_blue_green_switchover_timeout": "int",
    "aurora_cluster_blue_green_retention_hours": "int",
    "aurora_cluster_blue_green_rollback": "bool",
    "aurora_cluster_backup_plan_enabled": "bool",
    "aurora_cluster_backup_copy_region": "str",
    "aurora_cluster_backup_copy_retention_days": "int",
    "aurora_cluster_backup_copy_kms_key_arn": "str",
    "aurora_cluster_backup_copy_account_vault_arn": "str",
    "aurora_cluster_backup_copy_account_retention_days": "int",
    "aurora_cluster_instance_change_strategy": "str",
    "aurora_cluster_name": "str",
    "aurora_cluster_secondary_region": "str",
    "aurora_cluster_secondary_vpc_name": "str",
    "aurora_cluster_secondary_private_subnet_names": "list[str]",
    "aurora_cluster_secondary_app_security_group_name": "str",
    "aurora_cluster_secondary_reader_count": "int",
    "aurora_cluster_secondary_instance_class": "str",
    "aurora_cluster_secondary_remove_confirm": "str",
}

# What stack_errors assumes for a variable the caller leaves out: the argument spec's default where it is a
# constant; "" for the Region (required by the spec; without it the Region of a KMS key ARN is not compared) and
# {} for the default tags (a template in the spec). Every other variable it reads must be given.
SETTING_DEFAULTS = {
    "aurora_cluster_aws_region": "",
    "aurora_cluster_master_user_password": "",
    "aurora_cluster_master_user_secret_kms_key_id": "",
    "aurora_cluster_reader_instance_class": "",
    "aurora_cluster_serverless_v2_min_capacity": None,
    "aurora_cluster_serverless_v2_max_capacity": None,
    "aurora_cluster_serverless_v2_seconds_until_auto_pause": None,
    "aurora_cluster_ca_certificate_identifier": "rds-ca-rsa2048-g1",
    "aurora_cluster_custom_endpoints": [],
    "aurora_cluster_db_security_group_extra_ingress": [],
    "aurora_cluster_default_parameters": {"rds.force_ssl": 1},
    "aurora_cluster_parameters": {},
    "aurora_cluster_kms_key_id": "",
    "aurora_cluster_cloudwatch_logs_exports": ["postgresql"],
    "aurora_cluster_performance_insights_enabled": False,
    "aurora_cluster_performance_insights_retention_period": 7,
    "aurora_cluster_performance_insights_kms_key_id": "",
    "aurora_cluster_event_topic_kms_key_id": "",
    "aurora_cluster_monitoring_interval": 0,
    "aurora_cluster_backup_start_window_minutes": 60,
    "aurora_cluster_backup_retention_days": 35,
    "aurora_cluster_default_tags": {},
    "aurora_cluster_tags": {},
    "aurora_cluster_wait_timeout": 3600,
    "aurora_cluster_wait_max_poll_interval": 20.0,
    "aurora_cluster_allow_plaintext_transport": False,
    "aurora_cluster_allow_unencrypted_storage": False,
    "aurora_cluster_allow_prod_without_deletion_protection": False,
    "aurora_cluster_allow_public_ingress": False,
    "aurora_cluster_event_notifications_enabled": False,
    "aurora_cluster_event_topic_arn": "",
    "aurora_cluster_alarms_enabled": False,
    "aurora_cluster_alarm_period_seconds": 60,
    "aurora_cluster_alarm_evaluation_periods": 5,
    "aurora_cluster_alarm_cpu_percent": 80.0,
    "aurora_cluster_alarm_freeable_memory_percent": 10.0,
    "aurora_cluster_alarm_connections_percent": 80.0,
    "aurora_cluster_alarm_replica_lag_ms": 1000.0,
    "aurora_cluster_alarm_deadlocks_per_second": 0.0,
    "aurora_cluster_alarm_free_local_storage_gib": 2.0,
    "aurora_cluster_alarm_acu_utilization_percent": 90.0,
    "aurora_cluster_autoscaling_enabled": False,
    "aurora_cluster_autoscaling_max_readers": 3,
    "aurora_cluster_autoscaling_metric": "RDSReaderAverageCPUUtilization",
    "aurora_cluster_autoscaling_target_value": 60.0,
    "aurora_cluster_autoscaling_scale_in_cooldown": 300,
    "aurora_cluster_autoscaling_scale_out_cooldown": 300,
    "aurora_cluster_autoscaling_disable_scale_in": False,
    "aurora_cluster_autoscaling_readers_on_disable": "keep",
    "aurora_cluster_major_upgrade_strategy": "in-place",
    "aurora_cluster_blue_green_switchover": False,
    "aurora_cluster_blue_green_switchover_timeout": 300,
    "aurora_cluster_blue_green_retention_hours": 24,
    "aurora_cluster_blue_green_rollback": False,
    "aurora_cluster_backup_plan_enabled": False,
    "aurora_cluster_backup_copy_region": "",
    "aurora_cluster_backup_copy_retention_days": 35,
    "aurora_cluster_backup_copy_kms_key_arn": "",
    "aurora_cluster_backup_copy_account_vault_arn": "",
    "aurora_cluster_backup_copy_account_retention_days": 35,
    "aurora_cluster_instance_change_strategy": "rolling",
    # Required by the spec; without it the global database's names are not checked.
    "aurora_cluster_name": "",
    "aurora_cluster_secondary_region": "",
    "aurora_cluster_secondary_vpc_name": "",
    "aurora_cluster_secondary_private_subnet_names": [],
    "aurora_cluster_secondary_app_security_group_name": "",
    "aurora_cluster_secondary_reader_count": 0,
    "aurora_cluster_secondary_instance_class": "",
    "aurora_cluster_secondary_remove_confirm": "",
}

# Never quoted in a message, not even in a TypeError.
SECRET_SETTINGS = frozenset(["aurora_cluster_master_user_password"])
# Settings whose null means "not set" (their declared default is null, e.g. the Serverless v2 capacity range), not a
# user's mistake.
OPTIONAL_SETTINGS = frozenset(key for key, default in SETTING_DEFAULTS.items() if default is None)

# A float setting takes an int too (20 is 20.0); bool is never an int here although Python says it is one.
_PYTHON_TYPES = {"str": (str,), "int": (int,), "float": (float, int), "bool": (bool,), "list": (list,), "dict": (dict,)}
_EMPTY = {"str": str, "list": list, "dict": dict}


def _declared(key):
    kind, unused, element = SETTING_TYPES[key].partition("[")
    return kind, element.rstrip("]") or None


def _has_type(value, kind):
    if isinstance(value, bool) and kind != "bool":
        return False
    return isinstance(value, _PYTHON_TYPES[kind])


def _shown(key, value):
    return "(value hidden)" if key in SECRET_SETTINGS else repr(value)


def setting_type_errors(settings):
    """Raise TypeError for a value of another type than its declaration; return the messages for null values.

    A null (a YAML key with no value) reaches us untyped from the user: a str, list or dict one counts as
    empty, a bool, int or float one or a null list element is refused with a message, as a user's mistake.
    """
    nulls = []
    for key in SETTING_TYPES:
        if key not in settings:
            continue
        value = settings[key]
        kind, element = _declared(key)
        if value is None:
            if kind not in _EMPTY and key not in OPTIONAL_SETTINGS:
                nulls.append(f"{key} is null (a YAML key with no value): give a {kind} or leave the variable out")
            continue
        if not _has_type(value, kind):
            raise TypeError(
                f"stack_errors: {key} is {type(value).__name__} {_shown(key, value)}, but argument_specs.yml "
                f"declares it {kind}: convert every setting to its declared type before checking it"
            )
        for index, item in enumerate(value if element else ()):
            if item is None:
                nulls.append(f"{key}[{index}] is null (a YAML list item with no value): give a {element}")
            elif not _has_type(item, element):
                raise TypeError(
                    f"stack_errors: {key}[{index}] is {type(item).__name__} {_shown(key, item)}, but "
                    f"argument_specs.yml declares the elements of {key} {element}"
                )
    return nulls


def _value(settings, key):
    """The typed value of ``key``: its default when left out, an empty str/list/dict for a null one."""
    value = settings.get(key, SETTING_DEFAULTS[key]) if key in SETTING_DEFAULTS else settings[key]
    if value is None and key not in OPTIONAL_SETTINGS:
        return _EMPTY[_declared(key)[0]]()
    return value


# --- Names -----------------------------------------------------------------------------------------------------

# PostgreSQL's reserved key words (PostgreSQL 16 documentation, Appendix C, "reserved" and "reserved (can be
# function or type)"). AWS documents for both DatabaseName and MasterUsername "Can't be a reserved word for the
# chosen database engine" without a list of its own: these are that engine's reserved words.
POSTGRESQL_RESERVED_WORDS = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate
    collation column concurrently constraint create cross current_catalog current_date current_role
    current_schema current_time current_timestamp current_user default deferrable desc distinct do else end
    except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into
    is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on
    only or order outer overlaps placing primary references returning right select session_user similar some
    symmetric system_user table tablesample then to trailing true union unique user using variadic verbose
    when where window with""".split()
)

# MasterUsername: 1 to 16 letters, digits or underscores, a letter first, not a word the engine reserves
# (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/aws.sdk.kotlin.services.rds.model/-create-db-instance-request/master-username.html).
# Roles RDS creates in every Aurora PostgreSQL cluster: the master user cannot take one of their names
# (rdsadmin is refused by CreateDBCluster itself; the others already exist when the master user is created).
RDS_ROLE_NAMES = frozenset(
    ["rdsadmin", "rds_superuser", "rdsrepladmin", "rds_replication", "rds_password", "rdstopmgr", "rds_iam", "rds_ad"]
)
# Names CreateDBCluster answers "cannot be used as it is a reserved word used by the engine" for Aurora
# PostgreSQL although PostgreSQL does not reserve them. "postgres", the console's default, is accepted
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.html;
# admin refused, rdsadmin refused, postgres accepted, tried on AWS: https://github.com/aws-cloudformation/cfn-lint/pull/4425).
RDS_RESERVED_MASTER_USERNAMES = frozenset(["admin"])
# PostgreSQL refuses CREATE ROLE for these two names ("role name ... is reserved"), and every name starting
# with pg_ (RDS answers 'role names starting with "pg_" are reserved by the PostgreSQL engine':
# https://github.com/DataShades/ckan-aws-templates/issues/6).
POSTGRESQL_RESERVED_ROLE_NAMES = frozenset(["public", "none"])
# DatabaseName for Aurora PostgreSQL: 1 to 63 letters, digits or underscores, a letter first, not a word the engine
# reserves (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/aws.sdk.kotlin.services.rds.model/-create-db-instance-request/db-name.html).
# Databases every Aurora PostgreSQL cluster already has besides postgres: creating one of these names again
# fails. "postgres" itself is accepted by AWS (it is the database always created) and so here.
EXISTING_DATABASES = frozenset(["template0", "template1", "rdsadmin"])

_DATABASE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_MASTER_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
_SUBNET_GROUP = re.compile(r"^[A-Za-z][A-Za-z0-9._ -]{0,254}$")


def subnet_group_name_error(option, value):
    if not value or not _SUBNET_GROUP.match(value) or value.lower() == "default":
        return (
            f"{option}={value!r} is invalid: a DB subnet group name is 1 to 255 letters, digits, periods, "
            "underscores, spaces or hyphens, starts with a letter, and is not 'default'"
        )
    return None


def lower_case_error(option, value, kind):
    """RDS stores these names in lower case: one with capitals is never found again under the name asked for.

    "This parameter is stored as a lowercase string" (DBClusterIdentifier, DBInstanceIdentifier,
    DBClusterParameterGroupName, DBSubnetGroupName in the RDS API reference).
    """
    if value and value != value.lower():
        return (
            f"{option}={value!r} has upper-case letters: AWS stores a {kind} name in lower case, so the run "
            f"would not find it again to compare; use {value.lower()!r}"
        )
    return None


def database_name_error(option, value):
    rule = (
        "a database name is 1 to 63 letters, digits or underscores, starts with a letter, and is not a PostgreSQL "
        "reserved word"
    )
    if not value or not _DATABASE_NAME.match(value):
        return f"{option}={value!r} is invalid: {rule}"
    lower = value.lower()
    if lower in POSTGRESQL_RESERVED_WORDS:
        return f"{option}={value!r} is reserved: {rule}"
    if lower in EXISTING_DATABASES:
        return f"{option}={value!r} is reserved: every Aurora PostgreSQL cluster already has a database of that name"
    return None


def master_username_error(option, value):
    rule = "a master user name is 1 to 16 letters, digits or underscores and starts with a letter"
    if not value or not _MASTER_USERNAME.match(value):
        return f"{option}={value!r} is invalid: {rule}"
    lower = value.lower()
    if lower in RDS_ROLE_NAMES:
        return f"{option}={value!r} is reserved: RDS keeps that role name for itself"
    if lower in RDS_RESERVED_MASTER_USERNAMES:
        return f"{option}={value!r} is reserved: AWS refuses it as an Aurora PostgreSQL master user name"
    if lower.startswith("pg_") or lower in POSTGRESQL_RESERVED_ROLE_NAMES:
        return f"{option}={value!r} is reserved: PostgreSQL reserves public, none and every role name starting with pg_"
    if lower in POSTGRESQL_RESERVED_WORDS:
        return f"{option}={value!r} is reserved: {rule}, and is not a PostgreSQL reserved word"
    return None


_PASSWORD_FORBIDDEN = set("/\"'@ ")


def password_error(option, value):
    """Never quotes the value."""
    if value is None or not 8 <= len(value) <= 128:
        return f"{option} is invalid (value hidden): the master password is 8 to 128 characters"
    if any(ch in _PASSWORD_FORBIDDEN for ch in value) or any(not 32 < ord(ch) < 127 for ch in value):
        return (
            f"{option} is invalid (value hidden): the master password is printable ASCII without "
            "'/', '\"', \"'\", '@' or spaces"
        )
    return None


def instance_class_error(option, value):
    if value not in AURORA_POSTGRESQL_16_INSTANCE_CLASSES:
        return (
            f"{option}={value!r} is not a DB instance class Aurora PostgreSQL 16 supports "
            "(for example db.r6g.large, db.r7g.xlarge, db.t4g.medium)"
        )
    return None


# An engine version is compared as text: "16.10" and "16.1" are different versions.
_ENGINE_VERSION = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))?$")


def engine_version_errors(version_option, version, family_option, family):
    major = version.split(".", 1)[0]
    if not _ENGINE_VERSION.match(version) or major not in SUPPORTED_MAJOR_VERSIONS:
        return [
            f"{version_option}={version!r} is invalid: must be 16 or 16.x (Aurora PostgreSQL 16), "
            "or 17.x for a major version upgrade"
        ]
    if family != f"aurora-postgresql{major}":
        return [
            f"{family_option}={family!r} does not match {version_option}={version!r}: must be aurora-postgresql{major}"
        ]
    return []


# --- The instances' certificate authority ----------------------------------------------------------------------

# The CAs RDS offers for Aurora PostgreSQL instances (RDS user guide, "Certificate authorities"), and the expired ones
# an instance must no longer use: rds-ca-2019 expired in August 2024, rds-ca-2015 in March 2020. A newer rds-ca-* name
# of the same form is accepted (AWS adds authorities; it refuses one it does not have).
CA_CERTIFICATES = ("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1")
EXPIRED_CA_CERTIFICATES = {"rds-ca-2019": "August 2024", "rds-ca-2015": "March 2020"}
_CA_CERTIFICATE = re.compile(r"^rds-ca-[a-z0-9]+(-[a-z0-9]+)*$")


def ca_certificate_error(option, value):
    if value in EXPIRED_CA_CERTIFICATES:
        return (
            f"{option}={value!r} expired in {EXPIRED_CA_CERTIFICATES[value]}: clients would refuse the server's "
            f"certificate; use one of {', '.join(CA_CERTIFICATES)}"
        )
    if not value or not _CA_CERTIFICATE.match(value):
        return (
            f"{option}={value!r} is invalid: an RDS certificate authority is named rds-ca-<name> in lower-case "
            f"letters, digits and hyphens, for example {', '.join(CA_CERTIFICATES)}"
        )
    return None


# --- Custom endpoints ------------------------------------------------------------------------------------------
# The rules of a cluster's custom endpoints (endpoint_plan applies them to aurora_stack's option too).

ENDPOINT_TYPES = ("READER", "ANY")
ENDPOINT_KEYS = ("name", "type", "static_members", "excluded_members", "tags")
# An endpoint's name may not make the identifier of one of the role's instances (<cluster>-writer, <cluster>-reader-1).
_RESERVED_ENDPOINT_NAME = re.compile(r"^(writer|reader(-[0-9]+)?)$")
_ENDPOINT_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_READER_REFERENCE = re.compile(r"^reader-([1-9][0-9]*)$")


def endpoint_identifier(cluster_identifier, name):
    """A custom endpoint's identifier: unique in the Region, so the cluster's name leads it."""
    return f"{cluster_identifier}-{name}"


def member_identifier(reference, writer_identifier, reader_prefix, reader_count):
    """The instance identifier a member reference names (writer, reader-<n>, or an identifier), or None when the
    inventory makes no such instance."""
    if reference in ("writer", writer_identifier):
        return writer_identifier
    match = _READER_REFERENCE.match(reference)
    number = match.group(1) if match else None
    if number is None and reference.startswith(reader_prefix) and reference[len(reader_prefix) :].isdigit():
        number = reference[len(reader_prefix) :]
        if number.startswith("0"):
            return None
    if number is not None and 1 <= int(number) <= reader_count:
        return f"{reader_prefix}{int(number)}"
    return None


def _text_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _member_errors(where, key, kind, references, writer_identifier, reader_prefix, reader_count):
    errors = []
    instances = (
        f"writer, reader-1 to reader-{reader_count}, or their identifiers"
        if reader_count
        else ("writer, or its identifier; there is no reader")
    )
    resolved = []
    for reference in references:
        identifier = member_identifier(reference, writer_identifier, reader_prefix, reader_count)
        resolved.append(identifier)
        if identifier is None:
            errors.append(
                f"{where}.{key} names {reference!r}, which is not one of the instances the inventory makes ({instances})"
            )
        elif key == "static_members" and kind == "READER" and identifier == writer_identifier:
            errors.append(
                f"{where}.static_members names the writer ({reference!r}): a READER endpoint serves readers only; make "
                "it type ANY, or name readers"
            )
    known = [r for r in resolved if r]
    if len(set(known)) != len(known):
        errors.append(f"{where}.{key}={references!r} names an instance more than once")
    return errors


def endpoint_errors(option, endpoints, cluster_identifier, writer_identifier, reader_prefix, reader_count):
    """Every rule the custom endpoints break, each message naming the option, the value and the rule."""
    if not isinstance(endpoints, list):
        return [f"{option} is {type(endpoints).__name__}: a list of endpoints, each a dict with a name"]
    errors, seen = [], set()
    for index, endpoint in enumerate(endpoints):
        where = f"{option}[{index}]"
        if not isinstance(endpoint, dict):
            errors.append(f"{where}={endpoint!r} is invalid: each endpoint is a dict with a name")
            continue
        unknown = sorted(set(endpoint) - set(ENDPOINT_KEYS))
        if unknown:
            errors.append(f"{where} has unknown keys {unknown}: an endpoint takes {', '.join(ENDPOINT_KEYS)}")
        name = endpoint.get("name")
        if not isinstance(name, str) or not name:
            errors.append(f"{where}.name is missing: each endpoint has a name (lower-case letters, digits, hyphens)")
            continue
        where = f"{option}[{name}]"
        if not _ENDPOINT_NAME.match(name):
            errors.append(
                f"{where}.name={name!r} is invalid: an endpoint name is lower-case letters, digits or hyphens and starts "
                "with a letter (AWS stores endpoint identifiers in lower case)"
            )
        else:
            identifier = endpoint_identifier(cluster_identifier, name)
            if identifier_error(f"{where}.name", identifier, "instance"):
                errors.append(
                    f"{where}.name={name!r} is invalid: its identifier {identifier!r} (<cluster identifier>-<name>) must "
                    "be at most 63 characters, with no two consecutive hyphens and no trailing hyphen"
                )
        if _RESERVED_ENDPOINT_NAME.match(name):
            errors.append(
                f"{where}.name={name!r} is reserved: {cluster_identifier}-{name} would read as one of the cluster's "
                "instances; choose a name that says what the endpoint serves (for example analytics)"
            )
        if name in seen:
            errors.append(f"{where}.name={name!r} is given more than once: each endpoint once")
        seen.add(name)
        kind = endpoint.get("type") or "READER"
        if kind not in ENDPOINT_TYPES:
            errors.append(f"{where}.type={kind!r} is invalid: READER (readers only) or ANY (the writer too)")
        lists = {}
        for key in ("static_members", "excluded_members"):
            value = endpoint.get(key) or []
            if not _text_list(value):
                errors.append(f"{where}.{key}={value!r} is invalid: a list of instance names (writer, reader-<n>)")
                value = []
            lists[key] = value
            errors += _member_errors(where, key, kind, value, writer_identifier, reader_prefix, reader_count)
        if lists["static_members"] and lists["excluded_members"]:
            errors.append(
                f"{where} has both static_members and excluded_members: give one (static: only those instances; "
                "excluded: every eligible instance but those, new and autoscaled readers included)"
            )
        tags = endpoint.get("tags") or {}
        if not isinstance(tags, dict):
            errors.append(f"{where}.tags={tags!r} is invalid: a dict of tag names to values")
    return errors


# --- Aurora Serverless v2 --------------------------------------------------------------------------------------

SERVERLESS_CLASS = "db.serverless"
# ServerlessV2ScalingConfiguration (RDS API reference): capacity in half-ACU steps; the maximum is at most 256 ACU
# on recent Aurora versions (128 on older ones: the preflight asks AWS for the engine version's own limit), and
# AWS refuses a maximum below 1 ("The maximum capacity must be at least 1.0").
ACU_STEP = 0.5
MAX_CAPACITY_RANGE = (1.0, 256.0)
# A minimum of 0 ACU pauses idle instances (automatic pause). Aurora PostgreSQL offers it from these minor versions of
# each major (Aurora user guide, "Scaling to Zero ACUs with automatic pause and resume"); every 17 release has it.
AUTO_PAUSE_FROM = {"13": (13, 15), "14": (14, 12), "15": (15, 7), "16": (16, 3)}
AUTO_PAUSE_SECONDS_RANGE = (300, 86400)
AUTO_PAUSE_DEFAULT_SECONDS = 300


def acu_words(value):
    """A capacity as people write it: 0.5, 1, 256 (not 1.0)."""
    return f"{value:g}"


def auto_pause_supported(version):
    """Whether an Aurora PostgreSQL version offers a minimum of 0 ACU; a major version alone is AWS's default minor
    of that major, newer than the first that has it for 16 and 17."""
    major = engine_major(version)
    first = AUTO_PAUSE_FROM.get(major)
    if first is None:
        return major.isdigit() and int(major) > 16
    if "." not in str(version):
        return major == "16"
    return version_tuple(version)[:2] >= first


def capacity_names(range_prefix, engine_version_name):
    """How errors name the capacity range's settings (``<range_prefix>min_capacity``, ...) and the engine version:
    the role's variables, aurora_cluster's options or aurora_stack's, each from its own prefix."""
    names = {key: f"{range_prefix}{key}" for key in ("min_capacity", "max_capacity", "seconds_until_auto_pause")}
    names["engine_version"] = engine_version_name
    return names


def serverless_v2_errors(names, minimum, maximum, seconds, engine_version, classes):
    """The rules of an Aurora Serverless v2 capacity range, each message naming the variable, the value and the rule.

    ``names``: the option names of min_capacity, max_capacity, seconds_until_auto_pause and engine_version;
    ``minimum``/``maximum``/``seconds``: the values, None when not set; ``classes``: (option name, instance class) of
    each instance class in use, for the rule that db.serverless needs the range.
    """
    errors = []
    min_name, max_name, seconds_name = names["min_capacity"], names["max_capacity"], names["seconds_until_auto_pause"]
    serverless = [name for name, value in classes if value == SERVERLESS_CLASS]
    if minimum is None or maximum is None:
        missing, given = (min_name, (max_name, maximum)) if minimum is None else (max_name, (min_name, minimum))
        if given[1] is not None:
            errors.append(
                f"{missing} is empty while {given[0]}={acu_words(given[1])}: a Serverless v2 capacity range takes both "
                "its minimum and its maximum (ACU), or neither"
            )
        elif serverless:
            errors.append(
                f"{serverless[0]}={SERVERLESS_CLASS!r} needs the cluster's Serverless v2 capacity range: set {min_name} "
                f"and {max_name} (ACU, in steps of {acu_words(ACU_STEP)}; AWS refuses a db.serverless instance in a "
                "cluster without one)"
            )
        if seconds is not None and minimum is None:
            errors.append(
                f"{seconds_name}={seconds} is set without a Serverless v2 capacity range: automatic pause needs "
                f"{min_name}=0"
            )
        return errors
    for name, value in ((min_name, minimum), (max_name, maximum)):
        if not (value / ACU_STEP).is_integer():
            errors.append(
                f"{name}={value!r} is invalid: Aurora Serverless v2 capacity is set in steps of "
                f"{acu_words(ACU_STEP)} ACU (0, 0.5, 1, 1.5, ...)"
            )
    if minimum < 0:
        errors.append(f"{min_name}={acu_words(minimum)} is out of range: the minimum capacity is 0 ACU or more")
    low, high = MAX_CAPACITY_RANGE
    if not low <= maximum <= high:
        errors.append(
            f"{max_name}={acu_words(maximum)} is out of range: {acu_words(low)} to {acu_words(high)} ACU (AWS takes a "
            f"maximum of at least {acu_words(low)}, and at most 256 on recent Aurora platform versions, 128 on older "
            "ones)"
        )
    if minimum > maximum:
        errors.append(
            f"{min_name}={acu_words(minimum)} is above {max_name}={acu_words(maximum)}: the minimum capacity must not "
            "exceed the maximum"
        )
    if minimum == 0 and engine_version and not auto_pause_supported(engine_version):
        first = AUTO_PAUSE_FROM.get(engine_major(engine_version))
        since = ".".join(map(str, first)) if first else "a later version"
        errors.append(
            f"{min_name}=0 needs automatic pause, which Aurora PostgreSQL {engine_major(engine_version)} offers from "
            f"{since} on (16.3, 15.7, 14.12, 13.15, every 17): {names['engine_version']}={engine_version!r} does not; "
            "use a minimum of 0.5 or a newer engine version"
        )
    if seconds is not None:
        s_low, s_high = AUTO_PAUSE_SECONDS_RANGE
        if minimum != 0:
            errors.append(
                f"{seconds_name}={seconds} is set while {min_name}={acu_words(minimum)}: instances pause only with a "
                f"minimum of 0 ACU; leave {seconds_name} empty, or set {min_name}=0"
            )
        elif not s_low <= seconds <= s_high:
            errors.append(
                f"{seconds_name}={seconds} is out of range: {s_low} to {s_high} seconds (5 minutes to a day) idle "
                "before an instance pauses"
            )
    return errors


# --- Windows ---------------------------------------------------------------------------------------------------

_BACKUP_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_MAINTENANCE_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def backup_window_minutes(value):
    """(start, end) minutes of the day, or None when malformed."""
    match = _BACKUP_WINDOW.match(value or "")
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def maintenance_window_minutes(value):
    """(start, end) minutes of the week, or None when malformed."""
    match = _MAINTENANCE_WINDOW.match((value or "").lower())
    if not match:
        return None
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = DAYS.index(d1) * MINUTES_PER_DAY + int(h1) * 60 + int(m1)
    end = DAYS.index(d2) * MINUTES_PER_DAY + int(h2) * 60 + int(m2)
    return start, end


def _length(start, end, period):
    return (end - start) % period


def _intervals(start, end, period):
    """A possibly wrapping interval as plain [start, end) pieces within one period."""
    if end > start:
        return [(start, end)]
    return [(start, period), (0, end)]


def window_errors(backup_option, backup, maintenance_option, maintenance):
    errors = []
    backup_range = backup_window_minutes(backup) if backup else None
    maintenance_range = maintenance_window_minutes(maintenance) if maintenance else None
    if backup and backup_range is None:
        errors.append(f"{backup_option}={backup!r} is malformed: the backup window is hh24:mi-hh24:mi in UTC")
    elif backup_range and _length(*backup_range, MINUTES_PER_DAY) < 30:
        errors.append(f"{backup_option}={backup!r} is too short: the backup window lasts at least 30 minutes")
    if maintenance and maintenance_range is None:
        errors.append(
            f"{maintenance_option}={maintenance!r} is malformed: the maintenance window is ddd:hh24:mi-ddd:hh24:mi "
            "in UTC (ddd one of mon..sun)"
        )
    elif maintenance_range and _length(*maintenance_range, MINUTES_PER_WEEK) < 30:
        errors.append(
            f"{maintenance_option}={maintenance!r} is too short: the maintenance window lasts at least 30 minutes"
        )
    if errors or not (backup_range and maintenance_range):
        return errors
    daily = []
    for day in range(7):
        for start, end in _intervals(*backup_range, MINUTES_PER_DAY):
            offset = day * MINUTES_PER_DAY
            daily.append(((start + offset) % MINUTES_PER_WEEK, (end + offset - 1) % MINUTES_PER_WEEK + 1))
    weekly = _intervals(*maintenance_range, MINUTES_PER_WEEK)
    for b_start, b_end in daily:
        for b_piece in _intervals(b_start, b_end, MINUTES_PER_WEEK):
            if any(b_piece[0] < m_end and m_start < b_piece[1] for m_start, m_end in weekly):
                return [
                    f"{backup_option}={backup!r} overlaps {maintenance_option}={maintenance!r}: "
                    "the daily backup window and the weekly maintenance window must not overlap"
                ]
    return []


# --- Ingress ---------------------------------------------------------------------------------------------------

# Networks that never reach the internet: RFC 1918, RFC 6598 (carrier-grade NAT) and IPv6 unique local addresses.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_PRIVATE_TEXT = ", ".join(str(network) for network in PRIVATE_NETWORKS)
# EC2 takes a CIDR as address/prefix length only: a bare address or a netmask is refused.
_CIDR_TEXT = re.compile(r"^[0-9A-Fa-f:.]+/\d{1,3}$")


def normalise_cidr(value):
    """The canonical text of a CIDR, for comparing rules: '10.1.2.3/8' -> '10.0.0.0/8', 'FD00:0::/8' -> 'fd00::/8'.

    Raises ValueError when ``value`` is not an IPv4 or IPv6 network.
    """
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a CIDR")
    return str(ipaddress.ip_network(value.strip(), strict=False))


def is_private_network(network):
    """True when every address of ``network`` (an ipaddress network) is in PRIVATE_NETWORKS."""
    return any(network.version == private.version and network.subnet_of(private) for private in PRIVATE_NETWORKS)


def _cidr_error(where, cidr, version, allow_public):
    example = "10.0.0.0/16" if version == 4 else "fd00::/8"
    malformed = (
        f"{where}={cidr!r} is malformed: a CIDR is an IPv{version} address, '/' and a prefix length "
        f"(for example {example})"
    )
    if not isinstance(cidr, str) or not _CIDR_TEXT.match(cidr.strip()):
        return malformed
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return malformed
    if network.version != version:
        return f"{where}={cidr!r} is an IPv{network.version} CIDR: cidr_ip takes IPv4 CIDRs, cidr_ipv6 IPv6 ones"
    if not allow_public and not is_private_network(network):
        return (
            f"{where}={cidr!r} is refused: {network} reaches addresses outside the private ranges ({_PRIVATE_TEXT}), "
            "and the database is never open to the internet; allow a security group or a private CIDR instead, "
            "or set aurora_cluster_allow_public_ingress=true to accept the risk"
        )
    return None


def ingress_rule_errors(option, rules, allow_public=False):
    """Every cidr_ip/cidr_ipv6 of the rules parsed as a network; one outside the private ranges is refused
    unless ``allow_public``."""
    errors = []
    for index, rule in enumerate(rules or []):
        for key, version in (("cidr_ip", 4), ("cidr_ipv6", 6)):
            values = rule.get(key)
            if values is None or values == "" or values == []:
                continue
            if isinstance(values, list):
                cidrs = [(f"{option}[{index}].{key}[{position}]", cidr) for position, cidr in enumerate(values)]
            else:
                cidrs = [(f"{option}[{index}].{key}", values)]
            for where, cidr in cidrs:
                error = _cidr_error(where, cidr, version, allow_public)
                if error:
                    errors.append(error)
    return errors


# --- KMS -------------------------------------------------------------------------------------------------------

_KMS_KEY_ID = re.compile(
    r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|mrk-[0-9A-Fa-f]{32})$"
)
_KMS_ARN = re.compile(r"^arn:aws[-a-z]*:kms:((?:[a-z]+-){2,3}\d+):(\d{12}):(.+)$")
# KMS: an alias name is alias/ then letters, digits, '/', '_' or '-', 256 characters at most; alias/aws/ names
# AWS managed keys only (https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html). Key IDs, mrk-
# multi-Region key IDs, key and alias ARNs:
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/kms/aws.sdk.kotlin.services.kms.model/-describe-key-request/key-id.html
_KMS_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]+$")
AWS_MANAGED_KEY_ALIASES = {"rds": "alias/aws/rds", "secretsmanager": "alias/aws/secretsmanager"}


def kms_key_error(option, value, service, region=""):
    """A KMS key given as key ID, multi-Region key ID, key ARN, alias name or alias ARN; empty means the AWS
    managed key of ``service`` (rds, secretsmanager). Whether the key exists is not known here."""
    if not value:
        return None
    managed = AWS_MANAGED_KEY_ALIASES.get(service)
    empty = (
        f"empty uses the AWS managed key {managed}" if managed else "empty lets the role create a customer managed key"
    )
    invalid = (
        f"{option}={value!r} is not a KMS key: give a key ID (1234abcd-12ab-34cd-56ef-1234567890ab), a multi-Region "
        "key ID (mrk- and 32 hex digits), a key ARN (arn:aws:kms:<region>:<account>:key/<key ID>), an alias name "
        "(alias/<letters, digits, / _ ->) or an alias ARN (arn:aws:kms:<region>:<account>:alias/<name>); "
        f"{empty}"
    )
    arn = _KMS_ARN.match(value)
    resource = arn.group(3) if arn else value
    if arn and resource.startswith("key/"):
        if not _KMS_KEY_ID.match(resource[len("key/") :]):
            return invalid
    elif resource.startswith("alias/"):
        if len(resource) > 256 or not _KMS_ALIAS.match(resource):
            return invalid
        if resource.startswith("alias/aws/") and resource != managed:
            if not managed:
                return (
                    f"{option}={value!r} is refused: RDS event notifications cannot publish to a topic encrypted with "
                    "a key AWS manages (its key policy cannot let events.rds.amazonaws.com use it); give a customer "
                    "managed key, or nothing"
                )
            return (
                f"{option}={value!r} is refused: alias/aws/ names the keys AWS manages for each service, and only "
                f"{managed} serves here; give it, a customer managed key, or nothing"
            )
    elif not _KMS_KEY_ID.match(value):
        return invalid
    if arn and region and arn.group(1) != region:
        return (
            f"{option}={value!r} is a key in {arn.group(1)}: the key must be in the stack's Region, "
            f"aurora_cluster_aws_region={region!r}"
        )
    return None


# --- Logs, retention, intervals --------------------------------------------------------------------------------

# The log types Aurora PostgreSQL exports to CloudWatch Logs, as the RDS API reference lists them for
# CreateDBCluster EnableCloudwatchLogsExports ("Aurora PostgreSQL - instance | postgresql | iam-db-auth-error"):
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/aws.sdk.kotlin.services.rds.model/-create-db-cluster-request/enable-cloudwatch-logs-exports.html
AURORA_POSTGRESQL_LOG_EXPORTS = ("postgresql", "instance", "iam-db-auth-error")


def log_exports_errors(option, values):
    errors = []
    for value in values:
        if value not in AURORA_POSTGRESQL_LOG_EXPORTS:
            errors.append(
                f"{option} names {value!r}: Aurora PostgreSQL exports only the log types "
                f"{', '.join(AURORA_POSTGRESQL_LOG_EXPORTS)}"
            )
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        errors.append(f"{option} names {', '.join(map(repr, duplicates))} more than once: each log type once")
    return errors


# RDS: 7 (free), 31 times 1 to 23 months, or 731 days
# (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/aws.sdk.kotlin.services.rds.model/-restore-db-cluster-from-snapshot-request/performance-insights-retention-period.html).
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7,) + tuple(31 * months for months in range(1, 24)) + (731,)
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/aws.sdk.kotlin.services.rds.model/-create-db-instance-request/monitoring-interval.html
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
# AWS Backup: StartWindowMinutes is at least 60 and at most 100 years
# (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/backup/aws.sdk.kotlin.services.backup.model/-backup-rule-input/start-window-minutes.html).
BACKUP_START_WINDOW_MINUTES = (60, 52_560_000)


# --- CloudWatch alarms -----------------------------------------------------------------------------------------

# PutMetricAlarm: a period is 10, 20, 30 or a multiple of 60 seconds; the RDS metrics are one-minute metrics, so a
# shorter period gets no data (and a high-resolution alarm costs more). Period x evaluation periods is at most one
# day, or seven days for a period of an hour or more
# (https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/cloudwatch/aws.sdk.kotlin.services.cloudwatch.model/-put-metric-alarm-request/period.html).
ALARM_WINDOW_SECONDS = 86_400
ALARM_LONG_WINDOW_SECONDS = 604_800
# (variable, lowest, highest, whether each bound is allowed itself, unit): None is no bound.
ALARM_THRESHOLDS = (
    ("aurora_cluster_alarm_cpu_percent", 0, 100, (False, True), "percent"),
    ("aurora_cluster_alarm_freeable_memory_percent", 0, 100, (False, False), "percent of the class's memory"),
    ("aurora_cluster_alarm_connections_percent", 0, 100, (False, True), "percent of max_connections"),
    ("aurora_cluster_alarm_replica_lag_ms", 0, None, (False, True), "milliseconds"),
    ("aurora_cluster_alarm_deadlocks_per_second", 0, None, (True, True), "deadlocks per second"),
    ("aurora_cluster_alarm_free_local_storage_gib", 0, None, (False, True), "GiB"),
    ("aurora_cluster_alarm_acu_utilization_percent", 0, 100, (False, True), "percent of the maximum capacity"),
)


def alarm_errors(get):
    """The alarms' periods and thresholds as CloudWatch takes them, and a topic for them to notify."""
    errors = []
    period = get("aurora_cluster_alarm_period_seconds")
    periods = get("aurora_cluster_alarm_evaluation_periods")
    if period < 60 or period % 60:
        errors.append(
            f"aurora_cluster_alarm_period_seconds={period} is invalid: a multiple of 60 seconds, as the RDS metrics "
            "are one-minute metrics (a shorter period gets no data)"
        )
    if periods < 1:
        errors.append(f"aurora_cluster_alarm_evaluation_periods={periods} is out of range: at least 1")
    elif period >= 60 and not period % 60:
        limit = ALARM_LONG_WINDOW_SECONDS if period >= 3600 else ALARM_WINDOW_SECONDS
        if period * periods > limit:
            errors.append(
                f"aurora_cluster_alarm_evaluation_periods={periods} with aurora_cluster_alarm_period_seconds={period} "
                f"is {period * periods} seconds: CloudWatch evaluates at most {limit} seconds "
                + (
                    "(seven days)"
                    if limit == ALARM_LONG_WINDOW_SECONDS
                    else "(one day; seven with a period of an hour or more)"
                )
            )
    for option, low, high, (low_included, high_included), unit in ALARM_THRESHOLDS:
        value = get(option)
        too_low = value < low or (value == low and not low_included)
        too_high = high is not None and (value > high or (value == high and not high_included))
        if too_low or too_high or not math.isfinite(value):
            lowest = f"{'from' if low_included else 'above'} {low}"
            highest = "" if high is None else f" {'up to' if high_included else 'below'} {high}"
            errors.append(f"{option}={value} is out of range: {lowest}{highest} ({unit})")
    if (
        get("aurora_cluster_alarms_enabled")
        and not get("aurora_cluster_event_notifications_enabled")
        and not get("aurora_cluster_event_topic_arn")
    ):
        errors.append(
            "aurora_cluster_alarms_enabled=true needs an SNS topic to notify, and there is none: set "
            "aurora_cluster_event_notifications_enabled=true (the role's events topic, aurora_cluster_event_topic_name) "
            "or aurora_cluster_event_topic_arn (a topic of yours), or set aurora_cluster_alarms_enabled=false; "
            "alarms without a topic would page no one"
        )
    return errors


# --- Reader autoscaling ----------------------------------------------------------------------------------------

# Aurora keeps at most 15 readers in a cluster; the autoscaler's maximum counts the role's readers too.
AUTOSCALING_MAX_READERS = 15
AUTOSCALING_METRICS = {
    "RDSReaderAverageCPUUtilization": (100.0, "percent of the readers' CPU"),
    "RDSReaderAverageDatabaseConnections": (None, "connections per reader"),
}
AUTOSCALING_READERS_ON_DISABLE = ("keep", "delete")


def autoscaling_errors(get):
    """Reader autoscaling's range, metric, target and cooldowns, as Application Auto Scaling takes them. All but the
    range are checked whether autoscaling is on or not, so that turning it on later meets no surprise."""
    errors = []
    readers = get("aurora_cluster_reader_count")
    highest = get("aurora_cluster_autoscaling_max_readers")
    # Only when on: a stack of many fixed readers that does not autoscale need not mind the maximum.
    if get("aurora_cluster_autoscaling_enabled") and not readers < highest <= AUTOSCALING_MAX_READERS:
        errors.append(
            f"aurora_cluster_autoscaling_max_readers={highest} is out of range: above aurora_cluster_reader_count="
            f"{readers} (the autoscaler's minimum, which it never goes below; a maximum no higher could never add a "
            f"reader) and at most {AUTOSCALING_MAX_READERS} (Aurora's limit of readers in a cluster)"
        )
    metric = get("aurora_cluster_autoscaling_metric")
    value = get("aurora_cluster_autoscaling_target_value")
    if metric not in AUTOSCALING_METRICS:
        errors.append(
            f"aurora_cluster_autoscaling_metric={metric!r} is invalid: one of {', '.join(AUTOSCALING_METRICS)}"
        )
    else:
        high, unit = AUTOSCALING_METRICS[metric]
        if not math.isfinite(value) or value <= 0 or (high is not None and value > high):
            bound = f"above 0 up to {high:g}" if high is not None else "above 0"
            errors.append(
                f"aurora_cluster_autoscaling_target_value={value} is out of range for {metric}: {bound} ({unit})"
            )
    for option in ("aurora_cluster_autoscaling_scale_in_cooldown", "aurora_cluster_autoscaling_scale_out_cooldown"):
        if get(option) < 0:
            errors.append(f"{option}={get(option)} is out of range: at least 0 seconds")
    fate = get("aurora_cluster_autoscaling_readers_on_disable")
    if fate not in AUTOSCALING_READERS_ON_DISABLE:
        errors.append(
            f"aurora_cluster_autoscaling_readers_on_disable={fate!r} is invalid: keep (the readers Application Auto "
            "Scaling made stay when it is turned off) or delete (each is deleted, a step of the plan)"
        )
    return errors


# A Region name as AWS spells them (us-west-2, eu-central-1, ap-southeast-4, us-gov-west-1, cn-north-1).
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
# A backup vault's ARN: vault names are 2 to 50 letters, digits, hyphens or underscores
# (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html).
_BACKUP_VAULT_ARN = re.compile(
    r"^arn:aws[-a-z]*:backup:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):backup-vault:[A-Za-z0-9_-]{2,50}$"
)
_KMS_KEY_ARN = re.compile(r"^arn:aws[-a-z]*:kms:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):\d{12}:key/(.+)$")


def backup_copy_errors(get):
    """The copies of the backup plan's recovery points: to another Region of this account, to another account."""
    errors = []
    region = get("aurora_cluster_backup_copy_region")
    account_vault = get("aurora_cluster_backup_copy_account_vault_arn")
    if (region or account_vault) and not get("aurora_cluster_backup_plan_enabled"):
        option = "aurora_cluster_backup_copy_region" if region else "aurora_cluster_backup_copy_account_vault_arn"
        errors.append(
            f"{option}={region or account_vault!r} needs aurora_cluster_backup_plan_enabled=true: the copies are made by "
            "the rule of the role's AWS Backup plan, which is off"
        )
    if region:
        if not _REGION.match(region):
            errors.append(f"aurora_cluster_backup_copy_region={region!r} is not a Region name (for example us-west-2)")
        elif region == get("aurora_cluster_aws_region"):
            errors.append(
                f"aurora_cluster_backup_copy_region={region!r} is the stack's own Region (aurora_cluster_aws_region): a "
                "copy protects against the loss of the Region only in another one"
            )
    key = get("aurora_cluster_backup_copy_kms_key_arn")
    if key:
        match = _KMS_KEY_ARN.match(key)
        if not region:
            errors.append(
                f"aurora_cluster_backup_copy_kms_key_arn={key!r} is given without aurora_cluster_backup_copy_region: "
                "it encrypts the copy vault in that Region"
            )
        elif not match or not _KMS_KEY_ID.match(match.group(2)):
            errors.append(
                f"aurora_cluster_backup_copy_kms_key_arn={key!r} is not a KMS key ARN "
                "(arn:aws:kms:<region>:<account>:key/<key ID>): AWS Backup takes a vault's key by its ARN only"
            )
        elif match.group(1) != region:
            errors.append(
                f"aurora_cluster_backup_copy_kms_key_arn={key!r} is a key in {match.group(1)}: the copy vault's key must "
                f"be in aurora_cluster_backup_copy_region={region!r}"
            )
    if account_vault and not _BACKUP_VAULT_ARN.match(account_vault):
        errors.append(
            f"aurora_cluster_backup_copy_account_vault_arn={account_vault!r} is not a backup vault ARN "
            "(arn:aws:backup:<region>:<account>:backup-vault:<name>)"
        )
    for option in ("aurora_cluster_backup_copy_retention_days", "aurora_cluster_backup_copy_account_retention_days"):
        if get(option) < 1:
            errors.append(f"{option}={get(option)} is out of range: at least 1 day")
    return errors


# How a change that restarts the instances is made (plugins/module_utils/surge.py).
INSTANCE_CHANGE_STRATEGIES = ("rolling", "surge")


MAX_SECONDARY_READERS = 15


def global_database_errors(get):
    """The Aurora Global Database's secondary: another Region, its network named, names RDS accepts."""
    errors = []
    region = get("aurora_cluster_secondary_region")
    if not region:
        return errors
    option = "aurora_cluster_secondary_region"
    if not _REGION.match(region):
        errors.append(f"{option}={region!r} is not a Region name (for example us-west-2)")
    elif region == get("aurora_cluster_aws_region"):
        errors.append(
            f"{option}={region!r} is the stack's own Region (aurora_cluster_aws_region): a secondary cluster protects "
            "against the loss of the Region only in another one"
        )
    for name in (
        "aurora_cluster_secondary_vpc_name",
        "aurora_cluster_secondary_app_security_group_name",
        "aurora_cluster_secondary_private_subnet_names",
    ):
        if not get(name):
            errors.append(f"{name} is empty: {option}={region!r} needs the secondary's network, found by name there")
    subnets = get("aurora_cluster_secondary_private_subnet_names")
    if subnets and len(set(subnets)) < 2:
        errors.append(
            f"aurora_cluster_secondary_private_subnet_names={subnets!r}: at least two subnets (in two AZs) are needed"
        )
    readers = get("aurora_cluster_secondary_reader_count")
    if not 0 <= readers <= MAX_SECONDARY_READERS:
        errors.append(
            f"aurora_cluster_secondary_reader_count={readers} is out of range: 0 (headless) to {MAX_SECONDARY_READERS}"
        )
    instance_class = get("aurora_cluster_secondary_instance_class")
    if instance_class:
        message = instance_class_error("aurora_cluster_secondary_instance_class", instance_class)
        if message:
            errors.append(message)
    name = get("aurora_cluster_name")
    if name and _REGION.match(region):
        secondary = f"{name}-{region}"
        for kind, value, what in (
            ("cluster", f"{name}-global", "the global cluster"),
            ("cluster", secondary, "the secondary cluster"),
            ("instance", f"{secondary}-reader-{max(readers, 1)}", "the secondary's readers"),
        ):
            message = identifier_error(option, value, kind)
            if message:
                errors.append(
                    f"aurora_cluster_name={name!r} with {option}={region!r}: {what} would be {value!r}, and "
                    f"{message.split(' is invalid: ', 1)[1]}"
                )
    return errors


def instance_change_errors(get):
    strategy = get("aurora_cluster_instance_change_strategy")
    if strategy in INSTANCE_CHANGE_STRATEGIES:
        return []
    return [
        f"aurora_cluster_instance_change_strategy={strategy!r} is invalid: rolling (each instance restarts in place, "
        "one at a time, with a failover and a failback) or surge (new instances beside the old ones, one failover, "
        "then the old ones deleted)"
    ]


# How a major version upgrade is made (plugins/module_utils/blue_green.py); SwitchoverTimeout is at least 30 s.
MAJOR_UPGRADE_STRATEGIES = ("in-place", "blue-green")
SWITCHOVER_TIMEOUT_MIN = 30


def major_upgrade_errors(get):
    errors = []
    strategy = get("aurora_cluster_major_upgrade_strategy")
    if strategy not in MAJOR_UPGRADE_STRATEGIES:
        errors.append(
            f"aurora_cluster_major_upgrade_strategy={strategy!r} is invalid: in-place (every instance restarts on the "
            "new version, down for the upgrade) or blue-green (an RDS Blue/Green deployment, about a minute without "
            "writes at the switchover)"
        )
    timeout = get("aurora_cluster_blue_green_switchover_timeout")
    if timeout < SWITCHOVER_TIMEOUT_MIN:
        errors.append(
            f"aurora_cluster_blue_green_switchover_timeout={timeout} is out of range: at least "
            f"{SWITCHOVER_TIMEOUT_MIN} seconds (AWS's minimum SwitchoverTimeout)"
        )
    hours = get("aurora_cluster_blue_green_retention_hours")
    if hours < 0:
        errors.append(f"aurora_cluster_blue_green_retention_hours={hours} is out of range: at least 0 hours")
    if get("aurora_cluster_blue_green_switchover") and get("aurora_cluster_blue_green_rollback"):
        errors.append(
            "aurora_cluster_blue_green_switchover=true and aurora_cluster_blue_green_rollback=true: one or the other "
            "(switch over to the green cluster, or delete it)"
        )
    return errors


# --- Tags ------------------------------------------------------------------------------------------------------

# RDS tags: key 1 to 128 characters, not prefixed aws: or rds:, value 0 to 256, both of Unicode letters, digits,
# white space and _ . : / = + - @ (https://docs.aws.amazon.com/sdk-for-python/v4/reference/clients/rds/structures/Tag/;
# RDS enforces the characters: https://github.com/cloud-custodian/cloud-custodian/issues/4674). aws: in any case is
# reserved, and a resource has at most 50 tags (AWS tag restrictions).
TAGS_PER_RESOURCE = 50
# The tag keys the role adds itself: Environment on every resource (vars/main.yml), Name on the database security
# group (vars/main.yml) and Role on each instance (stack_plan.wanted_instances).
ROLE_TAG_KEYS = ("Environment",)
ROLE_TAG_KEYS_BY_RESOURCE = {"the database security group": "Name", "each instance": "Role"}
_TAG_SYMBOLS = frozenset("_.:/=+-@")
_TAG_TEXT = "Unicode letters, digits, spaces and _ . : / = + - @"


def _tag_text_ok(text):
    """RDS takes only Unicode letters, digits, white space and _ . : / = + - @ in tag keys and values."""
    return all(unicodedata.category(ch)[0] in "LNZ" or ch in _TAG_SYMBOLS for ch in text)


def _tag_key_error(option, key):
    if not isinstance(key, str):
        return f"{option} has the key {key!r} ({type(key).__name__}): a tag key is text; quote it"
    if not 1 <= len(key) <= 128:
        return f"{option} has the key {key!r}: a tag key is 1 to 128 characters"
    if key.lower().startswith("aws:") or key.startswith("rds:"):
        return f"{option} has the key {key!r}: the prefixes aws: and rds: are reserved for AWS"
    if not _tag_text_ok(key):
        return f"{option} has the key {key!r}: a tag key is made of {_TAG_TEXT}"
    return None


def _tag_value_error(option, key, value):
    where = f"{option}[{key!r}]"
    if value is None:
        return (
            f"{where} is null (a YAML key with no value): a tag value is text, a number or a boolean; write '' for none"
        )
    if not isinstance(value, (str, int, float, bool)):
        return f"{where}={value!r} is a {type(value).__name__}: a tag value is text, a number or a boolean"
    text = value if isinstance(value, str) else str(value)
    if len(text) > 256:
        return f"{where}={value!r} is too long: a tag value is 0 to 256 characters"
    if not _tag_text_ok(text):
        return f"{where}={value!r} is invalid: a tag value is made of {_TAG_TEXT}"
    return None


def tag_errors(default_tags, tags):
    """The rules AWS applies to the tags the role puts on every resource: aurora_cluster_default_tags, overridden
    by aurora_cluster_tags, with the keys the role adds."""
    errors = []
    for option, source in (("aurora_cluster_default_tags", default_tags), ("aurora_cluster_tags", tags)):
        for key, value in source.items():
            if option == "aurora_cluster_default_tags" and key in tags:
                continue  # aurora_cluster_tags gives this one
            error = _tag_key_error(option, key) or _tag_value_error(option, key, value)
            if error:
                errors.append(error)
    keys = set(default_tags) | set(tags) | set(ROLE_TAG_KEYS)
    for resource, key in ROLE_TAG_KEYS_BY_RESOURCE.items():
        count = len(keys | {key})
        if count > TAGS_PER_RESOURCE:
            errors.append(
                f"aurora_cluster_default_tags and aurora_cluster_tags give {resource} {count} tags, counting "
                f"{' and '.join(ROLE_TAG_KEYS + (key,))}, which the role adds: AWS allows at most {TAGS_PER_RESOURCE} "
                "tags on a resource"
            )
            break
    return errors


# --- TLS -------------------------------------------------------------------------------------------------------


def force_ssl_on(value):
    """rds.force_ssl read for its meaning: 1, true and on (in any case, as int, bool or text) turn it on."""
    return str(value).strip().lower() in ("1", "true", "on")


# --- All of it -------------------------------------------------------------------------------------------------


def stack_errors(settings):
    """Every rule the role's settings break. ``settings`` is a dict of the role's variables, typed as declared.

    Raises TypeError when a value is not of its declared type (SETTING_TYPES): the caller's mistake.
    """
    s = settings
    errors = setting_type_errors(s)
    if errors:
        return errors

    def get(key):
        return _value(s, key)

    def check(message):
        if message:
            errors.append(message)

    for option, kind, label in (
        ("aurora_cluster_identifier", "cluster", "DB cluster"),
        ("aurora_cluster_writer_identifier", "instance", "DB instance"),
        ("aurora_cluster_parameter_group_name", "parameter group", "DB cluster parameter group"),
    ):
        value = get(option)
        check(identifier_error(option, value, kind) or lower_case_error(option, value, label))
    prefix = get("aurora_cluster_reader_identifier_prefix")
    highest_reader = f"{prefix}{max(get('aurora_cluster_reader_count'), 1)}"
    check(
        identifier_error("aurora_cluster_reader_identifier_prefix", highest_reader, "instance")
        or lower_case_error("aurora_cluster_reader_identifier_prefix", prefix, "DB instance")
    )
    subnet_group = get("aurora_cluster_subnet_group_name")
    check(
        subnet_group_name_error("aurora_cluster_subnet_group_name", subnet_group)
        or lower_case_error("aurora_cluster_subnet_group_name", subnet_group, "DB subnet group")
    )
    check(database_name_error("aurora_cluster_database_name", get("aurora_cluster_database_name")))
    check(master_username_error("aurora_cluster_master_username", get("aurora_cluster_master_username")))
    check(instance_class_error("aurora_cluster_instance_class", get("aurora_cluster_instance_class")))
    reader_class = get("aurora_cluster_reader_instance_class")
    if reader_class:
        check(instance_class_error("aurora_cluster_reader_instance_class", reader_class))
    classes = [("aurora_cluster_instance_class", get("aurora_cluster_instance_class"))]
    if reader_class:
        classes.append(("aurora_cluster_reader_instance_class", reader_class))
    errors.extend(
        serverless_v2_errors(
            capacity_names("aurora_cluster_serverless_v2_", "aurora_cluster_engine_version"),
            get("aurora_cluster_serverless_v2_min_capacity"),
            get("aurora_cluster_serverless_v2_max_capacity"),
            get("aurora_cluster_serverless_v2_seconds_until_auto_pause"),
            get("aurora_cluster_engine_version"),
            classes,
        )
    )

    check(
        ca_certificate_error(
            "aurora_cluster_ca_certificate_identifier", get("aurora_cluster_ca_certificate_identifier")
        )
    )
    errors.extend(
        endpoint_errors(
            "aurora_cluster_custom_endpoints",
            get("aurora_cluster_custom_endpoints"),
            get("aurora_cluster_identifier"),
            get("aurora_cluster_writer_identifier"),
            get("aurora_cluster_reader_identifier_prefix"),
            get("aurora_cluster_reader_count"),
        )
    )

    password = get("aurora_cluster_master_user_password")
    if get("aurora_cluster_manage_master_user_password"):
        if password:
            errors.append(
                "aurora_cluster_master_user_password is set while aurora_cluster_manage_master_user_password=true: "
                "set one or the other"
            )
    elif not password:
        errors.append(
            "aurora_cluster_master_user_password is empty while aurora_cluster_manage_master_user_password=false: "
            "give a password (from Ansible Vault) or let Secrets Manager manage it"
        )
    else:
        check(password_error("aurora_cluster_master_user_password", password))

    errors.extend(
        engine_version_errors(
            "aurora_cluster_engine_version",
            get("aurora_cluster_engine_version"),
            "aurora_cluster_parameter_group_family",
            get("aurora_cluster_parameter_group_family"),
        )
    )

    subnets = get("aurora_cluster_private_subnet_names")
    if len(subnets) < 2 or len(set(subnets)) != len(subnets):
        errors.append(
            f"aurora_cluster_private_subnet_names={subnets!r} is invalid: at least two distinct private subnets, "
            "in two AZs"
        )
    for option, low, high, unit in (
        ("aurora_cluster_reader_count", 0, 15, ""),
        ("aurora_cluster_backup_retention_period", 1, 35, " days"),
        ("aurora_cluster_port", 1150, 65535, ""),
        ("aurora_cluster_backup_start_window_minutes", *BACKUP_START_WINDOW_MINUTES, " minutes (AWS Backup)"),
    ):
        if not low <= get(option) <= high:
            errors.append(f"{option}={get(option)} is out of range: {low} to {high}{unit}")
    for option, unit in (
        ("aurora_cluster_wait_timeout", " seconds"),
        ("aurora_cluster_backup_retention_days", " days"),
    ):
        if get(option) < 1:
            errors.append(f"{option}={get(option)} is out of range: at least 1{unit}")
    check(poll_interval_error("aurora_cluster_wait_max_poll_interval", get("aurora_cluster_wait_max_poll_interval")))
    if get("aurora_cluster_monitoring_interval") not in MONITORING_INTERVALS:
        errors.append(
            f"aurora_cluster_monitoring_interval={get('aurora_cluster_monitoring_interval')} is invalid: "
            f"Enhanced Monitoring takes one of {', '.join(map(str, MONITORING_INTERVALS))} seconds (0 is off)"
        )
    retention = get("aurora_cluster_performance_insights_retention_period")
    if get("aurora_cluster_performance_insights_enabled") and retention not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
        errors.append(
            f"aurora_cluster_performance_insights_retention_period={retention} is invalid: Performance Insights "
            "keeps its data 7 days, a multiple of 31 up to 713 (31 times 1 to 23 months), or 731 days"
        )
    errors.extend(
        log_exports_errors("aurora_cluster_cloudwatch_logs_exports", get("aurora_cluster_cloudwatch_logs_exports"))
    )
    region = get("aurora_cluster_aws_region")
    for option, service in (
        ("aurora_cluster_kms_key_id", "rds"),
        ("aurora_cluster_performance_insights_kms_key_id", "rds"),
        ("aurora_cluster_master_user_secret_kms_key_id", "secretsmanager"),
        # The events topic: no AWS managed key works (see the SNS guide's compatibility with AWS services).
        ("aurora_cluster_event_topic_kms_key_id", "rds-events"),
    ):
        check(kms_key_error(option, get(option), service, region))
    errors.extend(tag_errors(get("aurora_cluster_default_tags"), get("aurora_cluster_tags")))
    errors.extend(alarm_errors(get))
    errors.extend(autoscaling_errors(get))
    errors.extend(major_upgrade_errors(get))
    errors.extend(backup_copy_errors(get))
    errors.extend(instance_change_errors(get))
    errors.extend(global_database_errors(get))
    errors.extend(
        window_errors(
            "aurora_cluster_preferred_backup_window",
            get("aurora_cluster_preferred_backup_window"),
            "aurora_cluster_preferred_maintenance_window",
            get("aurora_cluster_preferred_maintenance_window"),
        )
    )
    errors.extend(
        ingress_rule_errors(
            "aurora_cluster_db_security_group_extra_ingress",
            get("aurora_cluster_db_security_group_extra_ingress"),
            allow_public=get("aurora_cluster_allow_public_ingress"),
        )
    )

    parameters = dict(get("aurora_cluster_default_parameters"))
    parameters.update(get("aurora_cluster_parameters"))
    if not force_ssl_on(parameters.get("rds.force_ssl", 0)) and not get("aurora_cluster_allow_plaintext_transport"):
        errors.append(
            f"rds.force_ssl={parameters.get('rds.force_ssl')!r} (aurora_cluster_parameters) would allow plaintext "
            "connections: keep it 1, or set aurora_cluster_allow_plaintext_transport=true to accept the risk"
        )
    if not get("aurora_cluster_storage_encrypted") and not get("aurora_cluster_allow_unencrypted_storage"):
        errors.append(
            "aurora_cluster_storage_encrypted=false would store data unencrypted: keep it true, or set "
            "aurora_cluster_allow_unencrypted_storage=true to accept the risk"
        )
    if (
        get("aurora_cluster_environment") == "prod"
        and not get("aurora_cluster_deletion_protection")
        and not get("aurora_cluster_allow_prod_without_deletion_protection")
    ):
        errors.append(
            "aurora_cluster_deletion_protection=false in prod: keep it true, or set "
            "aurora_cluster_allow_prod_without_deletion_protection=true to accept the risk"
        )
    return errors
