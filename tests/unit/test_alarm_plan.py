"""alarm_plan: the CloudWatch alarms the stack wants, read with one call, planned as Actions.

Answers of the fake API are checked against botocore's model of DescribeAlarms' output (test_baseline_plan's
FakeApi), and every request the plan carries against PutMetricAlarm's and DeleteAlarms' input.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.validate import validate_parameters
from test_baseline_plan import FakeApi

from ansible_collections.vitality.aurora.plugins.module_utils import alarm_plan as a
from ansible_collections.vitality.aurora.plugins.module_utils.catalog_data_aurora_postgresql import CATALOG
from ansible_collections.vitality.aurora.plugins.module_utils.plan import MAINTENANCE_WINDOW, NOW, Action
from ansible_collections.vitality.aurora.plugins.module_utils.validation import AURORA_POSTGRESQL_16_INSTANCE_CLASSES

ACCOUNT = "123456789012"
CLUSTER = "vitality-prod-aurora"
WRITER = f"{CLUSTER}-writer"
READER_1, READER_2, READER_3 = (f"{CLUSTER}-reader-{n}" for n in (1, 2, 3))
AUTOSCALED = "application-autoscaling-4c1d4b1e-8f0a-4f3c-9c55-0c9e1c2b3a4d"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:vitality-prod-db-events"
PREFIX = f"vitality.aurora/{CLUSTER}/"
LARGE, XLARGE = "db.r6g.large", "db.r6g.xlarge"
GIB = 1024**3
CLOUDWATCH = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")


# The alarms' settings as the role passes them with its defaults (test_aurora_stack uses them too).
ALARM_SETTINGS = {
    "period": 60,
    "evaluation_periods": 5,
    "cpu_percent": 80.0,
    "freeable_memory_percent": 10.0,
    "connections_percent": 80.0,
    "replica_lag_ms": 1000.0,
    "deadlocks_per_second": 0.0,
    "free_local_storage_gib": 2.0,
    "acu_utilization_percent": 90.0,
}


def desired(**changes):
    settings = {
        "cluster_identifier": CLUSTER,
        "topic_arn": TOPIC_ARN,
        "tags": {"Stack": "vitality-prod", "ManagedBy": "vitality.aurora"},
        "max_connections": None,
        **ALARM_SETTINGS,
    }
    settings.update(changes)
    return settings


def member(identifier, instance_class=LARGE, writer=False):
    return {"id": identifier, "instance_class": instance_class, "writer": writer}


PROD = (member(WRITER, writer=True), member(READER_1), member(READER_2))


def described(request, **overrides):
    """An alarm as DescribeAlarms answers it after PutMetricAlarm(request): AWS's fields beside the request's."""
    alarm = {key: value for key, value in request.items() if key != "Tags"}
    alarm.update(
        AlarmArn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{request['AlarmName']}",
        StateValue="OK",
        StateReason="Threshold Crossed",
        Unit="Percent",
    )
    alarm.update(overrides)
    return alarm


def in_sync(members=PROD, want=None):
    """The alarms as AWS holds them when they are exactly the wanted ones, by name."""
    wanted, _skipped = a.desired_alarms(want or desired(), members)
    return {alarm["name"]: described(alarm["request"]) for alarm in wanted}


def summary(actions):
    return [(action.resource, action.name, action.change, action.calls) for action in actions]


def by_name(wanted):
    return {alarm["name"]: alarm for alarm in wanted}


# -- which alarms ---------------------------------------------------------------------------------


def test_a_writer_and_two_readers_get_the_cluster_alarm_and_their_own_to_the_topic():
    actions, wanted, skipped = a.plan_alarms({}, desired(), PROD)
    assert skipped == []
    names = [alarm["name"] for alarm in wanted]
    instance_metrics = ["CPUUtilization", "FreeableMemory", "DatabaseConnections", "FreeLocalStorage"]
    assert names == (
        [f"{PREFIX}Deadlocks"]
        + [f"{PREFIX}{WRITER}/{metric}" for metric in instance_metrics]
        + [
            f"{PREFIX}{reader}/{metric}"
            for reader in (READER_1, READER_2)
            for metric in instance_metrics + ["AuroraReplicaLag"]
        ]
    )
    assert summary(actions) == [("alarm", name, "create", ["PutMetricAlarm"]) for name in names]
    for action in actions:
        request = action.request["put"]
        validate_parameters(request, CLOUDWATCH.meta.service_model.operation_model("PutMetricAlarm").input_shape)
        assert request["AlarmActions"] == request["OKActions"] == [TOPIC_ARN]
        assert request["InsufficientDataActions"] == [] and request["ActionsEnabled"] is True
        assert request["Namespace"] == "AWS/RDS" and request["Statistic"] == "Average"
        assert (request["Period"], request["EvaluationPeriods"], request["DatapointsToAlarm"]) == (60, 5, 5)
        assert request["TreatMissingData"] == a.TREAT_MISSING[request["MetricName"]]
        assert {"Key": "Stack", "Value": "vitality-prod"} in request["Tags"]
        assert action.impact == "online" and action.runner == "stack"
    cluster_alarm = actions[0].request["put"]
    assert cluster_alarm["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": CLUSTER}]
    assert actions[1].request["put"]["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": WRITER}]
    assert actions[1].line() == (
        f"0. CloudWatch alarm {PREFIX}{WRITER}/CPUUtilization: create (condition (none) -> Average CPUUtilization > 80 "
        f"percent for 5 x 60 s; actions (none) -> {TOPIC_ARN}) [online]"
    )


def test_only_readers_watch_replica_lag_and_the_cluster_watches_deadlocks():
    wanted = by_name(a.desired_alarms(desired(), PROD)[0])
    assert f"{PREFIX}{WRITER}/AuroraReplicaLag" not in wanted
    lag = wanted[f"{PREFIX}{READER_1}/AuroraReplicaLag"]
    assert (lag["threshold"], lag["comparison"]) == (1000.0, "GreaterThanThreshold")
    deadlocks = wanted[f"{PREFIX}Deadlocks"]
    assert (deadlocks["instance"], deadlocks["threshold"], deadlocks["request"]["TreatMissingData"]) == (
        None,
        0.0,
        "notBreaching",
    )


def test_the_memory_threshold_is_a_share_of_the_class_memory():
    wanted = by_name(a.desired_alarms(desired(), [member(WRITER, writer=True), member(READER_1, XLARGE)])[0])
    writer = wanted[f"{PREFIX}{WRITER}/FreeableMemory"]
    assert writer["threshold"] == float(int(16 * GIB * 0.10)) == 1717986918.0
    assert writer["comparison"] == "LessThanThreshold"
    assert writer["note"] == "10% of the 16 GiB of db.r6g.large"
    assert wanted[f"{PREFIX}{READER_1}/FreeableMemory"]["threshold"] == 3435973836.0
    local = wanted[f"{PREFIX}{WRITER}/FreeLocalStorage"]
    assert (local["threshold"], local["comparison"]) == (2.0 * GIB, "LessThanThreshold")


def test_the_connections_threshold_is_a_share_of_the_default_max_connections():
    # LEAST({DBInstanceClassMemory/9531392}, 5000) with the class's memory: 16 GiB gives 1802, as AWS's example.
    assert a.max_connections(LARGE)[0] == 1802
    assert a.max_connections(XLARGE)[0] == 3604
    assert a.max_connections("db.r6g.4xlarge")[0] == 5000
    assert a.max_connections("db.t4g.medium")[0] == 450
    wanted = by_name(a.desired_alarms(desired(), [member(WRITER, "db.r6g.4xlarge", writer=True)])[0])
    connections = wanted[f"{PREFIX}{WRITER}/DatabaseConnections"]
    assert (connections["threshold"], connections["comparison"]) == (4000.0, "GreaterThanThreshold")
    assert connections["note"] == "80% of max_connections 5000 (the default for 128 GiB)"


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ("500", 500),
        (250, 250),
        ("LEAST({DBInstanceClassMemory/9531392},3000)", 1802),
        ("LEAST({DBInstanceClassMemory/9531392}, 1000)", 1000),
        ("GREATEST({DBInstanceClassMemory/9531392},2000)", 2000),
        ("{DBInstanceClassMemory*2/9531392}", 3604),
    ],
)
def test_a_max_connections_the_parameter_group_sets_is_used(parameter, expected):
    assert a.max_connections(LARGE, parameter)[0] == expected
    wanted = by_name(a.desired_alarms(desired(max_connections=parameter), [member(WRITER, writer=True)])[0])
    assert wanted[f"{PREFIX}{WRITER}/DatabaseConnections"]["threshold"] == float(int(expected * 0.8))


@pytest.mark.parametrize(
    "parameter", ["{DBInstanceVCPU*100}", "LEAST(1000", "max", "LEAST({DBInstanceClassMemory/0x10},1)"]
)
def test_a_max_connections_the_role_cannot_evaluate_leaves_that_alarm_out_saying_why(parameter):
    wanted, skipped = a.desired_alarms(desired(max_connections=parameter), [member(WRITER, writer=True)])
    assert f"{PREFIX}{WRITER}/DatabaseConnections" not in by_name(wanted)
    assert skipped == [
        {
            "instance": WRITER,
            "metric": "DatabaseConnections",
            "reason": f"max_connections={parameter} (cluster parameter group) is not a number or formula the role can "
            f"evaluate for {LARGE}",
        }
    ]


def test_every_provisioned_class_the_collection_allows_has_its_memory():
    allowed = set(AURORA_POSTGRESQL_16_INSTANCE_CLASSES)
    for classes in CATALOG["orderable_instance_classes"].values():
        allowed |= set(classes)
    assert sorted(allowed - set(a.INSTANCE_CLASS_MEMORY_GIB)) == [a.SERVERLESS]
    assert all(memory in (4, 8) or memory % 16 == 0 for memory in a.INSTANCE_CLASS_MEMORY_GIB.values())


def test_a_serverless_instance_watches_its_capacity_and_needs_its_maximum_for_memory_and_connections():
    wanted, skipped = a.desired_alarms(desired(), [member(WRITER, a.SERVERLESS, writer=True)])
    names = by_name(wanted)
    acu = names[f"{PREFIX}{WRITER}/ACUUtilization"]
    assert (acu["threshold"], acu["comparison"], acu["request"]["TreatMissingData"]) == (
        90.0,
        "GreaterThanThreshold",
        "notBreaching",
    )
    assert sorted(entry["metric"] for entry in skipped) == ["DatabaseConnections", "FreeableMemory"]
    assert all("maximum capacity (ACU)" in entry["reason"] for entry in skipped)
    # Given the maximum capacity, memory is 2 GiB per ACU.
    wanted, skipped = a.desired_alarms(desired(serverless_max_capacity=16), [member(WRITER, a.SERVERLESS, writer=True)])
    names = by_name(wanted)
    assert skipped == []
    assert names[f"{PREFIX}{WRITER}/FreeableMemory"]["threshold"] == float(int(32 * GIB * 0.10))
    assert names[f"{PREFIX}{WRITER}/FreeableMemory"]["note"] == "10% of the 32 GiB of 16 ACU x 2 GiB"
    assert names[f"{PREFIX}{WRITER}/DatabaseConnections"]["threshold"] == float(int(3604 * 0.8))
    # A provisioned instance never watches ACUs.
    assert not [name for name in by_name(a.desired_alarms(desired(), PROD)[0]) if name.endswith("ACUUtilization")]


def test_a_class_unknown_to_the_table_keeps_the_alarms_that_need_no_memory():
    wanted, skipped = a.desired_alarms(desired(), [member(AUTOSCALED, "db.r9z.large")])
    assert sorted(alarm["metric"] for alarm in wanted) == [
        "AuroraReplicaLag",
        "CPUUtilization",
        "Deadlocks",
        "FreeLocalStorage",
    ]
    assert [entry["metric"] for entry in skipped] == ["FreeableMemory", "DatabaseConnections"]


# -- the members after the plan's instance steps -------------------------------------------------


def instance(identifier, instance_class=LARGE, status="available"):
    return {"DBInstanceIdentifier": identifier, "DBInstanceClass": instance_class, "DBInstanceStatus": status}


def snapshot(*instances, writer=WRITER):
    return {
        "cluster": {
            "DBClusterIdentifier": CLUSTER,
            "DBClusterMembers": [
                {
                    "DBInstanceIdentifier": i["DBInstanceIdentifier"],
                    "IsClusterWriter": i["DBInstanceIdentifier"] == writer,
                }
                for i in instances
            ],
        },
        "instances": list(instances),
    }


def test_members_are_the_instances_after_the_plan_creates_and_deletes():
    now = snapshot(instance(WRITER), instance(READER_1), instance(READER_2), instance(READER_3))
    actions = [
        Action("instance", READER_3, "delete", request={"identifier": READER_3}),
        Action("instance", f"{CLUSTER}-reader-4", "create", request={"params": {"db_instance_class": XLARGE}}),
    ]
    assert a.alarm_members(now, WRITER, actions) == [
        member(READER_1),
        member(READER_2),
        member(f"{CLUSTER}-reader-4", XLARGE),
        member(WRITER, writer=True),
    ]


def test_a_reader_the_autoscaler_added_gets_alarms_and_one_being_deleted_does_not():
    now = snapshot(instance(WRITER), instance(AUTOSCALED, XLARGE), instance(READER_1, status="deleting"))
    members = a.alarm_members(now, WRITER, [])
    assert members == [member(AUTOSCALED, XLARGE), member(WRITER, writer=True)]
    actions, wanted, _skipped = a.plan_alarms({}, desired(), members)
    assert f"{PREFIX}{AUTOSCALED}/AuroraReplicaLag" in by_name(wanted)
    assert by_name(wanted)[f"{PREFIX}{AUTOSCALED}/FreeableMemory"]["threshold"] == 3435973836.0
    assert len(actions) == 1 + 4 + 5


def test_the_configured_writer_keeps_the_writers_alarms_after_aws_failed_over():
    now = snapshot(instance(WRITER), instance(READER_1), writer=READER_1)
    assert a.alarm_members(now, WRITER, []) == [member(READER_1), member(WRITER, writer=True)]


def test_a_class_change_made_now_moves_the_thresholds_and_one_for_the_window_does_not_yet():
    now = snapshot(instance(WRITER), instance(READER_1))
    change = [{"attribute": "db_instance_class", "before": LARGE, "after": XLARGE}]
    actions = [
        Action("instance", READER_1, "modify", change, impact="reboot", when=NOW),
        Action("instance", WRITER, "modify", change, impact="writer-restart", when=MAINTENANCE_WINDOW),
    ]
    assert a.alarm_members(now, WRITER, actions) == [member(READER_1, XLARGE), member(WRITER, writer=True)]


# -- reading ------------------------------------------------------------------------------------


def test_the_alarms_are_read_with_one_call_by_their_prefix_and_only_those_are_the_roles():
    log = []
    alarms = list(in_sync().values())
    # Another cluster's alarm, answered by an endpoint that ignores the prefix: not the role's.
    foreign = dict(alarms[1], AlarmName="vitality.aurora/other/x")
    api = FakeApi("cloudwatch", {"describe_alarms": {"MetricAlarms": alarms + [foreign], "CompositeAlarms": []}}, log)
    found = a.read_alarms(api, CLUSTER)
    assert sorted(found) == sorted(alarm["AlarmName"] for alarm in alarms)
    assert [(operation, params) for _service, operation, params in log] == [
        ("DescribeAlarms", {"AlarmNamePrefix": PREFIX})
    ]


def test_the_prefix_ends_with_a_slash_so_one_cluster_never_reads_anothers():
    assert a.alarm_prefix("c1") == "vitality.aurora/c1/"
    assert not a.alarm_name("c10", "Deadlocks").startswith(a.alarm_prefix("c1"))


# -- planning changes ---------------------------------------------------------------------------


def test_alarms_in_sync_plan_nothing():
    actions, _wanted, _skipped = a.plan_alarms(in_sync(), desired(), PROD)
    assert actions == []


def test_fields_missing_from_the_answer_are_unknown_not_changes():
    found = {
        name: {
            key: value
            for key, value in alarm.items()
            if key not in ("TreatMissingData", "DatapointsToAlarm", "OKActions")
        }
        for name, alarm in in_sync().items()
    }
    assert a.plan_alarms(found, desired(), PROD)[0] == []


def test_a_threshold_changed_is_one_put_showing_before_and_after():
    actions, _wanted, _skipped = a.plan_alarms(in_sync(), desired(cpu_percent=90), PROD)
    assert summary(actions) == [
        ("alarm", f"{PREFIX}{name}/CPUUtilization", "change threshold", ["PutMetricAlarm"])
        for name in (WRITER, READER_1, READER_2)
    ]
    assert actions[0].changes == [{"attribute": "threshold", "before": "80", "after": "90"}]
    assert actions[0].line() == (
        f"0. CloudWatch alarm {PREFIX}{WRITER}/CPUUtilization: change threshold (threshold 80 -> 90) [online]"
    )
    assert actions[0].request["put"]["Threshold"] == 90.0


def test_a_period_changed_changes_every_alarm_and_says_so():
    actions, _wanted, _skipped = a.plan_alarms(in_sync(), desired(period=300), PROD)
    assert len(actions) == 15
    assert {action.change for action in actions} == {"change period"}
    assert {str(action.changes) for action in actions} == {str([{"attribute": "period", "before": 60, "after": 300}])}


def test_a_larger_class_moves_the_memory_and_connections_thresholds():
    members = [member(WRITER, XLARGE, writer=True), member(READER_1), member(READER_2)]
    actions, _wanted, _skipped = a.plan_alarms(in_sync(), desired(), members)
    assert [(action.name, action.changes) for action in actions] == [
        (
            f"{PREFIX}{WRITER}/FreeableMemory",
            [{"attribute": "threshold", "before": "1717986918", "after": "3435973836"}],
        ),
        (f"{PREFIX}{WRITER}/DatabaseConnections", [{"attribute": "threshold", "before": "1441", "after": "2883"}]),
    ]
    assert actions[0].note == "10% of the 32 GiB of db.r6g.xlarge"


def test_an_alarm_changed_by_hand_is_set_back_in_one_put():
    found = in_sync()
    name = f"{PREFIX}{READER_1}/AuroraReplicaLag"
    found[name].update(
        AlarmActions=[], TreatMissingData="breaching", Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "x"}]
    )
    actions, _wanted, _skipped = a.plan_alarms(found, desired(), PROD)
    assert summary(actions) == [("alarm", name, "update", ["PutMetricAlarm"])]
    assert actions[0].changes == [
        {
            "attribute": "dimensions",
            "before": ["DBInstanceIdentifier=x"],
            "after": [f"DBInstanceIdentifier={READER_1}"],
        },
        {"attribute": "treat_missing_data", "before": "breaching", "after": "ignore"},
        {"attribute": "alarm_actions", "before": [], "after": [TOPIC_ARN]},
    ]


def test_a_removed_readers_alarms_are_deleted_in_one_call_after_the_puts():
    found = in_sync([*PROD, member(READER_3)])
    actions, _wanted, _skipped = a.plan_alarms(found, desired(), PROD)
    gone = sorted(name for name in found if f"/{READER_3}/" in name)
    assert len(gone) == 5
    assert summary(actions) == [("alarms", f"{PREFIX}*", "delete", ["DeleteAlarms"])]
    assert actions[0].request == {"names": gone}
    validate_parameters({"AlarmNames": gone}, CLOUDWATCH.meta.service_model.operation_model("DeleteAlarms").input_shape)
    assert actions[0].changes[0] == {
        "attribute": f"{PREFIX}{READER_3}/AuroraReplicaLag",
        "before": "Average AuroraReplicaLag > 1000",
        "after": None,
    }
    assert actions[0].line().startswith(f"0. CloudWatch alarms {PREFIX}*: delete ({PREFIX}{READER_3}/AuroraReplicaLag ")


def test_more_than_a_hundred_alarms_to_delete_go_in_batches_of_a_hundred():
    found = in_sync()
    template = next(iter(found.values()))
    for n in range(205):
        name = f"{PREFIX}gone-{n:03}/CPUUtilization"
        found[name] = dict(template, AlarmName=name)
    actions, _wanted, _skipped = a.plan_alarms(found, desired(), PROD)
    assert [len(action.request["names"]) for action in actions] == [100, 100, 5]
    assert [action.calls for action in actions] == [["DeleteAlarms"]] * 3


def test_a_new_reader_gets_its_alarms_and_nothing_else_changes():
    actions, _wanted, _skipped = a.plan_alarms(in_sync(), desired(), [*PROD, member(READER_3)])
    assert [action.name for action in actions] == [
        f"{PREFIX}{READER_3}/{metric}"
        for metric in (
            "CPUUtilization",
            "FreeableMemory",
            "DatabaseConnections",
            "FreeLocalStorage",
            "AuroraReplicaLag",
        )
    ]
    assert {action.change for action in actions} == {"create"}


def test_the_outputs_name_each_alarm_its_metric_and_threshold():
    _actions, wanted, skipped = a.plan_alarms({}, desired(), PROD)
    outputs = a.alarm_outputs(desired(), wanted, skipped)
    assert outputs["prefix"] == PREFIX and outputs["topic_arn"] == TOPIC_ARN and outputs["skipped"] == []
    assert outputs["alarms"][1] == {
        "name": f"{PREFIX}{WRITER}/CPUUtilization",
        "metric": "CPUUtilization",
        "instance": WRITER,
        "comparison": "GreaterThanThreshold",
        "threshold": 80.0,
        "condition": "Average CPUUtilization > 80 percent for 5 x 60 s",
    }
