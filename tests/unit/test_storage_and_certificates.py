"""The cluster's storage configuration and the instances' certificate authority: typed at the boundary, compared,
and planned with what each change costs.

The guards are checked in every input form (YAML, YAML text, -e name=value, -e JSON), typed by role_settings as the
aurora_settings action types them. The plans are made on test_stack_plan's AWS-shaped snapshots; the next allowed
switch to I/O-Optimized is given as botocore gives it (an aware datetime) and as a saved JSON holds it (text). The local
AWS models that time through scripts/moto_server_ext.py; these tests pin the planner's side of it without it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_serverless_v2_settings import forms, typed_errors
from test_stack_plan import (
    FAILOVER,
    IMPOSSIBLE,
    MAINTENANCE_WINDOW,
    NOW,
    ONLINE,
    REBOOT,
    STACK,
    WRITER_RESTART,
    absent,
    lines,
    only_writer,
    params,
    plan,
    planned,
    rows,
    snapshot,
)

from ansible_collections.vitality.aurora.plugins.module_utils import cluster_settings as cs
from ansible_collections.vitality.aurora.plugins.module_utils import instance_settings as ins
from ansible_collections.vitality.aurora.plugins.module_utils import stack_plan as sp
from ansible_collections.vitality.aurora.plugins.module_utils import validation as v
from ansible_collections.vitality.aurora.plugins.plugin_utils import role_settings as rs

SPEC = rs.load_role_spec()["main"]
CA, STORAGE = "aurora_cluster_ca_certificate_identifier", "aurora_cluster_storage_type"
FORMS = ["yaml", "yaml-string", "key=value", "json"]
READ_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


# --- typed and guarded ------------------------------------------------------------------------------------------------


def test_the_defaults_are_standard_storage_and_the_rsa2048_authority():
    assert SPEC[STORAGE]["default"] == "aurora"
    assert SPEC[CA]["default"] == "rds-ca-rsa2048-g1" == v.SETTING_DEFAULTS[CA]


CA_GUARDS = {
    "expired-2019": ("rds-ca-2019", f"{CA}='rds-ca-2019' expired in August 2024"),
    "expired-2015": ("rds-ca-2015", f"{CA}='rds-ca-2015' expired in March 2020"),
    "upper-case": ("RDS-CA-RSA2048-G1", f"{CA}='RDS-CA-RSA2048-G1' is invalid: an RDS certificate authority is named"),
    "not-rds": ("my-ca", f"{CA}='my-ca' is invalid"),
    "trailing-hyphen": ("rds-ca-rsa2048-", f"{CA}='rds-ca-rsa2048-' is invalid"),
    "empty": ("", f"{CA}='' is invalid"),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("guard", sorted(CA_GUARDS))
def test_a_certificate_authority_guard_holds_in_every_input_form(guard, form):
    value, message = CA_GUARDS[guard]
    errors = typed_errors(dict(forms({CA: value}))[form])
    assert len(errors) == 1, errors
    assert message in errors[0], errors


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("value", ["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1", "rds-ca-rsa2048-g2"])
def test_the_known_authorities_and_a_newer_one_of_their_form_pass(value, form):
    assert typed_errors(dict(forms({CA: value}))[form]) == []


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("value", ["aurora", "aurora-iopt1"])
def test_both_storage_types_pass_in_every_form(value, form):
    raw = dict(forms({STORAGE: value}))[form]
    typed, errors = rs.convert_all(raw, {STORAGE: SPEC[STORAGE]})
    assert (typed, errors) == ({STORAGE: value}, [])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("value", ["gp2", "iopt1", "Aurora", "standard"])
def test_another_storage_type_is_refused_naming_the_variable_in_every_form(value, form):
    raw = dict(forms({STORAGE: value}))[form]
    typed, errors = rs.convert_all(raw, {STORAGE: SPEC[STORAGE]})
    assert len(errors) == 1 and f"{STORAGE}={value!r} is not one of aurora, aurora-iopt1" in errors[0], errors


@pytest.mark.parametrize("value", [["aurora"], {"type": "aurora"}, 1])
def test_a_storage_type_that_is_not_text_is_refused(value):
    typed, errors = rs.convert_all({STORAGE: value}, {STORAGE: SPEC[STORAGE]})
    assert len(errors) == 1 and STORAGE in errors[0], errors


# --- storage: compared, created, switched ------------------------------------------------------------------------------


def storage(current=None, wanted="aurora", **cluster):
    """A stack in sync but for the storage type: the cluster reports ``current`` (None: left out)."""
    state, desired = snapshot(), params()
    state["read_at"] = READ_AT
    if current is not None:
        state["cluster"]["StorageType"] = current
    state["cluster"].update(cluster)
    desired["cluster"]["storage_type"] = wanted
    return state, desired


@pytest.mark.parametrize("current", [None, "", "aurora"])
def test_a_cluster_reporting_no_storage_type_or_aurora_is_standard(current):
    assert plan(*storage(current)) == ([], [], None)


def test_storage_left_out_of_the_inventory_is_not_compared():
    state, wanted = storage("aurora-iopt1")
    wanted["cluster"]["storage_type"] = None
    assert plan(state, wanted) == ([], [], None)


@pytest.mark.parametrize("apply_immediately, when", [(True, NOW), (False, MAINTENANCE_WINDOW)])
def test_a_switch_to_io_optimized_is_one_online_cluster_modify_saying_its_cost(apply_immediately, when):
    state, wanted = storage(None, "aurora-iopt1")
    wanted["cluster"]["apply_immediately"] = apply_immediately
    actions = planned(state, wanted)
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, when, STACK, ["ModifyDBCluster"])]
    assert lines(actions)[0].startswith("1. cluster c: modify (storage_type aurora -> aurora-iopt1) [online")
    assert cs.STORAGE_NOTES["aurora-iopt1"] in lines(actions)[0]
    assert "once every 30 days" in cs.STORAGE_NOTES["aurora-iopt1"]
    spec = dict(wanted["cluster"], vpc_security_group_ids=["sg-db"])
    assert cs.modify_request("c", actions[0].request["changes"], spec) == {
        "DBClusterIdentifier": "c",
        "StorageType": "aurora-iopt1",
        "ApplyImmediately": apply_immediately,
    }


def test_a_switch_pending_for_the_window_counts_as_made():
    state, wanted = storage("aurora", "aurora-iopt1", PendingModifiedValues={"StorageType": "aurora-iopt1"})
    assert plan(state, wanted) == ([], [], None)


NEXT_ALLOWED = READ_AT + timedelta(days=12, hours=3)


@pytest.mark.parametrize(
    "allowed", [NEXT_ALLOWED, NEXT_ALLOWED.isoformat(), NEXT_ALLOWED.strftime("%Y-%m-%dT%H:%M:%SZ")]
)
def test_a_switch_to_io_optimized_before_aws_allows_it_is_refused_with_the_time(allowed):
    state, wanted = storage("aurora", "aurora-iopt1", IOOptimizedNextAllowedModificationTime=allowed)
    wanted["cluster"]["variable_prefix"] = "aurora_cluster_"
    actions, problems, _notice = plan(state, wanted)
    assert problems == [
        "aurora_cluster_storage_type=aurora-iopt1: cluster c is Standard and AWS allows its next switch to "
        "I/O-Optimized only from 2026-12-13 15:00 UTC (once every 30 days): run again after that time, or keep "
        "storage_type=aurora until then"
    ]
    # Shown as the impossible step it is; no ModifyDBCluster is planned.
    assert [(a.change, a.impact, a.calls) for a in actions] == [("change storage_type", IMPOSSIBLE, [])]


def test_the_refusal_names_the_option_without_a_variable_prefix():
    state, wanted = storage("aurora", "aurora-iopt1", IOOptimizedNextAllowedModificationTime=NEXT_ALLOWED)
    _actions, problems, _notice = plan(state, wanted)
    assert problems[0].startswith("cluster.storage_type=aurora-iopt1: ")


def test_the_refusal_keeps_the_other_changes_shown():
    state, wanted = storage("aurora", "aurora-iopt1", IOOptimizedNextAllowedModificationTime=NEXT_ALLOWED)
    wanted["cluster"]["backup_retention_period"] = 14
    actions, problems, _notice = plan(state, wanted)
    assert len(problems) == 1
    assert [(a.change, a.impact) for a in actions] == [("change storage_type", IMPOSSIBLE), ("modify", ONLINE)]
    assert [c["attribute"] for c in actions[1].request["changes"]] == ["backup_retention_period"]


@pytest.mark.parametrize("allowed", [READ_AT, READ_AT - timedelta(days=1), "not a time", None])
def test_a_switch_once_the_time_has_come_or_without_a_time_is_planned(allowed):
    state, wanted = storage("aurora", "aurora-iopt1", IOOptimizedNextAllowedModificationTime=allowed)
    assert rows(planned(state, wanted))[0][3:5] == ("modify", ONLINE)


def test_a_switch_back_to_standard_is_allowed_at_any_time_and_says_so():
    state, wanted = storage("aurora-iopt1", "aurora", IOOptimizedNextAllowedModificationTime=NEXT_ALLOWED)
    actions = planned(state, wanted)
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, MAINTENANCE_WINDOW, STACK, ["ModifyDBCluster"])]
    assert "(storage_type aurora-iopt1 -> aurora)" in lines(actions)[0]
    assert cs.STORAGE_NOTES["aurora"] in lines(actions)[0]


def test_a_plan_read_without_a_time_of_its_own_is_not_refused():
    # A snapshot without read_at (a caller that reads otherwise) cannot compare: AWS is then the judge.
    state, wanted = storage("aurora", "aurora-iopt1", IOOptimizedNextAllowedModificationTime=NEXT_ALLOWED)
    del state["read_at"]
    assert rows(planned(state, wanted))[0][3:5] == ("modify", ONLINE)


def test_a_new_cluster_is_created_with_its_storage_type_shown_and_sent():
    state, wanted = absent(), params()
    wanted["cluster"]["storage_type"] = "aurora-iopt1"
    actions = planned(state, wanted)
    create = next(a for a in actions if a.resource == "cluster")
    assert {"attribute": "storage_type", "before": None, "after": "aurora-iopt1"} in create.changes
    request = cs.create_request("c", dict(wanted["cluster"], master_user_secret_kms_key_id=None))
    assert request["StorageType"] == "aurora-iopt1"


@pytest.mark.parametrize("source", ["restore_from_snapshot", "restore_from_cluster"])
def test_a_restored_cluster_is_asked_for_its_storage_type(source):
    spec = dict(
        params()["cluster"],
        storage_type="aurora-iopt1",
        restore_from_snapshot=None,
        restore_from_cluster=None,
        restore_to_time=None,
        vpc_security_group_ids=["sg-db"],
        kms_key_id=None,
        enable_iam_database_authentication=False,
        enable_cloudwatch_logs_exports=[],
        copy_tags_to_snapshot=True,
    )
    spec[source] = "source"
    _method, request = cs.restore_request("c", spec)
    assert request["StorageType"] == "aurora-iopt1"


def test_the_storage_type_in_the_outputs_reads_absent_as_standard():
    assert cs.storage_type({}) == "aurora"
    assert cs.storage_type({"StorageType": "aurora-iopt1"}) == "aurora-iopt1"


# --- the certificate authority: a rotation is a restart -----------------------------------------------------------------


def rotation(apply_immediately=True, current="rds-ca-rsa2048-g1", wanted_ca="rds-ca-rsa4096-g1"):
    state, wanted = snapshot(), params()
    for described in state["instances"]:
        described["CACertificateIdentifier"] = current
    wanted["instances"].update(ca_certificate_identifier=wanted_ca, apply_immediately=apply_immediately)
    return state, wanted


def test_instances_with_the_authority_asked_for_plan_nothing():
    assert plan(*rotation(wanted_ca="rds-ca-rsa2048-g1")) == ([], [], None)


def test_a_rotation_now_rolls_like_a_class_change_readers_first_the_writer_after_a_failover():
    actions = planned(*rotation())
    assert rows(actions) == [
        (1, "instance", "r-1", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (2, "instance", "r-2", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (3, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
        (4, "instance", "w", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (5, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
    ]
    note = ins.CA_ROTATION_NOTE.format(after="rds-ca-rsa4096-g1")
    assert lines(actions)[0] == (
        "1. instance r-1: modify (ca_certificate_identifier rds-ca-rsa2048-g1 -> rds-ca-rsa4096-g1) [reboot] - r-1 "
        f"restarts: its connections drop for a few minutes while the other instances serve. {note}"
    )
    # The request: the new authority, now; no CertificateRotationRestart (AWS restarts, as the plan says).
    assert ins.modify_request(actions[0].request["params"], actions[0].request["changes"]) == {
        "DBInstanceIdentifier": "r-1",
        "CACertificateIdentifier": "rds-ca-rsa4096-g1",
        "ApplyImmediately": True,
    }


def test_a_rotation_of_a_lone_writer_is_a_writer_restart():
    state, wanted = rotation()
    only_writer(state, wanted)
    assert rows(planned(state, wanted)) == [
        (1, "instance", "w", "modify", WRITER_RESTART, NOW, STACK, ["ModifyDBInstance"])
    ]


def test_a_rotation_in_the_window_restarts_each_instance_in_its_own_window():
    actions = planned(*rotation(apply_immediately=False))
    assert [(a.name, a.impact, a.when) for a in actions] == [
        ("r-1", REBOOT, MAINTENANCE_WINDOW),
        ("r-2", REBOOT, MAINTENANCE_WINDOW),
        ("w", WRITER_RESTART, MAINTENANCE_WINDOW),
    ]


def test_a_rotation_pending_for_the_window_counts_as_made():
    state, wanted = rotation(apply_immediately=False)
    for described in state["instances"]:
        described["PendingModifiedValues"] = {"CACertificateIdentifier": "rds-ca-rsa4096-g1"}
    assert plan(state, wanted) == ([], [], None)


def test_a_new_instance_is_created_with_the_authority():
    request = ins.create_request(
        {"db_instance_identifier": "w", "db_cluster_identifier": "c", "ca_certificate_identifier": "rds-ca-ecc384-g1"}
    )
    assert request["CACertificateIdentifier"] == "rds-ca-ecc384-g1"


def test_the_planner_reads_the_time_it_read_the_stack_at():
    # read_stack stamps its snapshot; the stamp is aware UTC, comparable with botocore's times.
    assert sp.as_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert sp.as_utc("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert sp.as_utc(None) is None
