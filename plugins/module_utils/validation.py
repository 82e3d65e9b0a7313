# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules RDS and PostgreSQL apply to the stack's settings, checked before any AWS call.

Every check returns a message naming the setting, the offending value (never
for a secret) and the rule, or None. The role calls ``stack_errors`` through
the ``vitality.aurora.stack_errors`` filter; the modules call the single checks.
"""

from __future__ import annotations

import re

from ansible_collections.vitality.aurora.plugins.module_utils.naming import identifier_error
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

# Names RDS keeps for itself, and PostgreSQL keywords that cannot name a database or a role.
RDS_RESERVED_NAMES = frozenset(
    [
        "rdsadmin",
        "rds_superuser",
        "rdsrepladmin",
        "rds_replication",
        "rds_password",
        "rdstopmgr",
        "postgres",
        "template0",
        "template1",
        "pg_signal_backend",
    ]
)
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

_PG_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_SUBNET_GROUP = re.compile(r"^[A-Za-z0-9._ -]{1,255}$")
_PASSWORD_FORBIDDEN = set("/\"'@ ")
_BACKUP_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_MAINTENANCE_WINDOW = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
OPEN_TO_THE_WORLD = ("0.0.0.0/0", "::/0")


def subnet_group_name_error(option, value):
    if not value or not _SUBNET_GROUP.match(value) or value.lower() == "default":
        return (
            f"{option}={value!r} is invalid: a DB subnet group name is 1 to 255 letters, digits, periods, "
            "underscores, spaces or hyphens, and not 'default'"
        )
    return None


def pg_name_error(option, value, what):
    rule = (
        f"a {what} is 1 to 63 letters, digits or underscores, starts with a letter, and is not a name RDS reserves "
        "or a PostgreSQL reserved word"
    )
    if not value or not _PG_IDENTIFIER.match(value):
        return f"{option}={value!r} is invalid: {rule}"
    if value.lower() in RDS_RESERVED_NAMES or value.lower() in POSTGRESQL_RESERVED_WORDS:
        return f"{option}={value!r} is reserved: {rule}"
    return None


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


def world_open_rule_errors(option, rules):
    errors = []
    for index, rule in enumerate(rules or []):
        for key in ("cidr_ip", "cidr_ipv6"):
            values = rule.get(key) or []
            for cidr in [values] if isinstance(values, str) else values:
                if cidr in OPEN_TO_THE_WORLD:
                    errors.append(
                        f"{option}[{index}].{key}={cidr!r} is refused: the database is never open to the internet; "
                        "allow a security group or a private CIDR instead"
                    )
    return errors


def stack_errors(settings):
    """Every rule the role's settings break. ``settings`` is a dict of the role's variables."""
    s = settings
    errors = []

    def check(message):
        if message:
            errors.append(message)

    check(identifier_error("aurora_cluster_identifier", s["aurora_cluster_identifier"], "cluster"))
    check(identifier_error("aurora_cluster_writer_identifier", s["aurora_cluster_writer_identifier"], "instance"))
    highest_reader = f"{s['aurora_cluster_reader_identifier_prefix']}{max(int(s['aurora_cluster_reader_count']), 1)}"
    check(identifier_error("aurora_cluster_reader_identifier_prefix", highest_reader, "instance"))
    check(
        identifier_error(
            "aurora_cluster_parameter_group_name", s["aurora_cluster_parameter_group_name"], "parameter group"
        )
    )
    check(subnet_group_name_error("aurora_cluster_subnet_group_name", s["aurora_cluster_subnet_group_name"]))
    check(pg_name_error("aurora_cluster_database_name", s["aurora_cluster_database_name"], "database name"))
    check(pg_name_error("aurora_cluster_master_username", s["aurora_cluster_master_username"], "master user name"))
    check(instance_class_error("aurora_cluster_instance_class", s["aurora_cluster_instance_class"]))

    password = s.get("aurora_cluster_master_user_password") or ""
    if s["aurora_cluster_manage_master_user_password"]:
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

    version = str(s["aurora_cluster_engine_version"])
    family = s["aurora_cluster_parameter_group_family"]
    major = version.split(".", 1)[0]
    if not re.match(r"^\d+(\.\d+)?$", version) or major not in SUPPORTED_MAJOR_VERSIONS:
        errors.append(
            f"aurora_cluster_engine_version={version!r} is invalid: must be 16 or 16.x (Aurora PostgreSQL 16), "
            "or 17.x for a major version upgrade"
        )
    elif family != f"aurora-postgresql{major}":
        errors.append(
            f"aurora_cluster_parameter_group_family={family!r} does not match aurora_cluster_engine_version={version!r}: "
            f"must be aurora-postgresql{major}"
        )

    subnets = s["aurora_cluster_private_subnet_names"] or []
    if len(subnets) < 2 or len(set(subnets)) != len(subnets):
        errors.append(
            f"aurora_cluster_private_subnet_names={subnets!r} is invalid: at least two distinct private subnets, "
            "in two AZs"
        )
    for option, low, high, unit in (
        ("aurora_cluster_reader_count", 0, 15, ""),
        ("aurora_cluster_backup_retention_period", 1, 35, " days"),
        ("aurora_cluster_port", 1150, 65535, ""),
    ):
        if not low <= int(s[option]) <= high:
            errors.append(f"{option}={s[option]} is out of range: {low} to {high}{unit}")
    check(poll_interval_error("aurora_cluster_wait_max_poll_interval", s.get("aurora_cluster_wait_max_poll_interval")))
    errors.extend(
        window_errors(
            "aurora_cluster_preferred_backup_window",
            s["aurora_cluster_preferred_backup_window"],
            "aurora_cluster_preferred_maintenance_window",
            s["aurora_cluster_preferred_maintenance_window"],
        )
    )
    errors.extend(
        world_open_rule_errors(
            "aurora_cluster_db_security_group_extra_ingress", s.get("aurora_cluster_db_security_group_extra_ingress")
        )
    )

    parameters = dict(s.get("aurora_cluster_default_parameters") or {})
    parameters.update(s.get("aurora_cluster_parameters") or {})
    force_ssl = str(parameters.get("rds.force_ssl", "0")).lower() in ("1", "true", "on")
    if not force_ssl and not s.get("aurora_cluster_allow_plaintext_transport"):
        errors.append(
            f"rds.force_ssl={parameters.get('rds.force_ssl')!r} (aurora_cluster_parameters) would allow plaintext "
            "connections: keep it 1, or set aurora_cluster_allow_plaintext_transport=true to accept the risk"
        )
    if not s["aurora_cluster_storage_encrypted"] and not s.get("aurora_cluster_allow_unencrypted_storage"):
        errors.append(
            "aurora_cluster_storage_encrypted=false would store data unencrypted: keep it true, or set "
            "aurora_cluster_allow_unencrypted_storage=true to accept the risk"
        )
    if (
        s["aurora_cluster_environment"] == "prod"
        and not s["aurora_cluster_deletion_protection"]
        and not s.get("aurora_cluster_allow_prod_without_deletion_protection")
    ):
        errors.append(
            "aurora_cluster_deletion_protection=false in prod: keep it true, or set "
            "aurora_cluster_allow_prod_without_deletion_protection=true to accept the risk"
        )
    return errors
