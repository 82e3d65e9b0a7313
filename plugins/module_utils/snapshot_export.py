# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exporting a snapshot of the stack's cluster to S3: which snapshot, which export task, what is planned.

Pure functions (no AWS call): the module aurora_snapshot_export reads AWS and hands the answers here; the
role's settings action (export entry point) checks the role's export variables with ``export_setting_errors``.

The export task's identifier is derived from the snapshot (and the tables asked for), so a second run for the
same snapshot finds the task the first one started instead of starting another: AWS refuses a second task
with the same identifier (error code ExportTaskAlreadyExists), which also makes a start whose answer was lost safe.
A failed or canceled attempt is followed by a new one, numbered (``-2``, ``-3``...), so its files and its
cause stay where AWS left them.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.vitality.aurora.plugins.module_utils.plan import ONLINE, Action, as_utc

AUTOMATED = "automated"
FINAL = "final"
NAMED = "named"
SOURCES = (AUTOMATED, FINAL, NAMED)

# ExportTask.Status, as the RDS API reference lists it.
STARTING = "STARTING"
IN_PROGRESS = "IN_PROGRESS"
COMPLETE = "COMPLETE"
FAILED = "FAILED"
CANCELED = "CANCELED"
CANCELING = "CANCELING"
RUNNING = frozenset([STARTING, IN_PROGRESS])
# Over for good: a new attempt may start.
GIVEN_UP = frozenset([FAILED, CANCELED, CANCELING])
FINISHED = frozenset([COMPLETE, FAILED, CANCELED])

# The console's rule for export identifiers (1 to 60 letters, digits or hyphens, starting with a letter, no
# double or trailing hyphen); the identifiers made here keep to it.
IDENTIFIER_MAX = 60
DIGEST_LENGTH = 8

# What the plan line says the export costs, so a reader sees it before saying yes.
COST_NOTE = (
    "AWS charges per GB of snapshot data the export reads (whole snapshot, even with export_only), "
    "plus S3 storage for the Parquet files"
)

# StartExportTask answers while a freshly made IAM role is not yet visible to RDS (IAM is eventually consistent):
# retried a few times before the failure is reported.
ROLE_NOT_READY_CODES = ("IamRoleNotFound", "IamRoleMissingPermissions")


class SelectionError(ValueError):
    """No snapshot answers the selection: the message says which was looked for and what was found."""


def final_snapshot_pattern(cluster_identifier):
    """The names playbooks/destroy.yml gives final snapshots: <cluster>-final-YYYYMMDD-HHMMSS (UTC)."""
    return re.compile(re.escape(cluster_identifier) + r"-final-[0-9]{8}-[0-9]{6}$")


def snapshot_words(snapshot):
    return f"{snapshot.get('DBClusterSnapshotIdentifier')} ({snapshot.get('Status', 'unknown status')})"


def select_snapshot(snapshots, source, cluster_identifier, identifier=""):
    """The snapshot to export, from the cluster snapshots AWS listed; SelectionError when none fits.

    ``automated``: the newest available automated snapshot of the cluster; ``final``: the newest final snapshot
    the destroy playbook left (by the UTC time in its name, as destroy sorts them); ``named``: the one whose
    identifier or ARN is ``identifier``.
    """
    snapshots = [s for s in snapshots or [] if isinstance(s, dict)]
    if source == NAMED:
        found = [
            s for s in snapshots if identifier in (s.get("DBClusterSnapshotIdentifier"), s.get("DBClusterSnapshotArn"))
        ]
        if not found:
            raise SelectionError(f"no cluster snapshot {identifier} was found")
        chosen = found[0]
    elif source == AUTOMATED:
        mine = [
            s
            for s in snapshots
            if s.get("SnapshotType") == "automated"
            and s.get("DBClusterIdentifier", cluster_identifier) == cluster_identifier
        ]
        available = [s for s in mine if s.get("Status") == "available"]
        if not available:
            seen = ", ".join(snapshot_words(s) for s in mine) or "none"
            raise SelectionError(
                f"cluster {cluster_identifier} has no available automated snapshot (automated snapshots: {seen}); "
                "name one with aurora_cluster_export_source=named"
            )
        chosen = max(
            available, key=lambda s: (_time_key(s.get("SnapshotCreateTime")), s.get("DBClusterSnapshotIdentifier", ""))
        )
    elif source == FINAL:
        pattern = final_snapshot_pattern(cluster_identifier)
        finals = [s for s in snapshots if pattern.match(s.get("DBClusterSnapshotIdentifier") or "")]
        if not finals:
            raise SelectionError(
                f"no final snapshot of cluster {cluster_identifier} was found (names {cluster_identifier}-final-YYYYMMDD-HHMMSS, "
                "left by playbooks/destroy.yml)"
            )
        chosen = max(finals, key=lambda s: s.get("DBClusterSnapshotIdentifier", ""))
    else:
        raise SelectionError(f"source={source!r} is not one of {', '.join(SOURCES)}")
    if chosen.get("Status", "available") != "available":
        raise SelectionError(
            f"cluster snapshot {snapshot_words(chosen)} is not available: only an available snapshot can be exported"
        )
    return chosen


def _time_key(value):
    moment = as_utc(value)
    return moment.isoformat() if moment else ""


def _slug(text):
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return re.sub(r"-{2,}", "-", slug)


def export_identifier(snapshot_arn, snapshot_identifier, export_only=(), attempt=1):
    """The export task identifier of this snapshot (and table selection), attempt ``attempt``.

    Readable (it starts with the snapshot's name) and unique to the snapshot's ARN and the sorted table
    selection (a digest of both): the same snapshot exported again gives the same identifier.
    """
    digest = hashlib.sha256((str(snapshot_arn) + "|" + ",".join(sorted(export_only or []))).encode("utf-8")).hexdigest()
    suffix = f"-{digest[:DIGEST_LENGTH]}" + (f"-{attempt}" if attempt > 1 else "")
    name = _slug(str(snapshot_identifier).rsplit(":", maxsplit=1)[-1])
    base = ("export-" + name)[: IDENTIFIER_MAX - len(suffix)].rstrip("-")
    return base + suffix


def attempt_of(identifier, base):
    """1 for ``base`` itself, n for ``base-n``, None for an identifier that is not an attempt of it."""
    if identifier == base:
        return 1
    if identifier and identifier.startswith(base + "-"):
        tail = identifier[len(base) + 1 :]
        if tail.isdigit() and int(tail) > 1:
            return int(tail)
    return None


def attempts(tasks, base):
    """The export tasks that are attempts of ``base``, by attempt number."""
    found = {}
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        number = attempt_of(task.get("ExportTaskIdentifier"), base)
        if number is not None:
            found[number] = task
    return dict(sorted(found.items()))


def decide(tasks, base):
    """(what to do, the task it concerns or None, the identifier): ``start`` a new attempt, ``wait`` for a
    running one, or ``none`` when the snapshot was exported. A failed or canceled last attempt gives a new one."""
    found = attempts(tasks, base)
    if not found:
        return "start", None, base
    number, last = list(found.items())[-1]
    status = str(last.get("Status") or "").upper()
    if status == COMPLETE:
        return "none", last, last.get("ExportTaskIdentifier")
    if status in GIVEN_UP:
        return "start", last, f"{base}-{number + 1}"
    # STARTING, IN_PROGRESS, or a status this code does not know: never start a second export beside it.
    return "wait", last, last.get("ExportTaskIdentifier")


def s3_path(bucket, prefix, identifier):
    """Where AWS writes the export: s3://<bucket>/<prefix>/<identifier>/ (no prefix: straight under the bucket)."""
    prefix = str(prefix or "").strip("/")
    return f"s3://{bucket}/" + (f"{prefix}/" if prefix else "") + f"{identifier}"


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _time_text(value):
    moment = as_utc(value)
    return moment.isoformat() if moment else None


def result_of(task, bucket=None, prefix=None):
    """The module's ``export`` return value from AWS's ExportTask, read defensively (a key may be missing)."""
    task = task or {}
    identifier = task.get("ExportTaskIdentifier")
    bucket = task.get("S3Bucket") or bucket
    prefix = task.get("S3Prefix") if task.get("S3Prefix") is not None else prefix
    tables = task.get("ExportOnly")
    return {
        "identifier": identifier,
        "status": str(task.get("Status") or "").upper() or None,
        "s3_path": s3_path(bucket, prefix, identifier) if bucket and identifier else None,
        "s3_bucket": bucket,
        "s3_prefix": prefix or "",
        "percent_progress": _number(task.get("PercentProgress")),
        "total_extracted_data_in_gb": _number(task.get("TotalExtractedDataInGB")),
        # AWS lists ExportOnly only when the task was asked for part of the data: none means everything.
        "export_only": [str(t) for t in tables] if isinstance(tables, list) else [],
        "source_arn": task.get("SourceArn"),
        "source_type": task.get("SourceType"),
        "snapshot_time": _time_text(task.get("SnapshotTime")),
        "task_start_time": _time_text(task.get("TaskStartTime")),
        "task_end_time": _time_text(task.get("TaskEndTime")),
        "iam_role_arn": task.get("IamRoleArn"),
        "kms_key_id": task.get("KmsKeyId"),
        "failure_cause": task.get("FailureCause"),
        "warning_message": task.get("WarningMessage"),
    }


def progress_label(task):
    """A task's state as the progress lines print it: its status and, while it runs, how far it got."""
    if not task:
        return "absent"
    status = str(task.get("Status") or "unknown").upper()
    percent = _number(task.get("PercentProgress"))
    return f"{status} {percent:g}%" if percent is not None and status not in FINISHED else status


def export_action(snapshot, identifier, bucket, prefix, export_only, previous=None):
    """The plan's one action: start the export of ``snapshot`` into the bucket (plan.Action, as the stack's)."""
    tables = ", ".join(export_only) if export_only else "every database"
    where = s3_path(bucket, prefix, identifier)
    retry = ""
    if previous:
        cause = previous.get("FailureCause") or "no cause given"
        retry = (
            f"; attempt {previous.get('ExportTaskIdentifier')} ended {str(previous.get('Status')).upper()} ({cause})"
        )
    return Action(
        "snapshot_export",
        identifier,
        "start",
        changes=[
            {"attribute": "snapshot", "before": None, "after": snapshot.get("DBClusterSnapshotIdentifier")},
            {"attribute": "destination", "before": None, "after": where},
            {"attribute": "data", "before": None, "after": tables},
        ],
        impact=ONLINE,
        runner="aurora_snapshot_export",
        calls=["StartExportTask"],
        note=(
            f"The export reads the snapshot, not the cluster: no impact on the cluster's instances or connections; "
            f"Apache Parquet files go to {where}{retry}. {COST_NOTE}"
        ),
    )


# --- the role's export variables (entry point export), checked before any AWS call -----------------------

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
EXPORT_ONLY_ITEM = re.compile(r"^[^.\s]+(\.[^.\s]+){0,2}$")
# An account ID has 12 digits; the longest region name has 14 characters (ap-southeast-2 and its like).
ACCOUNT_ID_LENGTH = 12
STANDARD_IA_MIN_DAYS = 30
# The export's IAM role is <aurora_cluster_identifier>-snapshot-export (tasks/export.yml).
ROLE_SUFFIX = "-snapshot-export"
IAM_ROLE_NAME_MAX = 64


def derived_bucket_name(cluster_identifier, account_id, region):
    """The bucket the role creates when aurora_cluster_export_bucket is empty: S3 names are global, so the
    account and the region are part of it."""
    return f"{cluster_identifier}-exports-{account_id}-{region}"


def bucket_name_error(option, value):
    if not BUCKET_NAME.match(value) or ".." in value or re.match(r"^\d+\.\d+\.\d+\.\d+$", value):
        return (
            f"{option}={value!r} is not a valid S3 bucket name: 3 to 63 lower-case letters, digits, dots or hyphens, "
            "starting and ending with a letter or digit, not an IP address"
        )
    return None


def export_setting_errors(settings):
    """Every rule the export entry point's typed settings break (the role's ``aurora_cluster_export_*``)."""
    s = settings
    errors = []
    source = s.get("aurora_cluster_export_source", AUTOMATED)
    named = s.get("aurora_cluster_export_snapshot_identifier", "")
    if source == NAMED and not named:
        errors.append(
            "aurora_cluster_export_snapshot_identifier='' is empty: aurora_cluster_export_source=named needs the "
            "identifier (or ARN) of the cluster snapshot to export"
        )
    if source != NAMED and named:
        errors.append(
            f"aurora_cluster_export_snapshot_identifier={named!r} is set but aurora_cluster_export_source={source!r} "
            "chooses the snapshot itself: set aurora_cluster_export_source=named to export that snapshot, or leave "
            "the identifier out"
        )
    bucket = s.get("aurora_cluster_export_bucket", "")
    if bucket:
        error = bucket_name_error("aurora_cluster_export_bucket", bucket)
        if error:
            errors.append(error)
    else:
        identifier = s.get("aurora_cluster_identifier") or (str(s.get("aurora_cluster_name", "")) + "-aurora")
        longest = derived_bucket_name(identifier, "0" * ACCOUNT_ID_LENGTH, s.get("aurora_cluster_aws_region", ""))
        if len(longest) > 63:
            errors.append(
                f"aurora_cluster_export_bucket='' derives the bucket name {longest!r} ({len(longest)} characters "
                "with the 12-digit account ID), longer than S3's 63: name the bucket with aurora_cluster_export_bucket"
            )
    identifier = s.get("aurora_cluster_identifier") or (str(s.get("aurora_cluster_name", "")) + "-aurora")
    role_name = identifier + ROLE_SUFFIX
    if len(role_name) > IAM_ROLE_NAME_MAX:
        errors.append(
            f"aurora_cluster_identifier={identifier!r} makes the export's IAM role name {role_name!r} "
            f"({len(role_name)} characters), longer than IAM's {IAM_ROLE_NAME_MAX}: shorten the identifier"
        )
    prefix = s.get("aurora_cluster_export_prefix", "")
    if prefix.startswith("/") or "//" in prefix or len(prefix) > 900:
        errors.append(
            f"aurora_cluster_export_prefix={prefix!r} is not a usable S3 prefix: no leading slash, no empty path "
            "segment (//), at most 900 characters"
        )
    for item in s.get("aurora_cluster_export_only", []) or []:
        if not EXPORT_ONLY_ITEM.match(str(item)):
            errors.append(
                f"aurora_cluster_export_only item {item!r} is not database, database.schema or database.schema.table "
                "(Aurora PostgreSQL's forms, without spaces)"
            )
    days = s.get("aurora_cluster_export_noncurrent_version_days", 30)
    if days < 1:
        errors.append(
            f"aurora_cluster_export_noncurrent_version_days={days} is below 1: old versions expire after at least one day"
        )
    transition = s.get("aurora_cluster_export_transition_days", 30)
    if transition != 0 and transition < STANDARD_IA_MIN_DAYS:
        errors.append(
            f"aurora_cluster_export_transition_days={transition} is neither 0 (never) nor at least {STANDARD_IA_MIN_DAYS}: "
            "S3 moves objects to STANDARD_IA no sooner than 30 days after they are written"
        )
    timeout = s.get("aurora_cluster_export_wait_timeout", 14400)
    if timeout < 0:
        errors.append(
            f"aurora_cluster_export_wait_timeout={timeout} is negative: give seconds, 0 to start the export without waiting"
        )
    return errors
