# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restore drill's input rules, checked before any AWS call.

Apart from restore_drill.py (which holds the drill itself and imports boto3 through api.py) so that the role's
settings check, an action plugin on the machine running Ansible, imports no AWS SDK: loading it there is paid once
per run, before the first task, in the process that runs every host's tasks.
"""

from __future__ import annotations

import re

from ansible_collections.vitality.aurora.plugins.module_utils.plan import as_utc

SOURCES = ("latest-automated", "latest-snapshot", "snapshot", "point-in-time")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def parse_restore_time(value):
    """The UTC datetime of ``value`` (ISO 8601 text with Z or an offset), or None when empty; ValueError otherwise."""
    if value in (None, ""):
        return None
    parsed = as_utc(value) if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}T", value) else None
    if parsed is None or not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value):
        raise ValueError(f"restore_to_time={value!r} is not a UTC time such as 2026-11-25T06:00:00Z")
    return parsed


def input_errors(params, names=None):
    """The drill's input rules, before any AWS call: [] when they hold. ``names`` maps an option to the name the
    user gave it (the role's variables), so each message names what the user set."""
    names = names or {}

    def named(option):
        return names.get(option, option)

    errors = []
    source = params.get("source")
    if source not in SOURCES:
        errors.append(f"{named('source')}={source!r} is not one of {', '.join(SOURCES)}")
    snapshot = params.get("snapshot_identifier") or ""
    if source == "snapshot" and not snapshot:
        errors.append(f"{named('source')}=snapshot needs {named('snapshot_identifier')}, the snapshot to restore")
    if snapshot and source != "snapshot":
        errors.append(
            f"{named('snapshot_identifier')}={snapshot!r} is only read with {named('source')}=snapshot (it is {source!r})"
        )
    restore_to_time = params.get("restore_to_time") or ""
    if restore_to_time:
        if source != "point-in-time":
            errors.append(
                f"{named('restore_to_time')}={restore_to_time!r} is only read with {named('source')}=point-in-time "
                f"(it is {source!r})"
            )
        try:
            parse_restore_time(restore_to_time)
        except ValueError:
            errors.append(
                f"{named('restore_to_time')}={restore_to_time!r} is not a UTC time such as 2026-11-25T06:00:00Z"
            )
    if not params.get("source_cluster_identifier"):
        errors.append(
            f"{named('source_cluster_identifier')} is empty: the drill restores the backup of a named cluster"
        )
    errors += target_region_errors(params, named)
    return errors


def other_region(params):
    """The drill's Region when it is not the stack's (``target_region``), else None."""
    target = params.get("target_region") or ""
    return target if target and target != params.get("region") else None


def target_region_errors(params, named):
    target = params.get("target_region") or ""
    if not target:
        return []
    if not REGION_PATTERN.match(target):
        return [f"{named('target_region')}={target!r} is not a Region name (for example us-west-2)"]
    if not other_region(params):
        return []
    errors = []
    if params.get("source") == "point-in-time":
        errors.append(
            f"{named('source')}=point-in-time with {named('target_region')}={target!r}: Aurora restores a point in "
            "time from the cluster's continuous backup, in the cluster's own Region (RestoreDBClusterToPointInTime "
            "names a source cluster of the Region it is called in); in another Region the drill restores a snapshot "
            "copied there: use latest-automated, latest-snapshot or snapshot"
        )
    for option in ("target_vpc_name", "target_security_group_name"):
        if not params.get(option):
            errors.append(
                f"{named(option)} is empty: {named('target_region')}={target!r} restores into the stack's network "
                "there, found by name"
            )
    return errors


# The role's variables of the drill's options (entry point drill).
ROLE_NAMES = {
    "source": "aurora_cluster_drill_source",
    "snapshot_identifier": "aurora_cluster_drill_snapshot",
    "restore_to_time": "aurora_cluster_drill_restore_to_time",
    "source_cluster_identifier": "aurora_cluster_identifier",
    "target_region": "aurora_cluster_drill_region",
    "region": "aurora_cluster_aws_region",
    "target_vpc_name": "aurora_cluster_secondary_vpc_name",
    "target_security_group_name": "aurora_cluster_db_security_group_name",
}


def drill_setting_errors(typed):
    """input_errors of the role's typed variables (aurora_settings, entry point drill), naming the variables."""
    given = {option: typed.get(name) for option, name in ROLE_NAMES.items()}
    # Unset, the declared default (argument_specs.yml; defaults/main.yml sets it too).
    given["source"] = given["source"] or SOURCES[0]
    errors = input_errors(given, ROLE_NAMES)
    target, secondary = other_region(given), typed.get("aurora_cluster_secondary_region") or ""
    if target and target != secondary and REGION_PATTERN.match(target):
        # The only network of the stack in another Region the inventory names is the global database's secondary's.
        errors.append(
            f"aurora_cluster_drill_region={target!r} is not aurora_cluster_secondary_region ({secondary!r}): the drill "
            "restores into the stack's network of the Aurora Global Database's secondary Region, the only other "
            "Region whose network the inventory names"
        )
    return errors
