"""Planning of the global database's writer moves (switchover, failover, detach-and-promote), their refusals, the wait
on a fake clock, and, with botocore's Stubber, what the local AWS cannot show: AWS's FailoverState course
(pending, failing-over, then gone) and a switchover whose answer was lost."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.vitality.aurora.plugins.module_utils.api import AwsApi
from ansible_collections.vitality.aurora.plugins.module_utils.global_failover import (
    DETACH,
    FAILOVER_MODE,
    SWITCHOVER,
    Refusal,
    confirmation_error,
    describe_progress,
    is_done,
    outputs,
    plan,
    runbook_names,
    runbook_setting_errors,
)
from ansible_collections.vitality.aurora.plugins.module_utils.waiting import wait_for
from ansible_collections.vitality.aurora.plugins.modules import aurora_global_cluster_failover as m

GLOBAL = "vitality-prod-global"
EAST = "arn:aws:rds:us-east-1:123456789012:cluster:vitality-prod"
WEST = "arn:aws:rds:us-west-2:123456789012:cluster:vitality-prod-us-west-2"


def global_cluster(writer=EAST, status="available", failover_state=None, sync=None, members=(EAST, WEST)):
    listed = []
    for arn in members:
        entry = {"DBClusterArn": arn, "IsWriter": arn == writer, "Readers": []}
        if sync and arn != writer:
            entry["SynchronizationStatus"] = sync
        listed.append(entry)
    answer = {"GlobalClusterIdentifier": GLOBAL, "Status": status, "GlobalClusterMembers": listed}
    if failover_state:
        answer["FailoverState"] = failover_state
    return answer


def target(status="available", arn=WEST):
    name = arn.rsplit(":", 1)[1]
    return {
        "DBClusterIdentifier": name,
        "DBClusterArn": arn,
        "Status": status,
        "Endpoint": f"{name}.cluster-abc.us-west-2.rds.amazonaws.com",
        "ReaderEndpoint": f"{name}.cluster-ro-abc.us-west-2.rds.amazonaws.com",
    }


# -- planning ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [SWITCHOVER, FAILOVER_MODE, DETACH])
def test_each_mode_plans_one_call_with_its_impact(mode):
    actions, outcome = plan(mode, GLOBAL, global_cluster(), target(), "us-west-2")
    assert outcome == "planned"
    assert [a.calls for a in actions] == [
        [
            {
                SWITCHOVER: "SwitchoverGlobalCluster",
                FAILOVER_MODE: "FailoverGlobalCluster",
                DETACH: "RemoveFromGlobalCluster",
            }[mode]
        ]
    ]
    action = actions[0]
    assert action.impact == "failover" and action.order == 1
    assert action.changes == [
        {"attribute": "writer", "before": "vitality-prod (us-east-1)", "after": "vitality-prod-us-west-2 (us-west-2)"}
    ]
    line = action.line()
    assert line.startswith("1. global cluster vitality-prod-global: ")
    if mode == SWITCHOVER:
        assert "no data lost (RPO 0)" in line
        assert action.request == {"GlobalClusterIdentifier": GLOBAL, "TargetDbClusterIdentifier": WEST}
    elif mode == FAILOVER_MODE:
        assert "data loss allowed" in line and "are lost" in line
        assert action.request == {
            "GlobalClusterIdentifier": GLOBAL,
            "TargetDbClusterIdentifier": WEST,
            "AllowDataLoss": True,
        }
    else:
        assert action.request == {"GlobalClusterIdentifier": GLOBAL, "DbClusterIdentifier": WEST}


@pytest.mark.parametrize("mode", [SWITCHOVER, FAILOVER_MODE])
def test_the_target_already_writing_plans_nothing(mode):
    assert plan(mode, GLOBAL, global_cluster(writer=WEST), target(), "us-west-2") == ([], "done")


def test_a_detached_available_target_plans_nothing():
    assert plan(DETACH, GLOBAL, global_cluster(members=(EAST,)), target(), "us-west-2") == ([], "done")
    assert plan(DETACH, GLOBAL, None, target(), "us-west-2") == ([], "done")


@pytest.mark.parametrize("status", ["switching-over", "failing-over"])
def test_a_switch_to_the_target_in_progress_is_waited_for_not_asked_again(status):
    state = {"Status": "pending", "FromDbClusterArn": EAST, "ToDbClusterArn": WEST, "IsDataLossAllowed": False}
    assert plan(SWITCHOVER, GLOBAL, global_cluster(status=status, failover_state=state), target(), "us-west-2") == (
        [],
        "in-progress",
    )


def test_a_switch_to_another_cluster_in_progress_is_refused():
    third = "arn:aws:rds:eu-west-1:123456789012:cluster:vitality-prod-eu-west-1"
    state = {"Status": "failing-over", "FromDbClusterArn": EAST, "ToDbClusterArn": third}
    with pytest.raises(Refusal, match="already switching-over to vitality-prod-eu-west-1 \\(eu-west-1\\): wait"):
        plan(
            SWITCHOVER,
            GLOBAL,
            global_cluster(status="switching-over", failover_state=state, members=(EAST, WEST, third)),
            target(),
            "us-west-2",
        )


@pytest.mark.parametrize(
    "kwargs, tgt, message",
    [
        (
            {"status": "modifying"},
            target(),
            "global cluster vitality-prod-global is 'modifying': a switchover needs it available",
        ),
        (
            {"sync": "pending-resync"},
            target(),
            "SynchronizationStatus='pending-resync': a switchover needs a secondary that is connected",
        ),
        (
            {},
            target(status="modifying"),
            "target cluster vitality-prod-us-west-2 in us-west-2 is 'modifying': it must be available",
        ),
        (
            {"members": (EAST,)},
            target(),
            "is not a member of global cluster vitality-prod-global \\(members: vitality-prod \\(us-east-1\\)\\)",
        ),
    ],
)
def test_a_switchover_needs_an_available_global_cluster_and_a_healthy_secondary(kwargs, tgt, message):
    with pytest.raises(Refusal, match=message):
        plan(SWITCHOVER, GLOBAL, global_cluster(**kwargs), tgt, "us-west-2")


def test_a_failover_does_not_need_the_global_cluster_available():
    # The primary's Region is down: the global cluster may not say available; the failover is what is left.
    actions, outcome = plan(FAILOVER_MODE, GLOBAL, global_cluster(status="modifying"), target(), "us-west-2")
    assert outcome == "planned" and actions[0].calls == ["FailoverGlobalCluster"]


def test_missing_global_cluster_or_target_is_refused():
    with pytest.raises(Refusal, match="the target cluster does not exist in us-west-2"):
        plan(SWITCHOVER, GLOBAL, global_cluster(), None, "us-west-2")
    with pytest.raises(Refusal, match="global cluster 'vitality-prod-global' does not exist"):
        plan(SWITCHOVER, GLOBAL, None, target(), "us-west-2")


@pytest.mark.parametrize("mode", [FAILOVER_MODE, DETACH])
@pytest.mark.parametrize("confirm", ["", "yes", "vitality-prod", "VITALITY-PROD-GLOBAL"])
def test_lossy_modes_need_the_global_identifier_typed(mode, confirm):
    error = confirmation_error(mode, GLOBAL, confirm, option="aurora_cluster_failover_confirm")
    assert error == (
        f"aurora_cluster_failover_confirm={confirm!r} does not confirm mode={mode}: it can lose the writes the target "
        f"Region had not yet received, so aurora_cluster_failover_confirm must be the global cluster identifier, {GLOBAL!r}"
    )
    assert confirmation_error(mode, GLOBAL, GLOBAL) is None


def test_a_switchover_needs_no_confirmation():
    assert confirmation_error(SWITCHOVER, GLOBAL, "") is None


def test_outputs_name_the_writer_endpoint_in_the_region_that_now_writes():
    out = outputs(target(), global_cluster(writer=WEST), EAST)
    assert out["writer"] == {
        "cluster_identifier": "vitality-prod-us-west-2",
        "cluster_arn": WEST,
        "region": "us-west-2",
        "endpoint": "vitality-prod-us-west-2.cluster-abc.us-west-2.rds.amazonaws.com",
        "reader_endpoint": "vitality-prod-us-west-2.cluster-ro-abc.us-west-2.rds.amazonaws.com",
    }
    assert out["previous_writer"] == {"cluster_arn": EAST, "region": "us-east-1"}
    assert [(mem["region"], mem["is_writer"]) for mem in out["global_cluster"]["members"]] == [
        ("us-east-1", False),
        ("us-west-2", True),
    ]


# -- AWS's FailoverState course (Stubber), waited for on a fake clock ----------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Failed(Exception):
    pass


class FakeModule:
    def fail_json_aws(self, exception, msg):
        raise Failed(f"{msg}: {exception}")


class Progress:
    def __init__(self):
        self.events = []

    def write(self, event):
        self.events.append(event)


@pytest.fixture
def rds():
    client = boto3.client("rds", region_name="us-west-2", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield client, stubber


def add_reads(stubber, answers):
    for answer in answers:
        stubber.add_response(
            "describe_global_clusters", {"GlobalClusters": [answer]}, {"GlobalClusterIdentifier": GLOBAL}
        )
        stubber.add_response(
            "describe_db_clusters", {"DBClusters": [target()]}, {"DBClusterIdentifier": "vitality-prod-us-west-2"}
        )


def test_the_wait_follows_failover_state_until_the_target_writes(rds):
    client, stubber = rds
    state = {"FromDbClusterArn": EAST, "ToDbClusterArn": WEST, "IsDataLossAllowed": False}
    add_reads(
        stubber,
        [
            global_cluster(status="switching-over", failover_state={**state, "Status": "pending"}),
            global_cluster(status="switching-over", failover_state={**state, "Status": "failing-over"}),
            global_cluster(status="switching-over", failover_state={**state, "Status": "failing-over"}, writer=WEST),
            global_cluster(writer=WEST),
        ],
    )
    api = AwsApi(FakeModule(), "rds", client=client)
    clock, progress = FakeClock(), Progress()
    final = wait_for(
        lambda: (m.read_global_cluster(api, GLOBAL), m.read_target(api, "vitality-prod-us-west-2")),
        lambda s: is_done(SWITCHOVER, *s),
        what="switchover",
        wanted="available",
        timeout=600,
        clock=clock.clock,
        sleep=clock.sleep,
        describe=describe_progress(SWITCHOVER, GLOBAL, "vitality-prod-us-west-2"),
        progress=progress,
    )
    stubber.assert_no_pending_responses()
    assert final[0]["Status"] == "available"
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert [[r["state"] for r in e["resources"]] for e in progress.events] == [
        ["switching-over (pending)", "available, secondary"],
        ["switching-over (failing-over)", "available, secondary"],
        ["switching-over (failing-over)", "available, writer"],
        ["available", "available, writer"],
    ]
    assert [e["event"] for e in progress.events] == ["poll", "poll", "poll", "done"]


def test_a_switchover_whose_answer_was_lost_is_read_again_not_asked_twice(rds):
    client, stubber = rds
    # The request reached AWS (the global cluster is switching over to the target), its answer did not.
    stubber.add_client_error(
        "switchover_global_cluster", service_error_code="InvalidGlobalClusterStateFault", http_status_code=400
    )
    state = {"Status": "pending", "FromDbClusterArn": EAST, "ToDbClusterArn": WEST, "IsDataLossAllowed": False}
    add_reads(stubber, [global_cluster(status="switching-over", failover_state=state)])
    api = AwsApi(FakeModule(), "rds", client=client)

    def read():
        return m.read_global_cluster(api, GLOBAL), m.read_target(api, "vitality-prod-us-west-2")

    answer = api.create(
        "switchover_global_cluster",
        lambda: m.started(SWITCHOVER, *read()),
        GlobalClusterIdentifier=GLOBAL,
        TargetDbClusterIdentifier=WEST,
    )
    assert answer is None
    stubber.assert_no_pending_responses()


def test_a_refused_switchover_that_did_not_start_fails_naming_the_call(rds):
    client, stubber = rds
    stubber.add_client_error(
        "switchover_global_cluster", service_error_code="InvalidGlobalClusterStateFault", http_status_code=400
    )
    add_reads(stubber, [global_cluster()])
    api = AwsApi(FakeModule(), "rds", client=client)

    def read():
        return m.read_global_cluster(api, GLOBAL), m.read_target(api, "vitality-prod-us-west-2")

    with pytest.raises(Failed, match="AWS rds SwitchoverGlobalCluster failed for global cluster vitality-prod-global"):
        api.create(
            "switchover_global_cluster",
            lambda: m.started(SWITCHOVER, *read()),
            context=f"global cluster {GLOBAL}",
            GlobalClusterIdentifier=GLOBAL,
            TargetDbClusterIdentifier=WEST,
        )


def test_reads_keep_only_the_global_cluster_asked_for(rds):
    client, stubber = rds
    other = {**global_cluster(), "GlobalClusterIdentifier": "someone-elses"}
    stubber.add_response("describe_global_clusters", {"GlobalClusters": [other]}, {"GlobalClusterIdentifier": GLOBAL})
    stubber.add_client_error(
        "describe_global_clusters", service_error_code="GlobalClusterNotFoundFault", http_status_code=404
    )
    api = AwsApi(FakeModule(), "rds", client=client)
    assert m.read_global_cluster(api, GLOBAL) is None
    assert m.read_global_cluster(api, GLOBAL) is None


# -- the role's entry points: names and typed settings -------------------------------------------------------------


def test_the_target_is_the_stacks_cluster_at_home_and_the_secondary_elsewhere():
    assert runbook_names("vitality-prod", "vitality-prod-aurora", "us-east-1", "us-west-2") == {
        "global_cluster_identifier": "vitality-prod-global",
        "target_cluster_identifier": "vitality-prod-us-west-2",
        "target_region": "us-west-2",
    }
    assert runbook_names("vitality-prod", "vitality-prod-aurora", "us-east-1", "us-east-1")[
        "target_cluster_identifier"
    ] == ("vitality-prod-aurora")


SETTINGS = {"aurora_cluster_name": "vitality-prod", "aurora_cluster_switchover_target_region": "us-west-2"}


def test_a_switchover_needs_a_region_name():
    assert runbook_setting_errors(SETTINGS, "switchover") == []
    assert runbook_setting_errors({**SETTINGS, "aurora_cluster_switchover_target_region": "west"}, "switchover") == [
        "aurora_cluster_switchover_target_region='west' is not a Region name: name the Region that must write, "
        "for example -e aurora_cluster_switchover_target_region=us-west-2"
    ]


@pytest.mark.parametrize("mode", ["failover", "detach-and-promote"])
def test_a_failover_needs_the_typed_confirmation_and_says_what_to_pass(mode):
    typed = {**SETTINGS, "aurora_cluster_failover_mode": mode, "aurora_cluster_failover_confirm": ""}
    [error] = runbook_setting_errors(typed, "failover")
    assert error.startswith(f"aurora_cluster_failover_confirm='' does not confirm mode={mode}")
    assert error.endswith("pass -e aurora_cluster_failover_confirm=vitality-prod-global")
    assert runbook_setting_errors({**typed, "aurora_cluster_failover_confirm": GLOBAL}, "failover") == []
