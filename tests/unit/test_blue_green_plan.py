"""A major upgrade by blue/green, planned by the one planner (stack_plan.plan_stack) from the deployment's real state.

Pure: the snapshots are AWS-shaped (as read_stack and blue_green.read_blue_green keep them) and the clock is the
snapshot's read_at, so the retention period is tested without waiting. Each test pins the steps (resource, name,
change, impact, calls) and, where the words matter, the plan's lines, problems and notice.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from test_serverless_v2_settings import forms, typed_errors
from test_stack_plan import instance, params, rows, snapshot

from ansible_collections.vitality.aurora.plugins.module_utils import blue_green as bg
from ansible_collections.vitality.aurora.plugins.module_utils import stack_plan as sp
from ansible_collections.vitality.aurora.plugins.module_utils.plan import (
    IMPOSSIBLE,
    NEXT_RESTART,
    NOW,
    ONLINE,
    PENDING_REBOOT,
    REPLACEMENT,
    STACK,
    WRITER_RESTART,
)

NOW_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:rds:us-east-1:123456789012:cluster:"
CREATE = (
    "blue_green_deployment",
    "c-bg",
    "create",
    ONLINE,
    NOW,
    STACK,
    ["CreateBlueGreenDeployment"],
)


def deployment(status, target="c-green-abcdef", details=None):
    return {
        "BlueGreenDeploymentIdentifier": "bgd-1",
        "BlueGreenDeploymentName": "c-bg",
        "Source": ARN + "c",
        "Target": ARN + target,
        "Status": status,
        "StatusDetails": details,
    }


def upgrade(found=None, blue_parameters=None, **cluster):
    """(state, wanted) of a 16.6 cluster the inventory wants on 17.4 by blue/green, with a self-managed password."""
    state, wanted = snapshot(), params()
    state["read_at"] = NOW_AT
    state["cluster"].pop("MasterUserSecret")
    state["parameter_group"] = None  # the new family's group does not exist yet
    state["blue_green"] = {
        "name": "c-bg",
        "deployment": found,
        "blue_parameters": {} if blue_parameters is None else blue_parameters,
        "old_cluster": None,
    }
    wanted["parameter_group"].update(name="pg17", family="aurora-postgresql17")
    wanted["cluster"].update(
        engine_version="17.4",
        allow_major_version_upgrade=True,
        manage_master_user_password=False,
        db_cluster_parameter_group_name="pg17",
        major_upgrade_strategy="blue-green",
        blue_green_switchover=False,
        blue_green_switchover_timeout=300,
        blue_green_retention_hours=24,
        blue_green_rollback=False,
        variable_prefix="aurora_cluster_",
    )
    wanted["cluster"].update(cluster)
    return state, wanted


def switched(tag_at=None, protected=True, **cluster):
    """(state, wanted) after the switchover: the cluster runs 17.4 with pg17; the old one is c-old1."""
    state, wanted = upgrade(deployment(bg.SWITCHOVER_COMPLETED), **cluster)
    state["parameter_group"] = snapshot()["parameter_group"] | {"DBClusterParameterGroupName": "pg17"}
    state["parameters"] = {"rds.force_ssl": "1"}
    wanted["parameter_group"]["parameters"] = {"rds.force_ssl": 1}
    state["parameter_group"]["DBParameterGroupFamily"] = "aurora-postgresql17"
    state["cluster"].update(EngineVersion="17.4", DBClusterParameterGroup="pg17")
    tags = [{"Key": bg.SWITCHED_TAG, "Value": tag_at}] if tag_at else []
    state["blue_green"]["old_cluster"] = {
        "DBClusterIdentifier": "c-old1",
        "DBClusterArn": ARN + "c-old1",
        "DeletionProtection": protected,
        "DBClusterParameterGroup": "pg",
        "TagList": tags,
    }
    state["blue_green"]["old_members"] = [
        instance("w-old1", "us-east-1c", 0, "writer"),
        instance("r-1-old1", "us-east-1d", 1, "reader"),
    ]
    return state, wanted


def plan(state, wanted):
    return sp.plan_stack(state, wanted)


def test_the_deployment_name_derives_from_the_cluster_and_fits_aws_rules():
    assert bg.deployment_name("vitality-prod-aurora") == "vitality-prod-aurora-bg"
    long_name = "a" + "-b" * 40
    name = bg.deployment_name(long_name)
    assert len(name) <= 60 and re.fullmatch(r"[a-zA-Z](?:-?[a-zA-Z0-9]+)*", name), name
    assert bg.deployment_name(long_name) == name  # the same on every run


def test_the_first_run_sets_logical_replication_reboots_the_writer_creates_the_group_and_the_deployment():
    actions, problems, notice = plan(*upgrade())
    assert problems == []
    assert rows(actions) == [
        (
            1,
            "parameter_group",
            "pg17",
            "create",
            ONLINE,
            NOW,
            STACK,
            ["CreateDBClusterParameterGroup", "ModifyDBClusterParameterGroup"],
        ),
        (
            2,
            "parameter_group",
            "pg",
            "set parameters",
            PENDING_REBOOT,
            NEXT_RESTART,
            STACK,
            ["ModifyDBClusterParameterGroup"],
        ),
        (3, "instance", "w", "reboot", WRITER_RESTART, NOW, STACK, ["RebootDBInstance"]),
        (4, *CREATE),
    ]
    lines = [a.line() for a in actions]
    assert lines[1] == (
        "2. parameter group pg: set parameters (parameters.rds.logical_replication (none) -> 1) "
        "[pending-reboot, next-restart]. AWS needs logical replication on the blue cluster for a blue/green deployment"
    )
    assert lines[2].startswith(
        "3. instance w: reboot (parameters.rds.logical_replication pending-reboot -> in-sync) "
        "[writer-restart] - w restarts in place: writes stop for a minute or two"
    )
    assert lines[3] == (
        "4. blue/green deployment c-bg: create (engine_version 16.6 -> 17.4; db_cluster_parameter_group_name pg -> "
        "pg17) [online]. strategy blue-green: a green copy of cluster c on 17.4, kept in sync by logical replication, "
        "then a wait until AWS says it is available; extra cost while it runs: a second cluster of the same size "
        "(3 instance(s) of db.r6g.large) and its storage changes, until the old one is deleted; write downtime: none "
        "now, about a minute at the switchover"
    )
    assert actions[3].request == {"version": "17.4", "group": "pg17", "source": ARN + "c"}
    # The cluster's own parameter group is not switched on blue: the green cluster gets the new one.
    assert not [a for a in actions if a.resource == "cluster"]
    assert notice == (
        "blue/green: the switchover to 17.4 is not planned without aurora_cluster_blue_green_switchover=true; once "
        "the green cluster is available, check it and switch over with -e aurora_cluster_blue_green_switchover=true "
        "(about a minute without writes), or roll back with -e aurora_cluster_blue_green_rollback=true"
    )


def test_logical_replication_already_on_needs_neither_the_parameter_nor_the_reboot():
    actions, problems, _notice = plan(*upgrade(blue_parameters={"rds.logical_replication": "1"}))
    assert problems == []
    assert [(a.resource, a.change) for a in actions] == [
        ("parameter_group", "create"),
        ("blue_green_deployment", "create"),
    ]


def test_a_writer_still_pending_reboot_is_rebooted_even_with_the_parameter_set():
    state, wanted = upgrade(blue_parameters={"rds.logical_replication": "1"})
    state["cluster"]["DBClusterMembers"][0]["DBClusterParameterGroupStatus"] = "pending-reboot"
    actions, _problems, _notice = plan(state, wanted)
    assert [(a.resource, a.name, a.change) for a in actions][1] == ("instance", "w", "reboot")


def test_with_the_confirmation_the_switchover_follows_in_the_same_run():
    actions, problems, notice = plan(
        *upgrade(blue_parameters={"rds.logical_replication": "1"}, blue_green_switchover=True)
    )
    assert (problems, notice) == ([], None)
    assert rows(actions)[-1] == (
        3,
        "blue_green_deployment",
        "c-bg",
        "switchover",
        REPLACEMENT,
        NOW,
        STACK,
        ["SwitchoverBlueGreenDeployment", "AddTagsToResource"],
    )
    assert actions[-1].line() == (
        "3. blue/green deployment c-bg: switchover (cluster c -> green, c (the old one: c-old1)) [replacement] - "
        "writes stop for about a minute while AWS switches the cluster's endpoints to the green cluster (at most the "
        "switchover timeout, 300 s, or AWS rolls it back). irreversible once done: the old cluster stays as c-old1 "
        "for 24 h, then a run deletes it with a final snapshot"
    )
    assert actions[-1].request == {"call": True, "timeout": 300, "old": "c-old1"}


def test_a_secrets_manager_password_is_refused_before_any_change():
    state, wanted = upgrade(manage_master_user_password=True)
    state["cluster"]["MasterUserSecret"] = {"SecretArn": "arn:aws:secretsmanager:us-east-1:1:secret:x"}
    actions, problems, _notice = plan(state, wanted)
    assert problems == [
        "aurora_cluster_major_upgrade_strategy=blue-green: cluster c keeps its master password in Secrets Manager "
        "(MasterUserSecret), which AWS Blue/Green deployments do not support: choose the in-place strategy, or a "
        "self-managed password (aurora_cluster_manage_master_user_password=false) first"
    ]
    assert [(a.resource, a.change, a.impact) for a in actions if a.resource != "parameter_group"] == [
        ("cluster", "major version upgrade", IMPOSSIBLE)
    ]


def test_a_global_database_member_is_refused():
    state, wanted = upgrade()
    state["cluster"]["GlobalClusterIdentifier"] = "g1"
    _actions, problems, _notice = plan(state, wanted)
    assert len(problems) == 1 and "member of global database g1" in problems[0]


def test_not_allowed_the_upgrade_is_still_refused_whatever_the_strategy():
    _actions, problems, _notice = plan(*upgrade(allow_major_version_upgrade=False))
    assert len(problems) == 1 and "set aurora_cluster_allow_major_version_upgrade=true" in problems[0]


# --- resuming from the deployment's real state ----------------------------------------------------------------


def test_a_deployment_found_provisioning_is_waited_for_never_created_again():
    actions, problems, _notice = plan(*upgrade(deployment(bg.PROVISIONING)))
    assert problems == []
    steps = [(a.resource, a.change, a.calls) for a in actions]
    assert ("blue_green_deployment", "wait until available", []) in steps
    assert not [s for s in steps if s[2] == ["CreateBlueGreenDeployment"]]
    assert not [s for s in steps if s[0] == "parameter_group" and s[1] == "set parameters"]


def test_a_deployment_found_available_without_confirmation_plans_nothing_of_its_own_and_says_how():
    actions, problems, notice = plan(*upgrade(deployment(bg.AVAILABLE)))
    assert problems == []
    assert [a for a in actions if a.resource == "blue_green_deployment"] == []
    assert "now: the green cluster is available" in notice


def test_a_deployment_found_available_with_confirmation_is_switched_over():
    actions, _problems, _notice = plan(*upgrade(deployment(bg.AVAILABLE), blue_green_switchover=True))
    assert [(a.change, a.calls) for a in actions if a.resource == "blue_green_deployment"] == [
        ("switchover", ["SwitchoverBlueGreenDeployment", "AddTagsToResource"])
    ]


def test_a_switchover_found_under_way_is_waited_for_not_asked_again():
    actions, _problems, _notice = plan(*upgrade(deployment(bg.SWITCHOVER_IN_PROGRESS)))
    switchover = [a for a in actions if a.resource == "blue_green_deployment"]
    assert [(a.change, a.calls, a.request["call"]) for a in switchover] == [
        ("switchover", ["AddTagsToResource"], False)
    ]


@pytest.mark.parametrize("status", [bg.INVALID_CONFIGURATION, bg.SWITCHOVER_FAILED])
def test_a_failed_deployment_stops_the_plan_with_aws_reason_and_the_way_back(status):
    _actions, problems, _notice = plan(*upgrade(deployment(status, details="logical replication is off")))
    assert problems == [
        f"blue/green deployment c-bg is {status}: logical replication is off; set "
        "aurora_cluster_blue_green_rollback=true to delete it and its green cluster (the blue one is left as it is), "
        "fix the cause and run again"
    ]


def test_a_deployment_left_while_the_inventory_wants_no_upgrade_stops_the_plan():
    state, wanted = upgrade(deployment(bg.AVAILABLE))
    wanted["cluster"]["engine_version"] = "16.6"
    wanted["cluster"]["db_cluster_parameter_group_name"] = "pg"
    _actions, problems, _notice = plan(state, wanted)
    assert len(problems) == 1 and "asks for no major upgrade" in problems[0]


# --- rollback ---------------------------------------------------------------------------------------------------


def test_rollback_before_the_switchover_deletes_the_deployment_with_green_only():
    actions, problems, notice = plan(*upgrade(deployment(bg.AVAILABLE), blue_green_rollback=True))
    assert problems == []
    bg_steps = [a for a in actions if a.resource in ("blue_green_deployment", "cluster", "instance")]
    assert rows(bg_steps)[0][1:] == (
        "blue_green_deployment",
        "c-bg",
        "delete with its green cluster",
        ONLINE,
        NOW,
        STACK,
        ["DeleteBlueGreenDeployment"],
    )
    assert len(bg_steps) == 1
    assert bg_steps[0].request == {
        "identifier": "bgd-1",
        "delete_target": True,
        "green": "c-green-abcdef",
        "unprotect": False,
    }
    assert "aurora_cluster_engine_version back" in notice


def test_rollback_turns_off_the_green_clusters_deletion_protection_first():
    state, wanted = upgrade(deployment(bg.AVAILABLE), blue_green_rollback=True)
    state["blue_green"]["green_cluster"] = {"DBClusterIdentifier": "c-green-abcdef", "DeletionProtection": True}
    actions, _problems, _notice = plan(state, wanted)
    step = next(a for a in actions if a.resource == "blue_green_deployment")
    assert step.calls == ["ModifyDBCluster", "DeleteBlueGreenDeployment"]
    assert step.request["unprotect"] is True


def test_rollback_after_the_switchover_is_refused():
    _actions, problems, _notice = plan(*switched(tag_at="2026-12-01T11:00:00Z", blue_green_rollback=True))
    assert len(problems) == 1 and "past the point of rollback" in problems[0]


# --- retention, with the snapshot's clock ---------------------------------------------------------------------


def test_within_the_retention_the_old_cluster_is_kept_and_the_notice_says_until_when():
    actions, problems, notice = plan(*switched(tag_at="2026-12-01T11:00:00Z"))
    assert (actions, problems) == ([], [])
    assert notice == (
        "blue/green: the old cluster c-old1 is kept until 2026-12-02T11:00:00Z (aurora_cluster_blue_green_retention_hours=24 "
        "after the switchover); a run after that deletes it with a final snapshot"
    )


def test_after_the_retention_the_deployment_the_old_cluster_and_its_group_are_deleted_each_a_step():
    state, wanted = switched(tag_at=(NOW_AT - timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    actions, problems, notice = plan(state, wanted)
    assert (problems, notice) == ([], None)
    assert rows(actions) == [
        (1, "blue_green_deployment", "c-bg", "delete", ONLINE, NOW, STACK, ["DeleteBlueGreenDeployment"]),
        (
            2,
            "cluster",
            "c-old1",
            "delete",
            ONLINE,
            NOW,
            STACK,
            ["ModifyDBCluster", "DeleteDBInstance", "DeleteDBInstance", "DeleteDBCluster"],
        ),
        (3, "parameter_group", "pg", "delete", ONLINE, NOW, STACK, ["DeleteDBClusterParameterGroup"]),
    ]
    assert actions[1].request == {
        "members": ["r-1-old1", "w-old1"],
        "snapshot": "c-old1-final-20261130-110000",
        "unprotect": True,
    }
    assert actions[0].request == {"identifier": "bgd-1", "delete_target": False}


def test_an_unprotected_old_cluster_needs_no_modify_and_a_zero_retention_deletes_at_once():
    state, wanted = switched(tag_at="2026-12-01T11:59:00Z", protected=False, blue_green_retention_hours=0)
    actions, _problems, _notice = plan(state, wanted)
    assert actions[1].calls == ["DeleteDBInstance", "DeleteDBInstance", "DeleteDBCluster"]


def test_an_old_cluster_without_the_tag_gets_it_now_so_its_retention_is_never_shorter():
    actions, problems, notice = plan(*switched(tag_at=None))
    assert (problems, notice) == ([], None)
    assert rows(actions) == [
        (1, "cluster", "c-old1", "mark the switchover time", ONLINE, NOW, STACK, ["AddTagsToResource"])
    ]
    assert actions[0].request == {"arn": ARN + "c-old1"}
    assert actions[0].changes[0]["after"] == "(the time of this run)"  # the same in the plan and its apply


def test_the_old_cluster_gone_leaves_only_the_deployments_record_to_delete():
    state, wanted = switched(tag_at="2026-12-01T11:00:00Z")
    state["blue_green"]["old_cluster"] = None
    actions, _problems, _notice = plan(state, wanted)
    assert [(a.resource, a.change) for a in actions] == [("blue_green_deployment", "delete")]


def test_in_place_strategy_plans_as_before_and_names_its_strategy():
    state, wanted = upgrade(major_upgrade_strategy="in-place")
    state.pop("blue_green")
    actions, problems, _notice = plan(state, wanted)
    assert problems == []
    upgrade_step = next(a for a in actions if a.change == "major version upgrade")
    assert "strategy in-place: no extra cost" in upgrade_step.line()


# --- reading ----------------------------------------------------------------------------------------------------


class FakeRds:
    def __init__(self, deployments):
        self.deployments = deployments
        self.calls = []

    def call(self, method, **kwargs):
        self.calls.append((method, kwargs.get("Filters")))
        return {"BlueGreenDeployments": self.deployments}


def test_the_read_is_one_call_when_nothing_is_under_way_and_finds_the_deployment_by_name():
    rds = FakeRds([dict(deployment(bg.AVAILABLE), BlueGreenDeploymentName="other-bg")])
    cluster = snapshot()["cluster"]
    state = bg.read_blue_green(
        rds, {"db_cluster_identifier": "c", "db_cluster_parameter_group_name": "pg"}, cluster, None, None, None
    )
    assert state["deployment"] is None  # only the one of its name counts
    assert rds.calls == [
        ("describe_blue_green_deployments", [{"Name": "blue-green-deployment-name", "Values": ["c-bg"]}])
    ]


# --- the role's variables, every input form ------------------------------------------------------------------

STRATEGY = "aurora_cluster_major_upgrade_strategy"
TIMEOUT = "aurora_cluster_blue_green_switchover_timeout"
RETENTION = "aurora_cluster_blue_green_retention_hours"


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
def test_the_blue_green_variables_are_the_same_in_every_form(form):
    raw = dict(
        forms({STRATEGY: "blue-green", TIMEOUT: 120, RETENTION: 48, "aurora_cluster_blue_green_switchover": True})
    )[form]
    assert typed_errors(raw) == []


@pytest.mark.parametrize("form", ["yaml", "yaml-string", "key=value", "json"])
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({TIMEOUT: 29}, f"{TIMEOUT}=29 is out of range: at least 30 seconds (AWS's minimum SwitchoverTimeout)"),
        ({RETENTION: -1}, f"{RETENTION}=-1 is out of range: at least 0 hours"),
        (
            {"aurora_cluster_blue_green_switchover": True, "aurora_cluster_blue_green_rollback": True},
            "aurora_cluster_blue_green_switchover=true and aurora_cluster_blue_green_rollback=true: one or the other "
            "(switch over to the green cluster, or delete it)",
        ),
    ],
)
def test_each_blue_green_guard_fires_in_every_form(form, variables, message):
    assert typed_errors(dict(forms(variables))[form]) == [message]


def test_a_strategy_typed_by_hand_is_checked_by_the_rules_too():
    from test_validation import VALID

    from ansible_collections.vitality.aurora.plugins.module_utils import validation as v

    errors = v.stack_errors(dict(VALID, **{STRATEGY: "rolling"}))
    assert errors == [
        f"{STRATEGY}='rolling' is invalid: in-place (every instance restarts on the new version, down for the upgrade) "
        "or blue-green (an RDS Blue/Green deployment, about a minute without writes at the switchover)"
    ]
