"""Reader autoscaling against the local AWS, asserted through boto3 and the calls moto recorded.

One dev stack, in sequence, switched on and off by extra vars (dev keeps it off in its inventory): turned on as
`-e name=value`, the scalable target (minimum: the reader count) and the target-tracking policy are made after the
writer, each a step of the plan; the same inputs again change nothing. A reader made the way Application Auto Scaling
makes them (`application-autoscaling-<uuid>`, outside the inventory) survives a converge, is named in the plan's
output and is not drift; a class change covers it, planned like the role's own instances. A policy change is planned
in check mode, changing nothing, then applied as one PutScalingPolicy. Turning autoscaling off (`-e` JSON) with
readers_on_disable=delete is planned - the cluster's autoscaling tag removed, policy deleted, target deregistered, the
autoscaler's reader deleted - in check mode first, then applied exactly so; off and untagged, a run makes no
Application Auto Scaling call. The teardown deregisters a target left registered.
"""

from __future__ import annotations

import json

import pytest

from local_aws import RecordedAws, printed_plan

CLUSTER = "vitality-dev-aurora"
WRITER = "vitality-dev-aurora-writer"
RID = f"cluster:{CLUSTER}"
DIMENSION = "rds:cluster:ReadReplicaCount"
POLICY = "vitality.aurora-readers"
MARKER = "vitality.aurora:reader-autoscaling"
HOST = "vitality-dev"
READS = ("Describe", "List", "Get")
AUTOSCALED = "application-autoscaling-5f1c6b0e-2d4a-4c8e-9b1a-3e7d2c9f0a11"
# As a command line gives them: every value is text.
ON = "aurora_cluster_autoscaling_enabled=true aurora_cluster_autoscaling_max_readers=3"
# A new target value, as -e JSON gives it.
ON_AT_45 = json.dumps(
    {
        "aurora_cluster_autoscaling_enabled": True,
        "aurora_cluster_autoscaling_max_readers": 3,
        "aurora_cluster_autoscaling_target_value": 45,
    }
)
OFF_DELETING = json.dumps(
    {"aurora_cluster_autoscaling_enabled": False, "aurora_cluster_autoscaling_readers_on_disable": "delete"}
)


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with RecordedAws(tmp_path_factory.mktemp("recording") / "moto_recording") as recorded:
        recorded.reset_and_seed(("dev",))
        yield recorded


def provision(aws, extra_vars=None, check=False):
    aws.record_from_now()
    return aws.run_playbook("playbooks/provision.yml", "inventories/dev", extra_vars=extra_vars, check=check)


def mutating(aws):
    return [(action, params) for action, params in aws.calls() if not action.startswith(READS)]


def actions(aws):
    return [action for action, _params in mutating(aws)]


def targets(aws):
    scaling = aws.client("application-autoscaling")
    return scaling.describe_scalable_targets(ServiceNamespace="rds", ResourceIds=[RID])["ScalableTargets"]


def policies(aws):
    scaling = aws.client("application-autoscaling")
    found = scaling.describe_scaling_policies(ServiceNamespace="rds", ResourceId=RID)["ScalingPolicies"]
    return {p["PolicyName"]: p for p in found if p["ResourceId"] == RID}


def cluster_tags(aws):
    cluster = aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    return {tag["Key"]: tag["Value"] for tag in cluster.get("TagList") or []}


def instances(aws):
    listed = aws.client("rds").describe_db_instances()["DBInstances"]
    return {i["DBInstanceIdentifier"]: i for i in listed if i.get("DBInstanceStatus") != "deleting"}


@pytest.fixture(scope="module")
def autoscaled_dev(aws):
    first = provision(aws, ON)
    assert first.returncode == 0, first.stdout[-5000:]
    return first


def test_turned_on_the_target_and_policy_are_made_after_the_writer_each_a_step(autoscaled_dev, aws):
    plan = printed_plan(autoscaled_dev.stdout)
    assert plan[-2].startswith(
        f"6. scalable target {RID}: register (min_readers (none) -> 0; max_readers (none) -> 3) [online]"
    ), plan
    assert plan[-1].startswith(
        f"7. scaling policy {POLICY}: create (metric (none) -> RDSReaderAverageCPUUtilization; target_value (none) -> "
        "60.0; scale_in_cooldown (none) -> 300; scale_out_cooldown (none) -> 300; disable_scale_in (none) -> false) "
        "[online]"
    ), plan
    done = actions(aws)
    assert cluster_tags(aws)[MARKER] == "on"
    # AWS refuses a target for a cluster without an instance: the writer comes first.
    assert done.index("CreateDBInstance") < done.index("RegisterScalableTarget") < done.index("PutScalingPolicy")
    [target] = targets(aws)
    assert (target["MinCapacity"], target["MaxCapacity"], target["ScalableDimension"]) == (0, 3, DIMENSION)
    assert policies(aws)[POLICY]["TargetTrackingScalingPolicyConfiguration"] == {
        "TargetValue": 60.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "RDSReaderAverageCPUUtilization"},
        "ScaleInCooldown": 300,
        "ScaleOutCooldown": 300,
        "DisableScaleIn": False,
    }


def test_the_same_inputs_again_change_nothing(autoscaled_dev, aws):
    again = provision(aws, ON)
    assert again.returncode == 0, again.stdout[-5000:]
    assert printed_plan(again.stdout) == ["Plan", "no change"]
    assert mutating(aws) == []
    assert again.recap[HOST]["changed"] == 0, again.stdout[-3000:]


def test_a_reader_the_autoscaler_made_survives_a_converge_and_is_reported(autoscaled_dev, aws):
    # Made the way Application Auto Scaling makes its readers: outside the inventory, the writer's class.
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=AUTOSCALED,
        DBClusterIdentifier=CLUSTER,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    converged = provision(aws, ON)
    assert converged.returncode == 0, converged.stdout[-5000:]
    assert printed_plan(converged.stdout) == [
        "Plan",
        "no change",
        f"Reader autoscaling is on: 1 reader made by Application Auto Scaling ({AUTOSCALED}), left to it (never "
        "deleted nor counted as drift)",
    ]
    assert mutating(aws) == []
    assert AUTOSCALED in instances(aws)
    # The one change is the outputs file, whose reader_instances now name the new reader.
    assert converged.recap[HOST]["changed"] == 1
    assert (
        AUTOSCALED in converged.stdout.split("Show the outputs", 1)[1].split("reader_instances", 1)[1].split("]", 1)[0]
    )


def test_a_class_change_covers_the_autoscaled_reader_before_the_writer(autoscaled_dev, aws):
    change = f"{ON} aurora_cluster_instance_class=db.r6g.xlarge aurora_cluster_apply_immediately=true"
    changed = provision(aws, change)
    assert changed.returncode == 0, changed.stdout[-5000:]
    plan = printed_plan(changed.stdout)
    assert plan[1].startswith(
        f"1. instance {AUTOSCALED}: modify (db_instance_class db.r6g.large -> db.r6g.xlarge) [reboot]"
    ), plan
    assert plan[2].startswith(f"2. instance {WRITER}: modify (db_instance_class db.r6g.large -> db.r6g.xlarge)"), plan
    calls = mutating(aws)
    assert [(action, params.get("DBInstanceIdentifier")) for action, params in calls] == [
        ("ModifyDBInstance", AUTOSCALED),
        ("ModifyDBInstance", WRITER),
    ]
    found = instances(aws)
    assert found[AUTOSCALED]["DBInstanceClass"] == found[WRITER]["DBInstanceClass"] == "db.r6g.xlarge"


def test_a_policy_change_is_planned_in_check_mode_changing_nothing_then_put_once(autoscaled_dev, aws):
    line = f"1. scaling policy {POLICY}: update (target_value 60.0 -> 45.0) [online]"
    extra = json.dumps({**json.loads(ON_AT_45), "aurora_cluster_instance_class": "db.r6g.xlarge"})
    check = provision(aws, extra, check=True)
    assert check.returncode == 0, check.stdout[-5000:]
    plan = printed_plan(check.stdout)
    assert plan[0] == "Plan (check mode: nothing was changed)" and plan[1].startswith(line), plan
    assert mutating(aws) == []
    assert policies(aws)[POLICY]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60.0

    changed = provision(aws, extra)
    assert changed.returncode == 0, changed.stdout[-5000:]
    assert printed_plan(changed.stdout)[1].startswith(line)
    assert actions(aws) == ["PutScalingPolicy"]
    assert policies(aws)[POLICY]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 45.0


def test_turning_it_off_is_planned_then_made_deleting_the_readers_it_made_as_chosen(autoscaled_dev, aws):
    extra = json.dumps({**json.loads(OFF_DELETING), "aurora_cluster_instance_class": "db.r6g.xlarge"})
    check = provision(aws, extra, check=True)
    assert check.returncode == 0, check.stdout[-5000:]
    plan = printed_plan(check.stdout)
    assert [line.split(" (", 1)[0] for line in plan[1:5]] == [
        f"1. cluster {CLUSTER}: remove tags",
        f"2. scaling policy {POLICY}: delete",
        f"3. scalable target {RID}: deregister",
        f"4. instance {AUTOSCALED}: delete",
    ], plan
    assert f"{MARKER}" in plan[1]
    assert "aurora_cluster_autoscaling_readers_on_disable=delete" in plan[3]
    assert mutating(aws) == [] and targets(aws) and AUTOSCALED in instances(aws)

    off = provision(aws, extra)
    assert off.returncode == 0, off.stdout[-5000:]
    assert actions(aws) == [
        "RemoveTagsFromResource",
        "DeleteScalingPolicy",
        "DeregisterScalableTarget",
        "DeleteDBInstance",
    ]
    assert targets(aws) == [] and policies(aws) == {}
    assert AUTOSCALED not in instances(aws) and WRITER in instances(aws)
    assert MARKER not in cluster_tags(aws)

    # Off and untagged: not one Application Auto Scaling call.
    again = provision(aws, extra)
    assert again.returncode == 0, again.stdout[-5000:]
    assert printed_plan(again.stdout) == ["Plan", "no change"] and mutating(aws) == []
    assert not [action for action, _params in aws.calls() if "Scal" in action]


def test_the_teardown_deregisters_a_target_left_registered(autoscaled_dev, aws):
    aws.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="rds", ResourceId=RID, ScalableDimension=DIMENSION, MinCapacity=0, MaxCapacity=2
    )
    aws.record_from_now()
    gone = aws.run_playbook("playbooks/destroy.yml", "inventories/dev")
    assert gone.returncode == 0, gone.stdout[-5000:]
    done = actions(aws)
    assert done.index("DeregisterScalableTarget") < done.index("DeleteDBInstance")
    assert targets(aws) == []
