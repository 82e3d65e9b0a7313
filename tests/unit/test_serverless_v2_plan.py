"""Aurora Serverless v2 in the planner: the capacity range compared, created and changed, and db.serverless
instances planned like any other class.

On the AWS-shaped snapshots of test_stack_plan: a capacity change is one online ModifyDBCluster with the whole range,
a new cluster is created with it, a switch to db.serverless rolls like any class change, and provisioned and
serverless instances mix in one cluster. The preflight holds a range to the limits AWS reports for the engine version.
"""

from __future__ import annotations

import pytest
from test_preflight import run, stubbed_rds_and_kms, version, versions_answer
from test_stack_plan import (
    FAILOVER,
    LARGE,
    NOW,
    ONLINE,
    REBOOT,
    STACK,
    absent,
    lines,
    member,
    params,
    plan,
    planned,
    rows,
    snapshot,
)

from ansible_collections.vitality.aurora.plugins.module_utils import cluster_settings as cs

SERVERLESS = "db.serverless"


# --- the request ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, request_",
    [
        (None, None),
        ({}, None),
        ({"min_capacity": None, "max_capacity": None, "seconds_until_auto_pause": None}, None),
        ({"min_capacity": 0.5, "max_capacity": 8}, {"MinCapacity": 0.5, "MaxCapacity": 8.0}),
        # The delay only with a minimum of 0, then always: AWS's 300 when not given.
        (
            {"min_capacity": 0, "max_capacity": 4},
            {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 300},
        ),
        (
            {"min_capacity": 0, "max_capacity": 4, "seconds_until_auto_pause": 900},
            {"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 900},
        ),
        (
            {"min_capacity": 1, "max_capacity": 4, "seconds_until_auto_pause": 900},
            {"MinCapacity": 1.0, "MaxCapacity": 4.0},
        ),
    ],
)
def test_the_scaling_configuration_sent(config, request_):
    assert cs.scaling_configuration(config) == request_


@pytest.mark.parametrize(
    "described, words",
    [
        (None, None),
        ({}, None),
        ({"MinCapacity": 0.5, "MaxCapacity": 8.0}, "0.5 to 8 ACU"),
        ({"MinCapacity": 0.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 600}, "0 to 4 ACU, pause after 600 s idle"),
        # AWS shows the delay with a minimum of 0; absent, it is AWS's default.
        ({"MinCapacity": 0.0, "MaxCapacity": 4.0}, "0 to 4 ACU, pause after 300 s idle"),
        # Left from an earlier minimum of 0 (a response keeping it): it means nothing above 0.
        ({"MinCapacity": 1.0, "MaxCapacity": 4.0, "SecondsUntilAutoPause": 600}, "1 to 4 ACU"),
    ],
)
def test_a_described_range_in_the_plans_words(described, words):
    assert cs.capacity_words(described) == words


# --- the plan ------------------------------------------------------------------------------------------------------


def serverless(state=None, wanted=None, minimum=0.5, maximum=4.0, **extra):
    """A stack in sync whose cluster has the range (min, max) and whose params ask for it."""
    state, wanted = state or snapshot(), wanted or params()
    state["cluster"]["ServerlessV2ScalingConfiguration"] = {"MinCapacity": minimum, "MaxCapacity": maximum, **extra}
    wanted["cluster"]["serverless_v2_scaling_configuration"] = {"min_capacity": minimum, "max_capacity": maximum}
    return state, wanted


def test_a_cluster_with_the_range_asked_for_plans_nothing():
    assert plan(*serverless()) == ([], [], None)


def test_a_minimum_of_0_without_a_delay_matches_the_delay_aws_reports_by_default():
    state, wanted = serverless(minimum=0.0, SecondsUntilAutoPause=300)
    assert plan(state, wanted) == ([], [], None)


def test_a_range_the_inventory_leaves_out_is_not_compared():
    # AWS cannot remove one: none asked for leaves the cluster's as it is.
    state, wanted = serverless()
    wanted["cluster"]["serverless_v2_scaling_configuration"] = {}
    assert plan(state, wanted) == ([], [], None)


def test_a_capacity_change_is_one_online_cluster_modify_with_the_whole_range():
    state, wanted = serverless()
    wanted["cluster"]["serverless_v2_scaling_configuration"] = {"min_capacity": 0.5, "max_capacity": 8}
    actions = planned(state, wanted)
    assert rows(actions) == [(1, "cluster", "c", "modify", ONLINE, NOW, STACK, ["ModifyDBCluster"])]
    assert lines(actions) == [
        "1. cluster c: modify (serverless_v2_scaling_configuration 0.5 to 4 ACU -> 0.5 to 8 ACU) [online]. "
        f"{cs.CAPACITY_NOTE}"
    ]
    # What the apply sends (aurora_stack's modify_cluster builds the request so): the range, nothing else.
    spec = dict(wanted["cluster"], vpc_security_group_ids=["sg-db"])
    assert cs.modify_request("c", actions[0].request["changes"], spec) == {
        "DBClusterIdentifier": "c",
        "ServerlessV2ScalingConfiguration": {"MinCapacity": 0.5, "MaxCapacity": 8.0},
        "ApplyImmediately": False,
    }


def test_turning_automatic_pause_on_sends_the_delay():
    state, wanted = serverless()
    wanted["cluster"]["serverless_v2_scaling_configuration"] = {
        "min_capacity": 0,
        "max_capacity": 4,
        "seconds_until_auto_pause": 1800,
    }
    (action,) = planned(state, wanted)
    assert action.changes == [
        {
            "attribute": "serverless_v2_scaling_configuration",
            "before": "0.5 to 4 ACU",
            "after": "0 to 4 ACU, pause after 1800 s idle",
        }
    ]
    request = cs.modify_request("c", action.request["changes"], dict(wanted["cluster"], apply_immediately=True))
    assert request["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 4.0,
        "SecondsUntilAutoPause": 1800,
    }


def test_a_range_given_to_a_provisioned_cluster_is_set_online_without_the_capacity_note():
    state, wanted = snapshot(), params()
    wanted["cluster"]["serverless_v2_scaling_configuration"] = {"min_capacity": 0.5, "max_capacity": 4}
    actions = planned(state, wanted)
    assert lines(actions) == [
        "1. cluster c: modify (serverless_v2_scaling_configuration (none) -> 0.5 to 4 ACU) [online]"
    ]


def test_a_new_cluster_is_created_with_its_range_and_shows_it():
    wanted = params()
    wanted["cluster"]["serverless_v2_scaling_configuration"] = {"min_capacity": 0, "max_capacity": 4}
    wanted["instances"]["db_instance_class"] = SERVERLESS
    actions = planned(absent(), wanted)
    cluster = next(a for a in actions if a.resource == "cluster")
    assert {
        "attribute": "serverless_v2_scaling_configuration",
        "before": None,
        "after": "0 to 4 ACU, pause after 300 s idle",
    } in (cluster.changes)
    request = cs.create_request("c", dict(wanted["cluster"], vpc_security_group_ids=["sg-db"]))
    assert request["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0.0,
        "MaxCapacity": 4.0,
        "SecondsUntilAutoPause": 300,
    }
    # The instances come after the cluster, each created as db.serverless.
    created = [(a.name, a.request["params"]["db_instance_class"]) for a in actions if a.resource == "instance"]
    assert created == [("w", SERVERLESS), ("r-1", SERVERLESS), ("r-2", SERVERLESS)]


def test_a_cluster_without_a_range_sends_none_when_created():
    request = cs.create_request("c", dict(params()["cluster"], vpc_security_group_ids=["sg-db"]))
    assert "ServerlessV2ScalingConfiguration" not in request


def test_a_restored_cluster_gets_its_range_in_the_restore_request():
    spec = dict(
        params()["cluster"],
        serverless_v2_scaling_configuration={"min_capacity": 0.5, "max_capacity": 4},
        vpc_security_group_ids=["sg-db"],
        kms_key_id=None,
        enable_iam_database_authentication=False,
        enable_cloudwatch_logs_exports=None,
        copy_tags_to_snapshot=True,
        restore_from_snapshot="c-final-20260101-000000",
        restore_from_cluster=None,
        restore_to_time=None,
    )
    method, request = cs.restore_request("c", spec)
    assert method == "restore_db_cluster_from_snapshot"
    assert request["ServerlessV2ScalingConfiguration"] == {"MinCapacity": 0.5, "MaxCapacity": 4.0}


def to_serverless(state=None, wanted=None, apply_immediately=True):
    state, wanted = serverless(state, wanted)
    wanted["instances"].update(db_instance_class=SERVERLESS, apply_immediately=apply_immediately)
    return state, wanted


def test_a_switch_to_db_serverless_rolls_like_any_class_change():
    actions = planned(*to_serverless())
    assert rows(actions) == [
        (1, "instance", "r-1", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (2, "instance", "r-2", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (3, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
        (4, "instance", "w", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (5, "cluster", "c", "failover", FAILOVER, NOW, STACK, ["FailoverDBCluster"]),
    ]
    assert lines(actions)[0].startswith(
        f"1. instance r-1: modify (db_instance_class {LARGE} -> db.serverless) [reboot]"
    )
    assert [c["after"] for a in actions if a.change == "modify" for c in a.request["changes"]] == [SERVERLESS] * 3


def test_the_range_and_the_switch_in_one_run_set_the_range_first():
    state, wanted = to_serverless()
    del state["cluster"]["ServerlessV2ScalingConfiguration"]
    actions = planned(state, wanted)
    assert [(a.resource, a.name, a.change) for a in actions] == [
        ("cluster", "c", "modify"),
        ("instance", "r-1", "modify"),
        ("instance", "r-2", "modify"),
        ("cluster", "c", "failover"),
        ("instance", "w", "modify"),
        ("cluster", "c", "failover"),
    ]


def test_serverless_readers_beside_a_provisioned_writer_change_only_the_readers():
    state, wanted = serverless()
    wanted["instances"].update(reader_db_instance_class=SERVERLESS, apply_immediately=True)
    actions = planned(state, wanted)
    assert rows(actions) == [
        (1, "instance", "r-1", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
        (2, "instance", "r-2", "modify", REBOOT, NOW, STACK, ["ModifyDBInstance"]),
    ]
    # Once switched, the mixed cluster is in sync: the writer keeps its class.
    for reader in state["instances"][1:]:
        reader["DBInstanceClass"] = SERVERLESS
    assert plan(state, wanted) == ([], [], None)


def test_a_new_reader_takes_the_readers_class():
    state, wanted = serverless()
    wanted["instances"].update(reader_db_instance_class=SERVERLESS, reader_count=3)
    for reader in state["instances"][1:]:
        reader["DBInstanceClass"] = SERVERLESS
    actions = planned(state, wanted)
    assert lines(actions) == [
        "1. instance r-3: create (db_instance_class (none) -> db.serverless) [online]. reader in us-east-1d"
    ]


def test_db_serverless_in_a_cluster_that_has_no_range_and_gets_none_is_a_problem():
    state, wanted = snapshot(), params()
    wanted["instances"]["db_instance_class"] = SERVERLESS
    wanted["cluster"]["variable_prefix"] = "aurora_cluster_"
    _actions, problems, _notice = plan(state, wanted)
    assert problems == [
        "instances of class db.serverless need the cluster's Serverless v2 capacity range, and cluster c has none: "
        "give one (aurora_cluster_serverless_v2_min_capacity), as AWS refuses a db.serverless instance in a cluster "
        "without one"
    ]


def test_db_serverless_in_a_cluster_given_a_range_by_hand_is_no_problem():
    state, wanted = snapshot(), params()
    state["cluster"]["ServerlessV2ScalingConfiguration"] = {"MinCapacity": 1.0, "MaxCapacity": 2.0}
    wanted["instances"].update(reader_db_instance_class=SERVERLESS)
    _actions, problems, _notice = plan(state, wanted)
    assert problems == []


def test_readers_of_class_db_serverless_are_no_problem_when_there_are_none():
    state, wanted = snapshot(), params()
    state["instances"] = state["instances"][:1]
    state["cluster"]["DBClusterMembers"] = [member("w", writer=True)]
    wanted["instances"].update(reader_db_instance_class=SERVERLESS, reader_count=0)
    assert plan(state, wanted) == ([], [], None)


# --- the preflight: the limits AWS reports for the engine version ----------------------------------------------------


@pytest.fixture
def aws():
    """test_preflight's stubbed rds and kms (a fixture of its own: importing one is an unused import to pylint)."""
    yield from stubbed_rds_and_kms()


def serverless_version(minimum, maximum):
    return dict(version("16.6"), ServerlessV2FeaturesSupport={"MinCapacity": minimum, "MaxCapacity": maximum})


def capacity(minimum, maximum):
    names = {"min_capacity": "serverless_v2_min_capacity", "max_capacity": "serverless_v2_max_capacity"}
    return {"min_capacity": minimum, "max_capacity": maximum, "names": names}


def test_the_preflight_refuses_a_range_beyond_what_aws_reports_for_the_version(aws):
    versions_answer(aws[1], "16.6", [serverless_version(0.5, 128.0)])
    checked = run(aws, engine_version="16.6", serverless_v2=capacity(0.0, 256.0))
    assert checked.errors == [
        "aurora_cluster_serverless_v2_max_capacity=256 is above the 128 ACU Aurora PostgreSQL 16.6 allows in us-east-1",
        "aurora_cluster_serverless_v2_min_capacity=0 is below the 0.5 ACU Aurora PostgreSQL 16.6 allows in us-east-1 "
        "(it has no automatic pause)",
    ]


def test_the_preflight_passes_a_range_within_what_aws_reports(aws):
    versions_answer(aws[1], "16.6", [serverless_version(0.0, 256.0)])
    assert run(aws, engine_version="16.6", serverless_v2=capacity(0.0, 256.0)).errors == []


def test_the_preflight_names_a_reader_class_by_its_own_variable(aws):
    versions_answer(aws[1], "16.6", [version("16.6")])
    aws[1].add_response(
        "describe_orderable_db_instance_options",
        {
            "OrderableDBInstanceOptions": [
                {"Engine": "aurora-postgresql", "EngineVersion": "16.6", "DBInstanceClass": "db.r6g.large"}
            ]
        },
        {"Engine": "aurora-postgresql", "EngineVersion": "16.6"},
    )
    checked = run(
        aws,
        engine_version="16.6",
        instance_classes=["db.r6g.large", SERVERLESS],
        instance_class_options={SERVERLESS: "reader_instance_class"},
    )
    assert [e.split(" is ")[0] for e in checked.errors] == ["aurora_cluster_reader_instance_class='db.serverless'"]
