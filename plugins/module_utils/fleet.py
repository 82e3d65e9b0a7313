# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names the stacks of one run must not share.

A fleet inventory holds many stacks, one host each, converged side by side. Two stacks that derive the same
name would converge one resource with two desired states (each run undoing the other) and one teardown would
delete the other's resource. Every name is compared within the scope where AWS (or the controller) keeps it
unique: RDS, EC2, AWS Backup and SNS names per account and region (a security group name per VPC), IAM names
per account, files per controller. The account is not known before an AWS call, so the endpoint stands for it:
two stacks of one run with the same region and endpoint are taken to share an account.
"""

from __future__ import annotations

import re

# (variable, what it names, scope): scope "region" = endpoint and region; "vpc" = region and VPC; "account" =
# endpoint only (IAM is global); "controller" = a path on the machine running Ansible.
NAMED = (
    ("aurora_cluster_identifier", "DB cluster", "region"),
    ("aurora_cluster_writer_identifier", "DB instance", "region"),
    ("aurora_cluster_subnet_group_name", "DB subnet group", "region"),
    ("aurora_cluster_parameter_group_name", "DB cluster parameter group", "region"),
    ("aurora_cluster_db_security_group_name", "security group", "vpc"),
    ("aurora_cluster_backup_plan_name", "AWS Backup plan", "region"),
    ("aurora_cluster_backup_vault_name", "AWS Backup vault", "region"),
    ("aurora_cluster_event_topic_name", "SNS topic", "region"),
    ("aurora_cluster_monitoring_role_name", "IAM role", "account"),
    ("aurora_cluster_backup_role_name", "IAM role", "account"),
    ("aurora_cluster_outputs_file", "outputs file", "controller"),
    ("aurora_cluster_plan_output_file", "plan file", "controller"),
)
READER_PREFIX = "aurora_cluster_reader_identifier_prefix"
# The report's files are <report_dir>/<aurora_cluster_name>.{md,html}.
REPORT = ("aurora_cluster_report_dir", "aurora_cluster_name")
# Every variable a stack's names are read from.
VARIABLES = tuple(
    sorted(
        {v for v, _kind, _scope in NAMED}
        | {READER_PREFIX, *REPORT}
        | {
            "aurora_cluster_vpc_name",
            "aurora_cluster_aws_endpoint_url",
            "aurora_cluster_aws_region",
            "aurora_cluster_report",
        }
    )
)


def _scope(settings, scope):
    endpoint = settings.get("aurora_cluster_aws_endpoint_url") or ""
    region = settings.get("aurora_cluster_aws_region") or ""
    return {
        "region": (endpoint, region),
        "vpc": (endpoint, region, settings.get("aurora_cluster_vpc_name") or ""),
        "account": (endpoint,),
        "controller": (),
    }[scope]


def _kinds(settings):
    """{(kind, scope key, name): variable} for every non-empty name of one stack."""
    names = {}
    for variable, kind, scope in NAMED:
        value = settings.get(variable)
        if value:
            # IAM and file names are compared as AWS and the file system compare them: IAM role names ignore case.
            key = value.lower() if scope == "account" else value
            names[(kind, _scope(settings, scope), key)] = variable
    report_dir, name = (settings.get(v) for v in REPORT)
    if settings.get("aurora_cluster_report", True) and report_dir and name:
        names[("report file", (), f"{report_dir.rstrip('/')}/{name}")] = "aurora_cluster_name"
    return names


def _instance_clash(mine, theirs):
    """The words for my instances that the other stack also names, or None (writers, and readers by prefix)."""
    if _scope(mine, "region") != _scope(theirs, "region"):
        return None
    my_writer, their_writer = (
        mine.get("aurora_cluster_writer_identifier"),
        theirs.get("aurora_cluster_writer_identifier"),
    )
    my_prefix, their_prefix = mine.get(READER_PREFIX) or "", theirs.get(READER_PREFIX) or ""
    if my_prefix and my_prefix == their_prefix:
        return f"DB instances {my_prefix}<n> ({READER_PREFIX})"
    # A writer named like the other stack's numbered readers, either way round.
    if my_writer and their_prefix and re.fullmatch(re.escape(their_prefix) + r"[0-9]+", my_writer):
        return f"DB instance {my_writer!r} (aurora_cluster_writer_identifier, one of the other's readers)"
    if their_writer and my_prefix and re.fullmatch(re.escape(my_prefix) + r"[0-9]+", their_writer):
        return f"DB instance {their_writer!r} ({READER_PREFIX}, the other's writer)"
    return None


SHOWN = 4


def name_collisions(host, settings, others):
    """One message per other stack of the run that shares a name with this host's stack.

    ``settings``: this host's typed ``aurora_cluster_*`` values (names as keys); ``others``: {host: settings} of the
    run's other hosts (those whose settings could not be typed are left out: their own check names their error).
    """
    mine = _kinds(settings)
    errors = []
    for other in sorted(others):
        theirs = _kinds(others[other])
        shared = [f"{key[0]} {key[2]!r} ({variable})" for key, variable in mine.items() if key in theirs]
        # Readers after the writer, as a stack lists its instances.
        clash = _instance_clash(settings, others[other])
        if clash and clash not in shared:
            shared.insert(min(2, len(shared)), clash)
        if not shared:
            continue
        listed = ", ".join(shared[:SHOWN]) + (f" and {len(shared) - SHOWN} more" if len(shared) > SHOWN else "")
        errors.append(
            f"host {host}'s stack and host {other}'s would share {listed}: two stacks of one run may not share a"
            " name, or each would undo the other's changes (give each stack its own aurora_cluster_name, from which"
            " every name is derived)"
        )
    return errors


def _added(calls):
    """One stack's throttled calls, its module runs' counts added up."""
    runs = calls if isinstance(calls, list) else [calls]
    by_operation = {}
    for run in runs:
        for operation, count in ((run or {}).get("by_operation") or {}).items():
            by_operation[operation] = by_operation.get(operation, 0) + int(count)
    return {"total": sum(int((run or {}).get("total") or 0) for run in runs), "by_operation": by_operation}


def run_summary(stacks):
    """The run's closing lines: how many stacks converged and how many AWS answers said "slow down".

    ``stacks``: {host: the throttled_calls ({"total", "by_operation"}) its module runs returned, one or a list of
    them, or None for a host that did not get that far}.
    """
    done = {host: _added(calls) for host, calls in stacks.items() if calls is not None}
    stopped = sorted(set(stacks) - set(done))
    total = sum(int(calls.get("total") or 0) for calls in done.values())
    lines = [
        f"Stacks: {len(done)} of {len(stacks)} reached their outputs"
        + (f" (not: {', '.join(stopped)})" if stopped else ""),
        f"AWS calls throttled and retried with backoff: {total}"
        + (
            " (counted in the collection's own modules; the amazon.aws modules retry alike without counting)"
            if total == 0
            else ""
        ),
    ]
    for host in sorted(done, key=lambda h: (-int(done[h].get("total") or 0), h)):
        count = int(done[host].get("total") or 0)
        if count:
            operations = ", ".join(f"{op} {n}" for op, n in sorted((done[host].get("by_operation") or {}).items()))
            lines.append(f"  {host}: {count} ({operations})")
    return lines
