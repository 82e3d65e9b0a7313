"""autoscaling_plan: reader autoscaling read with one or two calls, planned as Actions; and the instance steps that
cover the readers Application Auto Scaling made.

Answers of the fake API are checked against botocore's model of the describe calls' output (test_baseline_plan's
FakeApi), and every request the plan carries against the input of the call that takes it.
"""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.validate import validate_parameters
from test_baseline_plan import FakeApi
from test_stack_plan import LARGE, XLARGE, by_id, instance, member, params, snapshot

from ansible_collections.vitality.aurora.plugins.module_utils import autoscaling_plan as a
from ansible_collections.vitality.aurora.plugins.module_utils import stack_plan as sp
from ansible_collections.vitality.aurora.plugins.module_utils.plan import FAILOVER, ONLINE, REBOOT, number

CLUSTER = "vitality-prod-aurora"
RID = f"cluster:{CLUSTER}"
AUTOSCALED = "application-autoscaling-4c1d4b1e-8f0a-4f3c-9c55-0c9e1c2b3a4d"
OTHER_AUTOSCALED = "application-autoscaling-9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
SCALING = boto3.client(
    "application-autoscaling", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
)
CALL_METHODS = {
    "RegisterScalableTarget": "RegisterScalableTarget",
    "DeregisterScalableTarget": "DeregisterScalableTarget",
    "PutScalingPolicy": "PutScalingPolicy",
    "DeleteScalingPolicy": "DeleteScalingPolicy",
}


def desired(**changes):
    settings = {
        "enabled": True,
        "min_readers": 2,
        "max_readers": 5,
        "metric": "RDSReaderAverageCPUUtilization",
        "target_value": 60.0,
        "scale_in_cooldown": 300,
        "scale_out_cooldown": 300,
        "disable_scale_in": False,
        "readers_on_disable": "keep",
        "policy_name": "vitality.aurora-readers",
    }
    settings.update(changes)
    return settings


def target(minimum=2, maximum=5):
    return {
        "ServiceNamespace": "rds",
        "ResourceId": RID,
        "ScalableDimension": a.DIMENSION,
        "MinCapacity": minimum,
        "MaxCapacity": maximum,
        "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/rds.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_RDSCluster",
        "CreationTime": "2026-12-01T00:00:00Z",
    }


def policy(name="vitality.aurora-readers", resource=RID, **config):
    request = a.policy_request(desired(), CLUSTER)
    configuration = dict(request["TargetTrackingScalingPolicyConfiguration"], **config)
    return {
        "PolicyARN": f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/rds/{resource}:policyName/{name}",
        "PolicyName": name,
        "ServiceNamespace": "rds",
        "ResourceId": resource,
        "ScalableDimension": a.DIMENSION,
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": configuration,
        "Alarms": [],
        "CreationTime": "2026-12-01T00:00:00Z",
    }


def described(identifier, status="available"):
    return {"DBInstanceIdentifier": identifier, "DBInstanceStatus": status}


def in_sync():
    return {"target": target(), "policies": {"vitality.aurora-readers": policy()}}


def rows(actions):
    return [(x.resource, x.name, x.change, x.impact, x.calls) for x in actions]


def assert_requests_valid(actions):
    """Each request is what the call it is for takes, by botocore's model."""
    for action in actions:
        if action.resource == "instance":
            continue
        call = action.calls[0]
        shape = SCALING.meta.service_model.operation_model(CALL_METHODS[call]).input_shape
        validate_parameters(action.request, shape)


# --- reading ---------------------------------------------------------------------------------------------------------


def test_the_target_and_its_policies_are_read_with_two_calls_keeping_only_this_clusters():
    log = []
    answers = {
        "describe_scalable_targets": {"ScalableTargets": [target()]},
        # As moto 5.2.5 answers: ResourceId matched as a substring (cluster:x also matches cluster:x-2's policy).
        "describe_scaling_policies": {"ScalingPolicies": [policy(), policy("theirs", resource=RID + "-2")]},
    }
    found = a.read_autoscaling(FakeApi("application-autoscaling", answers, log), CLUSTER, enabled=True)
    assert found == {"target": target(), "policies": {"vitality.aurora-readers": policy()}}
    assert [(service, operation) for service, operation, _params in log] == [
        ("application-autoscaling", "DescribeScalableTargets"),
        ("application-autoscaling", "DescribeScalingPolicies"),
    ]
    assert log[0][2] == {"ServiceNamespace": "rds", "ResourceIds": [RID], "ScalableDimension": a.DIMENSION}
    assert log[1][2] == {"ServiceNamespace": "rds", "ResourceId": RID, "ScalableDimension": a.DIMENSION}


def test_with_autoscaling_off_and_no_target_one_call_is_all():
    log = []
    answers = {"describe_scalable_targets": {"ScalableTargets": []}}
    found = a.read_autoscaling(FakeApi("application-autoscaling", answers, log), CLUSTER, enabled=False)
    assert found == {"target": None, "policies": {}}
    assert [operation for _service, operation, _params in log] == ["DescribeScalableTargets"]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([{"Key": "vitality.aurora:reader-autoscaling", "Value": "on"}, {"Key": "Stack", "Value": "s"}], True),
        ([{"Key": "vitality.aurora:reader-autoscaling", "Value": "off"}], False),
        ([{"Key": "Stack", "Value": "s"}], False),
        ([], False),
        (None, False),
    ],
)
def test_only_the_collections_tag_says_it_registered_the_target(tags, expected):
    assert a.marked({"TagList": tags}) is expected
    assert a.marked(None) is False


# --- on --------------------------------------------------------------------------------------------------------------


def test_turning_it_on_registers_the_target_then_puts_the_policy():
    actions, outputs = a.plan_autoscaling({"target": None, "policies": {}}, desired(), CLUSTER, [])
    assert rows(actions) == [
        ("autoscaling_target", RID, "register", ONLINE, ["RegisterScalableTarget"]),
        ("scaling_policy", "vitality.aurora-readers", "create", ONLINE, ["PutScalingPolicy"]),
    ]
    assert actions[0].request == {
        "ServiceNamespace": "rds",
        "ResourceId": RID,
        "ScalableDimension": "rds:cluster:ReadReplicaCount",
        "MinCapacity": 2,
        "MaxCapacity": 5,
    }
    assert actions[1].request["TargetTrackingScalingPolicyConfiguration"] == {
        "TargetValue": 60.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "RDSReaderAverageCPUUtilization"},
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 300,
        "DisableScaleIn": False,
    }
    assert [x.line() for x in number(actions)] == [
        f"1. scalable target {RID}: register (min_readers (none) -> 2; max_readers (none) -> 5) [online]. Application "
        "Auto Scaling adds readers above the minimum; it keeps between 2 (reader_count) and 5 readers, following "
        "RDSReaderAverageCPUUtilization at 60",
        "2. scaling policy vitality.aurora-readers: create (metric (none) -> RDSReaderAverageCPUUtilization; "
        "target_value (none) -> 60.0; scale_in_cooldown (none) -> 300; scale_out_cooldown (none) -> 300; "
        "disable_scale_in (none) -> false) [online]. target tracking of the reader count",
    ]
    assert_requests_valid(actions)
    assert outputs["enabled"] and outputs["autoscaled_readers"] == [] and outputs["notice"] is None


def test_in_sync_plans_nothing_and_reports_the_readers_it_made_left_to_it():
    instances = [described("w"), described(AUTOSCALED), described(OTHER_AUTOSCALED, "deleting")]
    actions, outputs = a.plan_autoscaling(in_sync(), desired(), CLUSTER, instances)
    assert actions == []
    assert outputs["autoscaled_readers"] == [AUTOSCALED]
    assert outputs["notice"] == (
        f"Reader autoscaling is on: 1 reader made by Application Auto Scaling ({AUTOSCALED}), left to it "
        "(never deleted nor counted as drift)"
    )


def test_a_new_reader_count_or_maximum_updates_the_range_only():
    actions, _outputs = a.plan_autoscaling(in_sync(), desired(min_readers=3, max_readers=8), CLUSTER, [])
    assert rows(actions) == [("autoscaling_target", RID, "update", ONLINE, ["RegisterScalableTarget"])]
    assert actions[0].changes == [
        {"attribute": "min_readers", "before": 2, "after": 3},
        {"attribute": "max_readers", "before": 5, "after": 8},
    ]
    assert_requests_valid(actions)


@pytest.mark.parametrize(
    ("change", "attribute", "before", "after"),
    [
        (
            {"metric": "RDSReaderAverageDatabaseConnections"},
            "metric",
            "RDSReaderAverageCPUUtilization",
            "RDSReaderAverageDatabaseConnections",
        ),
        ({"target_value": 45.5}, "target_value", 60.0, 45.5),
        ({"scale_in_cooldown": 600}, "scale_in_cooldown", 300, 600),
        ({"scale_out_cooldown": 0}, "scale_out_cooldown", 300, 0),
        ({"disable_scale_in": True}, "disable_scale_in", False, True),
    ],
)
def test_a_policy_setting_changed_puts_the_policy_again_naming_it(change, attribute, before, after):
    actions, _outputs = a.plan_autoscaling(in_sync(), desired(**change), CLUSTER, [])
    assert rows(actions) == [("scaling_policy", "vitality.aurora-readers", "update", ONLINE, ["PutScalingPolicy"])]
    assert actions[0].changes == [{"attribute": attribute, "before": before, "after": after}]
    assert_requests_valid(actions)


def test_a_policy_answer_without_disable_scale_in_is_aws_default_not_a_change():
    current = in_sync()
    del current["policies"]["vitality.aurora-readers"]["TargetTrackingScalingPolicyConfiguration"]["DisableScaleIn"]
    assert a.plan_autoscaling(current, desired(), CLUSTER, [])[0] == []


def test_someone_elses_policy_on_the_target_is_left_alone_and_reported():
    current = in_sync()
    current["policies"]["theirs"] = policy("theirs")
    actions, outputs = a.plan_autoscaling(current, desired(), CLUSTER, [])
    assert actions == [] and outputs["other_policies"] == ["theirs"]


def test_a_lower_minimum_is_set_before_the_role_deletes_its_readers_a_higher_one_after_it_creates_them():
    state = snapshot()
    wanted = params()
    wanted["instances"]["reader_count"] = 1
    stack, _problems, _notice = sp.plan_stack(state, wanted)
    lower, _outputs = a.plan_autoscaling(in_sync(), desired(min_readers=1), CLUSTER, [])
    placed = [(x.resource, x.change) for x in a.place_autoscaling(stack, lower)]
    assert placed == [("autoscaling_target", "update"), ("instance", "delete")]

    wanted["instances"]["reader_count"] = 3
    stack, _problems, _notice = sp.plan_stack(state, wanted)
    higher, _outputs = a.plan_autoscaling(in_sync(), desired(min_readers=3, target_value=50), CLUSTER, [])
    placed = [(x.resource, x.change) for x in a.place_autoscaling(stack, higher)]
    assert placed == [("instance", "create"), ("autoscaling_target", "update"), ("scaling_policy", "update")]


# --- off -------------------------------------------------------------------------------------------------------------


def test_turning_it_off_deletes_the_policies_then_deregisters_keeping_its_readers_as_said():
    current = in_sync()
    current["policies"]["theirs"] = policy("theirs")
    instances = [described("w"), described(AUTOSCALED)]
    actions, outputs = a.plan_autoscaling(current, desired(enabled=False), CLUSTER, instances)
    assert rows(actions) == [
        ("scaling_policy", "theirs", "delete", ONLINE, ["DeleteScalingPolicy"]),
        ("scaling_policy", "vitality.aurora-readers", "delete", ONLINE, ["DeleteScalingPolicy"]),
        ("autoscaling_target", RID, "deregister", ONLINE, ["DeregisterScalableTarget"]),
    ]
    assert actions[-1].note == (
        f"the reader count stops following the load; 1 reader made by Application Auto Scaling ({AUTOSCALED}): kept "
        "as they are, the role no longer adds nor removes them (aurora_cluster_autoscaling_readers_on_disable=keep)"
    )
    assert_requests_valid(actions)
    assert outputs["autoscaled_readers"] == [AUTOSCALED] and not outputs["enabled"]


def test_turning_it_off_with_delete_deletes_each_reader_it_made_after_deregistering():
    instances = [described("w"), described(AUTOSCALED), described(OTHER_AUTOSCALED)]
    actions, _outputs = a.plan_autoscaling(
        in_sync(), desired(enabled=False, readers_on_disable="delete"), CLUSTER, instances
    )
    assert rows(actions) == [
        ("scaling_policy", "vitality.aurora-readers", "delete", ONLINE, ["DeleteScalingPolicy"]),
        ("autoscaling_target", RID, "deregister", ONLINE, ["DeregisterScalableTarget"]),
        ("instance", AUTOSCALED, "delete", ONLINE, ["DeleteDBInstance"]),
        ("instance", OTHER_AUTOSCALED, "delete", ONLINE, ["DeleteDBInstance"]),
    ]
    assert "each deleted in the next steps" in actions[1].note
    assert actions[2].request == {"identifier": AUTOSCALED}


def test_a_reader_it_made_that_is_now_the_writer_is_deleted_as_the_failover_it_is():
    instances = [described("w"), described(AUTOSCALED)]
    actions, _outputs = a.plan_autoscaling(
        {"target": None, "policies": {}},
        desired(enabled=False, readers_on_disable="delete"),
        CLUSTER,
        instances,
        AUTOSCALED,
    )
    assert rows(actions) == [("instance", AUTOSCALED, "delete", FAILOVER, ["DeleteDBInstance"])]


def test_off_and_nothing_registered_plans_nothing_and_keeps_readers_by_default():
    instances = [described(AUTOSCALED)]
    actions, outputs = a.plan_autoscaling({"target": None, "policies": {}}, desired(enabled=False), CLUSTER, instances)
    assert actions == []
    assert outputs["notice"].startswith("Reader autoscaling is off: 1 reader made by Application Auto Scaling")


# --- the instance steps cover the readers the autoscaler made ----------------------------------------------------------


def with_autoscaled_reader():
    state = snapshot()
    # As AWS makes one: the writer's class, the last promotion tier, tags of its own.
    state["instances"].append(
        instance(AUTOSCALED, "us-east-1c", 15, "reader", TagList=[{"Key": "made-by", "Value": "autoscaling"}])
    )
    state["cluster"]["DBClusterMembers"].append(dict(member("r-1"), DBInstanceIdentifier=AUTOSCALED, PromotionTier=15))
    return state


def test_a_reader_the_autoscaler_made_is_neither_deleted_nor_drift():
    actions, problems, _notice = sp.plan_stack(with_autoscaled_reader(), params())
    assert (actions, problems) == ([], [])


def test_a_class_change_covers_the_autoscaled_reader_in_the_rolling_order_as_a_reader():
    wanted = params()
    wanted["instances"].update(db_instance_class=XLARGE, apply_immediately=True)
    actions, problems, _notice = sp.plan_stack(with_autoscaled_reader(), wanted)
    assert problems == []
    assert [(x.name, x.change, x.impact) for x in actions] == [
        ("r-1", "modify", REBOOT),
        ("r-2", "modify", REBOOT),
        (AUTOSCALED, "modify", REBOOT),
        ("c", "failover", FAILOVER),
        ("w", "modify", REBOOT),
        ("c", "failover", FAILOVER),
    ]
    autoscaled = actions[2]
    assert autoscaled.changes == [{"attribute": "db_instance_class", "before": LARGE, "after": XLARGE}]
    # Its zone and tier are the ones AWS gave it; its tags are its own.
    assert autoscaled.request["params"]["availability_zone"] == "us-east-1c"
    assert autoscaled.request["params"]["promotion_tier"] == 15


def test_the_autoscaled_reader_takes_the_writers_class_not_the_readers_one():
    wanted = params()
    wanted["instances"]["reader_db_instance_class"] = XLARGE
    state = with_autoscaled_reader()
    for identifier in ("r-1", "r-2"):
        by_id(state, identifier)["DBInstanceClass"] = XLARGE
    actions, problems, _notice = sp.plan_stack(state, wanted)
    assert (actions, problems) == ([], [])


def test_a_rolling_reboot_covers_the_autoscaled_reader():
    wanted = params()
    wanted["instances"]["allow_rolling_reboot"] = True
    state = with_autoscaled_reader()
    for entry in state["cluster"]["DBClusterMembers"]:
        entry["DBClusterParameterGroupStatus"] = "pending-reboot"
    actions, _problems, _notice = sp.plan_stack(state, wanted)
    rebooted = [x.name for x in actions if x.change == "reboot"]
    assert rebooted == ["r-1", "r-2", AUTOSCALED, "w"]


def test_an_autoscaled_reader_being_deleted_is_left_to_aws():
    state = with_autoscaled_reader()
    by_id(state, AUTOSCALED).update(DBInstanceStatus="deleting", DBInstanceClass="db.r6g.2xlarge")
    actions, problems, _notice = sp.plan_stack(state, copy.deepcopy(params()))
    assert (actions, problems) == ([], [])
