"""Snapshot export: the export task identifier, the snapshot chosen, what a run does, and the export variables' guards.

The guards are checked on values typed as the role types them (plugin_utils.role_settings.convert_all with the
export entry point's spec), from each form a value arrives in: YAML (native), a YAML string, ``-e name=value``
(always text) and ``-e`` JSON.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from ansible_collections.vitality.aurora.plugins.module_utils import snapshot_export as se
from ansible_collections.vitality.aurora.plugins.plugin_utils.role_settings import convert_all

ARGUMENT_SPECS = Path(__file__).resolve().parents[2] / "roles/aurora_cluster/meta/argument_specs.yml"
EXPORT_SPEC = yaml.safe_load(ARGUMENT_SPECS.read_text())["argument_specs"]["export"]["options"]
DEFAULTS = yaml.safe_load((ARGUMENT_SPECS.parents[1] / "defaults/main.yml").read_text())

CLUSTER = "vitality-dev-aurora"
ARN = "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def snap(identifier, kind="automated", status="available", hours=0, cluster=CLUSTER):
    return {
        "DBClusterSnapshotIdentifier": identifier,
        "DBClusterSnapshotArn": ARN + identifier,
        "DBClusterIdentifier": cluster,
        "SnapshotType": kind,
        "Status": status,
        "SnapshotCreateTime": T0 + timedelta(hours=hours),
    }


# --- the export task identifier ------------------------------------------------------------------------------


def test_the_identifier_is_the_same_for_the_same_snapshot_and_tables():
    one = se.export_identifier(ARN + "rds:x-1", "rds:x-1", ["vitality.app", "vitality"])
    assert one == se.export_identifier(ARN + "rds:x-1", "rds:x-1", ["vitality", "vitality.app"])
    assert one != se.export_identifier(ARN + "rds:x-2", "rds:x-2", ["vitality", "vitality.app"])
    assert one != se.export_identifier(ARN + "rds:x-1", "rds:x-1", [])


def test_the_identifier_keeps_to_the_rules_of_export_identifiers_even_for_long_names():
    long_name = "rds:" + "a" * 80 + "--b"
    for identifier in (
        se.export_identifier(
            ARN + "rds:vitality-dev-aurora-2026-12-01-03-10", "rds:vitality-dev-aurora-2026-12-01-03-10"
        ),
        se.export_identifier(ARN + long_name, long_name),
        se.export_identifier(ARN + long_name, long_name, attempt=12),
    ):
        assert len(identifier) <= se.IDENTIFIER_MAX
        assert re.match(r"^[a-z][a-z0-9-]*[a-z0-9]$", identifier), identifier
        assert "--" not in identifier


def test_a_readable_identifier_names_the_snapshot():
    identifier = se.export_identifier(
        ARN + "rds:vitality-dev-aurora-2026-12-01-03-10", "rds:vitality-dev-aurora-2026-12-01-03-10"
    )
    assert identifier.startswith("export-vitality-dev-aurora-2026-12-01-03-10-")


def test_two_long_names_that_share_their_start_still_differ():
    a, b = "rds:" + "a" * 70 + "1", "rds:" + "a" * 70 + "2"
    assert se.export_identifier(ARN + a, a) != se.export_identifier(ARN + b, b)


# --- what a run does -----------------------------------------------------------------------------------------


def task(identifier, status, cause=None):
    return {"ExportTaskIdentifier": identifier, "Status": status, "FailureCause": cause}


def test_no_task_starts_the_first_attempt():
    assert se.decide([], "export-x-1234abcd") == ("start", None, "export-x-1234abcd")


@pytest.mark.parametrize("status", ["STARTING", "IN_PROGRESS", "in_progress", "SOMETHING_NEW"])
def test_a_running_task_is_waited_for_never_doubled(status):
    what, found, identifier = se.decide([task("export-x-1234abcd", status)], "export-x-1234abcd")
    assert (what, identifier) == ("wait", "export-x-1234abcd")


def test_a_complete_task_means_nothing_to_do_and_other_tasks_are_not_mine():
    tasks = [task("export-x-1234abcd", "COMPLETE"), task("export-x-1234abcd9", "FAILED"), task("other", "FAILED")]
    assert se.decide(tasks, "export-x-1234abcd")[0::2] == ("none", "export-x-1234abcd")


@pytest.mark.parametrize("status", ["FAILED", "CANCELED", "CANCELING"])
def test_a_failed_last_attempt_gives_the_next_numbered_attempt(status):
    tasks = [task("export-x-1234abcd", "FAILED", "no access"), task("export-x-1234abcd-2", status, "no access")]
    what, previous, identifier = se.decide(tasks, "export-x-1234abcd")
    assert (what, identifier) == ("start", "export-x-1234abcd-3")
    assert previous["ExportTaskIdentifier"] == "export-x-1234abcd-2"


def test_the_plan_line_says_what_starts_where_the_data_goes_the_impact_and_the_cost():
    action = se.export_action(snap("rds:s1"), "export-s1-1234abcd", "bucket", "dev/", ["vitality"])
    action.order = 1
    line = action.line()
    assert line.startswith("1. snapshot export export-s1-1234abcd: start")
    assert "s3://bucket/dev/export-s1-1234abcd" in line
    assert "[online]" in line and "no impact on the cluster" in line
    assert "charges per GB" in line
    assert action.to_dict()["calls"] == ["StartExportTask"]


def test_a_retry_says_why_the_last_attempt_ended():
    action = se.export_action(snap("rds:s1"), "e-2", "b", "", [], previous=task("e", "FAILED", "bucket gone"))
    assert "attempt e ended FAILED (bucket gone)" in action.line()


def test_the_result_is_read_defensively():
    result = se.result_of({"ExportTaskIdentifier": "e", "Status": "complete", "PercentProgress": "40"}, "b", "p")
    assert result["status"] == "COMPLETE"
    assert result["s3_path"] == "s3://b/p/e"
    assert result["percent_progress"] == 40.0
    assert result["total_extracted_data_in_gb"] is None
    assert result["export_only"] == []
    assert se.result_of(None)["s3_path"] is None


def test_progress_shows_the_percent_while_running():
    assert se.progress_label({"Status": "IN_PROGRESS", "PercentProgress": 45}) == "IN_PROGRESS 45%"
    assert se.progress_label({"Status": "COMPLETE", "PercentProgress": 100}) == "COMPLETE"
    assert se.progress_label(None) == "absent"


# --- which snapshot ------------------------------------------------------------------------------------------


def test_automated_is_the_newest_available_automated_snapshot_of_the_cluster():
    snapshots = [
        snap("rds:a-old", hours=0),
        snap("rds:a-new", hours=2),
        snap("rds:a-creating", status="creating", hours=3),
        snap("rds:other", hours=5, cluster="another"),
        snap(f"{CLUSTER}-final-20261201-050000", kind="manual", hours=4),
    ]
    assert se.select_snapshot(snapshots, "automated", CLUSTER)["DBClusterSnapshotIdentifier"] == "rds:a-new"


def test_automated_without_an_available_one_says_what_it_found():
    with pytest.raises(se.SelectionError, match=r"no available automated snapshot.*rds:a \(creating\)"):
        se.select_snapshot([snap("rds:a", status="creating")], "automated", CLUSTER)


def test_final_is_the_newest_final_snapshot_by_its_name_as_destroy_sorts_them():
    snapshots = [
        snap(f"{CLUSTER}-final-20261130-230000", kind="manual", hours=9),
        snap(f"{CLUSTER}-final-20261201-010000", kind="manual", hours=1),
        snap(f"{CLUSTER}-before-upgrade", kind="manual", hours=10),
        snap("other-aurora-final-20261202-010000", kind="manual", hours=11),
    ]
    chosen = se.select_snapshot(snapshots, "final", CLUSTER)
    assert chosen["DBClusterSnapshotIdentifier"] == f"{CLUSTER}-final-20261201-010000"


def test_final_without_one_names_the_pattern():
    with pytest.raises(se.SelectionError, match="final-YYYYMMDD-HHMMSS"):
        se.select_snapshot([snap(f"{CLUSTER}-manual", kind="manual")], "final", CLUSTER)


def test_named_by_identifier_or_arn_and_only_when_available():
    snapshots = [snap("mine", kind="manual"), snap("busy", kind="manual", status="creating")]
    assert se.select_snapshot(snapshots, "named", CLUSTER, "mine")["DBClusterSnapshotIdentifier"] == "mine"
    assert se.select_snapshot(snapshots, "named", CLUSTER, ARN + "mine")["DBClusterSnapshotIdentifier"] == "mine"
    with pytest.raises(se.SelectionError, match="no cluster snapshot gone"):
        se.select_snapshot(snapshots, "named", CLUSTER, "gone")
    with pytest.raises(se.SelectionError, match="busy \\(creating\\) is not available"):
        se.select_snapshot(snapshots, "named", CLUSTER, "busy")


# --- the export variables' guards, from every input form -----------------------------------------------------

BASE = {
    "aurora_cluster_name": "vitality-dev",
    "aurora_cluster_environment": "dev",
    "aurora_cluster_aws_region": "us-east-1",
    "aurora_cluster_identifier": CLUSTER,
    "aurora_cluster_vpc_name": "vitality-dev-app-vpc",
}


def forms(name, value):
    """The raw values one setting arrives as: YAML (native), a YAML string, -e name=value, -e JSON."""
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, list) else str(value)
    return {
        "yaml": value,
        "yaml string": yaml.safe_load(f"{name}: '{text}'")[name] if not isinstance(value, list) else text,
        "-e name=value": text,
        "-e json": json.loads(json.dumps({name: value}))[name],
    }


def typed_errors(**settings):
    raw = dict(BASE, **settings)
    typed, conversion_errors = convert_all(raw, EXPORT_SPEC)
    assert conversion_errors == []
    # The defaults the role gives what is not set, as Ansible would.
    for name, value in DEFAULTS.items():
        if name.startswith("aurora_cluster_export_"):
            typed.setdefault(name, value)
    return se.export_setting_errors(typed)


GUARDS = [
    # (variable, bad value, other settings, words the message must hold)
    ("aurora_cluster_export_transition_days", 10, {}, ["aurora_cluster_export_transition_days=10", "at least 30"]),
    (
        "aurora_cluster_export_noncurrent_version_days",
        0,
        {},
        ["aurora_cluster_export_noncurrent_version_days=0", "below 1"],
    ),
    ("aurora_cluster_export_wait_timeout", -5, {}, ["aurora_cluster_export_wait_timeout=-5", "negative"]),
    (
        "aurora_cluster_export_bucket",
        "My_Bucket",
        {},
        ["aurora_cluster_export_bucket='My_Bucket'", "not a valid S3 bucket name"],
    ),
    ("aurora_cluster_export_prefix", "/exports", {}, ["aurora_cluster_export_prefix='/exports'", "no leading slash"]),
    ("aurora_cluster_export_only", ["vitality.app.t.x"], {}, ["'vitality.app.t.x'", "database.schema.table"]),
    (
        "aurora_cluster_export_snapshot_identifier",
        "my-snapshot",
        {"aurora_cluster_export_source": "automated"},
        ["aurora_cluster_export_snapshot_identifier='my-snapshot'", "aurora_cluster_export_source='automated'"],
    ),
    (
        "aurora_cluster_export_source",
        "named",
        {},
        ["aurora_cluster_export_snapshot_identifier=''", "needs the identifier"],
    ),
]


@pytest.mark.parametrize("form", ["yaml", "yaml string", "-e name=value", "-e json"])
@pytest.mark.parametrize(("name", "bad", "others", "words"), GUARDS, ids=[g[0] + "=" + str(g[1]) for g in GUARDS])
def test_every_guard_in_every_input_form_names_the_variable_the_value_and_the_rule(form, name, bad, others, words):
    errors = typed_errors(**others, **{name: forms(name, bad)[form]})
    assert len(errors) == 1, errors
    for word in words:
        assert word in errors[0], errors[0]


@pytest.mark.parametrize("form", ["yaml", "yaml string", "-e name=value", "-e json"])
def test_good_values_in_every_form_pass(form):
    settings = {
        "aurora_cluster_export_transition_days": forms("d", 0)[form],
        "aurora_cluster_export_noncurrent_version_days": forms("d", 7)[form],
        "aurora_cluster_export_only": forms("o", ["vitality", "vitality.app", "vitality.app.users"])[form],
        "aurora_cluster_export_bucket": forms("b", "my.exports-1")[form],
        "aurora_cluster_export_source": forms("s", "named")[form],
        "aurora_cluster_export_snapshot_identifier": forms("i", "vitality-dev-aurora-final-20261201-010000")[form],
    }
    assert typed_errors(**settings) == []


def test_the_defaults_pass():
    assert typed_errors() == []


def test_a_derived_bucket_or_role_name_too_long_is_refused_naming_the_variable():
    errors = typed_errors(aurora_cluster_identifier="a" * 50)
    assert any(e.startswith("aurora_cluster_export_bucket=''") and "longer than S3's 63" in e for e in errors), errors
    assert any("IAM role name" in e and "longer than IAM's 64" in e for e in errors), errors


def test_a_source_outside_the_choices_is_refused_by_the_typing():
    _typed, errors = convert_all(dict(BASE, aurora_cluster_export_source="latest"), EXPORT_SPEC)
    assert errors == ["aurora_cluster_export_source='latest' is not one of automated, final, named"]


def test_every_export_variable_has_its_declared_default_in_defaults_main():
    for name, option in EXPORT_SPEC.items():
        if name.startswith("aurora_cluster_export_"):
            assert DEFAULTS[name] == option["default"], name
